"""Fast transposed convolution: the input gradient of a convolution, run forward. One GEMM, then col2im.

A convolution with kernel w (C, F, HH, WW) maps (N, F, Ho, Wo) images to (N, C, H, W) ones; its input
gradient, ``col2im(w_flat^T @ g)``, maps (N, C, H, W) back up to (N, F, Ho, Wo). Transposed
convolution is that map applied to x, and its backward is the convolution's forward: im2col of dout
and GEMMs. The only Python loops are col2im's and im2col's over the HH * WW kernel offsets.
Derivation: docs/derivations/conv_transpose.md
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._numerics import quiet
from .._validate import allocating, check_grad
from ._spatial import conv_transpose_param, transpose_out_size
from .conv import col2im, im2col
from .conv_transpose_naive import check_conv_transpose_args

_TOO_BIG = "a stride whose output fits in memory"  # the sizes an argument of 2**40 asks NumPy for


@quiet
def conv_transpose_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, conv_param: dict[str, Any]
) -> tuple[np.ndarray, Any]:
    """out = col2im(w_flat^T @ x_flat) + b: the adjoint of a convolution with kernel w, plus a bias.

    Same function as :func:`scratchnn.ops.conv_transpose_forward_naive`, and as
    ``torch.nn.functional.conv_transpose2d`` (dilation 1, groups 1): with ``x_flat`` the input as
    (C, N*H*W) and ``w_flat`` the kernel as (C, F*HH*WW), the GEMM gives every input pixel's scaled
    kernel as a column, and col2im adds the columns into the output at stride (sh, sw), dropping
    what falls into the ``pad`` border. ``conv_param = {'stride': s, 'pad': p, 'output_padding': op}``,
    each an int or an (h, w) pair, op < s; ``b=None`` means no bias.

    Backward (:func:`conv_transpose_backward`): with dcols = im2col(dout) as (F*HH*WW, N*H*W),
    dx = w_flat @ dcols (a convolution of dout with w), dw = x_flat @ dcols^T, db = sum of dout over
    (N, Ho, Wo).

    Shape:
        x: (N, C, H, W);  w: (C, F, HH, WW);  b: (F,);  out: (N, F, Ho, Wo)
        with Ho = (H - 1)*stride_h - 2*pad_h + HH + output_padding_h and Wo likewise.
    """
    check_conv_transpose_args(x, w, b)
    stride, pad, output_padding = conv_transpose_param(conv_param)
    N, C, H, W = x.shape
    _, F, HH, WW = w.shape
    Ho, Wo = transpose_out_size(x.shape, (HH, WW), stride, pad, output_padding)
    with allocating({"stride": stride}, _TOO_BIG):  # 2**40: arrays NumPy cannot make
        # batch innermost, (C, H, W, N): col2im's strided adds then run along N, not along rows of W entries
        # (measured 4-6x faster); the GEMM is indifferent, and dw's GEMM reads x_flat again in backward
        x_flat = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).reshape(C, H * W * N)  # (N, C, H, W) -> (C, H*W*N)
        cols = w.reshape(C, F * HH * WW).T @ x_flat  # (K, C) @ (C, H*W*N) -> (K, H*W*N), K = F*HH*WW
        out_t = col2im(cols, (N, F, Ho, Wo), (HH, WW), stride, pad, batch_last=True)  # a view of (F, Ho, Wo, N)
        out = np.empty((N, F, Ho, Wo), dtype=x.dtype)
    if b is not None:  # one pass: into torch's layout, plus the bias
        np.add(out_t, b[:, None, None], out=out)  # (N, F, Ho, Wo) + (F, 1, 1)
    else:
        out[...] = out_t
    return out, (x_flat, x.shape, w, b is not None, stride, pad, out.shape)


@quiet
def conv_transpose_backward(
    dout: np.ndarray, cache: Any, *, need_dx: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Gradients of :func:`conv_transpose_forward`: (dx, dw, db); db is None without a bias.

    dx is the forward of a convolution of dout with kernel w (the same stride and pad), dw its
    weight gradient with x as upstream gradient. ``need_dx=False`` skips the input gradient (returns None).

    Shape:
        dout: (N, F, Ho, Wo);  dx: (N, C, H, W);  dw: (C, F, HH, WW);  db: (F,)
    """
    x_flat, x_shape, w, has_bias, stride, pad, out_shape = cache
    check_grad(dout, "dout", out_shape, x_flat.dtype)
    N, C, H, W = x_shape
    _, F, HH, WW = w.shape
    # dout with the batch innermost, (F, Ho, Wo, N), as the forward laid out x: im2col copies along N
    dout_t = np.ascontiguousarray(dout.transpose(1, 2, 3, 0))  # (N, F, Ho, Wo) -> (F, Ho, Wo, N)
    dcols = im2col(dout_t.transpose(3, 0, 1, 2), (HH, WW), stride, pad, batch_last=True)  # -> (K, H*W*N)
    dw = (x_flat @ dcols.T).reshape(w.shape)  # (C, H*W*N) @ (H*W*N, K) -> (C, K) -> (C, F, HH, WW)
    db = dout_t.reshape(F, -1).sum(axis=1) if has_bias else None  # (F, Ho*Wo*N) -> (F,)
    dx = None
    if need_dx:
        dx_flat = w.reshape(C, F * HH * WW) @ dcols  # (C, K) @ (K, H*W*N) -> (C, H*W*N)
        dx = np.ascontiguousarray(dx_flat.reshape(C, H, W, N).transpose(3, 0, 1, 2))  # -> (N, C, H, W)
    return dx, dw, db
