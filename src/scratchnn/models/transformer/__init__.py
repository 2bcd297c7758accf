"""The Transformer summarizer (seq2seq.py) and its decoding: greedy and beam search with a KV cache (decoding.py)."""

from .decoding import Decoded, beam_search, greedy_decode
from .seq2seq import Seq2SeqTransformer

__all__ = ["Seq2SeqTransformer", "greedy_decode", "beam_search", "Decoded"]
