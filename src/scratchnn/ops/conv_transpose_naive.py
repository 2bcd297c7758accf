"""The reference transposed convolution: plain loops that scatter each input pixel, times the kernel, into the output.

Slow on purpose: every line is the definition. The fast pair in :mod:`scratchnn.ops.conv_transpose` is
held equal to it by the tests. Derivation: docs/derivations/conv_transpose.md
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._numerics import quiet
from .._validate import allocating, check_array, check_grad, check_same_dtype, invalid_shape
from ._spatial import check_images, conv_transpose_param, transpose_out_size

_TOO_BIG = "a stride whose output fits in memory"  # the sizes an argument of 2**40 asks NumPy for


def check_conv_transpose_args(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> None:
    """x (N, C, H, W), w (C, F, HH, WW) (torch's layout: input channels first), b (F,) or None, one dtype."""
    check_images(x, "x")
    check_array(w, "w", ndim=4)
    check_same_dtype(w, "w", x)
    if w.shape[0] != x.shape[1]:
        raise invalid_shape("w", f"({x.shape[1]}, F, HH, WW) to match x's {x.shape[1]} channels", w.shape)
    if b is not None:
        check_array(b, "b", ndim=1)
        check_same_dtype(b, "b", x)
        if b.shape != (w.shape[1],):
            raise invalid_shape("b", f"({w.shape[1]},), one bias per output channel", b.shape)


@quiet
def conv_transpose_forward_naive(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, conv_param: dict[str, Any]
) -> tuple[np.ndarray, Any]:
    """outpad[n, :, i*sh : i*sh+HH, j*sw : j*sw+WW] += x[n, c, i, j] * w[c];  out = outpad cropped, + b.

    Each input pixel stamps the kernel of its channel, scaled by its value, onto the output at stride
    (sh, sw); ``outpad`` is the output with ``pad`` extra rows and columns on each side, which are cut
    off, and ``output_padding`` extra rows and columns at the bottom and right, which are kept.
    ``conv_param = {'stride': s, 'pad': p, 'output_padding': op}``, each an int or an (h, w) pair,
    op < s. ``b=None`` means no bias. This is the input gradient of ``conv_forward_naive`` with
    kernel ``w``: the transpose of a convolution's matrix.

    Backward (:func:`conv_transpose_backward_naive`): each stamp above sends
    ``sum(doutpad[n, :, window] * w[c])`` to ``dx[n, c, i, j]`` and ``x[n, c, i, j] * doutpad[n, :, window]``
    to ``dw[c]``; ``db[f] = sum_{n, i, j} dout[n, f, i, j]``.

    Shape:
        x: (N, C, H, W);  w: (C, F, HH, WW);  b: (F,);  out: (N, F, Ho, Wo)
        with Ho = (H - 1)*stride_h - 2*pad_h + HH + output_padding_h and Wo likewise.
    """
    check_conv_transpose_args(x, w, b)
    (sh, sw), (ph, pw), (oh, ow) = conv_transpose_param(conv_param)
    N, C, H, W = x.shape
    _, F, HH, WW = w.shape
    Ho, Wo = transpose_out_size(x.shape, (HH, WW), (sh, sw), (ph, pw), (oh, ow))
    with allocating({"stride": (sh, sw)}, _TOO_BIG):  # 2**40: arrays NumPy cannot make
        # the stamps reach row (H - 1)*sh + HH - 1; output_padding rows below them stay 0 (+ bias)
        outpad = np.zeros((N, F, (H - 1) * sh + HH + oh, (W - 1) * sw + WW + ow), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H):
                for j in range(W):
                    outpad[n, :, i * sh : i * sh + HH, j * sw : j * sw + WW] += x[n, c, i, j] * w[c]
    out = outpad[:, :, ph : ph + Ho, pw : pw + Wo].copy()  # (N, F, Ho + 2ph, Wo + 2pw [- ...]) -> (N, F, Ho, Wo)
    if b is not None:
        out += b[:, None, None]
    return out, (x, w, b, conv_param)


@quiet
def conv_transpose_backward_naive(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gradients of :func:`conv_transpose_forward_naive`: (dx, dw, db), db None when there was no bias.

    dx[n, c, i, j] = sum(doutpad[n, :, i*sh : i*sh+HH, j*sw : j*sw+WW] * w[c])
    dw[c] += x[n, c, i, j] * doutpad[n, :, i*sh : i*sh+HH, j*sw : j*sw+WW];  doutpad = dout with the pad put back.
    """
    x, w, b, conv_param = cache
    (sh, sw), (ph, pw), (oh, ow) = conv_transpose_param(conv_param)
    N, C, H, W = x.shape
    _, F, HH, WW = w.shape
    Ho, Wo = transpose_out_size(x.shape, (HH, WW), (sh, sw), (ph, pw), (oh, ow))
    check_grad(dout, "dout", (N, F, Ho, Wo), x.dtype)
    doutpad = np.zeros((N, F, (H - 1) * sh + HH + oh, (W - 1) * sw + WW + ow), dtype=x.dtype)
    doutpad[:, :, ph : ph + Ho, pw : pw + Wo] = dout  # the rows the forward cropped get no gradient
    dx = np.zeros_like(x)
    dw = np.zeros_like(w)
    for n in range(N):
        for c in range(C):
            for i in range(H):
                for j in range(W):
                    window = doutpad[n, :, i * sh : i * sh + HH, j * sw : j * sw + WW]  # (F, HH, WW)
                    dx[n, c, i, j] = np.sum(window * w[c])
                    dw[c] += x[n, c, i, j] * window
    db = dout.sum(axis=(0, 2, 3)) if b is not None else None  # (N, F, Ho, Wo) -> (F,)
    return dx, dw, db
