"""Attention masks: the causal mask against its definition and torch's square subsequent mask, the converters
to and from F.scaled_dot_product_attention's boolean convention, and merge_masks against an explicit
per-entry construction; the errors name the argument."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import torch

from scratchnn.ops.attention import additive_mask, causal_mask, from_sdpa_mask, merge_masks, to_sdpa_mask

N, H, L, S = 2, 3, 4, 5


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


@pytest.mark.parametrize("L,S,offset", [(4, 4, 0), (3, 5, 0), (5, 3, 0), (3, 5, 2), (4, 4, -1), (0, 3, 0), (2, 0, 0)])
def test_causal_mask_is_key_after_query(L: int, S: int, offset: int) -> None:
    mask = causal_mask(L, S, offset=offset)
    assert mask.shape == (L, S) and mask.dtype == np.bool_
    for i in range(L):
        for j in range(S):
            assert mask[i, j] == (j > i + offset), (i, j)


def test_causal_mask_defaults_to_square_and_top_left_like_torch_is_causal() -> None:
    """torch's is_causal aligns query 0 with key 0 (tril of ones(L, S)): our default offset 0."""
    assert np.array_equal(causal_mask(4), causal_mask(4, 4))
    torch_allowed = torch.ones(3, 5, dtype=torch.bool).tril(diagonal=0).numpy()
    assert np.array_equal(causal_mask(3, 5), ~torch_allowed)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_causal_mask_is_torch_square_subsequent_mask(dtype: Any) -> None:
    mask = causal_mask(6, dtype=dtype)
    want = torch.nn.Transformer.generate_square_subsequent_mask(6, dtype=torch.float64).numpy()
    assert mask.dtype == dtype
    assert np.array_equal(mask, want.astype(dtype))
    assert np.isneginf(mask).sum() == 15 and (mask == 0).sum() == 21


def test_causal_mask_is_a_fresh_writable_array_each_call() -> None:
    """The masks are built once per shape and cached read-only inside; callers get their own copy."""
    a = causal_mask(3, 4)
    a[:] = True
    assert causal_mask(3, 4).sum() == 3 + 2 + 1


def test_sdpa_converters_invert_bool_and_keep_float() -> None:
    ours = causal_mask(3, 4)
    sdpa = to_sdpa_mask(ours)
    assert np.array_equal(sdpa, ~ours) and np.array_equal(from_sdpa_mask(sdpa), ours)
    f = np.array([[0.0, -np.inf], [1.5, 0.0]])
    assert to_sdpa_mask(f) is f and from_sdpa_mask(f) is f


def test_additive_mask() -> None:
    m = np.array([[True, False], [False, False]])
    a = additive_mask(m, np.float32)
    assert a.dtype == np.float32 and a.tolist() == [[-np.inf, 0.0], [0.0, 0.0]]
    f = np.ones((2, 2), np.float32)
    assert additive_mask(f, np.float32) is f


def test_merge_masks_is_the_union_of_masked_keys_plus_the_float_biases(rng: np.random.Generator) -> None:
    attn_bool = rng.random((H, 1, S)) < 0.3  # per head, the same for every query
    kpm_float = rng.standard_normal((N, S))
    attn_float = rng.standard_normal((L, S))
    kpm_bool = np.zeros((N, S), bool)
    kpm_bool[1, 3:] = True
    for attn, kpm, causal in [(attn_bool, kpm_float, True), (attn_float, kpm_bool, True), (attn_bool, kpm_bool, False)]:
        merged = merge_masks(attn, kpm, causal, (N, H, L, S), np.float64)
        assert merged is not None and merged.ndim == 4
        full = np.broadcast_to(merged, (N, H, L, S))
        a4 = np.broadcast_to(attn, (N, H, L, S))
        for n, h, i, j in np.ndindex(N, H, L, S):
            masked = (attn.dtype == bool and a4[n, h, i, j]) or (kpm.dtype == bool and kpm[n, j]) or (causal and j > i)
            bias = (a4[n, h, i, j] if attn.dtype != bool else 0) + (kpm[n, j] if kpm.dtype != bool else 0)
            assert full[n, h, i, j] == (-np.inf if masked else bias), (n, h, i, j)


