"""Vanilla RNN ops: the sequence ops equal a loop of the step op, lengths equal each sequence run alone, tanh and
relu match torch's nn.RNN, the contract (dtype kept, nothing mutated) and the errors.

Gradient checks against central differences are rows of scratchnn/gradcheck/rows/recurrent.py.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import torch

from scratchnn import ops

from .reference import assert_all_close, each_sequence_alone, step_loop, torch_layer

N, T, D, H = 4, 6, 3, 5
LENGTHS = [4, 6, 1, 3]


def inputs(rng: np.random.Generator, dtype: Any = np.float64) -> dict[str, np.ndarray]:
    arrays = {
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)),
        "Wx": 0.5 * rng.standard_normal((D, H)),
        "Wh": 0.5 * rng.standard_normal((H, H)),
        "b": 0.5 * rng.standard_normal(H),
    }
    return {k: v.astype(dtype) for k, v in arrays.items()}


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


def test_rnn_forward_and_backward_equal_a_loop_of_steps(rng: np.random.Generator) -> None:
    x, h0, *params = inputs(rng).values()
    dh = rng.standard_normal((N, T, H))
    h, cache = ops.rnn_forward(x, h0, *params)
    want_h, _, want_grads = step_loop(ops.rnn_step_forward, ops.rnn_step_backward, x, (h0,), params, dh, (0 * h0,))
    assert_all_close([h], [want_h], rtol=1e-13)
    assert_all_close(ops.rnn_backward(dh, cache), want_grads, rtol=1e-12)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_layer_with_lengths_equals_each_sequence_run_alone(nonlinearity: str, rng: np.random.Generator) -> None:
    """Padded steps give zero outputs, carry the state (h_n is the state after the last real step), and pass
    gradients straight through; dh at padded steps is ignored, as torch's packed sequences ignore it."""
    x, h0, *params = inputs(rng).values()
    dh, dh_n = rng.standard_normal((N, T, H)), rng.standard_normal((N, H))
    (h, h_n), cache = ops.rnn_layer_forward(x, h0, *params, nonlinearity=nonlinearity, lengths=np.array(LENGTHS))
    want_h, (want_hn,), want_grads = each_sequence_alone(
        ops.rnn_step_forward, ops.rnn_step_backward, x, (h0,), params, dh, (dh_n,), LENGTHS, nonlinearity=nonlinearity
    )
    assert np.all(h[2, 1:] == 0) and np.all(h[0, 4:] == 0)
    assert_all_close([h, h_n], [want_h, want_hn], rtol=1e-13)
    assert_all_close(ops.rnn_layer_backward(dh, dh_n, cache), want_grads, rtol=1e-12)


def test_relu_layer_equals_a_loop_of_relu_steps(rng: np.random.Generator) -> None:
    x, h0, *params = inputs(rng).values()
    dh, dh_n = rng.standard_normal((N, T, H)), rng.standard_normal((N, H))
    (h, h_n), cache = ops.rnn_layer_forward(x, h0, *params, nonlinearity="relu")
    step = (ops.rnn_step_forward, ops.rnn_step_backward)
    want_h, (want_hn,), want_grads = step_loop(*step, x, (h0,), params, dh, (dh_n,), nonlinearity="relu")
    assert (h == 0).any() and (h > 0).any()  # both sides of the kink are exercised
    assert_all_close([h, h_n], [want_h, want_hn], rtol=1e-13)
    assert_all_close(ops.rnn_layer_backward(dh, dh_n, cache), want_grads, rtol=1e-12)


@pytest.mark.parametrize("lengths", [None, LENGTHS], ids=["full", "lengths"])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_layer_matches_torch_rnn(nonlinearity: str, lengths: list[int] | None, rng: np.random.Generator) -> None:
    """torch's weight_ih is Wx^T, weight_hh is Wh^T and b_ih + b_hh is b."""
    x, h0, Wx, Wh, b = inputs(rng).values()
    dh, dh_n = rng.standard_normal((N, T, H)), rng.standard_normal((N, H))
    module = torch.nn.RNN(D, H, nonlinearity=nonlinearity, batch_first=True).double()
    b_ih = rng.standard_normal(H)
    with torch.no_grad():
        for name, value in [
            ("weight_ih_l0", Wx.T),
            ("weight_hh_l0", Wh.T),
            ("bias_ih_l0", b_ih),
            ("bias_hh_l0", b - b_ih),
        ]:
            getattr(module, name).copy_(torch.from_numpy(value.copy()))
    want_h, (want_hn,), want_grads, pgrads = torch_layer(module, x, (h0,), dh, (dh_n,), lengths)
    kwargs = {"nonlinearity": nonlinearity, "lengths": None if lengths is None else np.array(lengths)}
    (h, h_n), cache = ops.rnn_layer_forward(x, h0, Wx, Wh, b, **kwargs)
    assert_all_close([h, h_n], [want_h, want_hn])
    dx, dh0, dWx, dWh, db = ops.rnn_layer_backward(dh, dh_n, cache)
    assert_all_close([dx, dh0], want_grads)
    assert_all_close([dWx, dWh, db, db], [pgrads["weight_ih_l0"].T, pgrads["weight_hh_l0"].T, pgrads["bias_ih_l0"],
                                          pgrads["bias_hh_l0"]])  # fmt: skip


