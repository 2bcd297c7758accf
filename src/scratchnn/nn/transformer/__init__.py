"""Transformer modules mirroring ``torch.nn`` (positional.py: the positional encodings)."""

from .positional import LearnedPositionalEmbedding, PositionalEncoding, sinusoidal_table

__all__ = ["PositionalEncoding", "LearnedPositionalEmbedding", "sinusoidal_table"]
