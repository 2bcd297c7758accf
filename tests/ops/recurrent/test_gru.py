"""GRU ops: the sequence ops equal a loop of the step op, lengths equal each sequence run alone, the layer matches
torch's nn.GRU (same gate order r, z, n; separate input and hidden biases), the time-blocked backward equals the
one-block one, the contract and the errors.

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
LENGTHS = [2, 7, 7, 1]
STEP = (ops.gru_step_forward, ops.gru_step_backward)


def inputs(rng: np.random.Generator, dtype: Any = np.float64) -> dict[str, np.ndarray]:
    arrays = {
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)),
        "Wx": 0.5 * rng.standard_normal((D, 3 * H)),
        "Wh": 0.5 * rng.standard_normal((H, 3 * H)),
        "bx": 0.5 * rng.standard_normal(3 * H),
        "bh": 0.5 * rng.standard_normal(3 * H),
    }
    return {k: v.astype(dtype) for k, v in arrays.items()}


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


def test_step_follows_torch_equations(rng: np.random.Generator) -> None:
    """r and z from both projections; bh's n part is inside the reset gate's product; h' = (1 - z) n + z h."""
    x, h0, Wx, Wh, bx, bh = inputs(rng).values()
    x0 = x[:, 0]
    next_h, _ = ops.gru_step_forward(x0, h0, Wx, Wh, bx, bh)
    ax, ah = x0 @ Wx + bx, h0 @ Wh + bh
    r = 1 / (1 + np.exp(-(ax[:, :H] + ah[:, :H])))
    z = 1 / (1 + np.exp(-(ax[:, H : 2 * H] + ah[:, H : 2 * H])))
    n = np.tanh(ax[:, 2 * H :] + r * ah[:, 2 * H :])
    np.testing.assert_allclose(next_h, (1 - z) * n + z * h0, rtol=1e-14, atol=1e-15)


def test_gru_forward_and_backward_equal_a_loop_of_steps(rng: np.random.Generator) -> None:
    x, h0, *params = inputs(rng).values()
    dh = rng.standard_normal((N, T, H))
    h, cache = ops.gru_forward(x, h0, *params)
    want_h, _, want_grads = step_loop(*STEP, x, (h0,), params, dh, (np.zeros((N, H)),))
    assert_all_close([h], [want_h], rtol=1e-13)
    assert_all_close(ops.gru_backward(dh, cache), want_grads, rtol=1e-12)


def test_layer_with_lengths_equals_each_sequence_run_alone(rng: np.random.Generator) -> None:
    x, h0, *params = inputs(rng).values()
    dh, dh_n = rng.standard_normal((N, T, H)), rng.standard_normal((N, H))
    (h, h_n), cache = ops.gru_layer_forward(x, h0, *params, lengths=np.array(LENGTHS))
    want_h, (want_hn,), want_grads = each_sequence_alone(*STEP, x, (h0,), params, dh, (dh_n,), LENGTHS)
    assert np.all(h[3, 1:] == 0) and np.all(h[0, 2:] == 0)
    assert_all_close([h, h_n], [want_h, want_hn], rtol=1e-13)
    assert_all_close(ops.gru_layer_backward(dh, dh_n, cache), want_grads, rtol=1e-12)


@pytest.mark.parametrize("lengths", [None, LENGTHS], ids=["full", "lengths"])
def test_layer_matches_torch_gru(lengths: list[int] | None, rng: np.random.Generator) -> None:
    """torch: weight_ih = Wx^T, weight_hh = Wh^T, bias_ih = bx, bias_hh = bh (the gate order r, z, n is the same)."""
    x, h0, Wx, Wh, bx, bh = inputs(rng).values()
    dh, dh_n = rng.standard_normal((N, T, H)), rng.standard_normal((N, H))
    module = torch.nn.GRU(D, H, batch_first=True).double()
    with torch.no_grad():
        for name, value in [("weight_ih_l0", Wx.T), ("weight_hh_l0", Wh.T), ("bias_ih_l0", bx), ("bias_hh_l0", bh)]:
            getattr(module, name).copy_(torch.from_numpy(value.copy()))
    want_h, (want_hn,), want_grads, pgrads = torch_layer(module, x, (h0,), dh, (dh_n,), lengths)
    (h, h_n), cache = ops.gru_layer_forward(
        x, h0, Wx, Wh, bx, bh, lengths=None if lengths is None else np.array(lengths)
    )
    assert_all_close([h, h_n], [want_h, want_hn])
    dx, dh0, dWx, dWh, dbx, dbh = ops.gru_layer_backward(dh, dh_n, cache)
    assert_all_close([dx, dh0], want_grads)
    assert_all_close([dWx, dWh, dbx, dbh], [pgrads["weight_ih_l0"].T, pgrads["weight_hh_l0"].T, pgrads["bias_ih_l0"],
                                            pgrads["bias_hh_l0"]])  # fmt: skip


