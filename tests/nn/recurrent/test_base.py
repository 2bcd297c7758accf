"""RNNBase's checks and contract: bad constructor arguments, inputs, states and upstream gradients raise the
template naming the argument; input_grad=False; float32 kept; gradients accumulate over two backward passes."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from scratchnn import nn
from scratchnn.nn.utils import rnn


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


X = np.zeros((5, 2, 3), np.float32)  # (T, N, D)
CONSTRUCTOR: list[tuple[str, Any, type[Exception], str]] = [
    ("hidden_size", lambda: nn.RNN(3, 0), ValueError,
     "Invalid value for `hidden_size`: expected an int >= 1. Received: hidden_size=0"),
    ("input_size", lambda: nn.GRU(2.5, 4), TypeError,
     "Invalid type for `input_size`: expected an int >= 1. Received: input_size of type float"),
    ("num_layers", lambda: nn.LSTM(3, 4, num_layers=0), ValueError,
     "Invalid value for `num_layers`: expected an int >= 1. Received: num_layers=0"),
    ("nonlinearity", lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), ValueError,
     "Invalid value for `nonlinearity`: expected one of 'tanh', 'relu'. Received: nonlinearity='sigmoid'"),
    ("dropout 1", lambda: nn.LSTM(3, 4, 2, dropout=1.0), ValueError,
     "Invalid value for `dropout`: expected a float in [0, 1). Received: dropout=1.0"),
    ("dropout negative", lambda: nn.GRU(3, 4, 2, dropout=-0.1), ValueError,
     "Invalid value for `dropout`: expected a float in [0, 1). Received: dropout=-0.1"),
    ("bias", lambda: nn.GRU(3, 4, bias="yes"), TypeError,
     "Invalid type for `bias`: expected a bool. Received: bias of type str"),
    ("batch_first", lambda: nn.RNN(3, 4, batch_first=1), TypeError,
     "Invalid type for `batch_first`: expected a bool. Received: batch_first of type int"),
    ("proj_size", lambda: nn.LSTM(3, 4, proj_size=2), ValueError,
     "Invalid value for `proj_size`: expected 0 (LSTM projections are not implemented in scratchnn). "
     "Received: proj_size=2"),
    ("dtype", lambda: nn.LSTM(3, 4, dtype=np.int32), TypeError,
     "Invalid type for `dtype`: expected float32 or float64. Received: dtype=int32"),
    ("rng", lambda: nn.GRU(3, 4, rng=0), TypeError,
     "Invalid type for `rng`: expected a numpy.random.Generator or None. Received: rng=int"),
    ("cell nonlinearity", lambda: nn.RNNCell(3, 4, nonlinearity="gelu"), ValueError,
     "Invalid value for `nonlinearity`: expected one of 'tanh', 'relu'. Received: nonlinearity='gelu'"),
    ("cell hidden_size", lambda: nn.LSTMCell(3, -1), ValueError,
     "Invalid value for `hidden_size`: expected an int >= 1. Received: hidden_size=-1"),
]  # fmt: skip

FORWARD: list[tuple[str, Any, type[Exception], str]] = [
    ("rank", lambda: nn.RNN(3, 4)(np.zeros((2, 5, 2, 3), np.float32)), ValueError,
     "Invalid shape for `input`: expected a 2-D or 3-D array. Received: input.shape=(2, 5, 2, 3)"),
    ("features", lambda: nn.LSTM(3, 4)(np.zeros((5, 2, 4), np.float32)), ValueError,
     "Invalid shape for `input`: expected (T, N, 3) with input_size=3 and T >= 1. Received: input.shape=(5, 2, 4)"),
    ("features batch_first", lambda: nn.GRU(3, 4, batch_first=True)(np.zeros((2, 5, 4), np.float32)), ValueError,
     "Invalid shape for `input`: expected (N, T, 3) with input_size=3 and T >= 1. Received: input.shape=(2, 5, 4)"),
    ("no steps", lambda: nn.GRU(3, 4)(np.zeros((0, 2, 3), np.float32)), ValueError,
     "Invalid shape for `input`: expected (T, N, 3) with input_size=3 and T >= 1. Received: input.shape=(0, 2, 3)"),
    ("dtype", lambda: nn.RNN(3, 4)(X.astype(np.float64)), TypeError,
     "Invalid dtype for `input`: expected float32 to match RNN's parameters (cast with x.astype(np.float32) or "
     "module.to(np.float64)). Received: input.dtype=float64"),
    ("h0 shape", lambda: nn.RNN(3, 4, num_layers=2)(X, np.zeros((1, 2, 4), np.float32)), ValueError,
     "Invalid shape for `hx`: expected (2, 2, 4) = (num_layers * num_directions, N, hidden_size). "
     "Received: hx.shape=(1, 2, 4)"),
    ("h0 unbatched", lambda: nn.GRU(3, 4, bidirectional=True)(X[:, 0], np.zeros((2, 1, 4), np.float32)), ValueError,
     "Invalid shape for `hx`: expected (2, 4) = (num_layers * num_directions, hidden_size). "
     "Received: hx.shape=(2, 1, 4)"),
    ("c0 shape", lambda: nn.LSTM(3, 4)(X, (np.zeros((1, 2, 4), np.float32), np.zeros((1, 3, 4), np.float32))),
     ValueError,
     "Invalid shape for `hx[1]`: expected (1, 2, 4) = (num_layers * num_directions, N, hidden_size). "
     "Received: hx[1].shape=(1, 3, 4)"),
    ("lstm hx", lambda: nn.LSTM(3, 4)(X, np.zeros((1, 2, 4), np.float32)), TypeError,
     "Invalid type for `hx`: expected a tuple (h_0, c_0) of two numpy.ndarrays, or None. Received: hx of type ndarray"),
    ("packed features", lambda: nn.GRU(4, 4)(rnn.pack_padded_sequence(X, [5, 3])), ValueError,
     "Invalid shape for `input.data`: expected packed data (sum of lengths, 4). Received: input.data.shape=(8, 3)"),
    ("bad packed", lambda: nn.GRU(3, 4)(rnn.PackedSequence(X[:, 0], np.array([1, 2, 2]))), ValueError,
     "Invalid value for `input.batch_sizes`: expected non-increasing counts >= 1 that sum to data's 5 rows. "
     "Received: input.batch_sizes=[1, 2, 2]"),
    ("cell features", lambda: nn.GRUCell(3, 4)(np.zeros((2, 5), np.float32)), ValueError,
     "Invalid shape for `input`: expected (N, 3) or (3,). Received: input.shape=(2, 5)"),
    ("cell hx", lambda: nn.RNNCell(3, 4)(np.zeros((2, 3), np.float32), np.zeros((3, 4), np.float32)), ValueError,
     "Invalid shape for `hx`: expected (2, 4) (hidden_size=4) to match input. Received: hx.shape=(3, 4)"),
    ("cell c", lambda: nn.LSTMCell(3, 4)(np.zeros(3, np.float32), (np.zeros(4, np.float32), np.zeros(5, np.float32))),
     ValueError, "Invalid shape for `hx[1]`: expected (4,) (hidden_size=4) to match input. Received: hx[1].shape=(5,)"),
]  # fmt: skip


BAD = CONSTRUCTOR + FORWARD


@pytest.mark.parametrize("call,exc,text", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_arguments_raise_the_template(call: Any, exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=msg(text)):
        call()


def test_packed_lengths_are_checked_where_they_are_given() -> None:
    with pytest.raises(ValueError, match=r"^Invalid value for `lengths`: expected lengths <= 5, the input's number"):
        nn.LSTM(3, 4)(rnn.pack_padded_sequence(X, [6, 2]))
    with pytest.raises(ValueError, match=r"^Invalid value for `lengths`: expected lengths >= 1"):
        nn.LSTM(3, 4)(rnn.pack_padded_sequence(X, [5, 0]))


def test_dropout_with_one_layer_warns_as_torch() -> None:
    with pytest.warns(UserWarning, match=r"non-zero dropout expects num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.5)


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
def test_upstream_gradients_are_checked(cls: Any) -> None:
    m = cls(3, 4, num_layers=2)
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        m.backward(np.zeros((5, 2, 4), np.float32))
    out, _ = m(X)
    with pytest.raises(ValueError, match=msg(
        "Invalid shape for `grad_out`: expected (5, 2, 4), the forward output's shape. "
        "Received: grad_out.shape=(2, 5, 4)")):  # fmt: skip
        m.backward(np.zeros((2, 5, 4), np.float32))
    with pytest.raises(TypeError, match=r"^Invalid dtype for `grad_out`: expected float32"):
        m.backward(out.astype(np.float64))
    with pytest.raises(ValueError, match=r"^Invalid shape for `grad_h_n`: expected \(2, 2, 4\)"):
        m.backward(out, np.zeros((1, 2, 4), np.float32))


@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
def test_grads_accumulate_input_grad_false_and_float32(cls: Any, packed: bool) -> None:
    rng = np.random.default_rng(0)
    m = cls(3, 4, num_layers=2, bidirectional=True, rng=rng)
    x = rng.standard_normal((5, 2, 3)).astype(np.float32)
    inp = rnn.pack_padded_sequence(x, [5, 3]) if packed else x
    out, finals = m(inp)
    data = out.data if packed else out
    assert data.dtype == np.float32 and data.shape[-1] == 8
    g = rng.standard_normal(data.shape).astype(np.float32)
    m.zero_grad()
    dx = m.backward(g)
    dx_data = dx.data if packed else dx
    assert dx_data.dtype == np.float32 and dx_data.shape == (inp.data if packed else x).shape
    once = {k: p.grad.copy() for k, p in m.named_parameters()}
    assert m.backward(g, input_grad=False) is None
    for k, p in m.named_parameters():
        np.testing.assert_allclose(p.grad, 2 * once[k], rtol=1e-6, err_msg=k)
    m.zero_grad()
    m.backward(g)
    for k, p in m.named_parameters():
        np.testing.assert_array_equal(p.grad, once[k], err_msg=k)


def test_an_injected_dropout_mask_must_have_the_layer_output_shape() -> None:
    m = nn.GRU(3, 4, num_layers=2, dropout=0.5)
    m.draw_dropout_mask = lambda layer, shape, dtype: np.ones(shape[1:], dtype)  # would broadcast
    with pytest.raises(ValueError, match=msg(
        "Invalid shape for `dropout mask`: expected (2, 5, 4), layer 0's output. Received: dropout mask.shape=(5, 4)"
    )):  # fmt: skip
        m(X)
    m.eval()
    assert m(X)[0].shape == (5, 2, 4)  # no dropout in eval mode: the hook is not called
