"""The positional encodings against torch: the sinusoidal table against the formula (plain Python) and a torch
implementation written here (torch.nn has no such class), the learned table against ``torch.nn.Embedding`` over
the positions; forward, input and weight gradients, buffers, state_dicts both ways, injected dropout masks."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

from scratchnn import nn

from .twins import assert_close, compare_module, from_torch_state, to_torch_state

DTYPES = [np.float32, np.float64]


def formula(max_len: int, d_model: int) -> np.ndarray:
    """PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(pos / 10000^(2i/d)), one value at a time."""
    pe = np.zeros((max_len, d_model))
    for pos in range(max_len):
        for j in range(d_model):
            angle = pos / 10000 ** ((j - j % 2) / d_model)
            pe[pos, j] = math.sin(angle) if j % 2 == 0 else math.cos(angle)
    return pe


def torch_table(max_len: int, d_model: int, dtype: torch.dtype) -> torch.Tensor:
    """The table as the PyTorch tutorial builds it: exp of a log-spaced frequency, in the given dtype."""
    position = torch.arange(max_len, dtype=dtype)[:, None]
    freq = torch.exp(torch.arange(0, d_model, 2, dtype=dtype) * (-math.log(10000.0) / d_model))
    pe = torch.zeros(max_len, d_model, dtype=dtype)
    pe[:, 0::2] = torch.sin(position * freq)
    pe[:, 1::2] = torch.cos(position * freq)
    return pe


class TorchPositionalEncoding(torch.nn.Module):
    """The tutorial's module with our buffer layout (max_len, d_model) and, in training, a given dropout mask."""

    def __init__(self, d_model: int, max_len: int, batch_first: bool) -> None:
        super().__init__()
        self.batch_first = batch_first
        self.mask: torch.Tensor | None = None
        self.register_buffer("pe", torch_table(max_len, d_model, torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T = x.shape[1] if self.batch_first and x.dim() == 3 else x.shape[0]
        pe = self.pe[:T] if x.dim() == 2 or self.batch_first else self.pe[:T, None]
        out = x + pe
        return out * self.mask if self.training and self.mask is not None else out


@pytest.mark.parametrize("d_model", [1, 2, 7, 16])
def test_sinusoidal_table_is_the_formula(d_model: int) -> None:
    ours = nn.PositionalEncoding(d_model, max_len=60, dtype=np.float64).pe
    np.testing.assert_allclose(ours, formula(60, d_model), rtol=0, atol=1e-12)
    if d_model % 2 == 0:  # the tutorial's code needs an even d_model
        np.testing.assert_allclose(ours, torch_table(60, d_model, torch.float64).numpy(), rtol=0, atol=1e-12)


def test_float32_table_is_the_float64_one_rounded() -> None:
    """The table is computed in float64 and rounded once; the tutorial's float32 arithmetic is within its rounding
    error of that (the angle pos * freq carries ~pos * 6e-8 of error at position pos)."""
    ours = nn.PositionalEncoding(64, max_len=500, dtype=np.float32).pe
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours, formula(500, 64).astype(np.float32))
    theirs = torch_table(500, 64, torch.float32).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=500 * 2e-7)
    assert np.abs(ours - theirs).max() > 0  # not the same arithmetic: the comparison above means something


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,batch_first", [((5, 3, 8), False), ((3, 5, 8), True), ((5, 8), False)])
def test_sinusoidal_matches_torch_eval(shape: tuple[int, ...], batch_first: bool, dtype: Any) -> None:
    ours = nn.PositionalEncoding(8, max_len=12, dropout=0.3, batch_first=batch_first)
    theirs = TorchPositionalEncoding(8, 12, batch_first)
    x = np.random.default_rng(0).standard_normal(shape)
    compare_module(ours, theirs, [x], dtype=dtype, train=False, steps=2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_first", [False, True])
def test_sinusoidal_matches_torch_with_injected_dropout_mask(batch_first: bool, dtype: Any) -> None:
    p, shape = 0.4, ((3, 5, 8) if batch_first else (5, 3, 8))
    rng = np.random.default_rng(1)
    mask = ((rng.random(shape) >= p) / (1 - p)).astype(dtype)
    ours = nn.PositionalEncoding(8, max_len=12, dropout=p, batch_first=batch_first)
    ours.draw_dropout_mask = lambda shape, dtype: mask  # the hook: our mask for both
    theirs = TorchPositionalEncoding(8, 12, batch_first)
    theirs.mask = torch.from_numpy(mask)
    compare_module(ours, theirs, [rng.standard_normal(shape)], dtype=dtype, train=True)
    assert ours.dropout_mask is mask


def test_gradient_passes_through_unchanged() -> None:
    """The encoding is a constant: d_input is grad_out itself (a copy) without dropout, grad_out * mask with it."""
    rng = np.random.default_rng(2)
    x, g = rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 4, 6))
    m = nn.PositionalEncoding(6, max_len=8, batch_first=True, dtype=np.float64)
    m(x)
    dx = m.backward(g)
    np.testing.assert_array_equal(dx, g)
    assert dx is not g
    m = nn.PositionalEncoding(6, max_len=8, dropout=0.5, batch_first=True, dtype=np.float64, rng=rng)
    out = m(x)
    mask = m.dropout_mask
    assert mask is not None and set(np.unique(mask)) == {0.0, 2.0}
    np.testing.assert_array_equal(out, (x + m.pe[:4]) * mask)
    np.testing.assert_array_equal(m.backward(g), g * mask)
    m.eval()
    np.testing.assert_array_equal(m(x), x + m.pe[:4])
    assert m.dropout_mask is None


