"""nn.RNN (tanh, relu), nn.LSTM and nn.GRU against their torch twins, over every combination of the options.

Each case: num_layers 1-3 x bidirectional x batch_first x bias x h0 given or not x padded / packed (sorted,
enforce_sorted) / packed (unsorted, enforce_sorted=False). Our weights go to torch through
``load_state_dict``; both run forward on the same input, get the same random upstream gradients for
output and h_n (c_n), and we compare output, h_n (c_n), the input gradient, the h0 (c0) gradient and
every parameter gradient, in float64 to rtol 1e-10, atol 1e-12 (measured worst absolute difference 6e-15).

Dropout between layers (train mode): torch's multi-layer kernel draws its masks inside C++, so the twin is
torch's layers run one by one (one single-layer torch module per layer, loaded with that layer's
weights), with our masks applied to each layer's output as torch's dropout would (to the packed data
for a packed input). The masks are injected into ours through ``draw_dropout_mask``, the module's hook.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import torch
from torch.nn.utils import rnn as trnn

from scratchnn import nn
from scratchnn.nn.utils import rnn

from .twins import from_torch_state, to_torch_state

TOL = dict(rtol=1e-10, atol=1e-12)
MODES = {  # id -> (ours, torch's, extra constructor keywords)
    "RNN_TANH": (nn.RNN, torch.nn.RNN, {}),
    "RNN_RELU": (nn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "LSTM": (nn.LSTM, torch.nn.LSTM, {}),
    "GRU": (nn.GRU, torch.nn.GRU, {}),
}
PACKING = ("padded", "packed_sorted", "packed_unsorted")
D, H = 3, 4


def close(ours: Any, theirs: torch.Tensor, what: str) -> None:
    t = theirs.detach().numpy()
    assert np.shape(ours) == t.shape, f"{what}: shape {np.shape(ours)} != torch {t.shape}"
    np.testing.assert_allclose(ours, t, err_msg=what, **TOL)


class Case:
    """One configuration's inputs, upstream gradients and the torch-side leaves."""

    def __init__(self, mode: str, layers: int, bidi: bool, batch_first: bool, packing: str, h0: bool, seed: int):
        rng = np.random.default_rng(seed)
        self.rng = rng
        N, T = int(rng.integers(2, 5)), int(rng.integers(3, 6))
        S = layers * (2 if bidi else 1)
        self.N, self.T, self.K = N, T, H * (2 if bidi else 1)
        self.batch_first, self.packing = batch_first, packing
        x = rng.standard_normal((N, T, D) if batch_first else (T, N, D))
        self.lengths = None
        if packing == "padded":
            self.x: Any = x
            self.tx = torch.tensor(x, requires_grad=True)
            self.t_input: Any = self.tx
        else:
            lengths = rng.integers(1, T + 1, N)
            lengths[int(rng.integers(N))] = T  # the longest sequence fills the padding
            if packing == "packed_sorted":
                lengths = np.sort(lengths)[::-1].copy()
            self.lengths = lengths
            sorted_ = packing == "packed_sorted"
            self.x = rnn.pack_padded_sequence(x, lengths, batch_first, enforce_sorted=sorted_)
            tp = trnn.pack_padded_sequence(torch.tensor(x), torch.tensor(lengths), batch_first, sorted_)
            self.tx = tp.data.clone().requires_grad_(True)  # the leaf: the packed data, what ours differentiates
            self.t_input = trnn.PackedSequence(self.tx, tp.batch_sizes, tp.sorted_indices, tp.unsorted_indices)
        n_states = 2 if mode == "LSTM" else 1
        self.h0 = [rng.standard_normal((S, N, H)) for _ in range(n_states)] if h0 else None
        self.th0 = None if self.h0 is None else [torch.tensor(h, requires_grad=True) for h in self.h0]
        self.g_finals = [rng.standard_normal((S, N, H)) for _ in range(n_states)]

    def hx(self, states: list[Any] | None) -> Any:
        if states is None:
            return None
        return states[0] if len(states) == 1 else tuple(states)

    def out_data(self, out: Any) -> Any:
        return out.data if isinstance(out, (rnn.PackedSequence, trnn.PackedSequence)) else out


