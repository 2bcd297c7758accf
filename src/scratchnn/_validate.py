"""One error template for bad input, used everywhere (asserted in tests).

Invalid value for `p`: expected a float in [0, 1). Received: p=1.5
"""

from __future__ import annotations

import argparse
import math
import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

# the two dtypes scratchnn computes in (docs/dtypes.md): inputs, parameters and gradients of one call share one
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array(shape={value.shape}, dtype={value.dtype})"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def invalid_value(name: str, expected: str, value: Any) -> ValueError:
    """``ValueError`` in the project's template; ``raise invalid_value("p", "a float in [0, 1)", p)``."""
    return ValueError(f"Invalid value for `{name}`: expected {expected}. Received: {name}={_short(value)}")


class NonFiniteError(ValueError):
    """An array that must be finite holds NaN or inf (``check_array(..., finite=True)``).

    A ``ValueError`` like every bad value; its own class so that the Trainer can tell, inside a
    training step, a forward pass that produced inf or NaN (divergence) from other errors.
    """


def invalid_type(name: str, expected: str, value: Any) -> TypeError:
    """``TypeError`` in the project's template, naming the received type."""
    return TypeError(f"Invalid type for `{name}`: expected {expected}. Received: {name} of type {type(value).__name__}")


def invalid_shape(name: str, expected: str, shape: tuple[int, ...]) -> ValueError:
    """``ValueError`` for a wrong shape: ``Invalid shape for `x`: expected (N, 784). Received: x.shape=(3, 5)``."""
    return ValueError(f"Invalid shape for `{name}`: expected {expected}. Received: {name}.shape={tuple(shape)}")


def invalid_dtype(name: str, expected: str, dtype: Any) -> TypeError:
    """``TypeError`` for an array of the wrong dtype: ``Invalid dtype for `w`: expected float32 to match x.
    Received: w.dtype=float64``."""
    return TypeError(f"Invalid dtype for `{name}`: expected {expected}. Received: {name}.dtype={dtype}")


def check_float_dtype(dtype: Any, name: str = "dtype") -> np.dtype[Any]:
    """A dtype argument (``Linear(..., dtype=)``, ``module.to(dtype)``): float32 or float64, as a ``np.dtype``."""
    try:
        dt = None if dtype is None else np.dtype(dtype)
    except (TypeError, ValueError):
        dt = None
    if dt is None or dt not in FLOAT_DTYPES:  # (None == np.dtype compares as float64: test it first)
        shown = _short(dtype) if dt is None else str(dt)
        raise TypeError(f"Invalid type for `{name}`: expected float32 or float64. Received: {name}={shown}")
    return dt


def check_same_dtype(a: np.ndarray, name: str, x: np.ndarray, x_name: str = "x") -> None:
    """``a`` (a weight, a bias, ...) has the dtype of ``x``; NumPy would silently upcast the result."""
    if a.dtype != x.dtype:
        raise invalid_dtype(name, f"{x.dtype} to match {x_name}", a.dtype)


def check_grad(g: Any, name: str, shape: tuple[int, ...], dtype: np.dtype[Any]) -> np.ndarray:
    """An upstream gradient: an ndarray of exactly the forward output's shape and dtype; returns it.

    Every op's backward (``dout``) and module's backward (``grad_out``) checks its upstream gradient here,
    against what its forward saved, so a wrong one fails with the template instead of deep in NumPy.
    """
    if type(g) is np.ndarray and g.shape == shape and g.dtype == dtype:
        return g  # the hot path: a tuple and a dtype compare
    if not isinstance(g, np.ndarray):
        raise invalid_type(name, f"a numpy.ndarray of the forward output's shape {shape} and dtype {dtype}", g)
    if g.dtype != dtype:
        raise invalid_dtype(name, f"{dtype}, the forward output's dtype", g.dtype)
    if g.shape != shape:
        raise invalid_shape(name, f"{shape}, the forward output's shape", g.shape)
    return g


def check_array(
    x: Any,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    floating: bool = True,
    finite: bool = False,
) -> np.ndarray:
    """Check that ``x`` is an ndarray (float32 or float64 by default) of the given rank; return it unchanged."""
    if not isinstance(x, np.ndarray):
        raise invalid_type(name, "a numpy.ndarray", x)
    if floating and x.dtype not in FLOAT_DTYPES:
        raise invalid_type(name, f"a floating numpy.ndarray (float32 or float64), not dtype {x.dtype}", x)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if x.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"Invalid shape for `{name}`: expected a {want} array. Received: {name}.shape={x.shape}")
    if finite and not np.all(np.isfinite(x)):
        raise NonFiniteError(*invalid_value(name, "finite values (no NaN or inf)", x).args)
    return x


def check_labels(y: Any, name: str, n: int, num_classes: int, ignore_index: int | None = None) -> np.ndarray:
    """Integer class labels of shape (n,) in [0, num_classes), ``ignore_index`` allowed."""
    if not isinstance(y, np.ndarray):
        raise invalid_type(name, "a numpy.ndarray of integer class labels", y)
    if y.dtype.kind not in "iu":
        raise invalid_type(name, f"integer class labels, not dtype {y.dtype}", y)
    if y.shape != (n,):
        raise invalid_shape(name, f"({n},) to match the scores' batch size", y.shape)
    valid = y if ignore_index is None else y[y != ignore_index]
    if valid.size and (valid.min() < 0 or valid.max() >= num_classes):
        bad = valid[(valid < 0) | (valid >= num_classes)][0]
        raise ValueError(
            f"Invalid value for `{name}`: expected class labels in [0, {num_classes}). Received: a label {int(bad)}"
        )
    return y


