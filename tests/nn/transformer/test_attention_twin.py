"""MultiheadAttention against torch.nn.MultiheadAttention: forward, weights, input and parameter gradients.

Same weights through state_dict; each case runs both on the same inputs and random upstream gradients, one
for the output and (with need_weights) one for the weights.
Self-attention passes one array as query, key and value (torch: one tensor), cross-attention one memory as
key and value; the gradients of a shared input come back summed, as torch accumulates them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from scratchnn import nn

from ..twins.twins import TOL, assert_close, to_torch_state

E, H = 12, 3


def _pair(dtype: Any, batch_first: bool, bias: bool = True, dropout: float = 0.0) -> tuple[Any, Any]:
    ours = nn.MultiheadAttention(
        E, H, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype, rng=np.random.default_rng(1)
    )
    theirs = torch.nn.MultiheadAttention(
        E,
        H,
        dropout=dropout,
        bias=bias,
        batch_first=batch_first,
        dtype=torch.float64 if dtype == np.float64 else torch.float32,
    )
    theirs.load_state_dict(to_torch_state(ours.state_dict()))
    return ours, theirs


def _run(ours: Any, theirs: Any, arrays: dict[str, np.ndarray], kind: str, dtype: Any, **kw: Any) -> None:
    """kind: self (q = k = v), cross (k = v), distinct."""
    rng = np.random.default_rng(7)
    q = arrays["q"]
    k = q if kind == "self" else arrays["k"]
    v = k if kind in ("self", "cross") else arrays["v"]
    tq = torch.tensor(q, requires_grad=True)
    tk = tq if kind == "self" else torch.tensor(k, requires_grad=True)
    tv = tk if kind in ("self", "cross") else torch.tensor(v, requires_grad=True)
    tkw = {n: (torch.from_numpy(m) if isinstance(m, np.ndarray) else m) for n, m in kw.items()}
    out, w = ours(q, k, v, **kw)
    tout, tw = theirs(tq, tk, tv, **tkw)
    assert_close(out, tout, "forward", dtype)
    if tw is None:
        assert w is None
    else:
        assert_close(w, tw, "weights", dtype)
    g = rng.standard_normal(out.shape).astype(dtype)
    if w is None:
        dq, dk, dv = ours.backward(g)
        tout.backward(torch.from_numpy(g))
    else:  # the weights are an output too: a loss that uses both sends a gradient through each
        gw = rng.standard_normal(w.shape).astype(dtype)
        dq, dk, dv = ours.backward(g, gw)
        ((tout * torch.from_numpy(g)).sum() + (tw * torch.from_numpy(gw)).sum()).backward()
    assert_close(dq, tq.grad, "dquery", dtype)
    if kind == "self":
        assert dk is None and dv is None
    else:
        assert_close(dk, tk.grad, "dkey", dtype)
        if kind == "cross":
            assert dv is None
        else:
            assert_close(dv, tv.grad, "dvalue", dtype)
    tparams = dict(theirs.named_parameters())
    assert sorted(n for n, _ in ours.named_parameters()) == sorted(tparams)
    for name, p in ours.named_parameters():
        assert_close(p.grad, tparams[name].grad, f"grad of {name}", dtype)


def _inputs(dtype: Any, batch_first: bool, N: int = 2, L: int = 4, S: int = 5, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    shape = (lambda T: (N, T, E)) if batch_first else (lambda T: (T, N, E))
    return {
        "q": rng.standard_normal(shape(L)).astype(dtype),
        "k": rng.standard_normal(shape(S)).astype(dtype),
        "v": rng.standard_normal(shape(S)).astype(dtype),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", ["self", "cross", "distinct"])
@pytest.mark.parametrize("bias", [True, False])
def test_no_masks(dtype: Any, batch_first: bool, kind: str, bias: bool) -> None:
    ours, theirs = _pair(dtype, batch_first, bias)
    S = 4 if kind == "self" else 5
    _run(ours, theirs, _inputs(dtype, batch_first, S=S), kind, dtype)


def _masks(N: int, L: int, S: int, dtype: Any) -> dict[str, dict[str, Any]]:
    rng = np.random.default_rng(3)
    kpm = np.zeros((N, S), dtype=bool)
    kpm[0, -2:] = True  # sample 0: the last two keys are padding
    causal = np.triu(np.ones((L, S), dtype=bool), 1)
    additive = rng.standard_normal((L, S)).astype(dtype)
    per_head = rng.random((N * H, L, S)) < 0.3
    per_head[..., 0] = False  # no fully masked row (torch gives NaN there)
    return {
        "key_padding": {"key_padding_mask": kpm},
        "causal_bool": {"attn_mask": causal},
        "causal_float": {"attn_mask": np.where(causal, -np.inf, 0).astype(dtype)},
        "additive": {"attn_mask": additive},
        "per_head_bool": {"attn_mask": per_head},
        "padding_and_causal": {"attn_mask": causal, "key_padding_mask": kpm},
        "heads_unaveraged": {"key_padding_mask": kpm, "average_attn_weights": False},
        "no_weights": {"attn_mask": causal, "need_weights": False},
        "is_causal": {"attn_mask": causal, "is_causal": True},
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", list(_masks(2, 4, 4, np.float64)))
@pytest.mark.parametrize("kind", ["self", "cross"])
def test_masks(dtype: Any, case: str, kind: str) -> None:
    ours, theirs = _pair(dtype, True)
    L = S = 4
    _run(ours, theirs, _inputs(dtype, True, L=L, S=S), kind, dtype, **_masks(2, L, S, dtype)[case])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unbatched(dtype: Any) -> None:
    ours, theirs = _pair(dtype, False)
    rng = np.random.default_rng(2)
    arrays = {
        "q": rng.standard_normal((4, E)).astype(dtype),
        "k": rng.standard_normal((6, E)).astype(dtype),
        "v": rng.standard_normal((6, E)).astype(dtype),
    }
    _run(ours, theirs, arrays, "distinct", dtype, key_padding_mask=np.array([0, 0, 1, 0, 0, 1], dtype=bool))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_with_injected_mask(dtype: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Train mode, p = 0.3: torch's explicit-softmax path (need_weights=True) drops the weights through
    F.dropout, which is given the mask ours drew."""
    p = 0.3
    ours, theirs = _pair(dtype, True, dropout=p)
    drawn: list[np.ndarray] = []
    draw = ours.draw_dropout_mask

    def record(shape: tuple[int, ...]) -> np.ndarray:
        drawn.append(draw(shape))
        return drawn[-1]

    ours.draw_dropout_mask = record  # type: ignore[method-assign]

    def dropout(x: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> torch.Tensor:
        keep = torch.from_numpy(drawn[-1]).reshape(x.shape)
        return x * keep / (1 - p)

    monkeypatch.setattr(torch.nn.functional, "dropout", dropout)
    _run(ours, theirs, _inputs(dtype, True), "cross", dtype)
    assert len(drawn) == 1 and 0.5 < drawn[0].mean() < 0.9


def test_fully_masked_row_gives_zeros_where_torch_gives_nan() -> None:
    ours, theirs = _pair(np.float64, True)
    x = _inputs(np.float64, True, L=3, S=3)["q"]
    mask = np.zeros((3, 3), dtype=bool)
    mask[1] = True  # query 1 may attend to nothing
    out, w = ours(x, x, x, attn_mask=mask)
    tout, tw = theirs(*(torch.from_numpy(x),) * 3, attn_mask=torch.from_numpy(mask))
    assert np.isnan(tout.detach().numpy()[:, 1]).all()
    np.testing.assert_array_equal(w[:, 1], 0)
    # the row's output is the output projection's bias alone: no value reaches it
    np.testing.assert_allclose(out[:, 1], np.broadcast_to(ours.out_proj.bias.data, out[:, 1].shape))
    np.testing.assert_allclose(
        np.delete(out, 1, axis=1), np.delete(tout.detach().numpy(), 1, axis=1), **TOL[np.dtype(np.float64)]
    )


def test_init_and_state_dict_names_match_torch() -> None:
    ours = nn.MultiheadAttention(64, 8, rng=np.random.default_rng(0))
    theirs = torch.nn.MultiheadAttention(64, 8)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, t in theirs.state_dict().items():
        assert ours.state_dict()[name].shape == tuple(t.shape)
    w = ours.in_proj_weight.data
    bound = np.sqrt(6 / (64 + 192))  # xavier_uniform_ over (3E, E)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    np.testing.assert_array_equal(ours.in_proj_bias.data, 0)
    np.testing.assert_array_equal(ours.out_proj.bias.data, 0)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[k], v.numpy())