def test_drawn_dropout_masks_are_inverted_dropout() -> None:
    m = nn.PositionalEncoding(50, max_len=200, dropout=0.25, dtype=np.float64, rng=np.random.default_rng(3))
    m(np.zeros((200, 20, 50)))
    mask = m.dropout_mask
    assert mask is not None and set(np.unique(mask)) == {0.0, 1 / 0.75}
    assert abs((mask == 0).mean() - 0.25) < 0.005  # 200,000 draws: 5 standard deviations is 0.0048


@pytest.mark.parametrize("cls", ["sinusoidal", "learned"])
def test_offset_gives_the_steps_of_the_full_sequence(cls: str) -> None:
    """Incremental decoding: step t alone with offset=t equals step t of the whole sequence."""
    rng = np.random.default_rng(4)
    if cls == "sinusoidal":
        m: nn.Module = nn.PositionalEncoding(6, max_len=9, batch_first=True, dtype=np.float64)
        x = rng.standard_normal((2, 9, 6))
        full, steps = m(x), [m(x[:, t : t + 1], offset=t) for t in range(9)]
    else:
        m = nn.LearnedPositionalEmbedding(9, 6, dtype=np.float64, rng=rng)
        ids = rng.integers(0, 50, (2, 9))
        full, steps = m(ids), [m(ids[:, t : t + 1], offset=t) for t in range(9)]
    np.testing.assert_array_equal(np.concatenate(steps, axis=1), full)


class TorchPositions(torch.nn.Embedding):
    """torch.nn.Embedding looked up at the positions offset .. offset + T - 1 of each row of ids."""

    offset = 0

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        T = ids.shape[-1]
        return super().forward(torch.arange(self.offset, self.offset + T).expand(ids.shape))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 6), (6,), (2, 3, 5)])
def test_learned_matches_torch_embedding_over_positions(shape: tuple[int, ...], dtype: Any) -> None:
    ours = nn.LearnedPositionalEmbedding(7, 5, rng=np.random.default_rng(5))
    ids = np.random.default_rng(6).integers(0, 100, shape)
    compare_module(ours, TorchPositions(7, 5), [ids], dtype=dtype, steps=2)


@pytest.mark.parametrize("offset", [0, 3, 6])
def test_learned_gradient_accumulates_per_position(offset: int) -> None:
    """Each position's row gets the sum of its gradients over the batch, as torch's Embedding of repeated ids; the
    rows outside offset .. offset + T - 1 get nothing; a second backward adds."""
    rng = np.random.default_rng(7)
    ours = nn.LearnedPositionalEmbedding(10, 4, dtype=np.float64, rng=rng)
    theirs = TorchPositions(10, 4, dtype=torch.float64)
    theirs.offset = offset
    theirs.load_state_dict(to_torch_state(ours.state_dict()))
    ids = rng.integers(0, 30, (5, 4))
    g = rng.standard_normal((5, 4, 4))
    out = ours(ids, offset=offset)
    tout = theirs(torch.from_numpy(ids))
    assert_close(out, tout, "forward", np.dtype(np.float64))
    ours.backward(g)
    tout.backward(torch.from_numpy(g))
    assert_close(ours.weight.grad, theirs.weight.grad, "weight grad", np.dtype(np.float64))
    expected = np.zeros((10, 4))
    expected[offset : offset + 4] = g.sum(axis=0)
    np.testing.assert_allclose(ours.weight.grad, expected, rtol=1e-14)
    ours(ids, offset=offset)
    ours.backward(g)
    np.testing.assert_allclose(ours.weight.grad, 2 * expected, rtol=1e-14)


def test_learned_state_dict_is_torch_embeddings_both_ways() -> None:
    ours = nn.LearnedPositionalEmbedding(8, 3)
    theirs = torch.nn.Embedding(8, 3)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    ours.load_state_dict(from_torch_state(theirs.state_dict()))
    np.testing.assert_array_equal(ours.weight.data, theirs.weight.detach().numpy())
    fresh = torch.nn.Embedding(8, 3)
    fresh.load_state_dict(to_torch_state(nn.LearnedPositionalEmbedding(8, 3).state_dict()))


def test_learned_init_is_standard_normal_as_torch_embedding() -> None:
    w = nn.LearnedPositionalEmbedding(1000, 50, dtype=np.float64, rng=np.random.default_rng(8)).weight.data
    t = torch.nn.Embedding(1000, 50).weight.detach().numpy()
    for values in (w, t):  # 50,000 draws: mean within 0.02 (4.5 sd), std within 0.015 (5 sd) of N(0, 1)'s
        assert abs(values.mean()) < 0.02 and abs(values.std() - 1) < 0.015
