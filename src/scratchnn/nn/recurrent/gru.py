"""``GRU``: the gated recurrent unit, as ``torch.nn.GRU`` (gates r, z, n in its weights)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...ops.recurrent import gru_layer_backward, gru_layer_forward
from .base import RNNBase


class GRU(RNNBase):
    """A multi-layer GRU, as ``torch.nn.GRU``: same arguments, parameters (gates r, z, n) and outputs.

        r, z = sigmoid(x_t W_i{r,z}^T + b_i{r,z} + h_{t-1} W_h{r,z}^T + b_h{r,z})
        n = tanh(x_t W_in^T + b_in + r * (h_{t-1} W_hn^T + b_hn));  h_t = (1 - z) * n + z * h_{t-1}

    Each layer runs :func:`scratchnn.ops.gru_layer_forward` with Wx = weight_ih.T, Wh = weight_hh.T,
    bx = bias_ih, bh = bias_hh (the course's gate order is torch's, and b_hn sits inside r * (.)).
    ``forward(input, hx=None)`` returns ``(output, h_n)``; ``backward(grad_out, grad_h_n=None)`` as
    nn.RNN's. Differs from torch: see :class:`RNNBase` (dropout in [0, 1)).

    Shape (S = num_layers * num_directions, K = hidden_size * num_directions):
        input: (T, N, input_size), (N, T, input_size) with batch_first, (T, input_size) unbatched, or a
        PackedSequence;  hx, h_n: (S, N, hidden_size);  output: (T, N, K) etc.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype, rng=rng
        )

    def _layer_forward(
        self, x: np.ndarray, states: tuple[np.ndarray, ...], k: int, lengths: np.ndarray | None
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...], Any]:
        w_ih, w_hh, _, _ = self._params(k)
        b_ih, b_hh = self._biases(k)
        (h, h_n), cache = gru_layer_forward(x, states[0], w_ih.data.T, w_hh.data.T, b_ih, b_hh, lengths=lengths)
        return h, (h_n,), cache

    def _layer_backward(
        self, dh: np.ndarray, dfinal: tuple[np.ndarray | None, ...], cache: Any, k: int
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        dx, dh0, dWx, dWh, dbx, dbh = gru_layer_backward(dh, dfinal[0], cache)
        self._accumulate(k, dWx.T, dWh.T, dbx, dbh)  # (in, 3H) -> (3H, in): torch's layout
        return dx, (dh0,)
