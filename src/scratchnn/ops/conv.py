"""Fast 2-D convolution: im2col by strided copies, one GEMM for the batch, col2im over kernel offsets only.

The only Python loops run over the HH * WW kernel offsets (9 for a 3x3 kernel), never over images
or output positions. Derivation: docs/derivations/conv.md
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._numerics import quiet
from .._validate import allocating, check_grad, invalid_type
from ._spatial import Pair, conv_param_pair, out_size, pair, valid_range
from .conv_naive import check_conv_args

_TOO_BIG = "a padding whose padded input fits in memory"  # the sizes an argument of 2**40 asks NumPy for


def im2col(
    x: np.ndarray,
    kernel: Pair,
    stride: Pair,
    padding: Pair,
    *,
    bias_row: bool = False,
    out: np.ndarray | None = None,
    batch_last: bool = False,
) -> np.ndarray:
    """cols[(c, p, q), (n, i, j)] = xpad[n, c, i*sh + p, j*sw + q]: every receptive field as a column.

    One strided copy per kernel offset (p, q); entries that fall into the zero padding are set to 0
    without building a padded copy of x. Images sit side by side along the columns, so a convolution
    of the whole batch is ONE matrix product (64 small per-image products each wake BLAS's threads).
    ``bias_row`` appends a row of ones (the bias then rides in the GEMM). ``out`` is a workspace of
    the result's shape and dtype to fill instead of allocating one. ``batch_last`` orders the columns
    (i, j, n) instead of (n, i, j); from an x laid out (C, H, W, N) in memory (any layout is read), every
    copy then runs along N in both arrays, not along a strided row of Wo entries (transposed conv).

    Shape:
        x: (N, C, H, W);  cols: (C*HH*WW [+ 1], N*Ho*Wo), or (C*HH*WW [+ 1], Ho*Wo*N) with ``batch_last``
    """
    N, C, H, W = x.shape
    (HH, WW), (sh, sw), (ph, pw) = kernel, stride, padding
    Ho, Wo = out_size(x.shape, kernel, stride, padding)
    shape = (C * HH * WW + bias_row, N * Ho * Wo)
    # a strided or read-only workspace is not reused: the reshape below would fill a copy of it, not it
    if (
        out is None
        or out.shape != shape
        or out.dtype != x.dtype
        or not (out.flags.c_contiguous and out.flags.writeable)
    ):
        out = np.empty(shape, dtype=x.dtype)
    if batch_last:  # a view: (C*HH*WW, Ho*Wo*N) -> (C, HH, WW, Ho, Wo, N), axes read as (C, HH, WW, N, Ho, Wo)
        cols = out[: C * HH * WW].reshape(C, HH, WW, Ho, Wo, N).transpose(0, 1, 2, 5, 3, 4)
    else:
        cols = out[: C * HH * WW].reshape(C, HH, WW, N, Ho, Wo)  # a view: (C*HH*WW, N*Ho*Wo) -> (C, HH, WW, N, Ho, Wo)
    xt = x.transpose(1, 0, 2, 3)  # a view: (N, C, H, W) -> (C, N, H, W)
    for p in range(HH):
        i0, i1, r0 = valid_range(p, sh, ph, H, Ho)
        for q in range(WW):
            j0, j1, s0 = valid_range(q, sw, pw, W, Wo)
            dst = cols[:, p, q]  # (C, N, Ho, Wo)
            if i1 <= i0 or j1 <= j0:  # this offset sees only padding
                dst[...] = 0
                continue
            rows, columns = slice(r0, r0 + (i1 - i0 - 1) * sh + 1, sh), slice(s0, s0 + (j1 - j0 - 1) * sw + 1, sw)
            dst[:, :, i0:i1, j0:j1] = xt[:, :, rows, columns]  # (C, N, i1 - i0, j1 - j0)
            if i0 > 0 or i1 < Ho or j0 > 0 or j1 < Wo:  # this offset reaches into the padding
                dst[:, :, :i0] = 0
                dst[:, :, i1:] = 0
                dst[:, :, i0:i1, :j0] = 0
                dst[:, :, i0:i1, j1:] = 0
    if bias_row:
        out[-1] = 1
    return out


def col2im(
    cols: np.ndarray, x_shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair, *, batch_last: bool = False
) -> np.ndarray:
    """The adjoint of :func:`im2col`: dx[n, c, i*sh + p - ph, j*sw + q - pw] += cols[(c, p, q), (n, i, j)].

    One strided add per kernel offset; entries that came from the padding are dropped. ``cols`` may
    also come per image, (N, C*HH*WW, Ho*Wo), as :func:`conv_backward` makes it for small kernels, or
    with ``batch_last`` as (C*HH*WW, Ho*Wo*N) (:func:`im2col`'s ``batch_last``); dx is then a view of
    an array laid out (C, H, W, N), so each strided add runs along N (a transposed conv's forward).

    Shape:
        cols: (C*HH*WW, N*Ho*Wo), (N, C*HH*WW, Ho*Wo) or (C*HH*WW, Ho*Wo*N);  dx: x_shape = (N, C, H, W)
    """
    N, C, H, W = x_shape
    (HH, WW), (sh, sw), (ph, pw) = kernel, stride, padding
    Ho, Wo = out_size(x_shape, kernel, stride, padding)
    if cols.ndim == 3:  # per image: (N, K, Ho*Wo) -> (N, C, HH, WW, Ho, Wo), viewed as (C, HH, WW, N, Ho, Wo)
        cols6 = cols.reshape(N, C, HH, WW, Ho, Wo).transpose(1, 2, 3, 0, 4, 5)
    elif batch_last:  # (K, Ho*Wo*N) -> (C, HH, WW, Ho, Wo, N), viewed as (C, HH, WW, N, Ho, Wo)
        cols6 = cols.reshape(C, HH, WW, Ho, Wo, N).transpose(0, 1, 2, 5, 3, 4)
    else:
        cols6 = cols.reshape(C, HH, WW, N, Ho, Wo)  # (C*HH*WW, N*Ho*Wo) -> (C, HH, WW, N, Ho, Wo)
    # windows that do not overlap (stride >= kernel) put each dx entry in at most one window: write, no adds;
    # if they also tile x exactly (stride == kernel, no padding), every entry is written: no zeroing either
    disjoint = sh >= HH and sw >= WW
    covering = (sh, sw) == (HH, WW) and (ph, pw) == (0, 0) and (Ho * HH, Wo * WW) == (H, W)
    new = np.empty if covering else np.zeros
    # batch_last: (C, H, W, N) in memory, viewed as (N, C, H, W)
    dx = new((C, H, W, N), dtype=cols.dtype).transpose(3, 0, 1, 2) if batch_last else new(x_shape, dtype=cols.dtype)
    dxt = dx.transpose(1, 0, 2, 3)  # a view: (N, C, H, W) -> (C, N, H, W)
    for p in range(HH):
        i0, i1, r0 = valid_range(p, sh, ph, H, Ho)
        for q in range(WW):
            j0, j1, s0 = valid_range(q, sw, pw, W, Wo)
            if i1 <= i0 or j1 <= j0:
                continue
            rows, columns = slice(r0, r0 + (i1 - i0 - 1) * sh + 1, sh), slice(s0, s0 + (j1 - j0 - 1) * sw + 1, sw)
            if disjoint:
                dxt[:, :, rows, columns] = cols6[:, p, q, :, i0:i1, j0:j1]
            else:
                dxt[:, :, rows, columns] += cols6[:, p, q, :, i0:i1, j0:j1]  # (C, N, i1 - i0, j1 - j0)
    return dx


@quiet
def conv_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: Any = 1,
    padding: Any = 0,
    *,
    workspace: np.ndarray | None = None,
) -> tuple[np.ndarray, Any]:
    """out[n, f] = w_flat[f] @ cols[:, n] + b[f], cols = im2col(x): one GEMM for the whole batch.

    Same function as :func:`scratchnn.ops.conv_forward_naive` (cross-correlation, zero padding);
    ``stride`` and ``padding`` are ints or (h, w) pairs; ``b=None`` means no bias. ``workspace`` is an
    optional array of the cols' shape and dtype to reuse (a module passes the cols of its previous
    call, which it no longer needs).

    Backward (:func:`conv_backward`): with G = dout as (F, N*Ho*Wo), dw = G @ cols^T,
    db = G @ 1, dx = col2im(w_flat^T @ G) -- a full convolution of dout with the flipped kernel.

    Shape:
        x: (N, C, H, W);  w: (F, C, HH, WW);  b: (F,);  out: (N, F, Ho, Wo)
        with Ho = (H + 2*pad_h - HH) // stride_h + 1 and Wo likewise.
    """
    check_conv_args(x, w, b)
    stride, padding = pair(stride, "stride", low=1), pair(padding, "padding")
    if workspace is not None and not isinstance(workspace, np.ndarray):
        raise invalid_type("workspace", "None or a numpy.ndarray to reuse", workspace)
    N = x.shape[0]
    F, C, HH, WW = w.shape
    Ho, Wo = out_size(x.shape, (HH, WW), stride, padding)
    has_bias = b is not None
    with allocating({"padding": padding}, _TOO_BIG):  # 2**40: arrays NumPy cannot make
        cols = im2col(x, (HH, WW), stride, padding, bias_row=has_bias, out=workspace)  # (K [+ 1], N*Ho*Wo)
        w_flat = w.reshape(F, C * HH * WW)  # (F, C, HH, WW) -> (F, K)
        if b is not None:
            w_flat = np.concatenate([w_flat, b[:, None]], axis=1)  # (F, K + 1): the bias meets the row of ones
        if _per_image(cols):  # N products straight into (N, F, Ho*Wo): no transpose of the output
            cols_n = cols.reshape(cols.shape[0], N, Ho * Wo).transpose(1, 0, 2)  # view: (N, K [+ 1], Ho*Wo)
            out = np.matmul(w_flat, cols_n).reshape(N, F, Ho, Wo)
        else:
            out = w_flat @ cols  # (F, K [+ 1]) @ (K [+ 1], N*Ho*Wo) -> (F, N*Ho*Wo)
            out = np.ascontiguousarray(out.reshape(F, N, Ho, Wo).transpose(1, 0, 2, 3))  # -> (N, F, Ho, Wo)
    return out, (cols, x.shape, w, has_bias, stride, padding, out.shape)


def _per_image(cols: np.ndarray) -> bool:
    """Run the GEMMs per image, on strided views of cols, rather than as one product plus transposes.

    One (F, K) x (K, N*Ho*Wo) product needs the output (and dout) transposed between (F, N, ...)
    and (N, F, ...): a pass over an output-sized array whose cost, next to the product's, grows
    as 1/K. Measured (float32, 2 cores): for K = 27 (3->32, 32x32) the per-image products take the
    forward from 7.0 to 4.8 ms and dw from 4.5 to 2.9 ms; for K = 288 (32->64, 16x16) the single
    product is 10-20% faster. The switch sits between.
    """
    return cols.shape[0] <= 64


@quiet
def conv_backward(
    dout: np.ndarray, cache: Any, *, need_dx: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Gradients of :func:`conv_forward`: (dx, dw, db); db is None without a bias.

    ``need_dx=False`` skips the input gradient (returns None): a first layer's input is data, and
    its gradient is half of the layer's backward.

    Shape:
        dout: (N, F, Ho, Wo);  dx: (N, C, H, W);  dw: (F, C, HH, WW);  db: (F,)
    """
    cols, x_shape, w, has_bias, stride, padding, out_shape = cache
    check_grad(dout, "dout", out_shape, cols.dtype)
    F, C, HH, WW = w.shape
    K = C * HH * WW
    N, _, Ho, Wo = out_shape
    if _per_image(cols):  # as the forward: per-image products on views, no transposes
        g: np.ndarray = dout.reshape(N, F, Ho * Wo)
        cols_n = cols.reshape(cols.shape[0], N, Ho * Wo).transpose(1, 2, 0)  # view: (N, Ho*Wo, K [+ 1])
        dw_full = np.matmul(g, cols_n).sum(axis=0)  # (N, F, K [+ 1]) -> (F, K [+ 1]); the ones row gives db
    else:
        g = np.ascontiguousarray(dout.transpose(1, 0, 2, 3)).reshape(F, -1)  # (N, F, Ho, Wo) -> (F, N*Ho*Wo)
        dw_full = g @ cols.T  # (F, N*Ho*Wo) @ (N*Ho*Wo, K [+ 1]) -> (F, K [+ 1]); the ones row gives db
    dw = np.ascontiguousarray(dw_full[:, :K]).reshape(w.shape)  # (F, K) -> (F, C, HH, WW)
    db = dw_full[:, K].copy() if has_bias else None  # (F,)
    dx = None
    if need_dx:
        # (K, F) @ g: (K, N*Ho*Wo), or per image (N, K, Ho*Wo)
        dcols = np.matmul(w.reshape(F, K).T, g)
        dx = col2im(dcols, x_shape, (HH, WW), stride, padding)  # -> (N, C, H, W)
    return dx, dw, db


@quiet
def conv_forward_fast(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, conv_param: dict[str, Any]
) -> tuple[np.ndarray, Any]:
    """The course's name for :func:`conv_forward`, taking ``conv_param = {'stride': s, 'pad': p}``."""
    stride, padding = conv_param_pair(conv_param)
    return conv_forward(x, w, b, stride, padding)


@quiet
def conv_backward_fast(dout: np.ndarray, cache: Any) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """The course's name for :func:`conv_backward`: (dx, dw, db)."""
    return conv_backward(dout, cache)
