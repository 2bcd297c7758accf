"""Weight initializers mirroring ``torch.nn.init``.

Each fills an array (or a ``Param``'s data) in place and returns it. Randomness comes from the
keyword-only ``rng`` (default: the generator set by ``scratchnn.manual_seed``). The draws follow
torch's distributions exactly; the random streams differ, so values are not torch's bit for bit.
Unlike torch, an initializer refuses float16 and read-only arrays, non-finite arguments and values the
array's dtype cannot hold (naming the argument), and ``trunc_normal_`` samples a window far in a tail
exactly (rejection with Robert's proposals) where torch clamps its inverse-CDF draws.

fan_in = shape[1] * prod(shape[2:]), fan_out = shape[0] * prod(shape[2:]) (torch's layout:
``Linear.weight`` is (out, in), ``Conv2d.weight`` is (F, C, HH, WW)).
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

import numpy as np

from .._config import get_rng
from .._validate import FLOAT_DTYPES, check_choice, check_float, invalid_shape, invalid_type, invalid_value
from ._trunc_normal import trunc_normal
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
    """The array to fill: a Param's data, or a writeable float32/float64 array (float16 is refused, as everywhere)."""
    if isinstance(tensor, Param):
        return tensor.data
    if not isinstance(tensor, np.ndarray) or tensor.dtype not in FLOAT_DTYPES:
        raise invalid_type(name, "a float32 or float64 numpy.ndarray or a Param", tensor)
    if not tensor.flags.writeable:  # a read-only array or a broadcast view: NumPy's "assignment destination"
        raise invalid_value(name, "a writeable array (it is filled in place)", tensor)
    return tensor


def _number(value: Any, name: str, low: float | None = None) -> float:
    return check_float(value, name, low=low, finite=True)


def _fill(arr: np.ndarray, values: Any, name: str, value: Any) -> None:
    """``arr[...] = values`` when every value fits arr's dtype; the template error naming ``name`` otherwise."""
    with np.errstate(over="ignore", invalid="ignore"):  # the overflow is reported below, by name
        cast = np.asarray(values, dtype=np.float64).astype(arr.dtype)
    if not np.isfinite(cast).all():
        limit = float(np.finfo(arr.dtype).max)
        raise invalid_value(name, f"a value whose draws fit {arr.dtype} (|x| <= {limit:.4g})", value)
    arr[...] = cast


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
    if not isinstance(nonlinearity, str):
        raise invalid_type("nonlinearity", "a str, e.g. 'relu' or 'leaky_relu'", nonlinearity)
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else _number(param, "param")
        return math.sqrt(2.0 / (1 + slope * slope))  # slope**2 would raise OverflowError past 1e154
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
    arr = _array(tensor)
    _fill(arr, _number(val, "val"), "val", val)
    return tensor


def ones_(tensor: T) -> T:
    return constant_(tensor, 1.0)


def zeros_(tensor: T) -> T:
    return constant_(tensor, 0.0)


def uniform_(tensor: T, a: float = 0.0, b: float = 1.0, *, rng: np.random.Generator | None = None) -> T:
    """U(a, b)."""
    arr = _array(tensor)
    a, b = _number(a, "a"), _number(b, "b")
    if not a <= b:
        raise invalid_value("b", f"a number >= a={a}", b)
    g = get_rng(rng)
    if not math.isfinite(b - a):
        raise invalid_value("b", f"a number with b - a finite (a={a})", b)
    _fill(arr, g.uniform(a, b, size=arr.shape), "b" if abs(b) >= abs(a) else "a", b if abs(b) >= abs(a) else a)
    return tensor


def normal_(tensor: T, mean: float = 0.0, std: float = 1.0, *, rng: np.random.Generator | None = None) -> T:
    """N(mean, std^2)."""
    arr = _array(tensor)
    mean, std = _number(mean, "mean"), _number(std, "std", low=0.0)
    _fill(arr, get_rng(rng).normal(mean, std, size=arr.shape), "std", std)
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
    """N(mean, std^2) conditioned on [a, b] (absolute bounds, as torch; a = -inf or b = inf for one side).

    Any window takes bounded time, one far in a tail too (see nn/_trunc_normal.py); torch clamps the
    draws of its inverse-CDF method there. std = 0 gives ``mean``, which must lie in [a, b].
    """
    arr = _array(tensor)
    mean, std = _number(mean, "mean"), _number(std, "std", low=0.0)
    a, b = check_float(a, "a"), check_float(b, "b")
    if not a < b:
        raise invalid_value("b", f"a number > a={a}", b)
    g = get_rng(rng)
    if std == 0:
        if not a <= mean <= b:
            raise invalid_value("mean", f"a mean in [a, b] = [{a}, {b}] when std=0 (nothing else can be drawn)", mean)
        _fill(arr, np.full(arr.shape, mean), "mean", mean)
        return tensor
    for name, bound in (("a", a), ("b", b)):
        if math.isfinite(bound) and not math.isfinite((bound - mean) / std):
            raise invalid_value(name, f"a bound at a finite number of std={std} from mean={mean}", bound)
    _fill(arr, trunc_normal(g, mean, std, a, b, arr.size).reshape(arr.shape), "std", std)
    return tensor


def xavier_uniform_(tensor: T, gain: float = 1.0, *, rng: np.random.Generator | None = None) -> T:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_array(tensor))
    gain = _number(gain, "gain", low=0.0)
    if fan_in + fan_out == 0:  # an empty array: nothing to draw (1 / 0 otherwise)
        return tensor
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, rng=rng)


def xavier_normal_(tensor: T, gain: float = 1.0, *, rng: np.random.Generator | None = None) -> T:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_array(tensor))
    gain = _number(gain, "gain", low=0.0)
    if fan_in + fan_out == 0:
        return tensor
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
    fan, gain = _fan(_array(tensor), mode), calculate_gain(nonlinearity, _number(a, "a"))
    if fan == 0:  # an empty array
        return tensor
    bound = gain * math.sqrt(3.0 / fan)
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
    fan, gain = _fan(_array(tensor), mode), calculate_gain(nonlinearity, _number(a, "a"))
    if fan == 0:
        return tensor
    return normal_(tensor, 0.0, gain / math.sqrt(fan), rng=rng)


def orthogonal_(tensor: T, gain: float = 1.0, *, rng: np.random.Generator | None = None) -> T:
    """A (semi-)orthogonal matrix from the QR of a Gaussian, signs fixed by diag(R) (Saxe et al., 2013).

    Shape: the array is viewed as (shape[0], prod(shape[1:])).
    """
    arr = _array(tensor)
    if arr.ndim < 2:
        raise invalid_shape("tensor", "at least 2 dimensions", arr.shape)
    gain = _number(gain, "gain")
    if arr.size == 0:  # nothing to draw (and no QR of an empty matrix)
        get_rng(rng)
        return tensor
    rows, cols = arr.shape[0], arr.size // arr.shape[0]
    flat = get_rng(rng).normal(0.0, 1.0, size=(rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)  # (max, min) @ (min, min)
    q *= np.sign(np.diag(r))  # makes the distribution uniform over orthogonal matrices
    if rows < cols:
        q = q.T
    _fill(arr, (gain * q).reshape(arr.shape), "gain", gain)
    return tensor


def _torch_default_linear_(weight: Param, bias: Param | None, *, rng: np.random.Generator | None = None) -> None:
    """torch's default for Linear and Conv: kaiming_uniform_(a=sqrt(5)) weight, U(+-1/sqrt(fan_in)) bias."""
    kaiming_uniform_(weight, a=math.sqrt(5), rng=rng)
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight.data)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound, rng=rng)
