"""The masked autoencoder's (MAE's) per-image random masking of patch tokens, and the restore that undoes the shuffle.

Each image's L tokens are shuffled by ``argsort`` of uniform noise; the first L_keep = int(L (1 - mask_ratio))
of the shuffled order stay visible (the reference code's count, float rounding included: L = 10 at
mask_ratio 0.9 keeps int(0.999...) = 0). ``ids_restore`` is the inverse permutation, so after the decoder
appends mask tokens to the visible ones (still in shuffled order), :func:`restore_forward` with
``ids_restore`` puts every token back at its original position: restore(shuffle(x)) == x.

Both forwards gather tokens by index along axis 1, so both backwards scatter the gradient back: to the
kept positions (the masked ones get zero), or through the inverse permutation.

Derivation: docs/derivations/patches.md
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._config import get_rng
from .._numerics import quiet
from .._validate import check_array, check_float, check_grad, invalid_shape, invalid_type, invalid_value


@quiet
def random_masking_forward(
    x: np.ndarray, mask_ratio: float, *, rng: np.random.Generator | None = None, noise: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    """Keep a random L_keep = int(L (1 - mask_ratio)) of each sequence's L tokens; the others are masked.

    With u ~ U[0, 1) per token (``noise``, or drawn from ``rng``; None: scratchnn's default generator),
    ids_shuffle[n] = argsort(u[n]) (stable), ids_keep = ids_shuffle[:, :L_keep] and

        x_visible[n, k] = x[n, ids_keep[n, k]]    (the kept tokens, in shuffled order)
        ids_restore[n] = argsort(ids_shuffle[n])  (the inverse permutation: token i sits at ids_restore[n, i])
        mask[n, i] = ids_restore[n, i] >= L_keep  (True where token i was dropped, in the original order)

    and returns ``(x_visible, mask, ids_restore, cache)``.
    ``mask`` (bool) and ``ids_restore`` (integers) are indices, without a gradient: the backward takes the
    gradient of x_visible only. Backward: dx[n, ids_keep[n, k]] = dx_visible[n, k], zero at the masked tokens.
    ``noise`` (any float dtype: only its order is used) makes the mask a fixed function, for gradient checks.

    Shape:
        x: (N, L, D);  x_visible: (N, L_keep, D);  mask, ids_restore, noise: (N, L)

    Derivation: docs/derivations/patches.md
    """
    check_array(x, "x", ndim=3)
    ratio = check_float(mask_ratio, "mask_ratio", low=0.0, high=1.0, high_open=True)
    N, L, D = x.shape
    if noise is None:
        noise = get_rng(rng).random((N, L))
    else:
        if rng is not None:
            raise invalid_value("rng", "None when noise is given", rng)
        check_array(noise, "noise", ndim=2, finite=True)
        if noise.shape != (N, L):
            raise invalid_shape("noise", f"({N}, {L}) to match x", noise.shape)
    keep = int(L * (1 - ratio))  # the MAE reference's L_keep
    ids_shuffle = np.argsort(noise, axis=1, kind="stable")  # (N, L): ascending noise; the first `keep` stay
    ids_restore = np.argsort(ids_shuffle, axis=1, kind="stable")  # (N, L): the inverse permutation
    ids_keep = ids_shuffle[:, :keep]  # (N, L_keep)
    x_visible = np.take_along_axis(x, ids_keep[:, :, None], axis=1)  # (N, L, D) -> (N, L_keep, D)
    mask = ids_restore >= keep  # (N, L): the shuffled positions past `keep`, read in the original order
    return x_visible, mask, ids_restore, (ids_keep, x.shape, x.dtype)


@quiet
def random_masking_backward(dx_visible: np.ndarray, cache: Any) -> np.ndarray:
    """Gradient of :func:`random_masking_forward`: dx_visible scattered to the kept tokens, zeros at the masked."""
    ids_keep, (N, L, D), dtype = cache
    check_grad(dx_visible, "dx_visible", (N, ids_keep.shape[1], D), dtype)
    dx = np.zeros((N, L, D), dtype=dtype)
    np.put_along_axis(dx, ids_keep[:, :, None], dx_visible, axis=1)  # the kept ids are distinct: a plain write
    return dx


def _check_permutations(ids: Any, N: int, L: int) -> np.ndarray:
    """``ids`` is an integer (N, L) array whose every row is a permutation of 0 .. L - 1."""
    if not isinstance(ids, np.ndarray) or ids.dtype.kind not in "iu":
        shown = f", not dtype {ids.dtype}" if isinstance(ids, np.ndarray) else ""
        raise invalid_type("ids_restore", f"an integer numpy.ndarray{shown}", ids)
    if ids.shape != (N, L):
        raise invalid_shape("ids_restore", f"({N}, {L}) to match x", ids.shape)
    if not np.array_equal(np.sort(ids, axis=1), np.broadcast_to(np.arange(L), (N, L))):
        raise invalid_value("ids_restore", f"a permutation of 0 .. {L - 1} in each row", ids)
    return ids


@quiet
def restore_forward(x: np.ndarray, ids_restore: np.ndarray) -> tuple[np.ndarray, Any]:
    """out[n, i] = x[n, ids_restore[n, i]]: tokens in shuffled order (visible ones, then mask tokens) put back.

    ``ids_restore`` comes from :func:`random_masking_forward`; each row must be a permutation of 0 .. L - 1.
    Backward: a permutation's gradient is its inverse, dx[n, ids_restore[n, i]] = dout[n, i].

    Shape:
        x, out: (N, L, D);  ids_restore: (N, L) integers

    Derivation: docs/derivations/patches.md
    """
    check_array(x, "x", ndim=3)
    N, L, _ = x.shape
    idx = _check_permutations(ids_restore, N, L).astype(np.intp)[:, :, None]  # (N, L, 1), a copy the cache owns
    out = np.take_along_axis(x, idx, axis=1)  # (N, L, D), rows permuted
    return out, (idx, x.shape, x.dtype)


@quiet
def restore_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Gradient of :func:`restore_forward`: dout sent back through the permutation, dx[n, ids[n, i]] = dout[n, i]."""
    idx, shape, dtype = cache
    check_grad(dout, "dout", shape, dtype)
    dx = np.empty(shape, dtype=dtype)
    np.put_along_axis(dx, idx, dout, axis=1)  # a permutation: every row written once
    return dx
