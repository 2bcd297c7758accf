"""Modules mirroring ``torch.nn``: same names, arguments, defaults, parameter and buffer names.

Dtypes: the inputs, parameters and upstream gradients of one call share one dtype, float32 or
float64; anything else (float16, integer, complex or object arrays, a float32 input into a float64
module, a float64 ``grad_out`` for a float32 output) is a ``TypeError`` that names the argument, and
``module.to(dtype)`` refuses any other dtype before casting. Labels are integers; a loss's target and
class weights are cast to the input's dtype. torch raises on a module/input mismatch too, but computes
in float16 and complex and casts a mismatched upstream gradient; scratchnn refuses them.

``backward(grad_out)`` checks ``grad_out`` against the forward output's shape and dtype first
(``Module._save(cache, out)`` keeps them, ``Module._saved(grad_out)`` compares). An empty batch gives
empty outputs and input gradients and zero parameter gradients, as in torch, except where batch
statistics are needed (BatchNorm in training raises); a 'mean' loss over it is NaN, as in torch.
Details: docs/dtypes.md.
"""

from . import init, utils
from .activation import GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .container import Flatten, Identity, ModuleList, Sequential
from .conv import Conv2d
from .conv_transpose import ConvTranspose2d
from .dropout import Dropout
from .linear import Linear
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, MultiMarginLoss
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .parameter import Param
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .sparse import Embedding
from .transformer import (
    LearnedPositionalEmbedding,
    MultiheadAttention,
    PositionalEncoding,
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = ["init", "utils", "Module", "Param", "Linear", "Sequential", "ModuleList", "Identity", "Flatten"]

# activations and losses (nn/activation.py, nn/loss.py)
__all__ += ["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softmax"]
__all__ += ["CrossEntropyLoss", "MSELoss", "BCEWithLogitsLoss", "MultiMarginLoss"]

# convolution and pooling (nn/conv.py, nn/conv_transpose.py, nn/pooling.py)
__all__ += ["Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]

# normalization and dropout (nn/normalization.py, nn/dropout.py)
__all__ += ["BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "Dropout"]

# embeddings and recurrent layers (nn/sparse.py, nn/recurrent/)
__all__ += ["Embedding", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]

# attention and the Transformer (nn/transformer/)
__all__ += ["MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer"]
__all__ += ["TransformerDecoder", "Transformer"]
__all__ += ["PositionalEncoding", "LearnedPositionalEmbedding"]
