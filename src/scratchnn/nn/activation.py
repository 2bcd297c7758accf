"""Activation modules mirroring ``torch.nn``: ReLU, LeakyReLU, Sigmoid, Tanh, GELU, Softmax.

Thin shells around the ops pairs in :mod:`scratchnn.ops.activations`; they have no parameters, take
float32 or float64 input (docs/dtypes.md) and map an empty batch to an empty output.
torch's ``inplace`` flags are accepted for signature compatibility and ignored: NumPy ops here
always return a new array (the input is never modified).
"""

from __future__ import annotations

import warnings

import numpy as np

from .._validate import check_array, check_bool, check_choice, check_float, check_int, invalid_shape
from ..ops.activations import (
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
from .module import Module


class ReLU(Module):
    """max(x, 0) elementwise, as ``torch.nn.ReLU``. ``inplace`` is accepted and ignored.

    Shape:
        input: any shape;  output: the same shape
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = check_bool(inplace, "inplace")

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = relu_forward(check_array(input, "input"))
        self._save(cache, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        cache = self._saved(grad_out)
        return relu_backward(grad_out, cache) if input_grad else None

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x, as ``torch.nn.LeakyReLU``. ``inplace`` is accepted and ignored.

    Shape:
        input: any shape;  output: the same shape
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = check_float(negative_slope, "negative_slope", finite=True)
        self.inplace = check_bool(inplace, "inplace")

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = leaky_relu_forward(check_array(input, "input"), self.negative_slope)
        self._save(cache, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        cache = self._saved(grad_out)
        return leaky_relu_backward(grad_out, cache) if input_grad else None

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise (stable for any x), as ``torch.nn.Sigmoid``.

    Shape:
        input: any shape;  output: the same shape
    """

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = sigmoid_forward(check_array(input, "input"))
        self._save(cache, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        cache = self._saved(grad_out)
        return sigmoid_backward(grad_out, cache) if input_grad else None


class Tanh(Module):
    """tanh(x) elementwise, as ``torch.nn.Tanh``.

    Shape:
        input: any shape;  output: the same shape
    """

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = tanh_forward(check_array(input, "input"))
        self._save(cache, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        cache = self._saved(grad_out)
        return tanh_backward(grad_out, cache) if input_grad else None


class GELU(Module):
    """x * Phi(x) (Phi the standard normal CDF), or torch's tanh approximation, as ``torch.nn.GELU``.

    Shape:
        input: any shape;  output: the same shape
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = check_choice(approximate, "approximate", ("none", "tanh"))

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = gelu_forward(check_array(input, "input"), self.approximate)
        self._save(cache, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        cache = self._saved(grad_out)
        return gelu_backward(grad_out, cache) if input_grad else None

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


def _implicit_softmax_dim(ndim: int) -> int:
    """torch's legacy choice when ``dim=None`` (with its deprecation warning): 0 for 0-, 1- and 3-D input, else 1."""
    warnings.warn(
        "Implicit dimension choice for softmax has been deprecated. Change the call to include dim=X as an argument.",
        UserWarning,
        stacklevel=4,
    )
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``dim``, as ``torch.nn.Softmax``.

    ``dim=None`` mirrors torch's deprecated implicit choice exactly (dim 0 for 0-, 1- and 3-D
    input, else dim 1) and warns as torch does; pass ``dim`` explicitly.

    Shape:
        input: any shape;  output: the same shape
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = None if dim is None else check_int(dim, "dim")

    def forward(self, input: np.ndarray) -> np.ndarray:
        check_array(input, "input")
        dim = _implicit_softmax_dim(input.ndim) if self.dim is None else self.dim
        x = input.reshape(1) if input.ndim == 0 else input  # a scalar is a one-element distribution
        if not -x.ndim <= dim < x.ndim:  # the input's rank is wrong, not dim (fixed at construction)
            raise invalid_shape("input", f"an array with axis dim={dim}", input.shape)
        out, cache = softmax_forward(x, axis=dim)
        out = out.reshape(input.shape)
        self._save((cache, input.shape), out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        cache, shape = self._saved(grad_out)
        if not input_grad:
            return None
        out, _ = cache
        return softmax_backward(np.reshape(grad_out, out.shape), cache).reshape(shape)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
