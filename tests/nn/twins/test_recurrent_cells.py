"""RNNCell (tanh, relu), LSTMCell and GRUCell against their torch twins: batched and unbatched, with and without
bias and hx, float64 (rtol 1e-10, atol 1e-12) and float32; output(s), input, state and parameter gradients."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import torch

from scratchnn import nn

from .twins import from_torch_state, to_torch_state

CELLS = {
    "RNNCell": (nn.RNNCell, torch.nn.RNNCell, {}),
    "RNNCell-relu": (nn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
    "LSTMCell": (nn.LSTMCell, torch.nn.LSTMCell, {}),
    "GRUCell": (nn.GRUCell, torch.nn.GRUCell, {}),
}
TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}
GRID = list(itertools.product(CELLS, (False, True), (False, True), (False, True), (np.float64, np.float32)))


@pytest.mark.parametrize(
    "name,bias,hx_given,unbatched,dtype",
    GRID,
    ids=[f"{n}-bias{int(b)}-hx{int(h)}-unbatched{int(u)}-{np.dtype(d).name}" for n, b, h, u, d in GRID],
)
def test_cell_matches_torch(name: str, bias: bool, hx_given: bool, unbatched: bool, dtype: Any) -> None:
    cls, tcls, extra = CELLS[name]
    rng = np.random.default_rng(GRID.index((name, bias, hx_given, unbatched, dtype)))
    D, H, N = 3, 5, 4
    ours = cls(D, H, bias=bias, dtype=dtype, rng=rng, **extra)
    theirs = tcls(D, H, bias=bias, dtype=torch.float64 if dtype == np.float64 else torch.float32, **extra)
    theirs.load_state_dict(to_torch_state(ours.state_dict()))
    lead = () if unbatched else (N,)
    x = rng.standard_normal((*lead, D)).astype(dtype)
    lstm = name == "LSTMCell"
    states = [rng.standard_normal((*lead, H)).astype(dtype) for _ in range(2 if lstm else 1)] if hx_given else None
    tx = torch.tensor(x, requires_grad=True)
    tstates = None if states is None else [torch.tensor(s, requires_grad=True) for s in states]
    hx = None if states is None else (tuple(states) if lstm else states[0])
    thx = None if tstates is None else (tuple(tstates) if lstm else tstates[0])
    out, tout = ours(x, hx), theirs(tx, thx)
    outs, touts = (list(out), list(tout)) if lstm else ([out], [tout])
    grads = [rng.standard_normal(o.shape).astype(dtype) for o in outs]
    result = ours.backward(*grads)
    sum((t * torch.tensor(g)).sum() for t, g in zip(touts, grads)).backward()
    tol = TOL[dtype]
    for o, t in zip(outs, touts):
        assert o.dtype == dtype
        np.testing.assert_allclose(o, t.detach().numpy(), err_msg="output", **tol)
    dx = result if states is None else result[0]
    np.testing.assert_allclose(dx, tx.grad.numpy(), err_msg="input gradient", **tol)
    if tstates is not None:
        dstates = result[1] if lstm else (result[1],)
        for d, t in zip(dstates, tstates):
            np.testing.assert_allclose(d, t.grad.numpy(), err_msg="state gradient", **tol)
    tparams = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(tparams)
    for pname, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, tparams[pname].grad.numpy(), err_msg=pname, **tol)


def test_lstm_cell_takes_either_gradient_alone() -> None:
    """backward(grad_h, grad_c=None) and backward(None, grad_c): None is zero, as for the modules."""
    rng = np.random.default_rng(1)
    m = nn.LSTMCell(3, 4, dtype=np.float64, rng=rng)
    x, g = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    m(x)
    only_h = m.backward(g)
    zeros = m.backward(g, np.zeros((2, 4)))
    np.testing.assert_array_equal(only_h, zeros)
    only_c, both = m.backward(None, g), m.backward(g, g)
    np.testing.assert_allclose(only_h + only_c, both, rtol=1e-12)


@pytest.mark.parametrize("name", CELLS)
def test_cell_state_dicts_and_init(name: str) -> None:
    cls, tcls, extra = CELLS[name]
    theirs = tcls(20, 64, **extra)
    ours = cls(20, 64, rng=np.random.default_rng(2), **extra)
    bound = 1 / np.sqrt(64)
    for pname, p in ours.named_parameters():
        assert np.abs(p.data).max() <= bound and p.shape == tuple(theirs.state_dict()[pname].shape), pname
    assert ours.weight_ih.data.std() == pytest.approx(bound / np.sqrt(3), rel=0.05)
    ours.load_state_dict(from_torch_state(theirs.state_dict()))
    theirs.load_state_dict(to_torch_state(cls(20, 64, **extra).state_dict()))
    assert repr(cls(3, 4, bias=False, **extra)) == repr(tcls(3, 4, bias=False, **extra))
