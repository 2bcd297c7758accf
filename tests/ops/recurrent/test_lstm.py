"""LSTM ops: the sequence ops equal a loop of the step op, lengths equal each sequence run alone, the layer matches
torch's nn.LSTM (gates i, f, o, g against torch's i, f, g, o), the time-blocked backward equals the one-block one,
the contract and the errors.

Gradient checks against central differences are rows of scratchnn/gradcheck/rows/recurrent.py.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import torch

from scratchnn import ops
from scratchnn.ops.recurrent import _common

from .reference import assert_all_close, each_sequence_alone, step_loop, torch_layer

N, T, D, H = 4, 7, 3, 5
LENGTHS = [5, 7, 1, 2]
STEP = (ops.lstm_step_forward, ops.lstm_step_backward)
# course column blocks i, f, o, g <-> torch row blocks i, f, g, o: swapping the last two blocks, both ways
TORCH_ORDER = np.r_[0 : 2 * H, 3 * H : 4 * H, 2 * H : 3 * H]


def inputs(rng: np.random.Generator, dtype: Any = np.float64) -> dict[str, np.ndarray]:
    arrays = {
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)),
        "c0": rng.standard_normal((N, H)),
        "Wx": 0.5 * rng.standard_normal((D, 4 * H)),
        "Wh": 0.5 * rng.standard_normal((H, 4 * H)),
        "b": 0.5 * rng.standard_normal(4 * H),
    }
    return {k: v.astype(dtype) for k, v in arrays.items()}


def upstream(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return rng.standard_normal((N, T, H)), rng.standard_normal((N, H)), rng.standard_normal((N, H))


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


def test_lstm_forward_and_backward_equal_a_loop_of_steps_from_c0_zero(rng: np.random.Generator) -> None:
    x, h0, c0, *params = inputs(rng).values()
    dh = rng.standard_normal((N, T, H))
    h, cache = ops.lstm_forward(x, h0, *params)
    zero = np.zeros((N, H))
    want_h, _, (dx, dh0, _, *dparams) = step_loop(*STEP, x, (h0, zero), params, dh, (zero, zero))
    assert_all_close([h], [want_h], rtol=1e-13)
    assert_all_close(ops.lstm_backward(dh, cache), [dx, dh0, *dparams], rtol=1e-12)


def test_layer_with_lengths_equals_each_sequence_run_alone(rng: np.random.Generator) -> None:
    """Padded steps give zero outputs and carry (h, c); gradients of h_n and c_n reach each sequence's last real
    step; dh at padded steps is ignored."""
    x, h0, c0, *params = inputs(rng).values()
    dh, dh_n, dc_n = upstream(rng)
    (h, h_n, c_n), cache = ops.lstm_layer_forward(x, h0, c0, *params, lengths=np.array(LENGTHS))
    want_h, want_finals, want_grads = each_sequence_alone(*STEP, x, (h0, c0), params, dh, (dh_n, dc_n), LENGTHS)
    assert np.all(h[2, 1:] == 0)
    assert_all_close([h, h_n, c_n], [want_h, *want_finals], rtol=1e-13)
    assert_all_close(ops.lstm_layer_backward(dh, dh_n, dc_n, cache), want_grads, rtol=1e-12)


def test_step_backward_with_no_cell_gradient_is_a_zero_one(rng: np.random.Generator) -> None:
    x, h0, c0, *params = inputs(rng).values()
    _, _, cache = ops.lstm_step_forward(x[:, 0], h0, c0, *params)
    dnext_h = rng.standard_normal((N, H))
    for got, want in zip(ops.lstm_step_backward(dnext_h, None, cache),
                         ops.lstm_step_backward(dnext_h, np.zeros((N, H)), cache)):  # fmt: skip
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("lengths", [None, LENGTHS], ids=["full", "lengths"])
def test_layer_matches_torch_lstm(lengths: list[int] | None, rng: np.random.Generator) -> None:
    """torch: weight_ih = Wx^T and weight_hh = Wh^T with the g and o blocks swapped; b_ih + b_hh = b, likewise."""
    x, h0, c0, Wx, Wh, b = inputs(rng).values()
    dh, dh_n, dc_n = upstream(rng)
    module = torch.nn.LSTM(D, H, batch_first=True).double()
    b_ih = rng.standard_normal(4 * H)
    weights = {"weight_ih_l0": Wx.T[TORCH_ORDER], "weight_hh_l0": Wh.T[TORCH_ORDER], "bias_ih_l0": b_ih,
               "bias_hh_l0": b[TORCH_ORDER] - b_ih}  # fmt: skip
    with torch.no_grad():
        for name, value in weights.items():
            getattr(module, name).copy_(torch.from_numpy(value))
    want_h, want_finals, want_grads, pgrads = torch_layer(module, x, (h0, c0), dh, (dh_n, dc_n), lengths)
    (h, h_n, c_n), cache = ops.lstm_layer_forward(
        x, h0, c0, Wx, Wh, b, lengths=None if lengths is None else np.array(lengths)
    )
    assert_all_close([h, h_n, c_n], [want_h, *want_finals])
    dx, dh0, dc0, dWx, dWh, db = ops.lstm_layer_backward(dh, dh_n, dc_n, cache)
    assert_all_close([dx, dh0, dc0], want_grads)
    want = {name: g[TORCH_ORDER] for name, g in pgrads.items()}
    assert_all_close([dWx, dWh, db, db], [want["weight_ih_l0"].T, want["weight_hh_l0"].T, want["bias_ih_l0"],
                                          want["bias_hh_l0"]])  # fmt: skip


@pytest.mark.parametrize("block_bytes", [1, 3 * N * 4 * H * 8], ids=["one_step", "three_steps"])
def test_backward_in_time_blocks_equals_one_block(
    block_bytes: int, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The local derivatives are computed a block of steps at a time (7 steps: blocks of 1, or 3 + 3 + 1, some
    with padded steps in them); the blocks change nothing."""
    arrays = inputs(rng)
    dh, dh_n, dc_n = upstream(rng)
    (_, _, _), cache = ops.lstm_layer_forward(*arrays.values(), lengths=np.array(LENGTHS))
    one_block = ops.lstm_layer_backward(dh, dh_n, dc_n, cache)
    monkeypatch.setattr(_common, "BLOCK_BYTES", block_bytes)
    assert len(_common.time_blocks(T, N * 4 * H * 8)) == (7 if block_bytes == 1 else 3)
    for got, want in zip(ops.lstm_layer_backward(dh, dh_n, dc_n, cache), one_block):
        np.testing.assert_array_equal(got, want)


