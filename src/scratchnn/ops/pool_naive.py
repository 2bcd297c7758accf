"""The reference pooling: plain loops over images, channels and output positions (CS231n's names).

``pool_param = {'pool_height': HH, 'pool_width': WW, 'stride': s}`` as in the course, plus an
optional ``'pad'`` (max pooling pads with -inf, average pooling with zeros counted in the divisor,
torch's defaults). The fast ops in :mod:`scratchnn.ops.pool` are held equal to these by the tests.
Derivation: docs/derivations/pool.md
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._numerics import quiet
from .._validate import check_grad
from ._spatial import check_images, out_size, pool_param_args


def _pad(x: np.ndarray, pad: tuple[int, int], value: float) -> np.ndarray:
    (ph, pw) = pad
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)  # (N, C, H+2ph, W+2pw)


@quiet
def max_pool_forward_naive(x: np.ndarray, pool_param: dict[str, Any]) -> tuple[np.ndarray, Any]:
    """out[n, c, i, j] = max_{p, q} xpad[n, c, i*sh + p, j*sw + q], xpad padded with -inf.

    Backward (:func:`max_pool_backward_naive`): each dout[n, c, i, j] goes to the FIRST maximum of its
    window in row-major order (torch's choice on ties); windows that overlap add up.

    Shape:
        x: (N, C, H, W);  out: (N, C, Ho, Wo), Ho = (H + 2*pad_h - HH) // stride_h + 1, Wo likewise
    """
    check_images(x, "x")
    kernel, stride, pad = pool_param_args(pool_param)
    (HH, WW), (sh, sw) = kernel, stride
    N, C, _, _ = x.shape
    Ho, Wo = out_size(x.shape, kernel, stride, pad)
    xpad = _pad(x, pad, -np.inf)
    out = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    out[n, c, i, j] = xpad[n, c, i * sh : i * sh + HH, j * sw : j * sw + WW].max()
    return out, (x, pool_param)


@quiet
def max_pool_backward_naive(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Gradient of :func:`max_pool_forward_naive`: dx, with each dout sent to its window's first argmax."""
    x, pool_param = cache
    kernel, stride, pad = pool_param_args(pool_param)
    (HH, WW), (sh, sw), (ph, pw) = kernel, stride, pad
    N, C, H, W = x.shape
    Ho, Wo = out_size(x.shape, kernel, stride, pad)
    check_grad(dout, "dout", (N, C, Ho, Wo), x.dtype)
    xpad = _pad(x, pad, -np.inf)
    dxpad = np.zeros_like(xpad)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    window = xpad[n, c, i * sh : i * sh + HH, j * sw : j * sw + WW]
                    p, q = np.unravel_index(np.argmax(window), window.shape)  # argmax: the first maximum
                    dxpad[n, c, i * sh + p, j * sw + q] += dout[n, c, i, j]
    return dxpad[:, :, ph : ph + H, pw : pw + W].copy()  # (N, C, H+2ph, W+2pw) -> (N, C, H, W)


@quiet
def avg_pool_forward_naive(x: np.ndarray, pool_param: dict[str, Any]) -> tuple[np.ndarray, Any]:
    """out[n, c, i, j] = mean_{p, q} xpad[n, c, i*sh + p, j*sw + q], xpad zero-padded (zeros counted).

    Backward (:func:`avg_pool_backward_naive`): each window gets dout[n, c, i, j] / (HH * WW) on every
    one of its entries.

    Shape:
        x: (N, C, H, W);  out: (N, C, Ho, Wo)
    """
    check_images(x, "x")
    kernel, stride, pad = pool_param_args(pool_param)
    (HH, WW), (sh, sw) = kernel, stride
    N, C, _, _ = x.shape
    Ho, Wo = out_size(x.shape, kernel, stride, pad)
    xpad = _pad(x, pad, 0.0)
    out = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    out[n, c, i, j] = xpad[n, c, i * sh : i * sh + HH, j * sw : j * sw + WW].sum() / (HH * WW)
    return out, (x.shape, x.dtype, pool_param)


@quiet
def avg_pool_backward_naive(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Gradient of :func:`avg_pool_forward_naive`: dx, each window spreading dout / (HH * WW) evenly."""
    x_shape, dtype, pool_param = cache
    kernel, stride, pad = pool_param_args(pool_param)
    (HH, WW), (sh, sw), (ph, pw) = kernel, stride, pad
    N, C, H, W = x_shape
    Ho, Wo = out_size(x_shape, kernel, stride, pad)
    check_grad(dout, "dout", (N, C, Ho, Wo), dtype)
    dxpad = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=dout.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    dxpad[n, c, i * sh : i * sh + HH, j * sw : j * sw + WW] += dout[n, c, i, j] / (HH * WW)
    return dxpad[:, :, ph : ph + H, pw : pw + W].copy()  # (N, C, H+2ph, W+2pw) -> (N, C, H, W)
