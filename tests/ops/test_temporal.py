"""temporal_affine and temporal_softmax_loss against torch (Linear over steps; masked cross-entropy summed / N).

Their gradient checks are the table's rows `temporal_*` (gradcheck/rows/dense.py).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import torch

from scratchnn import ops


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_temporal_affine_matches_torch_linear(dtype: Any) -> None:
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in [(3, 4, 5), (5, 6), (6,)])
    out, cache = ops.temporal_affine_forward(x, w, b)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tout = tx @ tw + tb
    dout = rng.standard_normal(out.shape).astype(dtype)
    tout.backward(torch.tensor(dout))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=tol, atol=tol)
    for ours, theirs in zip(ops.temporal_affine_backward(dout, cache), (tx, tw, tb)):
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=tol, atol=tol)


def _torch_loss(x: np.ndarray, y: np.ndarray, mask: np.ndarray) -> tuple[float, np.ndarray]:
    N, T, V = x.shape
    tx = torch.tensor(x, requires_grad=True)
    per_step = torch.nn.functional.cross_entropy(tx.reshape(N * T, V), torch.tensor(y).reshape(-1), reduction="none")
    loss = (per_step * torch.tensor(mask, dtype=tx.dtype).reshape(-1)).sum() / N
    loss.backward()
    return float(loss.detach()), tx.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_temporal_softmax_loss_matches_torch(dtype: Any) -> None:
    rng = np.random.default_rng(1)
    x = (3 * rng.standard_normal((4, 5, 7))).astype(dtype)
    y = rng.integers(0, 7, (4, 5))
    mask = rng.random((4, 5)) > 0.3
    loss, dx = ops.temporal_softmax_loss(x, y, mask)
    t_loss, t_dx = _torch_loss(x, y, mask)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert np.asarray(loss).dtype == dtype and dx.dtype == dtype
    assert loss == pytest.approx(t_loss, rel=tol)
    np.testing.assert_allclose(dx, t_dx, rtol=tol, atol=tol)
    assert not dx[~mask].any()  # masked steps get no gradient
    loss2, dx2 = ops.temporal_softmax_loss(x, y, mask.astype(np.int64), dloss=2.5)  # 0/1 integers as a mask
    assert loss2 == loss
    np.testing.assert_allclose(dx2, 2.5 * dx, rtol=1e-6)


def test_divides_by_batch_not_by_kept_steps() -> None:
    """The course's normalisation: uniform scores cost log V per kept step, and the sum is divided by N."""
    x = np.zeros((2, 3, 4))
    mask = np.array([[True, True, False], [True, False, False]])
    loss, _ = ops.temporal_softmax_loss(x, np.zeros((2, 3), np.int64), mask)
    assert loss == pytest.approx(3 * np.log(4) / 2, rel=1e-14)


def test_all_masked_is_zero_and_extreme_scores_are_stable() -> None:
    x = np.array([[[1000.0, -1000.0], [0.0, 800.0]]], dtype=np.float32)
    loss, dx = ops.temporal_softmax_loss(x, np.array([[1, 1]]), np.zeros((1, 2), bool))
    assert loss == 0 and not dx.any()
    loss, dx = ops.temporal_softmax_loss(x, np.array([[1, 1]]), np.ones((1, 2), bool))
    assert loss == pytest.approx(2000.0) and np.allclose(dx[0, 0], [1.0, -1.0])


X = np.zeros((2, 3, 4))
Y = np.zeros((2, 3), np.int64)
M = np.ones((2, 3), bool)
BAD = [
    ("x rank", lambda: ops.temporal_softmax_loss(X[0], Y, M), ValueError,
     "Invalid shape for `x`: expected a 3-D array. Received: x.shape=(3, 4)"),
    ("y shape", lambda: ops.temporal_softmax_loss(X, Y[:, :2], M), ValueError,
     "Invalid shape for `y`: expected (2, 3) to match x's (N, T). Received: y.shape=(2, 2)"),
    ("label range", lambda: ops.temporal_softmax_loss(X, Y + 4, M), ValueError,
     "Invalid value for `y`: expected class labels in [0, 4). Received: a label 4"),
    ("float labels", lambda: ops.temporal_softmax_loss(X, Y.astype(float), M), TypeError,
     "Invalid type for `y`: expected integer class labels, not dtype float64. Received: y of type ndarray"),
    ("mask shape", lambda: ops.temporal_softmax_loss(X, Y, M[:1]), ValueError,
     "Invalid shape for `mask`: expected (2, 3) to match x's (N, T). Received: mask.shape=(1, 3)"),
    ("mask values", lambda: ops.temporal_softmax_loss(X, Y, 2 * M.astype(int)), ValueError,
     "Invalid value for `mask`: expected booleans or the integers 0 and 1. "
     "Received: mask=array(shape=(2, 3), dtype=int64)"),
    ("float mask", lambda: ops.temporal_softmax_loss(X, Y, M.astype(float)), TypeError,
     "Invalid type for `mask`: expected a numpy.ndarray of booleans (True: the step counts). "
     "Received: mask of type ndarray"),
    ("affine w", lambda: ops.temporal_affine_forward(X, np.zeros((3, 2)), np.zeros(2)), ValueError,
     "Invalid shape for `w`: expected (4, M) to match x's 4 features. Received: w.shape=(3, 2)"),
    ("affine b", lambda: ops.temporal_affine_forward(X, np.zeros((4, 2)), np.zeros(3)), ValueError,
     "Invalid shape for `b`: expected (2,) to match w. Received: b.shape=(3,)"),
    ("affine x rank", lambda: ops.temporal_affine_forward(X[0], np.zeros((4, 2)), np.zeros(2)), ValueError,
     "Invalid shape for `x`: expected a 3-D array. Received: x.shape=(3, 4)"),
]  # fmt: skip


@pytest.mark.parametrize("call,exc,text", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input(call: Any, exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=msg(text)):
        call()
