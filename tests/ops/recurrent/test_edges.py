"""The sequence ops at their edges (found by fuzzing, tests/fuzz/recurrent_specs.py): sequences of no steps,
embeddings of no features, lengths beyond int64, and inf or NaN in without NumPy's warnings."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from scratchnn import ops

N, T, D, H = 3, 4, 2, 5


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


def layer_args(cell: str, rng: np.random.Generator, T: int = T, N: int = N) -> list[np.ndarray]:
    """x, the initial states, Wx, Wh and the biases of a layer op (float64)."""
    G = {"rnn": 1, "lstm": 4, "gru": 3}[cell] * H
    states = [rng.standard_normal((N, H)) for _ in range(2 if cell == "lstm" else 1)]
    biases = [rng.standard_normal(G) for _ in range(2 if cell == "gru" else 1)]
    return [rng.standard_normal((N, T, D)), *states, rng.standard_normal((D, G)), rng.standard_normal((H, G)), *biases]


LAYERS = {
    "rnn": (ops.rnn_layer_forward, ops.rnn_layer_backward),
    "lstm": (ops.lstm_layer_forward, ops.lstm_layer_backward),
    "gru": (ops.gru_layer_forward, ops.gru_layer_backward),
}


@pytest.mark.parametrize("cell", list(LAYERS))
def test_a_sequence_of_no_steps_returns_the_initial_states_and_their_gradients(
    cell: str, rng: np.random.Generator
) -> None:
    """T = 0: the LSTM's and GRU's backward read the first step's gates to size their blocks (an IndexError)."""
    forward, backward = LAYERS[cell]
    x, *rest = layer_args(cell, rng, T=0)
    states = rest[: 2 if cell == "lstm" else 1]
    (h, *finals), cache = forward(x, *rest)
    assert h.shape == (N, 0, H)
    for final, s in zip(finals, states, strict=True):
        np.testing.assert_array_equal(final, s)
    dfinals = [rng.standard_normal((N, H)) for _ in finals]
    dx, *grads = backward(np.zeros((N, 0, H)), *dfinals, cache)
    assert dx.shape == (N, 0, D)
    for g, dfinal in zip(grads, dfinals):  # the initial states' gradients are the final states'
        np.testing.assert_array_equal(g, dfinal)
    for g, p in zip(grads[len(states) :], rest[len(states) :], strict=True):  # no step: no parameter gradient
        assert g.shape == p.shape and not g.any()


@pytest.mark.parametrize("cell", list(LAYERS))
def test_a_length_beyond_int64_is_the_template_error(cell: str, rng: np.random.Generator) -> None:
    with pytest.raises(ValueError, match=msg(f"Invalid value for `lengths`: expected lengths in [1, {T}], x's number "
                                             f"of steps. Received: a length {2**70}")):  # fmt: skip
        LAYERS[cell][0](*layer_args(cell, rng), lengths=[1, 2**70, 2])


def test_an_embedding_of_no_features_has_a_gradient_of_no_features(rng: np.random.Generator) -> None:
    """D = 0: dout.reshape(-1, 0) cannot infer the -1."""
    ids = np.array([[0, 2], [2, 1]])
    out, cache = ops.word_embedding_forward(ids, np.zeros((3, 0)))
    assert out.shape == (2, 2, 0)
    dW = ops.word_embedding_backward(np.zeros((2, 2, 0)), cache)
    assert dW.shape == (3, 0) and dW.dtype == np.float64


def _nonfinite(a: np.ndarray) -> np.ndarray:
    """NaN first, inf last, -inf in the middle. Multiplied by a weight matrix whose last row is 0, the inf gives
    inf * 0 = NaN: NumPy's small-matrix matmul (one row: not BLAS) warns "invalid value encountered in matmul"."""
    a = a.copy()
    a.flat[0], a.flat[-1], a.flat[a.size // 2] = np.nan, np.inf, -np.inf
    return a


def _last_row_zero(w: np.ndarray) -> np.ndarray:
    w = w.copy()
    w[-1] = 0
    return w


STEPS: list[tuple[str, Callable[..., Any], Callable[..., Any], int]] = [
    ("rnn_step", ops.rnn_step_forward, ops.rnn_step_backward, 1),
    ("lstm_step", ops.lstm_step_forward, ops.lstm_step_backward, 4),
    ("gru_step", ops.gru_step_forward, ops.gru_step_backward, 3),
]


@pytest.mark.parametrize("cell", list(LAYERS))
def test_inf_and_nan_propagate_through_the_layer_ops_without_warnings(cell: str, rng: np.random.Generator) -> None:
    """inf * 0 in a matmul was NumPy's "invalid value encountered in matmul" RuntimeWarning (an error here)."""
    forward, backward = LAYERS[cell]
    x, *rest = layer_args(cell, rng, N=1)
    n_states = 2 if cell == "lstm" else 1
    rest[n_states] = _last_row_zero(rest[n_states])  # Wx
    with np.errstate(all="warn", under="ignore"):  # NumPy's defaults, as a user has them
        (h, *finals), cache = forward(_nonfinite(x), *rest, lengths=[T])
        grads = backward(np.ones_like(h), *[np.ones_like(f) for f in finals], cache)
    assert not np.isfinite(h).all()
    assert [g.shape for g in grads] == [a.shape for a in (x, *rest)]


@pytest.mark.parametrize("name,forward,backward,gates", STEPS, ids=[s[0] for s in STEPS])
def test_inf_and_nan_propagate_through_the_step_ops_without_warnings(
    name: str, forward: Callable[..., Any], backward: Callable[..., Any], gates: int, rng: np.random.Generator
) -> None:
    states = [rng.standard_normal((1, H)) for _ in range(2 if name == "lstm_step" else 1)]
    biases = [rng.standard_normal(gates * H) for _ in range(2 if name == "gru_step" else 1)]
    W = [_last_row_zero(rng.standard_normal((D, gates * H))), rng.standard_normal((H, gates * H))]
    with np.errstate(all="warn", under="ignore"):
        *outs, cache = forward(_nonfinite(rng.standard_normal((1, D))), *states, *W, *biases)
        grads = backward(*[np.ones_like(o) for o in outs], cache)
    assert not np.isfinite(outs[0]).all() and len(grads) == 3 + len(states) + len(biases)


def test_inf_and_nan_propagate_through_the_temporal_and_embedding_ops_without_warnings(
    rng: np.random.Generator,
) -> None:
    x, w, b = _nonfinite(rng.standard_normal((1, 1, D))), _last_row_zero(rng.standard_normal((D, H))), np.zeros(H)
    W = _nonfinite(rng.standard_normal((4, D)))
    with np.errstate(all="warn", under="ignore"):
        out, cache = ops.temporal_affine_forward(x, w, b)
        dx, dw, db = ops.temporal_affine_backward(np.ones_like(out), cache)
        emb, emb_cache = ops.word_embedding_forward(np.array([[0, 3, 3]]), W)
        dW = ops.word_embedding_backward(_nonfinite(np.ones_like(emb)), emb_cache)
    assert not np.isfinite(out).all() and not np.isfinite(dw).all() and dx.shape == x.shape
    assert not np.isfinite(emb).all() and not np.isfinite(dW).all()
