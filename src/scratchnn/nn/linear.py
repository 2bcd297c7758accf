"""``Linear``: y = x W^T + b over the last axis (torch's layout: weight is (out, in))."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._config import get_default_dtype
from .._validate import check_array, check_bool, check_dtype_matches, check_float_dtype, check_int, invalid_shape
from ..ops.affine import affine_backward, affine_forward
from . import init
from .module import Module
from .parameter import Param, new_array


class Linear(Module):
    """Applies y = x W^T + b to the last axis, as ``torch.nn.Linear``.

    Uses :func:`scratchnn.ops.affine_forward` with ``w = weight.T``. Default init is torch's:
    kaiming_uniform_(a=sqrt(5)) for the weight, U(-1/sqrt(in), 1/sqrt(in)) for the bias.

    The input has the parameters' dtype, float32 or float64 (docs/dtypes.md); an empty batch gives an
    empty output and zero parameter gradients, as in torch.

    Shape:
        input: (*, in_features);  output: (*, out_features)
        weight: (out_features, in_features);  bias: (out_features,)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", low=1)
        self.out_features = check_int(out_features, "out_features", low=1)
        bias = check_bool(bias, "bias")
        dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
        sizes = {"in_features": in_features, "out_features": out_features}
        self.weight = Param(new_array((out_features, in_features), dt, sizes))
        self.bias = Param(new_array((out_features,), dt, sizes)) if bias else None
        init._torch_default_linear_(self.weight, self.bias, rng=rng)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_array(x, "input")
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise invalid_shape("input", f"(*, {self.in_features})", x.shape)
        check_dtype_matches(x, "input", self.weight.dtype, "Linear")
        x2 = x.reshape(-1, self.in_features)  # (*, in) -> (N, in)
        b = self.bias.data if self.bias is not None else np.zeros(self.out_features, dtype=x.dtype)
        out, cache = affine_forward(x2, self.weight.data.T, b)  # (N, in) @ (in, out) -> (N, out)
        out = out.reshape(*x.shape[:-1], self.out_features)  # (N, out) -> (*, out)
        self._save((cache, x.shape), out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """dx = dout W (None with ``input_grad=False``); weight.grad += dout^T x, bias.grad += sum dout."""
        cache, x_shape = self._saved(grad_out)
        # right after zero_grad the GEMM and the sum write straight into the gradient buffers
        w_buf = self.weight.fresh_grad()  # (out, in) or None
        b_buf = self.bias.fresh_grad() if self.bias is not None else None
        dx, dw, db = affine_backward(
            grad_out.reshape(-1, self.out_features),
            cache,
            need_dx=input_grad,
            dw_out=None if w_buf is None else w_buf.T,
            db_out=b_buf,
        )
        if w_buf is None:
            self.weight.accumulate_grad(dw.T)  # (in, out) -> (out, in), contiguous: dw is laid out like weight.T
        if self.bias is not None and b_buf is None:
            self.bias.accumulate_grad(db)
        return None if dx is None else dx.reshape(x_shape)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
