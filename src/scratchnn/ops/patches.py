"""Images as sequences of patches, for a Vision Transformer and the masked-image autoencoder (MAE).

``patchify`` cuts (N, C, H, W) images into L = (H / p)(W / p) non-overlapping p x p patches and flattens
each into a row of p * p * C values; ``unpatchify`` puts them back. The order is the MAE reference code's
(``einsum('nchpwq->nhwpqc')``): patches row-major over the image (patch (i, j) is row i * W/p + j), and
within a patch pixel rows, then pixel columns, then channels, so a patch row is the p x p x C block in
channels-last order. Keeping the reference's order means its per-patch normalisation and its figures'
unpatchify read our rows unchanged. (A Conv2d patch embedding flattens its weight as (C, p, p) instead:
a Linear that replaces it takes the columns permuted.)

Both are permutations of the values, so each one's backward is the other applied to the upstream gradient.

Derivation: docs/derivations/patches.md
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .._numerics import quiet
from .._validate import allocating, check_array, check_grad, check_int, invalid_shape, invalid_type, invalid_value


def _patchify(x: np.ndarray, p: int) -> np.ndarray:
    """(N, C, H, W) -> (N, L, p*p*C) in the MAE order, always a new array."""
    N, C, H, W = x.shape
    h, w = H // p, W // p
    out = np.empty((N, h, w, p, p, C), dtype=x.dtype)
    out[...] = x.reshape(N, C, h, p, w, p).transpose(0, 2, 4, 3, 5, 1)  # (N, C, h, p, w, q) -> (N, h, w, p, q, C)
    return out.reshape(N, h * w, p * p * C)  # (N, h, w, p, q, C) -> (N, L, p*p*C)


def _unpatchify(x: np.ndarray, p: int, C: int, H: int, W: int) -> np.ndarray:
    """(N, L, p*p*C) -> (N, C, H, W), the inverse of :func:`_patchify`, always a new array."""
    N = x.shape[0]
    h, w = H // p, W // p
    out = np.empty((N, C, h, p, w, p), dtype=x.dtype)
    out[...] = x.reshape(N, h, w, p, p, C).transpose(0, 5, 1, 3, 2, 4)  # (N, h, w, p, q, C) -> (N, C, h, p, w, q)
    return out.reshape(N, C, H, W)  # (N, C, h, p, w, q) -> (N, C, H, W)


@quiet
def patchify_forward(x: np.ndarray, patch_size: int) -> tuple[np.ndarray, Any]:
    """out[n, i * (W/p) + j, (a * p + b) * C + c] = x[n, c, i * p + a, j * p + b]: image n's patch (i, j) as a row.

    Backward: the same map read the other way, dx = unpatchify(dout) (a permutation's gradient is its inverse).

    Shape:
        x: (N, C, H, W), H and W multiples of p = ``patch_size``;  out: (N, L, p*p*C), L = (H/p)(W/p)

    Derivation: docs/derivations/patches.md
    """
    check_array(x, "x", ndim=4)
    N, C, H, W = x.shape
    p = check_int(patch_size, "patch_size", low=1, high=max(H, W, 1))  # a larger patch fits no image (H, W > 0)
    if H % p or W % p:
        raise invalid_shape("x", f"(N, C, H, W) with H and W multiples of patch_size={p}", x.shape)
    return _patchify(x, p), (x.shape, p, x.dtype)


@quiet
def patchify_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Gradient of :func:`patchify_forward`: dx = unpatchify(dout), the values moved back to their pixels."""
    (N, C, H, W), p, dtype = cache
    check_grad(dout, "dout", (N, (H // p) * (W // p), p * p * C), dtype)
    return _unpatchify(dout, p, C, H, W)


def _image_size(image_size: Any, p: int) -> tuple[int | None, int, int]:
    """(C or None, H, W) from ``image_size``: an int side, (H, W) or (C, H, W), H and W multiples of p."""
    if isinstance(image_size, numbers.Integral) and not isinstance(image_size, bool):
        sizes: tuple[Any, ...] = (image_size, image_size)
    elif isinstance(image_size, (tuple, list)) and len(image_size) in (2, 3):
        sizes = tuple(image_size)
    else:
        raise invalid_type("image_size", "an int, (H, W) or (C, H, W)", image_size)
    *given_C, H, W = (check_int(s, "image_size", low=0) for s in sizes)
    if H % p or W % p:
        raise invalid_value("image_size", f"H and W multiples of patch_size={p}", image_size)
    return (given_C[0] if given_C else None), H, W


@quiet
def unpatchify_forward(x: np.ndarray, patch_size: int, image_size: Any) -> tuple[np.ndarray, Any]:
    """The inverse of :func:`patchify_forward`: rows of patches back into (N, C, H, W) images.

    ``image_size`` is an int (square images), (H, W) or (C, H, W); C is the row length / (p*p) (and must
    equal a given C). Backward: dx = patchify(dout).

    Shape:
        x: (N, L, p*p*C) with L = (H/p)(W/p);  out: (N, C, H, W)

    Derivation: docs/derivations/patches.md
    """
    check_array(x, "x", ndim=3)
    p = check_int(patch_size, "patch_size", low=1)
    given_C, H, W = _image_size(image_size, p)
    if p > max(H, W, 1):
        raise invalid_value("patch_size", f"an int in [1, {max(H, W, 1)}] for {H}x{W} images", patch_size)
    N, L, P = x.shape
    C = P // (p * p)
    if L != (H // p) * (W // p) or P % (p * p) or (given_C is not None and given_C != C):
        row = f"{given_C} * {p * p}" if given_C is not None else f"C * {p * p}"
        raise invalid_shape("x", f"(N, {(H // p) * (W // p)}, {row}): the patches of {H}x{W} images", x.shape)
    with allocating({"image_size": (H, W)}, "a size whose images fit in memory"):  # (0, 2**70) has no patches
        out = _unpatchify(x, p, C, H, W)
    return out, (N, p, (C, H, W), x.dtype)


@quiet
def unpatchify_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Gradient of :func:`unpatchify_forward`: dx = patchify(dout)."""
    N, p, (C, H, W), dtype = cache
    check_grad(dout, "dout", (N, C, H, W), dtype)
    return _patchify(dout, p)
