"""Cached decoding equals full recomputation: a decoder fed its positions one (or a few) at a time through a
KVCache gives, position by position, the outputs of one causal forward over the whole sequence."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from scratchnn import nn
from scratchnn.nn.transformer import KVCache

E, NHEAD, FF = 16, 4, 32


def _decoder(norm_first: bool, batch_first: bool, dtype: Any) -> nn.TransformerDecoder:
    layer = nn.TransformerDecoderLayer(E, NHEAD, FF, batch_first=batch_first, norm_first=norm_first, dtype=dtype)
    dec = nn.TransformerDecoder(layer, 3, norm=nn.LayerNorm(E, dtype=dtype))
    rng = np.random.default_rng(0)
    for p in dec.parameters():  # distinct layers and non-trivial norms, as after training
        p.data += 0.1 * rng.standard_normal(p.data.shape).astype(dtype)
    return dec.eval()


@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("chunks", [(1,) * 7, (3, 1, 3)])
def test_cached_steps_equal_full_recomputation(
    dtype: Any, tol: float, norm_first: bool, batch_first: bool, chunks: tuple[int, ...]
) -> None:
    N, T, S = 3, sum(chunks), 5
    rng = np.random.default_rng(1)
    tgt, memory = rng.standard_normal((N, T, E)).astype(dtype), rng.standard_normal((N, S, E)).astype(dtype)
    kpm = np.zeros((N, S), dtype=bool)
    kpm[2, -2:] = True  # the last source is two tokens shorter
    dec = _decoder(norm_first, batch_first, dtype)
    if not batch_first:
        tgt, memory = tgt.transpose(1, 0, 2), memory.transpose(1, 0, 2)
    full = dec(
        tgt,
        memory,
        tgt_mask=nn.Transformer.generate_square_subsequent_mask(T, dtype=dtype),
        memory_key_padding_mask=kpm,
    )
    cache, start, outs = KVCache(), 0, []
    for n in chunks:
        step = tgt[:, start : start + n] if batch_first else tgt[start : start + n]
        outs.append(dec.forward_cached(step, memory, cache, memory_key_padding_mask=kpm))
        start += n
    cached = np.concatenate(outs, axis=1 if batch_first else 0)
    np.testing.assert_allclose(cached, full, rtol=tol, atol=tol)
    assert cache.steps == T
    assert len(cache) == 2 * 3  # a self- and a cross-attention entry per layer


def test_reorder_follows_the_beams() -> None:
    """After reorder(index), row b continues row index[b]: the next step equals that of a cache built on
    the reordered inputs from the start."""
    dtype = np.float64
    dec = _decoder(False, True, dtype)
    rng = np.random.default_rng(2)
    tgt, memory = rng.standard_normal((3, 4, E)), rng.standard_normal((3, 5, E))
    index = np.array([2, 2, 0])
    a = KVCache()
    dec.forward_cached(tgt[:, :3], memory, a)
    a.reorder(index)  # memory rows are reordered too (include_static)
    got = dec.forward_cached(tgt[index, 3:], memory[index], a)
    b = KVCache()
    dec.forward_cached(tgt[index, :3], memory[index], b)
    want = dec.forward_cached(tgt[index, 3:], memory[index], b)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_reorder_rejects_bad_rows() -> None:
    dec = _decoder(False, True, np.float64)
    cache = KVCache()
    dec.forward_cached(np.zeros((2, 1, E)), np.zeros((2, 3, E)), cache)
    with pytest.raises(ValueError, match="`index`"):
        cache.reorder(np.array([0, 2]))
    with pytest.raises(ValueError, match="`index`"):
        cache.reorder(np.array([0.0, 1.0]))
