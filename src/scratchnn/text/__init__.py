"""Text for the summarizer: subword tokens, padded batches, ROUGE and the lead baselines."""

from .batching import IGNORE_INDEX, bucket_batches, key_padding_mask, mask_labels, pad_sequences, shift_right
from .rouge import ROUGE_TYPES, best_lead_k, first_sentence, lead_words, rouge_per_example, rouge_scores
from .tokenizer import SPECIAL_TOKENS, BPETokenizer

__all__ = [
    "BPETokenizer",
    "SPECIAL_TOKENS",
    "pad_sequences",
    "key_padding_mask",
    "shift_right",
    "mask_labels",
    "bucket_batches",
    "IGNORE_INDEX",
    "rouge_scores",
    "rouge_per_example",
    "ROUGE_TYPES",
    "lead_words",
    "first_sentence",
    "best_lead_k",
]