def test_fortran_ordered_weights_give_the_same_numbers_and_gradients_in_their_layout(rng: np.random.Generator) -> None:
    x, h0, c0, Wx, Wh, b = inputs(rng).values()
    dh = rng.standard_normal((N, T, H))
    (h, _, _), cache = ops.lstm_layer_forward(x, h0, c0, Wx, Wh, b)
    (hf, _, _), cache_f = ops.lstm_layer_forward(x, h0, c0, np.asfortranarray(Wx), np.asfortranarray(Wh), b)
    np.testing.assert_allclose(hf, h, rtol=1e-14)
    grads, grads_f = ops.lstm_layer_backward(dh, None, None, cache), ops.lstm_layer_backward(dh, None, None, cache_f)
    assert_all_close(grads_f, grads, rtol=1e-13)
    assert grads_f[3].flags.f_contiguous and grads_f[4].flags.f_contiguous and grads[3].flags.c_contiguous


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_and_nothing_is_mutated(dtype: Any, rng: np.random.Generator) -> None:
    arrays = inputs(rng, dtype)
    copies = {k: v.copy() for k, v in arrays.items()}
    dh, dh_n, dc_n = (a.astype(dtype) for a in upstream(rng))
    given = [dh.copy(), dh_n.copy(), dc_n.copy()]
    outs, cache = ops.lstm_layer_forward(*arrays.values(), lengths=np.array(LENGTHS))
    grads = ops.lstm_layer_backward(dh, dh_n, dc_n, cache)
    x, h0, c0, *params = arrays.values()
    next_h, next_c, step_cache = ops.lstm_step_forward(x[:, 0], h0, c0, *params)
    step_grads = ops.lstm_step_backward(dh[:, 0], dc_n, step_cache)
    assert {a.dtype for a in (*outs, *grads, next_h, next_c, *step_grads)} == {np.dtype(dtype)}
    for k, v in arrays.items():
        np.testing.assert_array_equal(v, copies[k], err_msg=k)
    for a, b in zip((dh, dh_n, dc_n), given):
        np.testing.assert_array_equal(a, b)


