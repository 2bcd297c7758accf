"""The reference convolution: plain loops over images, filters and output positions (CS231n's names).

Slow on purpose: every line is the definition. The fast pair in :mod:`scratchnn.ops.conv` is held
equal to it by the tests. Derivation: docs/derivations/conv.md
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._numerics import quiet
from .._validate import allocating, check_array, check_grad, check_same_dtype, invalid_shape
from ._spatial import check_images, conv_param_pair, out_size

_TOO_BIG = "a padding whose padded input fits in memory"  # the sizes an argument of 2**40 asks NumPy for


def check_conv_args(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> None:
    """x (N, C, H, W), w (F, C, HH, WW), b (F,) or None, all of x's dtype (docs/dtypes.md)."""
    check_images(x, "x")
    check_array(w, "w", ndim=4)
    check_same_dtype(w, "w", x)
    if w.shape[1] != x.shape[1]:
        raise invalid_shape("w", f"(F, {x.shape[1]}, HH, WW) to match x's {x.shape[1]} channels", w.shape)
    if b is not None:
        check_array(b, "b", ndim=1)
        check_same_dtype(b, "b", x)
        if b.shape != (w.shape[0],):
            raise invalid_shape("b", f"({w.shape[0]},), one bias per filter", b.shape)


@quiet
def conv_forward_naive(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, conv_param: dict[str, Any]
) -> tuple[np.ndarray, Any]:
    """out[n, f, i, j] = b[f] + sum_{c, p, q} w[f, c, p, q] * xpad[n, c, i*sh + p, j*sw + q].

    ``xpad`` is x with ``pad`` zeros on each side of H and W; ``conv_param = {'stride': s, 'pad': p}``,
    each an int or an (h, w) pair. ``b=None`` means no bias.

    Backward (:func:`conv_backward_naive`): each product above sends ``dout[n, f, i, j] * w`` to
    ``dxpad`` and ``dout[n, f, i, j] * xpad`` to ``dw``; ``db[f] = sum_{n, i, j} dout[n, f, i, j]``.

    Shape:
        x: (N, C, H, W);  w: (F, C, HH, WW);  b: (F,);  out: (N, F, Ho, Wo)
        with Ho = (H + 2*pad_h - HH) // stride_h + 1 and Wo likewise.
    """
    check_conv_args(x, w, b)
    (sh, sw), (ph, pw) = conv_param_pair(conv_param)
    N, _, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = out_size(x.shape, (HH, WW), (sh, sw), (ph, pw), "x")
    with allocating({"pad": (ph, pw)}, _TOO_BIG):  # 2**40: arrays NumPy cannot make
        xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))  # (N, C, H, W) -> (N, C, H + 2ph, W + 2pw)
        out = np.zeros((N, F, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    window = xpad[n, :, i * sh : i * sh + HH, j * sw : j * sw + WW]  # (C, HH, WW)
                    out[n, f, i, j] = np.sum(window * w[f])
            if b is not None:
                out[n, f] += b[f]
    return out, (x, w, b, conv_param)


@quiet
def conv_backward_naive(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gradients of :func:`conv_forward_naive`: (dx, dw, db), db None when there was no bias.

    dxpad[n, :, i*sh : i*sh+HH, j*sw : j*sw+WW] += dout[n, f, i, j] * w[f]
    dw[f] += dout[n, f, i, j] * xpad[n, :, i*sh : i*sh+HH, j*sw : j*sw+WW];   dx = dxpad without the pad.
    """
    x, w, b, conv_param = cache
    (sh, sw), (ph, pw) = conv_param_pair(conv_param)
    N, _, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = out_size(x.shape, (HH, WW), (sh, sw), (ph, pw), "x")
    check_grad(dout, "dout", (N, F, Ho, Wo), x.dtype)
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))  # (N, C, H, W) -> (N, C, H + 2ph, W + 2pw)
    dxpad = np.zeros_like(xpad)
    dw = np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    rows, cols = slice(i * sh, i * sh + HH), slice(j * sw, j * sw + WW)
                    dxpad[n, :, rows, cols] += dout[n, f, i, j] * w[f]
                    dw[f] += dout[n, f, i, j] * xpad[n, :, rows, cols]
    dx = dxpad[:, :, ph : ph + H, pw : pw + W].copy()  # (N, C, H + 2ph, W + 2pw) -> (N, C, H, W)
    db = dout.sum(axis=(0, 2, 3)) if b is not None else None  # (N, F, Ho, Wo) -> (F,)
    return dx, dw, db
