"""Text for the summarizer: subword tokens, padded batches, ROUGE and the lead baselines."""

from .tokenizer import SPECIAL_TOKENS, BPETokenizer

__all__ = ["BPETokenizer", "SPECIAL_TOKENS"]