def run_ours(m: nn.Module, case: Case) -> tuple[Any, list[np.ndarray], Any]:
    out, finals = m(case.x, case.hx(case.h0))
    finals = list(finals) if isinstance(finals, tuple) else [finals]
    case.g_out = case.rng.standard_normal(np.shape(case.out_data(out)))
    grads = m.backward(case.g_out, *case.g_finals)
    return out, finals, grads


def torch_loss(case: Case, out: Any, finals: list[torch.Tensor]) -> torch.Tensor:
    loss = (case.out_data(out) * torch.tensor(case.g_out)).sum()
    for f, g in zip(finals, case.g_finals):
        loss = loss + (f * torch.tensor(g)).sum()
    return loss


def compare(case: Case, ours: Any, theirs: Any, t_params: dict[str, torch.Tensor], m: nn.Module) -> None:
    (out, finals, grads), (t_out, t_finals) = ours, theirs
    if case.packing != "padded":
        assert isinstance(out, rnn.PackedSequence)
        np.testing.assert_array_equal(out.batch_sizes, t_out.batch_sizes.numpy())
    close(case.out_data(out), case.out_data(t_out), "output")
    for i, (f, tf) in enumerate(zip(finals, t_finals)):
        close(f, tf, f"final state {i} (h_n, c_n)")
    torch_loss(case, t_out, t_finals).backward()
    dx = grads if case.h0 is None else grads[0]
    close(case.out_data(dx), case.tx.grad, "input gradient")
    if case.h0 is not None:
        d0 = grads[1] if isinstance(grads[1], tuple) else (grads[1],)
        assert case.th0 is not None and len(d0) == len(case.th0)
        for i, (d, th) in enumerate(zip(d0, case.th0)):
            close(d, th.grad, f"gradient of hx[{i}]")
    assert [n for n, _ in m.named_parameters()] == list(t_params)  # torch's names, in torch's order
    for name, p in m.named_parameters():
        close(p.grad, t_params[name].grad, f"gradient of {name}")


def build(mode: str, layers: int, bidi: bool, batch_first: bool, bias: bool, dropout: float = 0.0) -> tuple[Any, Any]:
    cls, tcls, extra = MODES[mode]
    kw = dict(num_layers=layers, bias=bias, batch_first=batch_first, dropout=dropout, bidirectional=bidi, **extra)
    ours = cls(D, H, dtype=np.float64, rng=np.random.default_rng(layers), **kw)
    theirs = tcls(D, H, dtype=torch.float64, **kw)
    theirs.load_state_dict(to_torch_state(ours.state_dict()))
    return ours, theirs


GRID = list(itertools.product(MODES, (1, 2, 3), (False, True), (False, True), (False, True), (False, True), PACKING))


@pytest.mark.parametrize(
    "mode,layers,bidi,batch_first,bias,h0,packing",
    GRID,
    ids=[f"{m}-L{n}-bi{int(b)}-bf{int(f)}-bias{int(c)}-h0{int(h)}-{p}" for m, n, b, f, c, h, p in GRID],
)
def test_matches_torch(
    mode: str, layers: int, bidi: bool, batch_first: bool, bias: bool, h0: bool, packing: str
) -> None:
    seed = GRID.index((mode, layers, bidi, batch_first, bias, h0, packing))
    case = Case(mode, layers, bidi, batch_first, packing, h0, seed)
    ours, theirs = build(mode, layers, bidi, batch_first, bias)
    mine = run_ours(ours, case)
    t_out, t_finals = theirs(case.t_input, case.hx(case.th0))
    t_finals = list(t_finals) if isinstance(t_finals, tuple) else [t_finals]
    compare(case, mine, (t_out, t_finals), dict(theirs.named_parameters()), ours)


