"""Fast pooling: max and average pooling by strided slices (one per window offset), adaptive average pooling.

A window of HH x WW offsets is HH * WW strided views of the (padded) input, each of the output's
shape; max and sum run elementwise across those views, which beats a reduction over tiny window
axes. Windows that tile the input (stride == kernel, no padding) are the reshape case: each input
entry belongs to one window, so backward writes the gradient once instead of accumulating.
Derivation: docs/derivations/pool.md
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .._numerics import quiet
from .._validate import allocating, check_grad, check_int, invalid_type
from ._blocks import batch_blocks
from ._spatial import Pair, check_images, check_pool_padding, out_size, pair, pool_param_args

_TOO_BIG = "a window whose padded input and output fit in memory"  # the sizes an argument of 2**40 asks NumPy for


def _pool_args(x: Any, kernel_size: Any, stride: Any, padding: Any) -> tuple[Pair, Pair, Pair, Pair]:
    check_images(x, "x")
    kernel = pair(kernel_size, "kernel_size", low=1)
    stride = kernel if stride is None else pair(stride, "stride", low=1)
    padding = check_pool_padding(padding, kernel)
    return kernel, stride, padding, out_size(x.shape, kernel, stride, padding)


def _padded(x: np.ndarray, padding: Pair, value: float) -> np.ndarray:
    (ph, pw) = padding
    if (ph, pw) == (0, 0):
        return x
    N, C, H, W = x.shape
    xp = np.full((N, C, H + 2 * ph, W + 2 * pw), value, dtype=x.dtype)
    xp[:, :, ph : ph + H, pw : pw + W] = x  # (N, C, H, W) -> (N, C, H + 2ph, W + 2pw)
    return xp


def _windows(xp: np.ndarray, kernel: Pair, stride: Pair, out_hw: Pair) -> Iterator[np.ndarray]:
    """For each window offset (p, q) in row-major order: the view xp[:, :, i*sh + p, j*sw + q] over all (i, j)."""
    (HH, WW), (sh, sw), (Ho, Wo) = kernel, stride, out_hw
    for p in range(HH):
        for q in range(WW):
            yield xp[:, :, p : p + (Ho - 1) * sh + 1 : sh, q : q + (Wo - 1) * sw + 1 : sw]  # (N, C, Ho, Wo)


def _layout(kernel: Pair, stride: Pair, padded_hw: tuple[int, ...], out_hw: tuple[int, ...]) -> tuple[bool, bool]:
    """(disjoint, covering): windows never overlap (each input entry gets at most one write, no adds);
    and they also cover every padded input entry (so the gradient buffer needs no zeroing)."""
    disjoint = stride[0] >= kernel[0] and stride[1] >= kernel[1]
    covering = disjoint and (out_hw[0] * stride[0], out_hw[1] * stride[1]) == tuple(padded_hw) and stride == kernel
    return disjoint, covering


def _unpad(dxp: np.ndarray, padding: Pair) -> np.ndarray:
    """dx from the gradient of the padded input (a copy without the border)."""
    (ph, pw) = padding
    if (ph, pw) == (0, 0):
        return dxp
    return dxp[:, :, ph : dxp.shape[2] - ph, pw : dxp.shape[3] - pw].copy()  # (N, C, Hp, Wp) -> (N, C, H, W)


@quiet
def max_pool_forward(x: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0) -> tuple[np.ndarray, Any]:
    """out[n, c, i, j] = max_{p, q} xpad[n, c, i*sh + p, j*sw + q] (xpad: x padded with -inf, as torch).

    ``kernel_size``, ``stride`` (default: the kernel) and ``padding`` are ints or (h, w) pairs. The
    maximum is an elementwise ``np.maximum`` over the HH*WW strided views, one per window offset.

    Backward (:func:`max_pool_backward`): dout[n, c, i, j] goes to the FIRST entry of its window, in
    row-major order, that equals the maximum (torch's choice on ties); zero elsewhere. The cache
    keeps x and the returned out by reference (modify neither in place before backward). A window
    holding a NaN outputs NaN and, unlike torch's, passes no gradient back.

    Shape:
        x: (N, C, H, W);  out: (N, C, Ho, Wo), Ho = (H + 2*pad_h - HH) // stride_h + 1, Wo likewise
    """
    kernel, stride, padding, out_hw = _pool_args(x, kernel_size, stride, padding)
    with allocating({"kernel_size": kernel, "padding": padding}, _TOO_BIG):
        xp = _padded(x, padding, -np.inf)
        out = np.empty((*x.shape[:2], *out_hw), dtype=x.dtype)  # (N, C, Ho, Wo)
    for block in batch_blocks(xp):
        views = _windows(xp[block], kernel, stride, out_hw)
        out_b = out[block]
        np.copyto(out_b, next(views))
        for view in views:
            np.maximum(out_b, view, out=out_b)
    return out, (xp, out, kernel, stride, padding)


@quiet
def max_pool_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Gradient of :func:`max_pool_forward`: each dout[n, c, i, j] goes to its window's first argmax.

    Offsets are visited in row-major order; ``left`` holds the gradient of the windows whose maximum
    has not been found yet, so a tie later in the window gets nothing.

    Shape:
        dout: (N, C, Ho, Wo);  dx: (N, C, H, W)
    """
    xp, out, kernel, stride, padding = cache
    check_grad(dout, "dout", out.shape, out.dtype)
    out_hw = dout.shape[2:]
    disjoint, covering = _layout(kernel, stride, xp.shape[2:], out_hw)
    dxp = (np.empty if covering else np.zeros)(xp.shape, dtype=dout.dtype)
    last = kernel[0] * kernel[1] - 1
    blocks = list(batch_blocks(xp))  # cache-sized (ops/_blocks.py): 2x2 over (64, 32, 32, 32), 20 -> 7 ms
    if not blocks:  # an empty batch
        return _unpad(dxp, padding)
    block_shape = dout[blocks[0]].shape  # (n, C, Ho, Wo): workspaces reused by every block, so they stay in cache
    left_ws, taken_ws = np.empty(block_shape, dout.dtype), np.empty(block_shape, dout.dtype)
    hit_ws = np.empty(block_shape, dtype=bool)
    for b in blocks:
        dout_b, out_b = dout[b], out[b]
        m = dout_b.shape[0]  # the last block may be smaller
        left, hit, taken = left_ws[:m], hit_ws[:m], taken_ws[:m]
        np.copyto(left, dout_b)  # the gradient of the windows whose first maximum is still to come
        windows = zip(_windows(xp[b], kernel, stride, out_hw), _windows(dxp[b], kernel, stride, out_hw))
        for k, (view, dst) in enumerate(windows):
            np.equal(view, out_b, out=hit)
            np.multiply(left, hit, out=taken)  # contiguous: the strided view is touched once, below
            if disjoint:  # each dx entry is in at most one window: write, no accumulation
                dst[...] = taken
            else:
                dst += taken
            if k < last:
                left -= taken  # exact: left - left * 1 = 0 where this offset took the gradient
    return _unpad(dxp, padding)


@quiet
def avg_pool_forward(
    x: np.ndarray,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    *,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> tuple[np.ndarray, Any]:
    """out[n, c, i, j] = sum_{p, q} xpad[n, c, i*sh + p, j*sw + q] / d[i, j] (xpad zero-padded).

    d is HH*WW, or the number of window entries inside x when ``count_include_pad=False``, or
    ``divisor_override`` (torch's options).

    Backward (:func:`avg_pool_backward`): every entry of window (i, j) gets dout[n, c, i, j] / d[i, j].

    Shape:
        x: (N, C, H, W);  out: (N, C, Ho, Wo)
    """
    kernel, stride, padding, out_hw = _pool_args(x, kernel_size, stride, padding)
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise invalid_type("count_include_pad", "a bool", count_include_pad)
    if divisor_override is not None:
        divisor_override = check_int(divisor_override, "divisor_override", low=1)
    divisor = _divisor(x.shape, kernel, stride, padding, out_hw, count_include_pad, divisor_override, x.dtype)
    with allocating({"kernel_size": kernel, "padding": padding}, _TOO_BIG):
        views = _windows(_padded(x, padding, 0.0), kernel, stride, out_hw)
    total = next(views).copy()  # (N, C, Ho, Wo)
    for view in views:
        total += view
    out = total / divisor
    return out, (divisor, x.shape, kernel, stride, padding, out.shape, out.dtype)


@quiet
def avg_pool_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Gradient of :func:`avg_pool_forward`: dx spreads dout / d evenly over each window."""
    divisor, x_shape, kernel, stride, (ph, pw), out_shape, dtype = cache
    check_grad(dout, "dout", out_shape, dtype)
    N, C, H, W = x_shape
    padded_hw = (H + 2 * ph, W + 2 * pw)
    disjoint, covering = _layout(kernel, stride, padded_hw, dout.shape[2:])
    share = dout / divisor  # (N, C, Ho, Wo)
    dxp = (np.empty if covering else np.zeros)((N, C, *padded_hw), dtype=dout.dtype)
    for dst in _windows(dxp, kernel, stride, dout.shape[2:]):
        if disjoint:
            dst[...] = share
        else:
            dst += share
    return _unpad(dxp, (ph, pw))


def _divisor(
    x_shape: tuple[int, ...],
    kernel: Pair,
    stride: Pair,
    padding: Pair,
    out_hw: Pair,
    count_include_pad: bool,
    divisor_override: int | None,
    dtype: Any,
) -> Any:
    """The average's divisor: a Python int, or an (Ho, Wo) array of in-bounds counts."""
    if divisor_override is not None:
        return divisor_override
    if count_include_pad or padding == (0, 0):
        return kernel[0] * kernel[1]
    counts = []
    for size, k, s, p, n_out in zip(x_shape[2:], kernel, stride, padding, out_hw):
        start = np.arange(n_out) * s - p  # first input row of each window (may be negative: padding)
        counts.append(np.minimum(start + k, size) - np.maximum(start, 0))  # rows of the window inside x
    return np.multiply.outer(counts[0], counts[1]).astype(dtype)  # (Ho,) x (Wo,) -> (Ho, Wo)


@quiet
def adaptive_avg_pool_forward(x: np.ndarray, output_size: Any) -> tuple[np.ndarray, Any]:
    """out[n, c, i, j] = mean of x[n, c, h0(i):h1(i), w0(j):w1(j)], torch's adaptive windows:

    h0(i) = floor(i * H / Ho), h1(i) = ceil((i + 1) * H / Ho) (and likewise for w), so the windows
    cover x and may overlap by one row when Ho does not divide H. As matrices: out = A_h x A_w^T with
    A_h[i, h] = [h0(i) <= h < h1(i)] / (h1(i) - h0(i)), computed as sums then a division.

    Backward (:func:`adaptive_avg_pool_backward`): dx = A_h^T dout A_w.

    Shape:
        x: (N, C, H, W);  output_size: an int, an (Ho, Wo) pair (None keeps that axis);  out: (N, C, Ho, Wo)
    """
    check_images(x, "x")
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        size = tuple(x.shape[2 + a] if s is None else s for a, s in enumerate(output_size))
    else:
        size = output_size
    Ho, Wo = pair(size, "output_size", low=1)
    N, C, H, W = x.shape
    if H % Ho == 0 and W % Wo == 0:  # equal windows: a reshape and a sum over the window axes
        kh, kw = H // Ho, W // Wo
        out = x.reshape(N, C, Ho, kh, Wo, kw).sum(axis=(3, 5)) / (kh * kw)  # (N, C, H, W) -> (N, C, Ho, Wo)
        return out, (None, None, kh * kw, x.shape, out.shape, out.dtype)
    with allocating({"output_size": output_size}, "an output size whose output fits in memory"):
        ah, aw = _adaptive_matrix(H, Ho, x.dtype), _adaptive_matrix(W, Wo, x.dtype)
        counts = np.multiply.outer(ah.sum(axis=1), aw.sum(axis=1))  # (Ho, Wo) window sizes
        out = np.matmul(np.matmul(ah, x), aw.T) / counts  # (Ho, H) @ (N, C, H, W) @ (W, Wo) -> (N, C, Ho, Wo)
    return out, (ah, aw, counts, x.shape, out.shape, out.dtype)


def _adaptive_matrix(size: int, n_out: int, dtype: Any) -> np.ndarray:
    """A[i, h] = 1 where h0(i) <= h < h1(i): torch's window i of an adaptive pool of ``size`` into ``n_out``."""
    i = np.arange(n_out)
    start = (i * size) // n_out  # floor(i * size / n_out)
    end = -((-(i + 1) * size) // n_out)  # ceil((i + 1) * size / n_out)
    h = np.arange(size)
    return ((h >= start[:, None]) & (h < end[:, None])).astype(dtype)  # (n_out, size)


@quiet
def adaptive_avg_pool_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Gradient of :func:`adaptive_avg_pool_forward`: dx = A_h^T (dout / counts) A_w."""
    ah, aw, counts, (N, C, H, W), out_shape, dtype = cache
    check_grad(dout, "dout", out_shape, dtype)
    Ho, Wo = out_shape[2:]
    if ah is None:
        share = (dout / counts)[:, :, :, None, :, None]  # (N, C, Ho, 1, Wo, 1)
        return np.broadcast_to(share, (N, C, Ho, H // Ho, Wo, W // Wo)).reshape(N, C, H, W)  # a copy
    return np.matmul(np.matmul(ah.T, dout / counts), aw)  # (H, Ho) @ (N, C, Ho, Wo) @ (Wo, W) -> (N, C, H, W)


@quiet
def max_pool_forward_fast(x: np.ndarray, pool_param: dict[str, Any]) -> tuple[np.ndarray, Any]:
    """The course's name for :func:`max_pool_forward`, taking ``{'pool_height', 'pool_width', 'stride'}``."""
    kernel, stride, pad = pool_param_args(pool_param)
    return max_pool_forward(x, kernel, stride, pad)


@quiet
def max_pool_backward_fast(dout: np.ndarray, cache: Any) -> np.ndarray:
    """The course's name for :func:`max_pool_backward`."""
    return max_pool_backward(dout, cache)
