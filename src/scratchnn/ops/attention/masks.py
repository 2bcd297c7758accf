"""Attention masks: which keys each query may attend to, merged into one additive mask.

One convention in all of scratchnn: a **boolean mask is True where attention is NOT allowed** (a key masked
out, a pad), as in ``torch.nn.MultiheadAttention``'s ``attn_mask`` and ``key_padding_mask``.
``torch.nn.functional.scaled_dot_product_attention`` reads a boolean ``attn_mask`` the other way round
(True = may attend): :func:`to_sdpa_mask` and :func:`from_sdpa_mask` convert. A **float mask is additive**:
it is added to the scores before the softmax, so 0 keeps a key and -inf masks it out (any other value
biases it, as torch does). :func:`merge_masks` turns every mask an attention call is given into one
additive mask that broadcasts to the scores' (N, H, L, S).

Shape:
    N batch, H heads, L queries (target length), S keys (source length)
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..._validate import (
    FLOAT_DTYPES,
    check_bool,
    check_float_dtype,
    check_int,
    invalid_dtype,
    invalid_shape,
    invalid_type,
)

__all__ = ["causal_mask", "to_sdpa_mask", "from_sdpa_mask", "additive_mask", "merge_masks"]


def causal_mask(L: int, S: int | None = None, *, offset: int = 0, dtype: Any = bool) -> np.ndarray:
    """The causal mask for L queries over S keys (S = L by default): query i may attend to keys j <= i + offset.

    ``dtype=bool`` gives True where j > i + offset (masked out, scratchnn's convention); a float dtype gives
    the additive form, 0 where allowed and -inf where not: for L == S and offset 0 that is torch's
    ``nn.Transformer.generate_square_subsequent_mask(L)``. ``offset = 0`` aligns the first query with the
    first key (torch's ``is_causal``); ``offset = S - L`` aligns the last query with the last key, for L new
    queries after S - L cached keys (decoding with a KV cache).

    Shape:
        mask: (L, S)
    """
    L = check_int(L, "L", low=0)
    S = L if S is None else check_int(S, "S", low=0)
    offset = check_int(offset, "offset")
    if _is_bool(dtype):
        return _causal(L, S, offset).copy()
    dt = check_float_dtype(dtype)
    return additive_mask(_causal(L, S, offset), dt)


@functools.lru_cache(maxsize=32)
def _causal(L: int, S: int, offset: int) -> np.ndarray:
    """The boolean causal mask, built once per (L, S, offset) and kept read-only (a decoding loop asks for
    the same few shapes again and again)."""
    mask = np.arange(S)[None, :] > np.arange(L)[:, None] + offset  # (1, S) > (L, 1) -> (L, S)
    mask.flags.writeable = False
    return mask


@functools.lru_cache(maxsize=8)
def _causal_additive(L: int, S: int, dtype: str) -> np.ndarray:
    """The additive causal mask (0 / -inf) for ``is_causal``, read-only: a training loop asks for one shape."""
    mask = additive_mask(_causal(L, S, 0), dtype)
    mask.flags.writeable = False
    return mask


def _is_bool(dtype: Any) -> bool:
    try:
        return dtype is not None and np.dtype(dtype) == np.bool_
    except (TypeError, ValueError):
        return False  # not a dtype at all: check_float_dtype names it


def to_sdpa_mask(mask: np.ndarray) -> np.ndarray:
    """A scratchnn mask as ``F.scaled_dot_product_attention`` reads it: a boolean mask inverted (True = may
    attend), a float (additive) mask unchanged (the same array)."""
    return np.logical_not(mask) if mask.dtype == np.bool_ else mask


def from_sdpa_mask(mask: np.ndarray) -> np.ndarray:
    """A mask written for ``F.scaled_dot_product_attention`` (boolean True = may attend) in scratchnn's
    convention (boolean True = masked out); a float mask unchanged (the same array)."""
    return np.logical_not(mask) if mask.dtype == np.bool_ else mask


def additive_mask(mask: np.ndarray, dtype: Any) -> np.ndarray:
    """The additive form of a mask in ``dtype``: a boolean mask becomes -inf where True and 0 elsewhere; a
    float mask of that dtype is returned as it is."""
    dt = np.dtype(dtype)
    if mask.dtype == np.bool_:
        return np.where(mask, dt.type(-np.inf), dt.type(0))
    return mask if mask.dtype == dt else mask.astype(dt)


def _check_mask(mask: Any, name: str, dtype: np.dtype[Any]) -> np.ndarray:
    """A mask argument: an ndarray, boolean or of the scores' float dtype (no silent upcast, no int masks)."""
    if not isinstance(mask, np.ndarray):
        raise invalid_type(name, "a bool or floating numpy.ndarray, or None", mask)
    if mask.dtype != np.bool_ and mask.dtype not in FLOAT_DTYPES:
        raise invalid_type(name, f"a bool or floating numpy.ndarray (float32 or float64), not dtype {mask.dtype}", mask)
    if mask.dtype != np.bool_ and mask.dtype != dtype:
        raise invalid_dtype(name, f"bool or {dtype} to match q", mask.dtype)
    return mask


def merge_masks(
    attn_mask: Any,
    key_padding_mask: Any,
    is_causal: Any,
    shape: tuple[int, int, int, int],
    dtype: Any,
) -> np.ndarray | None:
    """Every mask of an attention call as one additive mask (0 allowed, -inf masked out, other values added),
    or None when there is none.

    ``attn_mask``: bool (True = masked out) or float (additive), any shape that broadcasts to (N, H, L, S)
    without growing it: (L, S) for every batch and head, (N, 1, L, S) per sample, (N, H, L, S), ...
    ``key_padding_mask``: (N, S), bool (True = a pad key, masked out for every query) or float (additive).
    ``is_causal``: add :func:`causal_mask` (L, S), query i attending to keys j <= i (torch's ``is_causal``).
    All of them may be given together; their masked-out sets unite and their float values add up. A lone
    float mask of the right dtype is returned as it is (not copied), and ``is_causal`` alone gives a cached
    read-only array: callers only read the result.

    Shape:
        shape = (N, H, L, S);  result: 4-D, broadcasting to (N, H, L, S)
    """
    dt = np.dtype(dtype)
    N, H, L, S = shape
    pieces = []
    if attn_mask is not None:
        attn_mask = _check_mask(attn_mask, "attn_mask", dt)
        fits = attn_mask.ndim <= 4 and all(a in (1, b) for a, b in zip(attn_mask.shape[::-1], shape[::-1]))
        if not fits:
            raise invalid_shape(
                "attn_mask", f"a shape that broadcasts to (N, H, L, S) = {tuple(shape)}", attn_mask.shape
            )
        pieces.append(attn_mask.reshape((1,) * (4 - attn_mask.ndim) + attn_mask.shape))  # (..., L, S) -> 4-D
    if key_padding_mask is not None:
        key_padding_mask = _check_mask(key_padding_mask, "key_padding_mask", dt)
        if key_padding_mask.shape != (N, S):
            raise invalid_shape("key_padding_mask", f"(N, S) = ({N}, {S})", key_padding_mask.shape)
        pieces.append(key_padding_mask[:, None, None, :])  # (N, S) -> (N, 1, 1, S)
    if check_bool(is_causal, "is_causal"):
        if not pieces:  # the causal mask alone: its additive form, built once per shape
            return _causal_additive(L, S, dt.str)[None, None]  # (L, S) -> (1, 1, L, S)
        pieces.append(_causal(L, S, 0)[None, None])  # (L, S) -> (1, 1, L, S)
    if not pieces:
        return None
    if len(pieces) == 1:
        return additive_mask(pieces[0], dt)
    merged = np.zeros(np.broadcast_shapes(*(p.shape for p in pieces)), dt)  # the union of the pieces' shapes
    for p in pieces:
        if p.dtype != np.bool_:
            merged += p
    for p in pieces:  # after the float ones: a masked-out key stays -inf whatever was added to it
        if p.dtype == np.bool_:
            np.copyto(merged, -np.inf, where=p)
    return merged
