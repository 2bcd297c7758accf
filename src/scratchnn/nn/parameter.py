"""``Param``: an array and its gradient, the one thing optimizers update."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import invalid_type


class Param:
    """A trainable array (torch's ``nn.Parameter``).

    ``data`` is the value; ``grad`` has the same shape and dtype and is all zeros until a
    backward pass accumulates into it (torch starts at ``None``; zeros make ``+=`` the only
    rule, which weight sharing and time unrolling need).
    """

    __slots__ = ("data", "grad")

    def __init__(self, data: Any) -> None:
        arr = np.array(data, copy=True)
        if arr.dtype.kind != "f":
            raise invalid_type("data", "a floating array", data)
        self.data: np.ndarray = arr
        self.grad: np.ndarray = np.zeros_like(arr)

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

    def zero_grad(self) -> None:
        self.grad[...] = 0

    def astype(self, dtype: Any) -> None:
        """Cast value and gradient in place of this Param (identity kept, as optimizers hold it)."""
        self.data = self.data.astype(dtype)
        self.grad = self.grad.astype(dtype)

    def __repr__(self) -> str:
        return f"Param(shape={self.data.shape}, dtype={self.data.dtype})"