# ---------------------------------------------------------------- dropout between layers, torch layer by layer
def torch_layer_by_layer(case: Case, mode: str, layers: int, bidi: bool, sd: dict[str, np.ndarray], masks: list[Any]):
    """torch's multi-layer RNN with dropout written out: single-layer torch modules, our masks between them."""
    cls, tcls, extra = MODES[mode]
    S_l = 2 if bidi else 1
    inp, finals, params = case.t_input, [], {}
    for layer in range(layers):
        one = tcls(D if layer == 0 else case.K, H, bidirectional=bidi, batch_first=case.batch_first,
                   dtype=torch.float64, **extra)  # fmt: skip
        mine = {k: v for k, v in sd.items() if f"_l{layer}" in k}
        one.load_state_dict(to_torch_state({k.replace(f"_l{layer}", "_l0"): v for k, v in mine.items()}))
        for k, p in one.named_parameters():
            params[k.replace("_l0", f"_l{layer}")] = p
        hx = None if case.th0 is None else [h[layer * S_l : (layer + 1) * S_l] for h in case.th0]
        out, fin = one(inp, case.hx(hx))
        finals.append(list(fin) if isinstance(fin, tuple) else [fin])
        if layer < layers - 1:
            mask = torch.tensor(masks[layer])  # (N, T, K): ours is batch-major
            if case.packing != "padded":
                sorted_ = case.packing == "packed_sorted"
                mdata = trnn.pack_padded_sequence(mask, torch.tensor(case.lengths), True, sorted_).data
                out = trnn.PackedSequence(out.data * mdata, out.batch_sizes, out.sorted_indices, out.unsorted_indices)
            else:
                out = out * (mask if case.batch_first else mask.transpose(0, 1))
        inp = out
    t_finals = [torch.cat([f[i] for f in finals]) for i in range(len(finals[0]))]
    return inp, t_finals, params


DROPOUT_GRID = list(itertools.product(MODES, (2, 3), (False, True), (False, True), PACKING))


@pytest.mark.parametrize(
    "mode,layers,bidi,h0,packing",
    DROPOUT_GRID,
    ids=[f"{m}-L{n}-bi{int(b)}-h0{int(h)}-{p}" for m, n, b, h, p in DROPOUT_GRID],
)
def test_dropout_between_layers_matches_torch_with_the_same_masks(
    mode: str, layers: int, bidi: bool, h0: bool, packing: str
) -> None:
    seed = 10_000 + DROPOUT_GRID.index((mode, layers, bidi, h0, packing))
    p = 0.4
    batch_first = seed % 2 == 0
    case = Case(mode, layers, bidi, batch_first, packing, h0, seed)
    ours, _ = build(mode, layers, bidi, batch_first, True, dropout=p)
    ours.train()
    T = case.T if case.lengths is None else int(case.lengths.max())
    masks = [(case.rng.random((case.N, T, case.K)) >= p) / (1 - p) for _ in range(layers - 1)]
    ours.draw_dropout_mask = lambda layer, shape, dtype: masks[layer]  # the hook: inject our masks
    mine = run_ours(ours, case)
    assert all(a is b for a, b in zip(ours.dropout_masks, masks)) and len(ours.dropout_masks) == layers - 1
    t_out, t_finals, t_params = torch_layer_by_layer(case, mode, layers, bidi, ours.state_dict(), masks)
    compare(case, mine, (t_out, t_finals), t_params, ours)
    ours.eval()  # no dropout in eval mode: the masks are gone and torch's own multi-layer module agrees
    _, theirs = build(mode, layers, bidi, batch_first, True, dropout=p)
    theirs.load_state_dict(to_torch_state(ours.state_dict()))
    theirs.eval()
    out, _ = ours(case.x, case.hx(case.h0))
    assert ours.dropout_masks == []
    close(case.out_data(out), case.out_data(theirs(case.t_input, case.hx(case.th0))[0]), "eval output")