def check_float(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    finite: bool = False,
) -> float:
    """A real number in an interval; returns it as a Python float. ``finite``: inf is outside the interval."""
    if finite:  # a missing bound is an open infinite one: "a float in (-inf, inf)", "a float in [0, inf)"
        low, low_open = (-math.inf, True) if low is None else (low, low_open)
        high, high_open = (math.inf, True) if high is None else (high, high_open)
    lo_b, hi_b = ("(" if low_open else "["), (")" if high_open else "]")
    lo_s = "-inf" if low is None else f"{low:g}"
    hi_s = "inf" if high is None else f"{high:g}"
    expected = f"a float in {lo_b}{lo_s}, {hi_s}{hi_b}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise invalid_type(name, expected, value)
    v = float(value)
    if v != v:
        raise invalid_value(name, expected, value)
    if low is not None and (v < low or (low_open and v == low)):
        raise invalid_value(name, expected, value)
    if high is not None and (v > high or (high_open and v == high)):
        raise invalid_value(name, expected, value)
    return v


def check_int(value: Any, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """An integer in [low, high]; returns it as a Python int."""
    if low is not None and high is not None:
        expected = f"an int in [{low}, {high}]"
    elif low is not None:
        expected = f"an int >= {low}"
    else:
        expected = "an int"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise invalid_type(name, expected, value)
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise invalid_value(name, expected, value)
    return v


def check_bool(value: Any, name: str) -> bool:
    """A flag (``bias``, ``affine``, ``inplace``, ...): a bool, not any truthy value ('no' is truthy)."""
    if not isinstance(value, (bool, np.bool_)):
        raise invalid_type(name, "a bool", value)
    return bool(value)


def check_iterable(value: Any, name: str, expected: str) -> list[Any]:
    """``list(value)`` for an iterable argument (params, milestones, modules); the template TypeError otherwise.

    A str or bytes is refused (its characters are never what was meant), and so is a 0-d array, which
    ``isinstance(a, Iterable)`` accepts but cannot be iterated.
    """
    if (
        isinstance(value, (str, bytes))
        or not isinstance(value, Iterable)
        or (isinstance(value, np.ndarray) and value.ndim == 0)
    ):
        raise invalid_type(name, expected, value)
    return list(value)


def size_error(sizes: Mapping[str, Any], expected: str) -> ValueError:
    """The template error for size arguments whose arrays NumPy cannot make (more elements than an index
    holds: its "Maximum allowed dimension exceeded" or "array is too big") or memory cannot hold (a
    ``MemoryError``), naming the largest of ``sizes`` (argument name -> value as given); ``expected`` says
    what was to be made, e.g. "a size whose samples fit in memory"."""
    name = max(sizes, key=lambda k: max(_ints(sizes[k]), default=0))
    return invalid_value(name, expected, sizes[name])


@contextmanager
def allocating(sizes: Mapping[str, Any], expected: str) -> Iterator[None]:
    """Around array work whose sizes come from ``sizes`` (arguments already checked): NumPy's errors for
    arrays it cannot make (``ValueError`` "Maximum allowed dimension exceeded", ``TypeError`` for a pad
    beyond int64) and ``MemoryError`` become :func:`size_error`. Keep the block free of other checks."""
    try:
        yield
    except (ValueError, TypeError, MemoryError) as e:
        if str(e).startswith("Invalid "):  # the library's own error, from a call inside the block
            raise
        raise size_error(sizes, expected) from None


def _ints(value: Any) -> list[int]:
    if isinstance(value, numbers.Integral):
        return [int(value)]
    return [int(v) for v in value if isinstance(v, numbers.Integral)] if isinstance(value, (tuple, list)) else []


def check_choice(value: Any, name: str, choices: tuple[Any, ...]) -> Any:
    """One of a fixed set of values (an array is none of them, a bool no int choice: True == 1 in Python)."""
    try:
        found = not isinstance(value, np.ndarray) and value in choices
    except TypeError:  # an object whose == refuses the comparison
        found = False
    if found and isinstance(value, (bool, np.bool_)):
        found = any(isinstance(c, (bool, np.bool_)) for c in choices)
    if not found:
        raise invalid_value(name, "one of " + ", ".join(repr(c) for c in choices), value)
    return value


def check_dtype_matches(x: np.ndarray, name: str, dtype: np.dtype[Any], owner: str) -> None:
    """Inputs must have the module's dtype (as in torch); a clear TypeError instead of silent upcasting."""
    if x.dtype != dtype:
        raise TypeError(
            f"Invalid dtype for `{name}`: expected {dtype} to match {owner}'s parameters "
            f"(cast with x.astype(np.{dtype}) or module.to(np.{x.dtype})). Received: {name}.dtype={x.dtype}"
        )


# ---------------------------------------------------------------- argparse types (one-line CLI errors)
def _number(kind: type, ok: Callable[[Any], bool], what: str) -> Callable[[str], Any]:
    """An argparse type: ``kind(text)`` if ``ok`` holds for it, else a one-line error saying ``what``."""

    def parse(text: str) -> Any:
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, received {text!r}") from None
        if not ok(v):
            raise argparse.ArgumentTypeError(f"expected {what}, received {text!r}")
        return v

    return parse


positive_int = _number(int, lambda v: v >= 1, "a positive integer")
nonneg_int = _number(int, lambda v: v >= 0, "a non-negative integer")
positive_float = _number(float, lambda v: v > 0 and v != float("inf"), "a positive number")
nonneg_float = _number(float, lambda v: v >= 0 and v != float("inf"), "a non-negative number")
probability = _number(float, lambda v: 0.0 <= v < 1.0, "a probability in [0, 1)")
