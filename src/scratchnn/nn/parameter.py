"""``Param``: an array and its gradient, the one thing optimizers update."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._numerics import quiet_fp, zero_fill
from .._validate import (
    FLOAT_DTYPES,
    check_float_dtype,
    invalid_dtype,
    invalid_shape,
    invalid_type,
    invalid_value,
    size_error,
)


class Param:
    """A trainable array (torch's ``nn.Parameter``).

    ``data`` is the value; ``grad`` has the same shape and dtype and is all zeros until a
    backward pass accumulates into it (torch starts at ``None``; zeros make ``+=`` the only
    rule, which weight sharing and time unrolling need).

    ``zero_grad()`` is lazy: it only marks the buffer, and the first :meth:`accumulate_grad`
    after it copies the gradient in instead of adding it to zeros. Reading ``grad`` first fills
    the zeros, so every reader still sees zeros-then-sums. That saves a write pass over every
    parameter and turns the first add into a copy (0.3-0.5 ms of a 9 ms MLP train step).
    """

    __slots__ = ("data", "_grad", "_grad_zeroed")

    def __init__(self, data: Any) -> None:
        arr = np.array(data, copy=True)
        if arr.dtype not in FLOAT_DTYPES:  # the dtype rule, docs/dtypes.md
            raise invalid_dtype("data", "float32 or float64", arr.dtype)
        self.data: np.ndarray = arr
        self._grad: np.ndarray = np.zeros_like(arr)
        self._grad_zeroed = False  # True: _grad holds stale values that count as zeros

    @property
    def grad(self) -> np.ndarray:
        """The accumulated gradient, same shape and dtype as ``data``."""
        if self._grad_zeroed:
            zero_fill(self._grad)  # the zeros zero_grad() deferred
            self._grad_zeroed = False
        return self._grad

    @grad.setter
    def grad(self, value: np.ndarray) -> None:
        # backward, the optimizers and clipping update it in place, in data's shape and dtype (torch checks too)
        shape, dtype = self.data.shape, self.data.dtype
        if not isinstance(value, np.ndarray):
            raise invalid_type("grad", f"a numpy.ndarray of the param's shape {shape} and dtype {dtype}", value)
        if value.dtype != dtype:
            raise invalid_dtype("grad", f"{dtype}, the param's dtype", value.dtype)
        if value.shape != shape:
            raise invalid_shape("grad", f"{shape}, the param's shape", value.shape)
        if not value.flags.writeable:
            raise invalid_value("grad", "a writeable array (gradients accumulate into it in place)", value)
        self._grad = value
        self._grad_zeroed = False

    def accumulate_grad(self, g: np.ndarray) -> None:
        """``grad += g``; right after :meth:`zero_grad` a copy of ``g`` (same result, one pass less)."""
        if self._grad_zeroed:
            np.copyto(self._grad, g)
            self._grad_zeroed = False
        else:
            with quiet_fp():  # inf + -inf from an inf input is NaN, as in torch, without NumPy's warning
                self._grad += g

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    def fresh_grad(self) -> np.ndarray | None:
        """After :meth:`zero_grad`, the gradient buffer for a backward to write its result into (e.g. a
        GEMM's ``out=``), which saves the copy :meth:`accumulate_grad` makes; the caller must fill
        all of it. None when the gradient already holds a sum: accumulate into it instead."""
        if not self._grad_zeroed:
            return None
        self._grad_zeroed = False
        return self._grad

    def zero_grad(self) -> None:
        """Reset the gradient to zeros (deferred until it is read or accumulated into)."""
        self._grad_zeroed = True

    def astype(self, dtype: Any) -> None:
        """Cast value and gradient in place of this Param (identity kept, as optimizers hold it)."""
        dt = check_float_dtype(dtype)
        self.data = self.data.astype(dt)
        self.grad = self.grad.astype(dt)  # reading grad first fills any deferred zeros

    def __repr__(self) -> str:
        return f"Param(shape={self.data.shape}, dtype={self.data.dtype})"


def new_array(shape: tuple[int, ...], dtype: Any, sizes: Mapping[str, Any], fill: float | None = None) -> np.ndarray:
    """A parameter's or buffer's array, uninitialised (or ``fill``-ed), of a shape made from constructor sizes.

    A shape no array can have (more elements than an index holds) or that memory cannot hold is the
    template ``ValueError`` naming the largest of ``sizes`` (argument name -> value as given), instead of
    NumPy's "Maximum allowed dimension exceeded" or ``MemoryError``.
    """
    try:
        return np.empty(shape, dtype) if fill is None else np.full(shape, fill, dtype)
    except (ValueError, MemoryError):
        gib = math.prod(shape) * np.dtype(dtype).itemsize / 2**30
        expected = f"a size whose array of shape {tuple(shape)} fits in memory (it needs {gib:.4g} GiB)"
        raise size_error(sizes, expected) from None
