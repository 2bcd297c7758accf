"""Text for the summarizer: subword tokens, padded batches, ROUGE and the lead baselines."""

from .batching import IGNORE_INDEX, bucket_batches, key_padding_mask, mask_labels, pad_sequences, shift_right
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
]
