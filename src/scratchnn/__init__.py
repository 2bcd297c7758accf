"""scratchnn: deep learning from scratch in NumPy.

Every layer's forward and backward pass is derived by hand (docs/derivations/), checked against
numerical gradients and against PyTorch.
"""

from . import nn, ops
from ._config import get_default_dtype, get_rng_state, manual_seed, set_default_dtype, set_rng_state
from .serialization import load, save

__version__ = "0.1.0"

__all__ = [
    "nn",
    "save",
    "load",
    "ops",
    "manual_seed",
    "set_default_dtype",
    "get_default_dtype",
    "get_rng_state",
    "set_rng_state",
    "__version__",
]