def test_merge_masks_shapes_and_sharing(rng: np.random.Generator) -> None:
    assert merge_masks(None, None, False, (N, H, L, S), np.float32) is None
    f = rng.standard_normal((L, S)).astype(np.float32)
    merged = merge_masks(f, None, False, (N, H, L, S), np.float32)
    assert merged is not None and merged.shape == (1, 1, L, S) and np.shares_memory(merged, f)  # read, never copied
    kpm = merge_masks(None, np.zeros((N, S), bool), False, (N, H, L, S), np.float32)
    assert kpm is not None and kpm.shape == (N, 1, 1, S) and kpm.dtype == np.float32 and not kpm.any()
    both = merge_masks(None, np.zeros((N, S), bool), True, (N, H, L, S), np.float32)
    assert both is not None and both.shape == (N, 1, L, S)
    causal = merge_masks(None, None, True, (N, H, L, S), np.float32)  # alone: built once per shape, read-only
    assert causal is not None and causal.shape == (1, 1, L, S) and not causal.flags.writeable
    assert np.array_equal(causal[0, 0], causal_mask(L, S, dtype=np.float32))
    again = merge_masks(None, None, True, (N, H, L, S), np.float32)
    assert again is not None and np.shares_memory(again, causal)


F32 = np.float32
BAD: list[tuple[str, Any, type[Exception], str]] = [
    ("attn_mask rows", lambda: merge_masks(np.zeros((L + 1, S), bool), None, False, (N, H, L, S), F32), ValueError,
     "Invalid shape for `attn_mask`: expected a shape that broadcasts to (N, H, L, S) = (2, 3, 4, 5). "
     "Received: attn_mask.shape=(5, 5)"),
    ("attn_mask grows", lambda: merge_masks(np.zeros((1, N, H, L, S), bool), None, False, (N, H, L, S), F32),
     ValueError, "Invalid shape for `attn_mask`: expected a shape that broadcasts to (N, H, L, S) = (2, 3, 4, 5). "
     "Received: attn_mask.shape=(1, 2, 3, 4, 5)"),
    ("attn_mask batch", lambda: merge_masks(np.zeros((N * H, L, S), bool), None, False, (N, H, L, S), F32),
     ValueError, "Invalid shape for `attn_mask`: expected a shape that broadcasts to (N, H, L, S) = (2, 3, 4, 5). "
     "Received: attn_mask.shape=(6, 4, 5)"),
    ("key_padding_mask", lambda: merge_masks(None, np.zeros(S, bool), False, (N, H, L, S), F32), ValueError,
     "Invalid shape for `key_padding_mask`: expected (N, S) = (2, 5). Received: key_padding_mask.shape=(5,)"),
    ("int mask", lambda: merge_masks(np.zeros((L, S), int), None, False, (N, H, L, S), F32), TypeError,
     "Invalid type for `attn_mask`: expected a bool or floating numpy.ndarray (float32 or float64), not dtype "
     "int64. Received: attn_mask of type ndarray"),
    ("list mask", lambda: merge_masks(None, [[True]], False, (N, H, L, S), F32), TypeError,
     "Invalid type for `key_padding_mask`: expected a bool or floating numpy.ndarray, or None. "
     "Received: key_padding_mask of type list"),
    ("float64 mask", lambda: merge_masks(np.zeros((L, S)), None, False, (N, H, L, S), F32), TypeError,
     "Invalid dtype for `attn_mask`: expected bool or float32 to match q. Received: attn_mask.dtype=float64"),
    ("is_causal", lambda: merge_masks(None, None, "yes", (N, H, L, S), F32), TypeError,
     "Invalid type for `is_causal`: expected a bool. Received: is_causal of type str"),
    ("L", lambda: causal_mask(-1), ValueError, "Invalid value for `L`: expected an int >= 0. Received: L=-1"),
    ("S", lambda: causal_mask(2, 2.0), TypeError,
     "Invalid type for `S`: expected an int >= 0. Received: S of type float"),
    ("dtype", lambda: causal_mask(2, dtype=np.int32), TypeError,
     "Invalid type for `dtype`: expected float32 or float64. Received: dtype=int32"),
]  # fmt: skip


@pytest.mark.parametrize("call,exc,text", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_masks_raise_the_template(call: Any, exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=msg(text)):
        call()
