"""Scaled dot-product attention: the fast op equals its naive twin (float64, to rounding) and torch's
F.scaled_dot_product_attention (forward and backward, float32 and float64) over every kind of mask; attention
dropout with an injected keep mask equals torch's softmax-dropout-matmul; fully masked rows give zeros.

Gradient checks against central differences are rows of scratchnn/gradcheck/rows/attention.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from scratchnn import ops
from scratchnn.ops.attention import causal_mask, to_sdpa_mask

N, H, E, Ev = 2, 3, 4, 5
Arrays = tuple[np.ndarray, ...]


def qkv(rng: np.random.Generator, L: int, S: int, dtype: Any = np.float64) -> Arrays:
    q, k, v = rng.standard_normal((N, H, L, E)), rng.standard_normal((N, H, S, E)), rng.standard_normal((N, H, S, Ev))
    return q.astype(dtype), k.astype(dtype), v.astype(dtype)


def _pads(S: int, dead: bool = False) -> np.ndarray:
    kpm = np.zeros((N, S), bool)  # (N, S): sample 1's last two keys are pads (all of them with dead=True)
    kpm[1, 0 if dead else S - 2 :] = True
    return kpm


def _float_mask(r: np.random.Generator, L: int, S: int) -> np.ndarray:
    m = r.standard_normal((L, S))
    m[0, 1] = m[2, 0] = -np.inf
    return m


def _dead_rows(L: int, S: int) -> np.ndarray:
    m = np.zeros((H, L, S), bool)  # (H, L, S): query 1 of head 2 sees no key
    m[2, 1] = True
    return m


# name -> (L, S, rng -> keyword arguments); every mask kind alone and together, causal with L == S and L != S
CASES: dict[str, tuple[int, int, Callable[[np.random.Generator], dict[str, Any]]]] = {
    "none": (4, 6, lambda r: {}),
    "causal": (5, 5, lambda r: {"is_causal": True}),
    "causal-L<S": (3, 6, lambda r: {"is_causal": True}),
    "causal-L>S": (6, 3, lambda r: {"is_causal": True}),
    "key_padding": (4, 6, lambda r: {"key_padding_mask": _pads(6)}),
    "float": (4, 6, lambda r: {"attn_mask": _float_mask(r, 4, 6)}),
    "bool-per-sample": (4, 6, lambda r: {"attn_mask": r.random((N, 1, 4, 6)) < 0.3}),
    "bool-per-head": (4, 6, lambda r: {"attn_mask": r.random((H, 4, 6)) < 0.3}),
    "bool-padding-causal": (5, 5, lambda r: {"attn_mask": r.random((5, 5)) < 0.2, "key_padding_mask": _pads(5),
                                             "is_causal": True}),
    "float-padding-causal": (4, 6, lambda r: {"attn_mask": _float_mask(r, 4, 6), "key_padding_mask": _pads(6),
                                              "is_causal": True}),
    "float-padding": (4, 6, lambda r: {"attn_mask": r.random((4, 6)) < 0.2,
                                       "key_padding_mask": r.standard_normal((N, 6))}),
    "dead-rows": (4, 6, lambda r: {"attn_mask": _dead_rows(4, 6), "key_padding_mask": _pads(6, dead=True)}),
    "scale": (4, 4, lambda r: {"is_causal": True, "scale": 0.3}),
}  # fmt: skip


def case(name: str, rng: np.random.Generator, dtype: Any = np.float64) -> tuple[Arrays, dict[str, Any]]:
    L, S, make = CASES[name]
    kwargs = make(rng)
    kwargs = {k: v.astype(dtype) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v for k, v in kwargs.items()}
    return qkv(rng, L, S, dtype), kwargs


def assert_close(got: Arrays, want: Arrays, rtol: float, atol: float) -> None:
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"array {i}")


@pytest.mark.parametrize("name", CASES)
def test_equals_the_naive_twin(name: str, rng: np.random.Generator) -> None:
    (q, k, v), kwargs = case(name, rng)
    out, cache = ops.scaled_dot_product_attention_forward(q, k, v, **kwargs)
    out_n, cache_n = ops.scaled_dot_product_attention_forward_naive(q, k, v, **kwargs)
    dout = rng.standard_normal(out.shape)
    assert_close((out, cache.weights), (out_n, cache_n.weights), rtol=1e-12, atol=1e-14)
    grads = ops.scaled_dot_product_attention_backward(dout, cache)
    assert_close(grads, ops.scaled_dot_product_attention_backward_naive(dout, cache_n), rtol=1e-11, atol=1e-13)
    # either backward takes either cache: the two forwards store the same things
    assert_close(ops.scaled_dot_product_attention_backward_naive(dout, cache), grads, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("drawn", [True, False], ids=["rng", "dropout_mask"])
def test_dropout_equals_the_naive_twin(drawn: bool, rng: np.random.Generator) -> None:
    (q, k, v), kwargs = case("float-padding-causal", rng)
    keep = rng.random((N, H, 4, 6)) >= 0.4
    kwargs |= {"dropout_p": 0.4} | ({"rng": np.random.default_rng(3)} if drawn else {"dropout_mask": keep})
    out, cache = ops.scaled_dot_product_attention_forward(q, k, v, **kwargs)
    if drawn:
        kwargs["rng"] = np.random.default_rng(3)  # the same draw
    out_n, cache_n = ops.scaled_dot_product_attention_forward_naive(q, k, v, **kwargs)
    dout = rng.standard_normal(out.shape)
    assert_close((out, cache.dropped_weights), (out_n, cache_n.dropped_weights), rtol=1e-12, atol=1e-14)
    grads_n = ops.scaled_dot_product_attention_backward_naive(dout, cache_n)
    assert_close(ops.scaled_dot_product_attention_backward(dout, cache), grads_n, rtol=1e-11, atol=1e-13)


def torch_mask(kwargs: dict[str, Any], shape: tuple[int, ...]) -> tuple[torch.Tensor | None, bool]:
    """(attn_mask, is_causal) for F.scaled_dot_product_attention: torch's is_causal when it is the only mask,
    else every mask in one: boolean in sdpa's convention (True = may attend) when all are boolean, else float."""
    attn, kpm, causal = kwargs.get("attn_mask"), kwargs.get("key_padding_mask"), kwargs.get("is_causal", False)
    if attn is None and kpm is None:
        return None, causal
    masked = np.zeros(shape, bool)
    bias = np.zeros(shape)
    for m in (attn, None if kpm is None else kpm[:, None, None, :]):
        if m is not None and m.dtype == bool:
            masked |= m
        elif m is not None:
            bias = bias + m
    if causal:
        masked |= causal_mask(*shape[2:])
    if not bias.any():
        return torch.from_numpy(to_sdpa_mask(masked)), False
    bias[masked] = -np.inf
    return torch.from_numpy(bias), False


