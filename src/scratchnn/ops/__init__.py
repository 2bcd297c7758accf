"""The math: pure forward/backward function pairs, no state (names follow CS231n/CS182)."""

from .activations import (
    gelu_backward,
    gelu_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_backward,
    softmax_forward,
    tanh_backward,
    tanh_forward,
)
from .affine import affine_backward, affine_forward, affine_relu_backward, affine_relu_forward
from .losses import bce_with_logits_loss, mse_loss, multi_margin_loss, softmax_loss, svm_loss

__all__ = [
    "affine_forward",
    "affine_backward",
    "affine_relu_forward",
    "affine_relu_backward",
    "relu_forward",
    "relu_backward",
    "leaky_relu_forward",
    "leaky_relu_backward",
    "sigmoid_forward",
    "sigmoid_backward",
    "tanh_forward",
    "tanh_backward",
    "gelu_forward",
    "gelu_backward",
    "softmax_forward",
    "softmax_backward",
    "softmax_loss",
    "svm_loss",
    "multi_margin_loss",
    "mse_loss",
    "bce_with_logits_loss",
]
