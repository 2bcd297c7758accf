"""Modules mirroring ``torch.nn``: same names, arguments, defaults, parameter and buffer names."""

from . import init
from .container import Flatten, Identity, ModuleList, Sequential
from .linear import Linear
from .module import Module
from .parameter import Param

__all__ = ["init", "Module", "Param", "Linear", "Sequential", "ModuleList", "Identity", "Flatten"]
