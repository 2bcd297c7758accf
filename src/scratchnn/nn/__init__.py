"""Modules mirroring ``torch.nn``: same names, arguments, defaults, parameter and buffer names."""

from . import init
from .activation import GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .container import Flatten, Identity, ModuleList, Sequential
from .linear import Linear
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, MultiMarginLoss
from .module import Module
from .parameter import Param

__all__ = ["init", "Module", "Param", "Linear", "Sequential", "ModuleList", "Identity", "Flatten"]

# activations and losses (nn/activation.py, nn/loss.py)
__all__ += ["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softmax"]
__all__ += ["CrossEntropyLoss", "MSELoss", "BCEWithLogitsLoss", "MultiMarginLoss"]
