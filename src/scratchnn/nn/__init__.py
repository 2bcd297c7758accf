"""Modules mirroring ``torch.nn``: same names, arguments, defaults, parameter and buffer names."""

from . import init, utils
from .activation import GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .container import Flatten, Identity, ModuleList, Sequential
from .conv import Conv2d
from .dropout import Dropout
from .linear import Linear
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, MultiMarginLoss
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .parameter import Param
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d

__all__ = ["init", "utils", "Module", "Param", "Linear", "Sequential", "ModuleList", "Identity", "Flatten"]

# activations and losses (nn/activation.py, nn/loss.py)
__all__ += ["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softmax"]
__all__ += ["CrossEntropyLoss", "MSELoss", "BCEWithLogitsLoss", "MultiMarginLoss"]

# convolution and pooling (nn/conv.py, nn/pooling.py)
__all__ += ["Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]

# normalization and dropout (nn/normalization.py, nn/dropout.py)
__all__ += ["BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "Dropout"]
