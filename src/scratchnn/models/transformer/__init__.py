"""The Transformer models: the summarizer (seq2seq.py) and its decoding, greedy and beam search with a KV cache
(decoding.py); the Vision Transformer encoder and classifier (vit.py) and the masked-image autoencoder (mae.py)."""

from .decoding import Decoded, beam_search, greedy_decode
from .mae import MaskedImageAutoencoder
from .seq2seq import Seq2SeqTransformer
from .vit import ViTClassifier, ViTEncoder

__all__ = ["Seq2SeqTransformer", "greedy_decode", "beam_search", "Decoded"]
__all__ += ["ViTEncoder", "ViTClassifier", "MaskedImageAutoencoder"]
