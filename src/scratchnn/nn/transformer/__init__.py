"""The Transformer's modules: attention, encoder and decoder layers and stacks, the whole encoder-decoder."""

from .attention import MultiheadAttention
from .decoder import TransformerDecoder, TransformerDecoderLayer
from .encoder import TransformerEncoder, TransformerEncoderLayer
from .kv_cache import KVCache
from .transformer import Transformer

__all__ = [
    "KVCache",
    "MultiheadAttention",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
]