def test_full_lengths_equal_no_lengths_and_a_list_equals_an_array(rng: np.random.Generator) -> None:
    arrays = inputs(rng)
    dh = rng.standard_normal((N, T, H))
    (h, _), cache = ops.rnn_layer_forward(*arrays.values())
    for lengths in (np.full(N, T), [T] * N):
        (h_full, _), cache_full = ops.rnn_layer_forward(*arrays.values(), lengths=lengths)
        np.testing.assert_array_equal(h_full, h)
        for g, g_full in zip(ops.rnn_layer_backward(dh, None, cache), ops.rnn_layer_backward(dh, None, cache_full)):
            np.testing.assert_array_equal(g_full, g)
    (h_list, _), _ = ops.rnn_layer_forward(*arrays.values(), lengths=LENGTHS)
    (h_array, _), _ = ops.rnn_layer_forward(*arrays.values(), lengths=np.array(LENGTHS, dtype=np.uint8))
    np.testing.assert_array_equal(h_list, h_array)
    assert not np.array_equal(h_list, h)


def test_an_empty_sequence_returns_h0(rng: np.random.Generator) -> None:
    x, h0, *params = inputs(rng).values()
    (h, h_n), cache = ops.rnn_layer_forward(x[:, :0], h0, *params)
    assert h.shape == (N, 0, H) and np.array_equal(h_n, h0) and h_n is not h0
    dh_n = rng.standard_normal((N, H))
    dx, dh0, dWx, dWh, db = ops.rnn_layer_backward(np.zeros((N, 0, H)), dh_n, cache)
    assert dx.shape == (N, 0, D) and np.array_equal(dh0, dh_n)
    assert not (dWx.any() or dWh.any() or db.any())


def test_fortran_ordered_weights_give_the_same_numbers_and_gradients_in_their_layout(rng: np.random.Generator) -> None:
    """nn.RNN passes its (H, D) torch weights transposed: the gradients then come in that layout too."""
    x, h0, Wx, Wh, b = inputs(rng).values()
    dh = rng.standard_normal((N, T, H))
    (h, _), cache = ops.rnn_layer_forward(x, h0, Wx, Wh, b)
    (hf, _), cache_f = ops.rnn_layer_forward(x, h0, np.asfortranarray(Wx), np.asfortranarray(Wh), b)
    np.testing.assert_allclose(hf, h, rtol=1e-14)
    grads, grads_f = ops.rnn_layer_backward(dh, None, cache), ops.rnn_layer_backward(dh, None, cache_f)
    assert_all_close(grads_f, grads, rtol=1e-13)
    assert grads_f[2].flags.f_contiguous and grads_f[3].flags.f_contiguous and grads[2].flags.c_contiguous


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_and_nothing_is_mutated(dtype: Any, rng: np.random.Generator) -> None:
    arrays = inputs(rng, dtype)
    copies = {k: v.copy() for k, v in arrays.items()}
    dh, dh_n = rng.standard_normal((N, T, H)).astype(dtype), rng.standard_normal((N, H)).astype(dtype)
    dh_copy, dh_n_copy = dh.copy(), dh_n.copy()
    (h, h_n), cache = ops.rnn_layer_forward(*arrays.values(), lengths=np.array(LENGTHS))
    grads = ops.rnn_layer_backward(dh, dh_n, cache)
    next_h, step_cache = ops.rnn_step_forward(arrays["x"][:, 0], arrays["h0"], *list(arrays.values())[2:])
    step_grads = ops.rnn_step_backward(dh[:, 0], step_cache)
    assert {a.dtype for a in (h, h_n, *grads, next_h, *step_grads)} == {np.dtype(dtype)}
    for k, v in arrays.items():
        np.testing.assert_array_equal(v, copies[k], err_msg=k)
    np.testing.assert_array_equal(dh, dh_copy)
    np.testing.assert_array_equal(dh_n, dh_n_copy)


