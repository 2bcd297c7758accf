"""Embedding against torch.nn.Embedding: forward, weight gradient (repeats, padding_idx), init, state dicts, errors."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import torch

from scratchnn import nn

from .twins import compare_module, from_torch_state, to_torch_state


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "padding_idx,shape", [(None, (4, 6)), (0, (4, 6)), (-1, (3, 2, 5)), (2, (40,))], ids=["none", "0", "-1", "2-1d"]
)
def test_embedding_matches_torch(padding_idx: int | None, shape: tuple[int, ...], dtype: Any) -> None:
    rng = np.random.default_rng(0)
    V, D = 7, 5
    ids = rng.integers(0, V, shape)
    ids.flat[:3] = (padding_idx or 0) % V  # the padding id (when there is one) is used, and repeated
    ours = nn.Embedding(V, D, padding_idx=padding_idx, rng=rng)
    ours.weight.data[...] = rng.standard_normal((V, D))  # a nonzero padding row: it still gets no gradient
    # two steps: the gradient accumulates into the touched rows only
    compare_module(ours, torch.nn.Embedding(V, D, padding_idx=padding_idx), [ids], dtype=dtype, steps=2)
    if padding_idx is not None:
        assert not ours.weight.grad[padding_idx % V].any()


def test_init_is_standard_normal_with_a_zero_padding_row() -> None:
    m = nn.Embedding(2000, 64, padding_idx=-3, rng=np.random.default_rng(1))
    theirs = torch.nn.Embedding(2000, 64, padding_idx=-3)
    assert m.padding_idx == theirs.padding_idx == 1997
    assert m.weight.shape == (2000, 64) and m.weight.dtype == np.float32
    assert not m.weight.data[1997].any()
    rest = np.delete(m.weight.data, 1997, axis=0)
    assert abs(rest.mean()) < 0.01 and abs(rest.std() - 1) < 0.01  # 128,000 draws: std of the mean ~0.003
    assert repr(m) == repr(theirs) == "Embedding(2000, 64, padding_idx=1997)"


def test_state_dicts_load_both_ways() -> None:
    ours, theirs = nn.Embedding(6, 3, padding_idx=1), torch.nn.Embedding(6, 3, padding_idx=1)
    ours.load_state_dict(from_torch_state(theirs.state_dict()))
    np.testing.assert_array_equal(ours.weight.data, theirs.weight.detach().numpy())
    ours2 = nn.Embedding(6, 3, padding_idx=1)
    theirs.load_state_dict(to_torch_state(ours2.state_dict()))
    np.testing.assert_array_equal(ours2.weight.data, theirs.weight.detach().numpy())


def test_backward_returns_none_and_checks_grad_out() -> None:
    m = nn.Embedding(4, 2, dtype=np.float64)
    out = m(np.array([[1, 2, 1]]))
    assert m.backward(np.ones_like(out)) is None
    np.testing.assert_array_equal(m.weight.grad, [[0, 0], [2, 2], [1, 1], [0, 0]])
    with pytest.raises(ValueError, match=r"^Invalid shape for `grad_out`: expected \(1, 3, 2\)"):
        m.backward(np.ones((3, 2)))
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        nn.Embedding(4, 2).backward(np.ones((1, 2), np.float32))


def test_grads_accumulate_and_zero_grad_resets_them() -> None:
    m = nn.Embedding(5, 3, dtype=np.float64, rng=np.random.default_rng(4))
    ids = np.array([[4, 1, 4]])
    dout = np.random.default_rng(5).standard_normal((1, 3, 3))
    m(ids)
    m.backward(dout)
    once = m.weight.grad.copy()
    np.testing.assert_allclose(once[4], dout[0, 0] + dout[0, 2], rtol=1e-15)
    m.backward(dout)
    np.testing.assert_allclose(m.weight.grad, 2 * once, rtol=1e-15)
    m.zero_grad()  # lazy: the next backward must start from zeros, not from the old sums
    m.backward(dout)
    np.testing.assert_array_equal(m.weight.grad, once)


BAD = [
    ("id out of range", lambda: nn.Embedding(5, 2)(np.array([0, 5])), ValueError,
     "Invalid value for `input`: expected ids in [0, 5). Received: an id 5"),
    ("negative id", lambda: nn.Embedding(5, 2)(np.array([[-1]])), ValueError,
     "Invalid value for `input`: expected ids in [0, 5). Received: an id -1"),
    ("float ids", lambda: nn.Embedding(5, 2)(np.zeros(3, np.float32)), TypeError,
     "Invalid type for `input`: expected an integer numpy.ndarray of ids, not dtype float32. "
     "Received: input of type ndarray"),
    ("padding_idx", lambda: nn.Embedding(5, 2, padding_idx=5), ValueError,
     "Invalid value for `padding_idx`: expected an int in [-5, 5) (num_embeddings=5) or None. "
     "Received: padding_idx=5"),
    ("padding_idx low", lambda: nn.Embedding(5, 2, padding_idx=-6), ValueError,
     "Invalid value for `padding_idx`: expected an int in [-5, 5) (num_embeddings=5) or None. "
     "Received: padding_idx=-6"),
    ("max_norm", lambda: nn.Embedding(5, 2, max_norm=1.0), ValueError,
     "Invalid value for `max_norm`: expected None (renormalising rows is not implemented in scratchnn). "
     "Received: max_norm=1.0"),
    ("norm_type", lambda: nn.Embedding(5, 2, norm_type="l2"), TypeError,
     "Invalid type for `norm_type`: expected a float in [-inf, inf]. Received: norm_type of type str"),
    ("sparse", lambda: nn.Embedding(5, 2, sparse=True), ValueError,
     "Invalid value for `sparse`: expected False (scratchnn's gradients are dense arrays). Received: sparse=True"),
    ("num_embeddings", lambda: nn.Embedding(0, 2), ValueError,
     "Invalid value for `num_embeddings`: expected an int >= 1. Received: num_embeddings=0"),
    ("embedding_dim", lambda: nn.Embedding(3, 2.0), TypeError,
     "Invalid type for `embedding_dim`: expected an int >= 1. Received: embedding_dim of type float"),
]  # fmt: skip


@pytest.mark.parametrize("call,exc,text", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input(call: Any, exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=msg(text)):
        call()
