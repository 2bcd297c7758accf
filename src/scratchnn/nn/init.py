"""Weight initializers mirroring ``torch.nn.init``.

Each fills an array (or a ``Param``'s data) in place and returns it. Randomness comes from the
keyword-only ``rng`` (default: the generator set by ``scratchnn.manual_seed``). The draws follow
torch's distributions exactly; the random streams differ, so values are not torch's bit for bit.

fan_in = shape[1] * prod(shape[2:]), fan_out = shape[0] * prod(shape[2:]) (torch's layout:
``Linear.weight`` is (out, in), ``Conv2d.weight`` is (F, C, HH, WW)).
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np

from .._config import get_rng
from .._validate import check_choice, invalid_shape, invalid_type, invalid_value
from .parameter import Param

T = TypeVar("T", np.ndarray, Param)

__all__ = [
    "calculate_gain",
    "constant_",
    "ones_",
    "zeros_",
    "uniform_",
    "normal_",
    "trunc_normal_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "orthogonal_",
]


def _array(tensor: np.ndarray | Param, name: str = "tensor") -> np.ndarray:
    if isinstance(tensor, Param):
        return tensor.data
    if isinstance(tensor, np.ndarray) and tensor.dtype.kind == "f":
        return tensor
    raise invalid_type(name, "a floating numpy.ndarray or a Param", tensor)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (torch's table): relu sqrt(2), tanh 5/3, ..."""
    linear = (
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
    )
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise invalid_type("param", "a number (the negative slope)", slope)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise invalid_value(
        "nonlinearity", "one of " + ", ".join(linear + ("tanh", "relu", "leaky_relu", "selu")), nonlinearity
    )


def _calculate_fan_in_and_fan_out(arr: np.ndarray) -> tuple[int, int]:
    if arr.ndim < 2:
        raise invalid_shape("tensor", "at least 2 dimensions to compute fan in and fan out", arr.shape)
    receptive = int(np.prod(arr.shape[2:])) if arr.ndim > 2 else 1
    return arr.shape[1] * receptive, arr.shape[0] * receptive


def _fan(arr: np.ndarray, mode: str) -> int:
    check_choice(mode, "mode", ("fan_in", "fan_out"))
    fan_in, fan_out = _calculate_fan_in_and_fan_out(arr)
    return fan_in if mode == "fan_in" else fan_out


def constant_(tensor: T, val: float) -> T:
    _array(tensor)[...] = val
    return tensor


def ones_(tensor: T) -> T:
    return constant_(tensor, 1.0)


def zeros_(tensor: T) -> T:
    return constant_(tensor, 0.0)


def uniform_(tensor: T, a: float = 0.0, b: float = 1.0, *, rng: np.random.Generator | None = None) -> T:
    """U(a, b)."""
    arr = _array(tensor)
    if not a <= b:
        raise invalid_value("b", f"a number >= a={a}", b)
    arr[...] = get_rng(rng).uniform(a, b, size=arr.shape)
    return tensor


def normal_(tensor: T, mean: float = 0.0, std: float = 1.0, *, rng: np.random.Generator | None = None) -> T:
    """N(mean, std^2)."""
    arr = _array(tensor)
    if not std >= 0:
        raise invalid_value("std", "a number >= 0", std)
    arr[...] = get_rng(rng).normal(mean, std, size=arr.shape)
    return tensor


def trunc_normal_(
    tensor: T,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    *,
    rng: np.random.Generator | None = None,
) -> T:
    """N(mean, std^2) conditioned on [a, b] (absolute bounds, as torch): values outside are redrawn."""
    arr = _array(tensor)
    if not a < b:
        raise invalid_value("b", f"a number > a={a}", b)
    g = get_rng(rng)
    out = g.normal(mean, std, size=arr.shape)
    bad = (out < a) | (out > b)
    while bad.any():
        out[bad] = g.normal(mean, std, size=int(bad.sum()))
        bad = (out < a) | (out > b)
    arr[...] = out
    return tensor


def xavier_uniform_(tensor: T, gain: float = 1.0, *, rng: np.random.Generator | None = None) -> T:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_array(tensor))
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, rng=rng)


def xavier_normal_(tensor: T, gain: float = 1.0, *, rng: np.random.Generator | None = None) -> T:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_array(tensor))
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng=rng)


def kaiming_uniform_(
    tensor: T,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    *,
    rng: np.random.Generator | None = None,
) -> T:
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al., 2015); ``a`` is leaky_relu's slope."""
    fan = _fan(_array(tensor), mode)
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound, rng=rng)


def kaiming_normal_(
    tensor: T,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    *,
    rng: np.random.Generator | None = None,
) -> T:
    """N(0, std^2) with std = gain / sqrt(fan)."""
    fan = _fan(_array(tensor), mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), rng=rng)


def orthogonal_(tensor: T, gain: float = 1.0, *, rng: np.random.Generator | None = None) -> T:
    """A (semi-)orthogonal matrix from the QR of a Gaussian, signs fixed by diag(R) (Saxe et al., 2013).

    Shape: the array is viewed as (shape[0], prod(shape[1:])).
    """
    arr = _array(tensor)
    if arr.ndim < 2:
        raise invalid_shape("tensor", "at least 2 dimensions", arr.shape)
    rows, cols = arr.shape[0], arr.size // arr.shape[0]
    flat = get_rng(rng).normal(0.0, 1.0, size=(rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)  # (max, min) @ (min, min)
    q *= np.sign(np.diag(r))  # makes the distribution uniform over orthogonal matrices
    if rows < cols:
        q = q.T
    arr[...] = (gain * q).reshape(arr.shape)
    return tensor


def _torch_default_linear_(weight: Param, bias: Param | None, *, rng: np.random.Generator | None = None) -> None:
    """torch's default for Linear and Conv: kaiming_uniform_(a=sqrt(5)) weight, U(+-1/sqrt(fan_in)) bias."""
    kaiming_uniform_(weight, a=math.sqrt(5), rng=rng)
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight.data)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound, rng=rng)
