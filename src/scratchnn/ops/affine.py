"""Affine (fully connected) layer, course convention: ``w`` is (D, M).

Derivation: docs/derivations/affine.md
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._numerics import quiet
from .._threads import gemm, gemms
from .._validate import check_array, check_grad, check_same_dtype, invalid_shape
from .activations import relu_backward, relu_forward


@quiet
def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Any]:
    """out = x_flat @ w + b, with x_flat = x reshaped to (N, D).

    Backward: dx = dout @ w.T (reshaped to x's shape), dw = x_flat.T @ dout, db = sum_n dout.

    x, w and b share one dtype, float32 or float64 (docs/dtypes.md); N may be 0.

    Shape:
        x: (N, d_1, ..., d_k) with D = d_1 * ... * d_k;  w: (D, M);  b: (M,);  out: (N, M)
    """
    check_array(x, "x")
    check_array(w, "w", ndim=2)
    check_array(b, "b", ndim=1)
    if x.ndim < 1:
        raise invalid_shape("x", "(N, d_1, ..., d_k)", x.shape)
    check_same_dtype(w, "w", x)
    check_same_dtype(b, "b", x)
    x_flat = x.reshape(x.shape[0], math.prod(x.shape[1:]))  # (N, d_1, ..., d_k) -> (N, D), also for N = 0
    if x_flat.shape[1] != w.shape[0]:
        raise invalid_shape("w", f"({x_flat.shape[1]}, M) to match x's {x_flat.shape[1]} features", w.shape)
    if b.shape != (w.shape[1],):
        raise invalid_shape("b", f"({w.shape[1]},) to match w", b.shape)
    out = gemm(x_flat, w, bias=b)  # (N, D) @ (D, M) + b -> (N, M)
    return out, (x_flat, x.shape, w)


@quiet
def affine_backward(
    dout: np.ndarray,
    cache: Any,
    *,
    need_dx: bool = True,
    dw_out: np.ndarray | None = None,
    db_out: np.ndarray | None = None,
) -> tuple[Any, np.ndarray, np.ndarray]:
    """Gradients of :func:`affine_forward`: (dx, dw, db).

    ``need_dx=False`` skips the input gradient (returns None for it): for a first layer whose input
    is data it is a third of the layer's backward FLOPs, which torch skips too.
    ``dw`` comes in the memory layout of ``w``, so accumulating it into a gradient buffer laid out
    like ``w`` is a contiguous add (``nn.Linear`` passes ``weight.T``, an F-ordered view).
    ``dw_out`` / ``db_out``: arrays of w's / b's shape to write dw / db into (and return) instead of
    allocating, e.g. a freshly zeroed gradient buffer (:meth:`scratchnn.nn.Param.fresh_grad`).

    The GEMMs run on the BLAS's threads, or on scratchnn's intra-op threads inside a
    ``scratchnn._threads.pool_gemms`` block (the Transformer layers' feed-forward).
    """
    x_flat, x_shape, w = cache
    check_grad(dout, "dout", (x_flat.shape[0], w.shape[1]), x_flat.dtype)
    transposed = w.flags.f_contiguous and not w.flags.c_contiguous
    if transposed:  # dw^T = dout^T x_flat: (M, N) @ (N, D) -> (M, D), viewed as (D, M)
        dw_product = (dout.T, x_flat, None if dw_out is None else dw_out.T)
    else:  # dw = x_flat^T dout: (D, N) @ (N, M) -> (D, M)
        dw_product = (x_flat.T, dout, dw_out)
    dx_product = [(dout, w.T, None)] if need_dx else []  # dx = dout w^T: (N, M) @ (M, D) -> (N, D)
    outs = gemms(dw_product, *dx_product)  # side by side on the intra-op threads in a pool_gemms block
    dw = outs[0].T if transposed else outs[0]
    dx = outs[1].reshape(x_shape) if need_dx else None  # (N, D) -> x's shape
    db = dout.sum(axis=0, out=db_out)  # (N, M) -> (M,)
    return dx, dw, db


@quiet
def affine_relu_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Any]:
    """The course sandwich: relu(affine(x, w, b))."""
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


@quiet
def affine_relu_backward(dout: np.ndarray, cache: Any, *, need_dx: bool = True) -> tuple[Any, np.ndarray, np.ndarray]:
    """Gradients of :func:`affine_relu_forward`: (dx, dw, db) (``need_dx`` as in :func:`affine_backward`)."""
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return affine_backward(da, fc_cache, need_dx=need_dx)