@pytest.mark.parametrize("block_bytes", [1, 3 * N * 3 * H * 8], ids=["one_step", "three_steps"])
def test_backward_in_time_blocks_equals_one_block(
    block_bytes: int, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrays = inputs(rng)
    dh, dh_n = rng.standard_normal((N, T, H)), rng.standard_normal((N, H))
    _, cache = ops.gru_layer_forward(*arrays.values(), lengths=np.array(LENGTHS))
    one_block = ops.gru_layer_backward(dh, dh_n, cache)
    monkeypatch.setattr(_common, "BLOCK_BYTES", block_bytes)
    assert len(_common.time_blocks(T, N * 3 * H * 8)) == (7 if block_bytes == 1 else 3)
    for got, want in zip(ops.gru_layer_backward(dh, dh_n, cache), one_block):
        np.testing.assert_array_equal(got, want)


def test_fortran_ordered_weights_give_the_same_numbers_and_gradients_in_their_layout(rng: np.random.Generator) -> None:
    x, h0, Wx, Wh, bx, bh = inputs(rng).values()
    dh = rng.standard_normal((N, T, H))
    (h, _), cache = ops.gru_layer_forward(x, h0, Wx, Wh, bx, bh)
    (hf, _), cache_f = ops.gru_layer_forward(x, h0, np.asfortranarray(Wx), np.asfortranarray(Wh), bx, bh)
    np.testing.assert_allclose(hf, h, rtol=1e-14)
    grads, grads_f = ops.gru_layer_backward(dh, None, cache), ops.gru_layer_backward(dh, None, cache_f)
    assert_all_close(grads_f, grads, rtol=1e-13)
    assert grads_f[2].flags.f_contiguous and grads_f[3].flags.f_contiguous and grads[2].flags.c_contiguous


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_and_nothing_is_mutated(dtype: Any, rng: np.random.Generator) -> None:
    arrays = inputs(rng, dtype)
    copies = {k: v.copy() for k, v in arrays.items()}
    dh, dh_n = rng.standard_normal((N, T, H)).astype(dtype), rng.standard_normal((N, H)).astype(dtype)
    given = [dh.copy(), dh_n.copy()]
    outs, cache = ops.gru_layer_forward(*arrays.values(), lengths=np.array(LENGTHS))
    grads = ops.gru_layer_backward(dh, dh_n, cache)
    x, h0, *params = arrays.values()
    next_h, step_cache = ops.gru_step_forward(x[:, 0], h0, *params)
    step_grads = ops.gru_step_backward(dh_n, step_cache)
    assert {a.dtype for a in (*outs, *grads, next_h, *step_grads)} == {np.dtype(dtype)}
    for k, v in arrays.items():
        np.testing.assert_array_equal(v, copies[k], err_msg=k)
    for a, b in zip((dh, dh_n), given):
        np.testing.assert_array_equal(a, b)


BAD_ARGS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"h0": np.zeros(H)}, ValueError, "Invalid shape for `h0`: expected a 2-D array. Received: h0.shape=(5,)"),
    ({"Wx": np.zeros((D, 4 * H))}, ValueError,
     "Invalid shape for `Wx`: expected (D, 3H) = (3, 15) to match x and Wh. Received: Wx.shape=(3, 20)"),
    ({"Wh": np.zeros((H + 1, 3 * H))}, ValueError,
     "Invalid shape for `Wh`: expected (H, 3H) = (6, 18). Received: Wh.shape=(6, 15)"),
    ({"bh": np.zeros(3 * H + 1)}, ValueError,
     "Invalid shape for `bh`: expected (3H,) = (15,) to match Wh. Received: bh.shape=(16,)"),
    ({"bx": np.zeros(3 * H, np.float32)}, TypeError,
     "Invalid dtype for `bx`: expected float64 to match x. Received: bx.dtype=float32"),
    ({"bh": [0.0] * (3 * H)}, TypeError, "Invalid type for `bh`: expected a numpy.ndarray. Received: bh of type list"),
]  # fmt: skip


@pytest.mark.parametrize("bad, error, text", BAD_ARGS)
def test_bad_arguments_name_the_argument(
    bad: dict[str, Any], error: type[Exception], text: str, rng: np.random.Generator
) -> None:
    arrays = inputs(rng) | bad
    with pytest.raises(error, match=msg(text)):
        ops.gru_layer_forward(*arrays.values())
    with pytest.raises(error, match=msg(text)):
        ops.gru_forward(*arrays.values())


def test_bad_upstream_gradients_name_the_argument(rng: np.random.Generator) -> None:
    (h, h_n), cache = ops.gru_layer_forward(*inputs(rng).values())
    with pytest.raises(TypeError, match=msg("Invalid dtype for `dh`: expected float64, the forward output's dtype. "
                                            "Received: dh.dtype=int64")):  # fmt: skip
        ops.gru_layer_backward(h.astype(np.int64), h_n, cache)
    with pytest.raises(ValueError, match=msg("Invalid shape for `dh_n`: expected (4, 5), the forward output's shape. "
                                             "Received: dh_n.shape=(4, 7, 5)")):  # fmt: skip
        ops.gru_layer_backward(h, h, cache)