def test_bad_arguments_name_themselves() -> None:
    with pytest.raises(ValueError, match="`num_heads`"):
        nn.MultiheadAttention(10, 3)
    m = nn.MultiheadAttention(8, 2, batch_first=True)
    x = np.zeros((2, 3, 8), dtype=np.float32)
    with pytest.raises(ValueError, match="`key_padding_mask`"):
        m(x, x, x, key_padding_mask=np.zeros((2, 4), dtype=bool))
    with pytest.raises(ValueError, match="`attn_mask`"):
        m(x, x, x, attn_mask=np.zeros((4, 3), dtype=bool))
    with pytest.raises(ValueError, match="`query`"):
        m(np.zeros((2, 3, 6), dtype=np.float32), x, x)


def test_backward_takes_the_weights_gradient_only_where_there_are_weights() -> None:
    m = nn.MultiheadAttention(8, 2, batch_first=True, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 3, 8))
    out, w = m(x, x, x, need_weights=False)
    assert w is None
    with pytest.raises(ValueError, match=r"^Invalid value for `grad_attn_weights`: expected None: the forward ran "):
        m.backward(np.ones_like(out), np.ones((2, 3, 3)))
    out, w = m(x, x, x)
    with pytest.raises(ValueError, match=r"^Invalid shape for `grad_attn_weights`: expected \(2, 3, 3\)"):
        m.backward(np.ones_like(out), np.ones((2, 2, 3, 3)))
    m.zero_grad()
    g, gw = np.ones_like(out), np.ones_like(w)  # the weights' rows sum to 1: a constant gradient changes nothing
    dx_both = m.backward(g, gw)[0]
    grads = {k: p.grad.copy() for k, p in m.named_parameters()}
    m.zero_grad()
    np.testing.assert_allclose(m.backward((g, None))[0], dx_both, atol=1e-12)  # the tuple form, as before
    for k, p in m.named_parameters():
        np.testing.assert_allclose(p.grad, grads[k], atol=1e-12, err_msg=k)
    assert m.backward(g, input_grad=False) is None
