"""The Transformer's modules, mirroring ``torch.nn``: attention, encoder and decoder layers and stacks, the whole
encoder-decoder, the KV cache for incremental decoding, and positional encodings."""

from .attention import MultiheadAttention
from .decoder import TransformerDecoder, TransformerDecoderLayer
from .encoder import TransformerEncoder, TransformerEncoderLayer
from .kv_cache import KVCache
from .positional import LearnedPositionalEmbedding, PositionalEncoding, sinusoidal_table
from .transformer import Transformer

__all__ = [
    "KVCache",
    "LearnedPositionalEmbedding",
    "MultiheadAttention",
    "PositionalEncoding",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "sinusoidal_table",
]
