"""``RNN``: the Elman RNN, h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), as ``torch.nn.RNN``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validate import check_choice
from ...ops.recurrent import rnn_layer_backward, rnn_layer_forward
from .base import RNNBase

NONLINEARITIES = ("tanh", "relu")


class RNN(RNNBase):
    """A multi-layer Elman RNN, as ``torch.nn.RNN``: same arguments, parameters and outputs.

    Each layer runs :func:`scratchnn.ops.rnn_layer_forward` with Wx = weight_ih.T, Wh = weight_hh.T and
    b = bias_ih + bias_hh (whose gradient goes to both). ``forward(input, hx=None)`` returns
    ``(output, h_n)``; ``backward(grad_out, grad_h_n=None)`` (None: zero) accumulates every parameter
    gradient and returns the input gradient, or ``(d_input, d_hx)`` when ``hx`` was given (None with
    ``input_grad=False``). A PackedSequence input gives a PackedSequence output, takes the gradient of its
    data (an array or a PackedSequence) and returns a PackedSequence of the input data's gradient.
    Differs from torch: see :class:`RNNBase` (dropout in [0, 1)).

    Shape (S = num_layers * num_directions, K = hidden_size * num_directions):
        input: (T, N, input_size), (N, T, input_size) with batch_first, (T, input_size) unbatched, or a
        PackedSequence;  hx, h_n: (S, N, hidden_size) ((S, hidden_size) unbatched);  output: (T, N, K) etc.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        nonlinearity = check_choice(nonlinearity, "nonlinearity", NONLINEARITIES)
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype, rng=rng
        )
        self.nonlinearity = nonlinearity

    def _layer_forward(
        self, x: np.ndarray, states: tuple[np.ndarray, ...], k: int, lengths: np.ndarray | None
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...], Any]:
        w_ih, w_hh, _, _ = self._params(k)
        b_ih, b_hh = self._biases(k)
        (h, h_n), cache = rnn_layer_forward(
            x, states[0], w_ih.data.T, w_hh.data.T, b_ih + b_hh, nonlinearity=self.nonlinearity, lengths=lengths
        )  # (N, T, in) -> (N, T, H)
        return h, (h_n,), cache

    def _layer_backward(
        self, dh: np.ndarray, dfinal: tuple[np.ndarray | None, ...], cache: Any, k: int
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        dx, dh0, dWx, dWh, db = rnn_layer_backward(dh, dfinal[0], cache)
        self._accumulate(k, dWx.T, dWh.T, db, db)  # (in, H) -> (H, in): torch's layout
        return dx, (dh0,)
