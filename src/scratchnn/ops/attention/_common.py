"""What the fast and the naive scaled dot-product attention share: argument checks, the merged mask, the
dropout keep mask, and the cache.

Both ops check their arguments, merge the masks and draw the dropout mask here, so that they differ only
in how they compute: batched matmuls, or loops over batch, heads and query positions.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..._config import get_rng
from ..._validate import check_array, check_float, check_same_dtype, invalid_shape, invalid_type
from ..dropout import draw_keep
from .masks import merge_masks


class AttentionCache(NamedTuple):
    """What attention's backward needs, and the attention weights for the caller to read.

    ``weights`` are the softmax probabilities P (before dropout; each row sums to 1, a fully masked row is
    all 0). ``dropped_weights`` are the weights the values were averaged with, P * keep / (1 - p) after
    attention dropout (the same array as ``weights`` without dropout): these are what torch's
    ``nn.MultiheadAttention(..., need_weights=True)`` returns in training mode with ``dropout > 0``.

    Shape:
        qs: (N, H, L, E), q * scale;  k: (N, H, S, E);  v: (N, H, S, Ev)
        weights, dropped_weights, keep: (N, H, L, S), keep being None without dropout
    """

    qs: np.ndarray
    k: np.ndarray
    v: np.ndarray
    weights: np.ndarray
    dropped_weights: np.ndarray
    keep: np.ndarray | None  # the keep mask scaled by 1 / (1 - p), in the weights' dtype
    scale: float


class Prepared(NamedTuple):
    scale: float
    mask: np.ndarray | None  # additive, broadcasting to (N, H, L, S)
    keep: np.ndarray | None  # the keep mask scaled by 1 / (1 - p): (N, H, L, S)


def prepare(
    q: Any,
    k: Any,
    v: Any,
    attn_mask: Any,
    key_padding_mask: Any,
    is_causal: Any,
    dropout_p: Any,
    dropout_mask: Any,
    rng: Any,
    scale: Any,
) -> Prepared:
    """Check every argument of an attention call (q, k, v first, in order, so the first wrong one is named),
    merge its masks and make its dropout keep mask."""
    check_array(q, "q", ndim=4)
    check_array(k, "k", ndim=4)
    check_array(v, "v", ndim=4)
    check_same_dtype(k, "k", q, "q")
    check_same_dtype(v, "v", q, "q")
    N, H, L, E = q.shape
    S = k.shape[2]
    if k.shape[:2] != (N, H) or k.shape[3] != E:
        raise invalid_shape("k", f"(N, H, S, E) with (N, H) = ({N}, {H}) and E = {E} to match q", k.shape)
    if v.shape[:3] != (N, H, S):
        raise invalid_shape("v", f"(N, H, S, Ev) with (N, H, S) = ({N}, {H}, {S}) to match k", v.shape)
    shape = (N, H, L, S)
    mask = merge_masks(attn_mask, key_padding_mask, is_causal, shape, q.dtype)
    p = check_float(dropout_p, "dropout_p", low=0.0, high=1.0, high_open=True)
    if scale is None:
        scale = 1 / math.sqrt(E) if E else 1.0  # no features: every score is 0 whatever the scale
    else:
        scale = check_float(scale, "scale", finite=True)
    if rng is not None:
        get_rng(rng)  # the template error for anything but a Generator, whether or not it is drawn from
    if dropout_mask is not None:
        keep = _check_keep(dropout_mask, shape)
    elif p > 0:
        # float32 draws whatever the dtype: the same seed drops the same weights in float32 and float64
        keep = draw_keep(get_rng(rng), shape, p, np.float32)  # (N, H, L, S), True with probability 1 - p
    else:
        return Prepared(scale, mask, None)
    # bool * scalar: one pass, a quarter of np.where(keep, 1 / (1 - p), 0)'s time
    return Prepared(scale, mask, np.multiply(keep, q.dtype.type(1 / (1 - p)), dtype=q.dtype))


def _check_keep(dropout_mask: Any, shape: tuple[int, ...]) -> np.ndarray:
    if not isinstance(dropout_mask, np.ndarray):
        raise invalid_type("dropout_mask", "a bool numpy.ndarray (True = keep) or None", dropout_mask)
    if dropout_mask.dtype != np.bool_:
        raise invalid_type(
            "dropout_mask", f"a bool numpy.ndarray (True = keep), not dtype {dropout_mask.dtype}", dropout_mask
        )
    if dropout_mask.shape != shape:
        raise invalid_shape("dropout_mask", f"(N, H, L, S) = {shape}", dropout_mask.shape)
    return dropout_mask
