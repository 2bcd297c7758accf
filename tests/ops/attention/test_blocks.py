"""Attention cut into blocks of (sample, head) pairs (scaled_dot_product.blocks, run on the intra-op threads):
the blocks cover every pair once, and attention computed in many small blocks, on one thread or two, equals
attention computed as one block, for the op pair and for multi-head attention's three input cases (whose
heads are written straight into merged buffers through strided views)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from scratchnn import ops
from scratchnn.ops.attention import scaled_dot_product as sdpa


@pytest.mark.parametrize("N", [0, 1, 3, 7])
@pytest.mark.parametrize("H", [1, 4, 6])
@pytest.mark.parametrize("per_head", [0, 1, 5, 40, 1000])
@pytest.mark.parametrize("block", [1, 16, 100, 1 << 17])
def test_blocks_cover_every_sample_and_head_once(
    N: int, H: int, per_head: int, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sdpa, "BLOCK", block)
    seen = np.zeros((N, H), int)
    for n, h in sdpa.blocks(N, H, per_head):
        seen[n, h] += 1
    assert (seen == 1).all()


def _attention(q: Any, k: Any, v: Any, dout: Any, dweights: Any, keep: Any, **kw: Any) -> list[np.ndarray]:
    out, cache = ops.scaled_dot_product_attention_forward(q, k, v, dropout_p=0.25, dropout_mask=keep, **kw)
    grads = ops.scaled_dot_product_attention_backward(dout, cache, dweights=dweights)
    return [out, cache.weights, cache.dropped_weights, *grads]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("block", [1, 30, 200])
def test_many_blocks_equal_one_block(threads: int, block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    r = np.random.default_rng(0)
    N, H, L, S, E = 3, 4, 5, 6, 3
    q, k, v = r.standard_normal((N, H, L, E)), r.standard_normal((N, H, S, E)), r.standard_normal((N, H, S, E))
    dout, dweights = r.standard_normal((N, H, L, E)), r.standard_normal((N, H, L, S))
    keep = r.random((N, H, L, S)) >= 0.25
    kpm = np.zeros((N, S), bool)
    kpm[1, :] = True  # a sample with every key masked out: zero rows
    kw = dict(attn_mask=r.standard_normal((L, S)), key_padding_mask=kpm, is_causal=True)
    whole = _attention(q, k, v, dout, dweights, keep, **kw)
    monkeypatch.setattr(sdpa, "BLOCK", block)
    assert len(sdpa.blocks(N, H, L * S)) > 1
    with threadpool_limits(threads, user_api="blas"):
        blocked = _attention(q, k, v, dout, dweights, keep, **kw)
    for a, b in zip(blocked, whole):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("case", ["self", "shared memory", "three inputs"])
def test_multi_head_attention_in_blocks_equals_one_block(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    r = np.random.default_rng(1)
    N, L, S, E, H = 3, 5, 7, 8, 4
    query = r.standard_normal((N, L, E))
    key = query if case == "self" else r.standard_normal((N, S, E))
    value = key if case != "three inputs" else r.standard_normal((N, S, E))
    T = L if case == "self" else S
    W, b, Wo, bo = (
        r.standard_normal((3 * E, E)),
        r.standard_normal(3 * E),
        r.standard_normal((E, E)),
        r.standard_normal(E),
    )
    dout, dweights = r.standard_normal((N, L, E)), r.standard_normal((N, H, L, T))

    def run() -> list[Any]:
        out, weights, cache = ops.multi_head_attention_forward(query, key, value, W, b, Wo, bo, H, is_causal=True)
        return [out, weights, *ops.multi_head_attention_backward(dout, dweights, cache)]

    whole = run()
    monkeypatch.setattr(sdpa, "BLOCK", 1)  # a block per (sample, head)
    with threadpool_limits(2, user_api="blas"):
        blocked = run()
    for a, b_ in zip(blocked, whole):
        assert (a is None) == (b_ is None)
        if a is not None:
            np.testing.assert_allclose(a, b_, rtol=1e-13, atol=1e-13)