BAD_ARGS: list[tuple[dict[str, Any], dict[str, Any], type[Exception], str]] = [
    ({"x": np.zeros((N, D))}, {}, ValueError, "Invalid shape for `x`: expected a 3-D array. Received: x.shape=(4, 3)"),
    ({"h0": np.zeros((N + 1, H))}, {}, ValueError,
     "Invalid shape for `h0`: expected (N, H) = (4, 5) to match x and Wh. Received: h0.shape=(5, 5)"),
    ({"h0": np.zeros((N, H, 1))}, {}, ValueError,
     "Invalid shape for `h0`: expected a 2-D array. Received: h0.shape=(4, 5, 1)"),
    ({"Wx": np.zeros((D + 1, H))}, {}, ValueError,
     "Invalid shape for `Wx`: expected (D, H) = (3, 5) to match x and Wh. Received: Wx.shape=(4, 5)"),
    ({"Wh": np.zeros((H, H + 1))}, {}, ValueError,
     "Invalid shape for `Wh`: expected (H, H) = (5, 5). Received: Wh.shape=(5, 6)"),
    ({"b": np.zeros(H - 1)}, {}, ValueError,
     "Invalid shape for `b`: expected (H,) = (5,) to match Wh. Received: b.shape=(4,)"),
    ({"Wh": np.zeros((H, H), np.float32)}, {}, TypeError,
     "Invalid dtype for `Wh`: expected float64 to match x. Received: Wh.dtype=float32"),
    ({"x": np.zeros((N, T, D), np.int64)}, {}, TypeError, "Invalid type for `x`: expected a floating numpy.ndarray "
     "(float32 or float64), not dtype int64. Received: x of type ndarray"),
    ({}, {"nonlinearity": "sigmoid"}, ValueError,
     "Invalid value for `nonlinearity`: expected one of 'tanh', 'relu'. Received: nonlinearity='sigmoid'"),
    ({}, {"lengths": np.array([1, 2, 0, 3])}, ValueError,
     "Invalid value for `lengths`: expected lengths in [1, 6], x's number of steps. Received: a length 0"),
    ({}, {"lengths": np.array([1, 7, 2, 3])}, ValueError,
     "Invalid value for `lengths`: expected lengths in [1, 6], x's number of steps. Received: a length 7"),
    ({}, {"lengths": np.array([1, 2, 3])}, ValueError,
     "Invalid shape for `lengths`: expected (4,) to match x's batch size. Received: lengths.shape=(3,)"),
    ({}, {"lengths": np.array([1.0, 2.0, 3.0, 4.0])}, TypeError, "Invalid type for `lengths`: expected an integer "
     "numpy.ndarray of sequence lengths, shape (N,). Received: lengths of type ndarray"),
    ({}, {"lengths": [1, 2.5, 3, 4]}, TypeError, "Invalid type for `lengths`: expected an integer numpy.ndarray of "
     "sequence lengths, shape (N,). Received: lengths of type list"),
    ({}, {"lengths": np.ones(N, bool)}, TypeError, "Invalid type for `lengths`: expected an integer numpy.ndarray of "
     "sequence lengths, shape (N,). Received: lengths of type ndarray"),
]  # fmt: skip


@pytest.mark.parametrize("bad, kwargs, error, text", BAD_ARGS)
def test_bad_arguments_name_the_argument(
    bad: dict[str, Any], kwargs: dict[str, Any], error: type[Exception], text: str, rng: np.random.Generator
) -> None:
    arrays = inputs(rng) | bad
    with pytest.raises(error, match=msg(text)):
        ops.rnn_layer_forward(*arrays.values(), **kwargs)
    if not kwargs:  # the course op checks the same way
        with pytest.raises(error, match=msg(text)):
            ops.rnn_forward(*arrays.values())


def test_bad_upstream_gradients_name_the_argument(rng: np.random.Generator) -> None:
    (h, h_n), cache = ops.rnn_layer_forward(*inputs(rng).values())
    with pytest.raises(ValueError, match=msg("Invalid shape for `dh_n`: expected (4, 5), the forward output's shape. "
                                             "Received: dh_n.shape=(1, 4, 5)")):  # fmt: skip
        ops.rnn_layer_backward(h, h_n[None], cache)
    with pytest.raises(TypeError, match=msg("Invalid dtype for `dh_n`: expected float64, the forward output's dtype. "
                                            "Received: dh_n.dtype=float32")):  # fmt: skip
        ops.rnn_layer_backward(h, h_n.astype(np.float32), cache)
    with pytest.raises(ValueError, match=msg("Invalid shape for `dh`: expected (4, 6, 5), the forward output's shape. "
                                             "Received: dh.shape=(4, 5, 5)")):  # fmt: skip
        ops.rnn_backward(h[:, 1:], cache)
    step_out, step_cache = ops.rnn_step_forward(rng.standard_normal((N, D)), h_n, *list(inputs(rng).values())[2:])
    with pytest.raises(TypeError, match=msg("Invalid dtype for `dnext_h`: expected float64, the forward output's "
                                            "dtype. Received: dnext_h.dtype=float32")):  # fmt: skip
        ops.rnn_step_backward(step_out.astype(np.float32), step_cache)
