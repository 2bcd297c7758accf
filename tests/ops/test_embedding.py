"""word_embedding_forward/backward against torch's F.embedding, the fast scatter against np.add.at, and the errors.

The gradient check (repeats included) is the table's rows `word_embedding*` (gradcheck/rows/dense.py).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import torch

from scratchnn import ops
from scratchnn.ops.embedding import _ROUNDS, scatter_add_rows


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5,), (3, 7), (2, 3, 4)])
def test_matches_torch(shape: tuple[int, ...], dtype: Any) -> None:
    rng = np.random.default_rng(len(shape))
    V, D = 6, 5  # fewer rows than ids: repeats
    x, W = rng.integers(0, V, shape), rng.standard_normal((V, D)).astype(dtype)
    out, cache = ops.word_embedding_forward(x, W)
    tW = torch.tensor(W, requires_grad=True)
    tout = torch.nn.functional.embedding(torch.tensor(x), tW)
    dout = rng.standard_normal(out.shape).astype(dtype)
    tout.backward(torch.tensor(dout))
    np.testing.assert_array_equal(out, tout.detach().numpy())  # a lookup: exact
    tol = 1e-6 if dtype == np.float32 else 1e-14
    dW = ops.word_embedding_backward(dout, cache)
    assert out.shape == (*shape, D) and dW.dtype == dtype
    np.testing.assert_allclose(dW, tW.grad.numpy(), rtol=tol, atol=tol)


def _ids(kind: str, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    if kind == "uniform":
        return rng.integers(0, 1000, 500), 1000
    if kind == "zipf":  # a few ids hundreds of times, most once: rounds and the long-run reduceat
        return rng.zipf(1.3, 2000) % 500, 500
    if kind == "one_id":
        return np.full(300, 7), 10
    return rng.integers(0, 3, 40), 3  # every id about _ROUNDS + 5 times


@pytest.mark.parametrize("kind", ["uniform", "zipf", "one_id", "small_vocab"])
def test_scatter_equals_add_at(kind: str) -> None:
    rng = np.random.default_rng(1)
    ids, V = _ids(kind, rng)
    g = rng.standard_normal((ids.size, 3))
    ours, ref = np.full((V, 3), 0.5), np.full((V, 3), 0.5)  # adds into what is there
    scatter_add_rows(ours, ids, g)
    np.add.at(ref, ids, g)
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)
    if kind != "uniform":
        assert np.bincount(ids).max() > _ROUNDS  # the case exercises the long-run path


def test_backward_adds_into_dW_out_touching_only_used_rows() -> None:
    rng = np.random.default_rng(2)
    W = rng.standard_normal((5, 3))
    x = np.array([[1, 3], [3, 1]])
    out, cache = ops.word_embedding_forward(x, W)
    dout = rng.standard_normal(out.shape)
    buf = np.full((5, 3), 2.0)
    result = ops.word_embedding_backward(dout, cache, dW_out=buf)
    assert result is buf
    np.testing.assert_array_equal(buf[[0, 2, 4]], 2.0)
    np.testing.assert_allclose(buf[1], 2.0 + dout[0, 0] + dout[1, 1])
    np.testing.assert_allclose(buf[3], 2.0 + dout[0, 1] + dout[1, 0])


def test_padding_idx_row_gets_no_gradient_but_is_read() -> None:
    rng = np.random.default_rng(3)
    W = rng.standard_normal((4, 2))
    x = np.array([0, 2, 0, 1])
    out, cache = ops.word_embedding_forward(x, W, padding_idx=0)
    np.testing.assert_array_equal(out[0], W[0])
    dout = rng.standard_normal(out.shape)
    dW = ops.word_embedding_backward(dout, cache)
    tW = torch.tensor(W, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(x), tW, padding_idx=0).backward(torch.tensor(dout))
    assert not dW[0].any()
    np.testing.assert_allclose(dW, tW.grad.numpy(), rtol=1e-14)


def test_empty_ids() -> None:
    W = np.ones((3, 2))
    out, cache = ops.word_embedding_forward(np.zeros((0, 4), np.int64), W)
    assert out.shape == (0, 4, 2)
    assert not ops.word_embedding_backward(out, cache).any()


W = np.ones((5, 3))
BAD = [
    ("float ids", lambda: ops.word_embedding_forward(np.zeros(2), W), TypeError,
     "Invalid type for `x`: expected an integer numpy.ndarray of ids, not dtype float64. Received: x of type ndarray"),
    ("list ids", lambda: ops.word_embedding_forward([1, 2], W), TypeError,
     "Invalid type for `x`: expected an integer numpy.ndarray of ids. Received: x of type list"),
    ("id too large", lambda: ops.word_embedding_forward(np.array([[1, 5]]), W), ValueError,
     "Invalid value for `x`: expected ids in [0, 5). Received: an id 5"),
    ("negative id", lambda: ops.word_embedding_forward(np.array([-1, 2]), W), ValueError,
     "Invalid value for `x`: expected ids in [0, 5). Received: an id -1"),
    ("W rank", lambda: ops.word_embedding_forward(np.array([1]), W[0]), ValueError,
     "Invalid shape for `W`: expected a 2-D array. Received: W.shape=(3,)"),
    ("padding_idx", lambda: ops.word_embedding_forward(np.array([1]), W, padding_idx=5), ValueError,
     "Invalid value for `padding_idx`: expected an int in [0, 4]. Received: padding_idx=5"),
]  # fmt: skip


@pytest.mark.parametrize("call,exc,text", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input(call: Any, exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=msg(text)):
        call()


def test_bad_dW_out() -> None:
    out, cache = ops.word_embedding_forward(np.array([1]), W)
    with pytest.raises(ValueError, match=r"^Invalid value for `dW_out`: expected a \(5, 3\) float64 array"):
        ops.word_embedding_backward(out, cache, dW_out=np.zeros((5, 3), np.float32))