def test_drawn_dropout_masks_are_inverted_dropout() -> None:
    m = nn.GRU(3, 50, num_layers=3, dropout=0.25, bidirectional=True, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((40, 20, 3)).astype(np.float32)
    m(x)
    masks = m.dropout_masks
    assert len(masks) == 2 and all(mk.shape == (20, 40, 100) and mk.dtype == np.float32 for mk in masks)
    for mk in masks:  # 80,000 values each: the dropped fraction's std is 0.0015
        np.testing.assert_allclose(np.unique(mk), [0.0, 1 / 0.75])
        assert abs(np.mean(mk == 0) - 0.25) < 0.01
    assert not np.array_equal(masks[0], masks[1])


# ---------------------------------------------------------------- state dicts, unbatched input, init
@pytest.mark.parametrize("mode", MODES)
def test_state_dicts_load_unchanged_both_ways(mode: str) -> None:
    cls, tcls, extra = MODES[mode]
    kw = dict(num_layers=2, bidirectional=True, **extra)
    theirs = tcls(5, 6, **kw)
    ours = cls(5, 6, **kw)
    ours.load_state_dict(from_torch_state(theirs.state_dict()))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(v, theirs.state_dict()[k].numpy(), err_msg=k)
    fresh = cls(5, 6, **kw)
    theirs.load_state_dict(to_torch_state(fresh.state_dict()))
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(v, theirs.state_dict()[k].numpy(), err_msg=k)
    x = np.random.default_rng(0).standard_normal((4, 2, 5)).astype(np.float32)
    np.testing.assert_allclose(fresh(x)[0], theirs(torch.tensor(x))[0].detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("h0", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_unbatched_input_matches_torch(mode: str, h0: bool) -> None:
    ours, theirs = build(mode, 2, True, True, True)  # batch_first does not apply to a 2-D input
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, D))
    n_states = 2 if mode == "LSTM" else 1
    states = [rng.standard_normal((4, H)) for _ in range(n_states)] if h0 else None
    hx = None if states is None else (states[0] if n_states == 1 else tuple(states))
    out, fin = ours(x, hx)
    tx = torch.tensor(x, requires_grad=True)
    t_states = None if states is None else [torch.tensor(s, requires_grad=True) for s in states]
    t_hx = None if t_states is None else (t_states[0] if n_states == 1 else tuple(t_states))
    t_out, t_fin = theirs(tx, t_hx)
    fins, t_fins = (list(fin), list(t_fin)) if n_states == 2 else ([fin], [t_fin])
    close(out, t_out, "output")
    g_out, g_fins = rng.standard_normal(out.shape), [rng.standard_normal(f.shape) for f in fins]
    grads = ours.backward(g_out, *g_fins)
    loss = (t_out * torch.tensor(g_out)).sum() + sum((f * torch.tensor(g)).sum() for f, g in zip(t_fins, g_fins))
    loss.backward()
    for f, tf in zip(fins, t_fins):
        close(f, tf, "final state")
    close(grads if states is None else grads[0], tx.grad, "input gradient")
    if t_states is not None:
        d0 = grads[1] if n_states == 2 else (grads[1],)
        for d, ts in zip(d0, t_states):
            close(d, ts.grad, "state gradient")


@pytest.mark.parametrize("mode", MODES)
def test_init_is_torch_uniform_bound(mode: str) -> None:
    cls, tcls, extra = MODES[mode]
    m = cls(30, 64, num_layers=2, rng=np.random.default_rng(3), **extra)
    bound = 1 / np.sqrt(64)
    for name, p in m.named_parameters():
        assert p.dtype == np.float32 and np.abs(p.data).max() <= bound, name
        if p.size > 1000:
            assert p.data.std() == pytest.approx(bound / np.sqrt(3), rel=0.05), name
    again = cls(30, 64, num_layers=2, rng=np.random.default_rng(3), **extra)
    np.testing.assert_array_equal(again.weight_hh_l1.data, m.weight_hh_l1.data)
    assert repr(cls(3, 4, **extra)) == repr(tcls(3, 4, **extra))
    kw = dict(num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True, **extra)
    assert repr(cls(3, 4, **kw)) == repr(tcls(3, 4, **kw))
