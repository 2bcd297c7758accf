"""``LSTM``: the long short-term memory network, as ``torch.nn.LSTM`` (gates i, f, g, o in its weights)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validate import check_int, invalid_type, invalid_value
from ...ops.recurrent import lstm_layer_backward, lstm_layer_forward
from .base import RNNBase


def gate_perm(H: int) -> np.ndarray:
    """Rows of torch's (4H, *) weights in the course's gate order: torch stacks i, f, g, o, the ops take
    i, f, o, g. The permutation swaps two blocks, so it is its own inverse (it also maps back)."""
    return np.r_[0 : 2 * H, 3 * H : 4 * H, 2 * H : 3 * H]


class LSTM(RNNBase):
    """A multi-layer LSTM, as ``torch.nn.LSTM``: same arguments, parameters (gates i, f, g, o) and outputs.

        i, f, o = sigmoid(.), g = tanh(.) of x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh;
        c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)

    Each layer runs :func:`scratchnn.ops.lstm_layer_forward` (course gate order i, f, o, g) with
    Wx = weight_ih[perm].T, Wh = weight_hh[perm].T, b = (bias_ih + bias_hh)[perm], whose gradient goes to
    both biases. ``forward(input, hx=None)``, hx = (h_0, c_0), returns ``(output, (h_n, c_n))``;
    ``backward(grad_out, grad_h_n=None, grad_c_n=None)`` (None: zero) returns the input gradient, or
    ``(d_input, (d_h0, d_c0))`` when hx was given (None with ``input_grad=False``); PackedSequence as nn.RNN.
    Differs from torch: ``proj_size`` > 0 is not implemented (a ValueError); dropout in [0, 1).

    Shape (S = num_layers * num_directions, K = hidden_size * num_directions):
        input: (T, N, input_size), (N, T, input_size) with batch_first, (T, input_size) unbatched, or a
        PackedSequence;  h_0, c_0, h_n, c_n: (S, N, hidden_size);  output: (T, N, K) etc.
    """

    _n_states = 2

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        if check_int(proj_size, "proj_size", low=0) != 0:
            raise invalid_value("proj_size", "0 (LSTM projections are not implemented in scratchnn)", proj_size)
        super().__init__(
            "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype, rng=rng
        )
        self._perm = gate_perm(self.hidden_size)

    def forward(
        self, input: Any, hx: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[Any, tuple[np.ndarray, np.ndarray]]:
        output, (h_n, c_n) = self._run(input, hx)
        return output, (h_n, c_n)

    def backward(
        self,
        grad_out: Any,
        grad_h_n: np.ndarray | None = None,
        grad_c_n: np.ndarray | None = None,
        *,
        input_grad: bool = True,
    ) -> Any:
        """The input gradient (and (h_0, c_0)'s, when hx was given), from those of output, h_n, c_n (None: zero)."""
        return self._run_backward(grad_out, (grad_h_n, grad_c_n), input_grad)

    def _split_hx(self, hx: Any) -> tuple[tuple[Any, ...], tuple[str, ...]]:
        if not isinstance(hx, tuple) or len(hx) != 2:
            raise invalid_type("hx", "a tuple (h_0, c_0) of two numpy.ndarrays, or None", hx)
        return hx, ("hx[0]", "hx[1]")

    def _layer_forward(
        self, x: np.ndarray, states: tuple[np.ndarray, ...], k: int, lengths: np.ndarray | None
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...], Any]:
        w_ih, w_hh, _, _ = self._params(k)
        b_ih, b_hh = self._biases(k)
        p = self._perm
        Wx, Wh = w_ih.data[p].T, w_hh.data[p].T  # (4H, in) -> (in, 4H), (4H, H) -> (H, 4H); F-ordered views
        (h, h_n, c_n), cache = lstm_layer_forward(x, states[0], states[1], Wx, Wh, (b_ih + b_hh)[p], lengths=lengths)
        return h, (h_n, c_n), cache

    def _layer_backward(
        self, dh: np.ndarray, dfinal: tuple[np.ndarray | None, ...], cache: Any, k: int
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        dx, dh0, dc0, dWx, dWh, db = lstm_layer_backward(dh, dfinal[0], dfinal[1], cache)
        p = self._perm
        self._accumulate(k, dWx.T[p], dWh.T[p], db[p], db[p])  # back to torch's layout and gate order
        return dx, (dh0, dc0)
