"""Scaled dot-product attention at its edges: attention dropout's draws (deterministic per seed, about 1 - p
kept, scaled by 1 / (1 - p)), dtypes, inputs left alone, empty axes, strided views, and bad input naming the
argument."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import scratchnn
from scratchnn import ops

N, H, L, S, E, Ev = 2, 3, 4, 6, 4, 5
FORWARDS = [ops.scaled_dot_product_attention_forward, ops.scaled_dot_product_attention_forward_naive]
BACKWARDS = {
    ops.scaled_dot_product_attention_forward: ops.scaled_dot_product_attention_backward,
    ops.scaled_dot_product_attention_forward_naive: ops.scaled_dot_product_attention_backward_naive,
}
IDS = ["fast", "naive"]


def qkv(
    rng: np.random.Generator, dtype: Any = np.float64, L: int = L, S: int = S, E: int = E
) -> tuple[np.ndarray, ...]:
    shapes = [(N, H, L, E), (N, H, S, E), (N, H, S, Ev)]
    return tuple(rng.standard_normal(s).astype(dtype) for s in shapes)


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


def test_dropout_draws_are_deterministic_per_seed_and_keep_about_1_minus_p(rng: np.random.Generator) -> None:
    q, k, v = (a.repeat(8, axis=0) for a in qkv(rng, L=32, S=32))  # (16, 3, 32, 32): 49152 weights
    p = 0.3
    fwd = ops.scaled_dot_product_attention_forward
    out1, c1 = fwd(q, k, v, dropout_p=p, rng=np.random.default_rng(5))
    out2, c2 = fwd(q, k, v, dropout_p=p, rng=np.random.default_rng(5))
    out3, c3 = fwd(q, k, v, dropout_p=p, rng=np.random.default_rng(6))
    assert np.array_equal(out1, out2) and np.array_equal(c1.dropped_weights, c2.dropped_weights)
    assert not np.array_equal(c1.dropped_weights, c3.dropped_weights)
    kept = c1.dropped_weights != 0
    assert abs(kept.mean() - (1 - p)) < 0.01  # ~5 standard deviations of the mean of 49152 draws
    np.testing.assert_allclose(c1.dropped_weights[kept], c1.weights[kept] / (1 - p), rtol=1e-15)
    np.testing.assert_array_equal(c1.weights, fwd(q, k, v)[1].weights)  # dropout leaves the softmax alone


def test_dropout_without_rng_draws_from_the_default_generator(rng: np.random.Generator) -> None:
    q, k, v = qkv(rng)
    scratchnn.manual_seed(3)
    a = ops.scaled_dot_product_attention_forward(q, k, v, dropout_p=0.5)[1].dropped_weights
    b = ops.scaled_dot_product_attention_forward(q, k, v, dropout_p=0.5)[1].dropped_weights
    scratchnn.manual_seed(3)
    c = ops.scaled_dot_product_attention_forward(q, k, v, dropout_p=0.5)[1].dropped_weights
    assert np.array_equal(a, c) and not np.array_equal(a, b)


def test_the_same_seed_drops_the_same_weights_in_float32_and_float64(rng: np.random.Generator) -> None:
    q, k, v = qkv(rng)
    c64 = ops.scaled_dot_product_attention_forward(q, k, v, dropout_p=0.4, rng=np.random.default_rng(1))[1]
    q, k, v = (a.astype(np.float32) for a in (q, k, v))
    c32 = ops.scaled_dot_product_attention_forward(q, k, v, dropout_p=0.4, rng=np.random.default_rng(1))[1]
    assert np.array_equal(c64.dropped_weights == 0, c32.dropped_weights == 0)


def test_no_dropout_keeps_no_mask(rng: np.random.Generator) -> None:
    _, cache = ops.scaled_dot_product_attention_forward(*qkv(rng), rng=np.random.default_rng(0))
    assert cache.keep is None and cache.dropped_weights is cache.weights


@pytest.mark.parametrize("forward", FORWARDS, ids=IDS)
def test_float32_stays_float32(forward: Callable[..., Any], rng: np.random.Generator) -> None:
    q, k, v = qkv(rng, np.float32)
    kpm = rng.standard_normal((N, S)).astype(np.float32)
    out, cache = forward(q, k, v, attn_mask=rng.random((L, S)) < 0.2, key_padding_mask=kpm, dropout_p=0.2, rng=rng)
    grads = BACKWARDS[forward](np.ones_like(out), cache)
    assert [a.dtype for a in (out, cache.weights, cache.dropped_weights, *grads)] == [np.float32] * 6


@pytest.mark.parametrize("forward", FORWARDS, ids=IDS)
@pytest.mark.parametrize("scale", [None, 1.0], ids=["default", "one"])  # scale 1: the cache holds q itself
def test_inputs_are_not_mutated(forward: Callable[..., Any], scale: Any, rng: np.random.Generator) -> None:
    q, k, v = qkv(rng, np.float32)
    kwargs = {"attn_mask": rng.standard_normal((H, L, S)).astype(np.float32), "scale": scale,
              "key_padding_mask": rng.random((N, S)) < 0.3, "dropout_p": 0.2,
              "dropout_mask": rng.random((N, H, L, S)) < 0.8}  # fmt: skip
    arrays = [q, k, v, *(a for a in kwargs.values() if isinstance(a, np.ndarray))]
    before = [a.copy() for a in arrays]
    out, cache = forward(q, k, v, **kwargs)
    dout = np.full_like(out, 0.5)
    BACKWARDS[forward](dout, cache)
    alone, _ = forward(q, k, v, attn_mask=kwargs["attn_mask"])  # a lone float mask is read in place, never written
    assert all(np.array_equal(a, b) for a, b in zip(arrays, before, strict=True)) and np.all(dout == 0.5)


@pytest.mark.parametrize("forward", FORWARDS, ids=IDS)
@pytest.mark.parametrize("L,S,E", [(0, 3, 2), (3, 0, 2), (3, 4, 0)], ids=["no-queries", "no-keys", "no-features"])
def test_empty_axes(forward: Callable[..., Any], L: int, S: int, E: int, rng: np.random.Generator) -> None:
    """No keys: every row fully masked, so zeros. No features: every score 0, so uniform weights (scale 1)."""
    q, k, v = qkv(rng, L=L, S=S, E=E)
    out, cache = forward(q, k, v, is_causal=True)
    assert out.shape == (N, H, L, Ev) and cache.weights.shape == (N, H, L, S)
    if S == 0:
        assert not out.any()
    if E == 0:
        assert np.allclose(cache.weights[..., 0, :], [1, 0, 0, 0], rtol=0, atol=1e-15)  # causal: query 0 sees key 0
        assert np.allclose(cache.weights[..., 2, :], [1 / 3, 1 / 3, 1 / 3, 0], rtol=0, atol=1e-15)
    dq, dk, dv = BACKWARDS[forward](rng.standard_normal(out.shape), cache)
    assert (dq.shape, dk.shape, dv.shape) == (q.shape, k.shape, v.shape)


def test_strided_views_give_the_contiguous_result(rng: np.random.Generator) -> None:
    """What MultiheadAttention passes: heads split off a (N, L, H * d) projection, viewed as (N, H, L, d)."""
    q, k, v = qkv(rng)
    views = [np.ascontiguousarray(a.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3) for a in (q, k, v)]
    assert not views[0].flags.c_contiguous
    out, cache = ops.scaled_dot_product_attention_forward(q, k, v, is_causal=True)
    out_v, cache_v = ops.scaled_dot_product_attention_forward(*views, is_causal=True)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(out_v, out, rtol=1e-13, atol=1e-15)
    for g, g_v in zip(ops.scaled_dot_product_attention_backward(dout, cache),
                      ops.scaled_dot_product_attention_backward(dout, cache_v), strict=True):  # fmt: skip
        np.testing.assert_allclose(g_v, g, rtol=1e-13, atol=1e-15)


R = np.random.default_rng(0)
Q, K, V = qkv(R)
F32 = [a.astype(np.float32) for a in (Q, K, V)]
BAD: list[tuple[str, Callable[..., Any], type[Exception], str]] = [
    ("q rank", lambda f: f(Q[0], K, V), ValueError,
     "Invalid shape for `q`: expected a 4-D array. Received: q.shape=(3, 4, 4)"),
    ("v rank", lambda f: f(Q, K, V[..., 0]), ValueError,
     "Invalid shape for `v`: expected a 4-D array. Received: v.shape=(2, 3, 6)"),
    ("q k features", lambda f: f(Q, K[..., :3], V), ValueError,
     "Invalid shape for `k`: expected (N, H, S, E) with (N, H) = (2, 3) and E = 4 to match q. "
     "Received: k.shape=(2, 3, 6, 3)"),
    ("k heads", lambda f: f(Q, K[:, :2], V), ValueError,
     "Invalid shape for `k`: expected (N, H, S, E) with (N, H) = (2, 3) and E = 4 to match q. "
     "Received: k.shape=(2, 2, 6, 4)"),
    ("k v lengths", lambda f: f(Q, K, V[:, :, :5]), ValueError,
     "Invalid shape for `v`: expected (N, H, S, Ev) with (N, H, S) = (2, 3, 6) to match k. "
     "Received: v.shape=(2, 3, 5, 5)"),
    ("mask broadcast", lambda f: f(Q, K, V, attn_mask=np.zeros((L, S + 1), bool)), ValueError,
     "Invalid shape for `attn_mask`: expected a shape that broadcasts to (N, H, L, S) = (2, 3, 4, 6). "
     "Received: attn_mask.shape=(4, 7)"),
    ("key padding", lambda f: f(Q, K, V, key_padding_mask=np.zeros((N, L), bool)), ValueError,
     "Invalid shape for `key_padding_mask`: expected (N, S) = (2, 6). Received: key_padding_mask.shape=(2, 4)"),
    ("dropout_p 1", lambda f: f(Q, K, V, dropout_p=1.0), ValueError,
     "Invalid value for `dropout_p`: expected a float in [0, 1). Received: dropout_p=1.0"),
    ("dropout_p < 0", lambda f: f(Q, K, V, dropout_p=-0.1), ValueError,
     "Invalid value for `dropout_p`: expected a float in [0, 1). Received: dropout_p=-0.1"),
    ("dropout_mask shape", lambda f: f(Q, K, V, dropout_p=0.1, dropout_mask=np.ones((N, H, L, L), bool)),
     ValueError, "Invalid shape for `dropout_mask`: expected (N, H, L, S) = (2, 3, 4, 6). "
     "Received: dropout_mask.shape=(2, 3, 4, 4)"),
    ("dropout_mask dtype", lambda f: f(Q, K, V, dropout_mask=np.ones((N, H, L, S))), TypeError,
     "Invalid type for `dropout_mask`: expected a bool numpy.ndarray (True = keep), not dtype float64. "
     "Received: dropout_mask of type ndarray"),
    ("scale", lambda f: f(Q, K, V, scale=float("inf")), ValueError,
     "Invalid value for `scale`: expected a float in (-inf, inf). Received: scale=inf"),
    ("rng", lambda f: f(Q, K, V, rng=0), TypeError,
     "Invalid type for `rng`: expected a numpy.random.Generator or None. Received: rng=int"),
    ("mixed dtypes", lambda f: f(F32[0], K, V), TypeError,
     "Invalid dtype for `k`: expected float32 to match q. Received: k.dtype=float64"),
    ("float mask dtype", lambda f: f(*F32, attn_mask=np.zeros((L, S))), TypeError,
     "Invalid dtype for `attn_mask`: expected bool or float32 to match q. Received: attn_mask.dtype=float64"),
    ("int q", lambda f: f(Q.astype(int), K, V), TypeError,
     "Invalid type for `q`: expected a floating numpy.ndarray (float32 or float64), not dtype int64. "
     "Received: q of type ndarray"),
    ("is_causal", lambda f: f(Q, K, V, is_causal=1), TypeError,
     "Invalid type for `is_causal`: expected a bool. Received: is_causal of type int"),
]  # fmt: skip


@pytest.mark.parametrize("forward", FORWARDS, ids=IDS)
@pytest.mark.parametrize("call,exc,text", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_names_the_argument(forward: Any, call: Any, exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=msg(text)):
        call(forward)


@pytest.mark.parametrize("forward", FORWARDS, ids=IDS)
def test_wrong_dout_is_the_template_error(forward: Callable[..., Any]) -> None:
    out, cache = forward(Q, K, V)
    with pytest.raises(ValueError, match=msg("Invalid shape for `dout`: expected (2, 3, 4, 5), the forward output's "
                                             "shape. Received: dout.shape=(2, 3, 4, 4)")):  # fmt: skip
        BACKWARDS[forward](out[..., :4], cache)
    with pytest.raises(TypeError, match=msg("Invalid dtype for `dout`: expected float64, the forward output's dtype. "
                                            "Received: dout.dtype=float32")):  # fmt: skip
        BACKWARDS[forward](out.astype(np.float32), cache)


def _mha_weights(E: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    return rng.standard_normal((3 * E, E)), rng.standard_normal(3 * E), rng.standard_normal((E, E)), np.ones(E)


def test_multi_head_with_no_features_or_no_samples(rng: np.random.Generator) -> None:
    """Found by fuzzing: embed_dim 0 crashed the bias gradient's reshape(-1, 0), and any head count divides 0."""
    x = rng.standard_normal((2, 3, 0))
    out, w, cache = ops.multi_head_attention_forward(x, x, x, *_mha_weights(0, rng), 1)
    assert out.shape == (2, 3, 0) and w.shape == (2, 1, 3, 3)
    dx, dk, dv, dW, db, dWo, dbo = ops.multi_head_attention_backward(out, None, cache)
    assert dx.shape == x.shape and dk is None and dv is None and db.shape == (0,) and dbo.shape == (0,)
    with pytest.raises(ValueError, match=r"^Invalid value for `num_heads`: expected 1 when embed_dim = 0\. "):
        ops.multi_head_attention_forward(x, x, x, *_mha_weights(0, rng), 2**70)
    q, kv = rng.standard_normal((0, 3, 4)), rng.standard_normal((0, 5, 4))
    out, w, cache = ops.multi_head_attention_forward(q, kv, kv, *_mha_weights(4, rng), 2)
    dq, dkv, none, dW, db, dWo, dbo = ops.multi_head_attention_backward(out, np.zeros(w.shape), cache)
    assert dq.shape == q.shape and dkv.shape == kv.shape and none is None
    assert not dW.any() and not db.any() and not dWo.any() and not dbo.any()  # no samples: zero gradients
