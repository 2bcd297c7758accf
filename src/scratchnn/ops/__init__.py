"""The math: pure forward/backward function pairs, no state (names follow CS231n/CS182)."""

from .activations import relu_backward, relu_forward
from .affine import affine_backward, affine_forward, affine_relu_backward, affine_relu_forward

__all__ = [
    "affine_forward",
    "affine_backward",
    "affine_relu_forward",
    "affine_relu_backward",
    "relu_forward",
    "relu_backward",
]