BAD_ARGS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"x": np.zeros((N, T))}, ValueError, "Invalid shape for `x`: expected a 3-D array. Received: x.shape=(4, 7)"),
    ({"c0": np.zeros((N, H + 1))}, ValueError,
     "Invalid shape for `c0`: expected (N, H) = (4, 5) to match x and Wh. Received: c0.shape=(4, 6)"),
    ({"Wx": np.zeros((D, 3 * H))}, ValueError,
     "Invalid shape for `Wx`: expected (D, 4H) = (3, 20) to match x and Wh. Received: Wx.shape=(3, 15)"),
    ({"Wh": np.zeros((H, 4 * H + 1))}, ValueError,
     "Invalid shape for `Wh`: expected (H, 4H) = (5, 20). Received: Wh.shape=(5, 21)"),
    ({"b": np.zeros(H)}, ValueError,
     "Invalid shape for `b`: expected (4H,) = (20,) to match Wh. Received: b.shape=(5,)"),
    ({"c0": np.zeros((N, H), np.float32)}, TypeError,
     "Invalid dtype for `c0`: expected float64 to match x. Received: c0.dtype=float32"),
]  # fmt: skip


@pytest.mark.parametrize("bad, error, text", BAD_ARGS)
def test_bad_arguments_name_the_argument(
    bad: dict[str, Any], error: type[Exception], text: str, rng: np.random.Generator
) -> None:
    arrays = inputs(rng) | bad
    with pytest.raises(error, match=msg(text)):
        ops.lstm_layer_forward(*arrays.values())
    with pytest.raises(ValueError, match=r"^Invalid value for `lengths`: expected lengths in \[1, 7\]"):
        ops.lstm_layer_forward(*inputs(rng).values(), lengths=np.array([1, 2, 3, 8]))


def test_bad_upstream_gradients_name_the_argument(rng: np.random.Generator) -> None:
    (h, h_n, c_n), cache = ops.lstm_layer_forward(*inputs(rng).values())
    with pytest.raises(ValueError, match=msg("Invalid shape for `dc_n`: expected (4, 5), the forward output's shape. "
                                             "Received: dc_n.shape=(5, 4)")):  # fmt: skip
        ops.lstm_layer_backward(h, None, c_n.T, cache)
    with pytest.raises(TypeError, match=r"^Invalid type for `dh_n`: expected a numpy.ndarray .* of type list$"):
        ops.lstm_layer_backward(h, h_n.tolist(), None, cache)
    x, h0, c0, *params = inputs(rng).values()
    _, next_c, step_cache = ops.lstm_step_forward(x[:, 0], h0, c0, *params)
    with pytest.raises(TypeError, match=msg("Invalid dtype for `dnext_c`: expected float64, the forward output's "
                                            "dtype. Received: dnext_c.dtype=float32")):  # fmt: skip
        ops.lstm_step_backward(next_c, next_c.astype(np.float32), step_cache)