def torch_sdpa(q: np.ndarray, k: np.ndarray, v: np.ndarray, dout: np.ndarray, kwargs: dict[str, Any]) -> Arrays:
    """torch's output and (dq, dk, dv) for the upstream gradient dout."""
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    mask, causal = torch_mask(kwargs, (N, H, q.shape[2], k.shape[2]))
    if mask is not None and mask.dtype != torch.bool:
        mask = mask.to(tq.dtype)
    out = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=mask, is_causal=causal, scale=kwargs.get("scale"))
    out.backward(torch.from_numpy(dout))
    return tuple(t.detach().numpy() for t in (out, tq.grad, tk.grad, tv.grad))  # type: ignore[union-attr]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", CASES)
def test_equals_torch_sdpa(name: str, dtype: Any, rng: np.random.Generator) -> None:
    """torch 2.13's F.scaled_dot_product_attention gives 0 on fully masked rows too, so every row is compared."""
    (q, k, v), kwargs = case(name, rng, dtype)
    out, cache = ops.scaled_dot_product_attention_forward(q, k, v, **kwargs)
    dout = rng.standard_normal(out.shape).astype(dtype)
    got = (out, *ops.scaled_dot_product_attention_backward(dout, cache))
    assert [g.dtype for g in got] == [np.dtype(dtype)] * 4
    tol = {"rtol": 1e-11, "atol": 1e-13} if dtype == np.float64 else {"rtol": 2e-5, "atol": 2e-6}
    assert_close(got, torch_sdpa(q, k, v, dout, kwargs), **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_with_the_same_keep_mask_equals_torch(dtype: Any, rng: np.random.Generator) -> None:
    """torch draws its own dropout mask, so its side is computed by hand: softmax, times keep / (1 - p), @ v."""
    p = 0.3
    (q, k, v), kwargs = case("float-padding-causal", rng, dtype)
    keep = rng.random((N, H, 4, 6)) >= p
    out, cache = ops.scaled_dot_product_attention_forward(q, k, v, dropout_p=p, dropout_mask=keep, **kwargs)
    dout = rng.standard_normal(out.shape).astype(dtype)
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    mask, _ = torch_mask(kwargs, (N, H, 4, 6))
    assert mask is not None
    scores = tq @ tk.transpose(-1, -2) / np.sqrt(E) + mask.to(tq.dtype)
    weights = torch.softmax(scores, dim=-1)
    dropped = weights * torch.from_numpy(keep) / (1 - p)
    t_out = dropped @ tv
    t_out.backward(torch.from_numpy(dout))
    tol = {"rtol": 1e-11, "atol": 1e-13} if dtype == np.float64 else {"rtol": 2e-5, "atol": 2e-6}
    assert_close((cache.weights, cache.dropped_weights), (weights.detach().numpy(), dropped.detach().numpy()), **tol)
    want = (t_out, tq.grad, tk.grad, tv.grad)
    got = (out, *ops.scaled_dot_product_attention_backward(dout, cache))
    assert_close(got, tuple(t.detach().numpy() for t in want), **tol)  # type: ignore[union-attr]


def test_fully_masked_rows_give_zeros_where_torch_multihead_attention_gives_nan(rng: np.random.Generator) -> None:
    """Our rows with every key masked: output 0, weights 0, no gradient to q, k or v. torch's
    nn.MultiheadAttention with need_weights=True (its default path, an explicit softmax) gives NaN output
    and NaN weights there; torch 2.13's F.scaled_dot_product_attention gives 0, as we do."""
    q, k, v = qkv(rng, 4, 6)
    mask = _dead_rows(4, 6)  # query 1 of head 2
    out, cache = ops.scaled_dot_product_attention_forward(q, k, v, attn_mask=mask)
    assert not out[:, 2, 1].any() and not cache.weights[:, 2, 1].any()
    assert np.allclose(np.delete(cache.weights.sum(-1), 1, axis=2), 1)  # the other rows are distributions
    dout = rng.standard_normal(out.shape)
    dq, dk, dv = ops.scaled_dot_product_attention_backward(dout, cache)
    assert not dq[:, 2, 1].any()
    dout2 = dout.copy()
    dout2[:, 2, 1] = 100.0  # the dead row's upstream gradient reaches nothing
    _, dk2, dv2 = ops.scaled_dot_product_attention_backward(dout2, cache)
    assert np.array_equal(dk, dk2) and np.array_equal(dv, dv2)

    sdpa = F.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)), attn_mask=torch.from_numpy(~mask))
    assert not sdpa[:, 2, 1].any()
    mha = torch.nn.MultiheadAttention(E, 1, batch_first=True).double()
    x = torch.from_numpy(q[:, 0])  # (N, L, E)
    row_masked = torch.zeros(4, 4, dtype=torch.bool)
    row_masked[1] = True  # query 1 sees no key
    t_out, t_weights = mha(x, x, x, attn_mask=row_masked)
    assert torch.isnan(t_out[:, 1]).all() and torch.isnan(t_weights[:, 1]).all()
    assert not torch.isnan(t_out[:, [0, 2, 3]]).any()


def test_torch_multihead_attention_returns_the_weights_after_dropout() -> None:
    """What cache.dropped_weights is for: in training mode with dropout, nn.MultiheadAttention's need_weights
    gives softmax * keep / (1 - p), each entry 0 or twice the eval-mode weight for p = 0.5."""
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True).double()
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    _, eval_weights = mha.eval()(x, x, x, average_attn_weights=False)
    _, train_weights = mha.train()(x, x, x, average_attn_weights=False)
    ratio = (train_weights / eval_weights).detach().numpy()
    assert set(np.unique(ratio)) == {0.0, 2.0}
