"""Gradient-check rows of the recurrent area: the RNN, LSTM and GRU step ops, the course's sequence ops and
the layer functions (ops/recurrent/rnn.py, lstm.py, gru.py).

The layer rows run with sequence lengths (unsorted, one sequence a single step long) and check the
gradients of the final states too: ``check_op`` draws a random upstream gradient for every output,
(h, h_n) or (h, h_n, c_n). Weights are drawn at scale 0.5, so the gates sit in their curved range rather
than saturated; the ReLU rows keep every pre-activation away from the kink at 0 (:func:`relu_rnn_inputs`).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ... import ops
from .base import ModuleRow, OpRow

N, T, D, H = 3, 4, 3, 4
LENGTHS = np.array([3, 1, 4])  # unsorted; sequence 1 is over after its first step


def recurrent_inputs(
    rng: np.random.Generator, *, gates: int, states: tuple[str, ...], biases: tuple[str, ...], step: bool
) -> dict[str, np.ndarray]:
    """x, the states, Wx (D, gates*H), Wh (H, gates*H) and the biases, in the forward's argument order."""
    G = gates * H
    inputs = {"x": rng.standard_normal((N, D) if step else (N, T, D))}
    inputs |= {name: rng.standard_normal((N, H)) for name in states}
    inputs |= {"Wx": 0.5 * rng.standard_normal((D, G)), "Wh": 0.5 * rng.standard_normal((H, G))}
    inputs |= {name: 0.5 * rng.standard_normal(G) for name in biases}
    return inputs


def relu_rnn_inputs(rng: np.random.Generator, *, lengths: np.ndarray | None) -> dict[str, np.ndarray]:
    """Inputs of a ReLU RNN layer whose every pre-activation is at least 0.05 from 0 (redrawn until so)."""
    while True:
        inputs = recurrent_inputs(rng, gates=1, states=("h0",), biases=("b",), step=False)
        x, h, Wx, Wh, b = inputs.values()
        gap = np.inf
        for t in range(T):  # the pre-activations, step by step, as the layer computes them
            a = x[:, t] @ Wx + h @ Wh + b
            real = np.ones(N, bool) if lengths is None else t < lengths
            gap = min(gap, float(np.abs(a[real]).min()))
            h = np.where(real[:, None], np.maximum(a, 0), h)
        if gap > 0.05:
            return inputs


rnn = partial(recurrent_inputs, gates=1, biases=("b",))
lstm = partial(recurrent_inputs, gates=4, biases=("b",))
gru = partial(recurrent_inputs, gates=3, biases=("bx", "bh"))

OP_ROWS = [
    OpRow("rnn_step", ops.rnn_step_forward, ops.rnn_step_backward, partial(rnn, states=("prev_h",), step=True)),
    OpRow("rnn", ops.rnn_forward, ops.rnn_backward, partial(rnn, states=("h0",), step=False)),
    OpRow("rnn_layer-lengths", ops.rnn_layer_forward, ops.rnn_layer_backward,
          partial(rnn, states=("h0",), step=False), {"lengths": LENGTHS}),
    OpRow("rnn_layer-relu", ops.rnn_layer_forward, ops.rnn_layer_backward,
          partial(relu_rnn_inputs, lengths=None), {"nonlinearity": "relu"}),
    OpRow("rnn_layer-relu-lengths", ops.rnn_layer_forward, ops.rnn_layer_backward,
          partial(relu_rnn_inputs, lengths=LENGTHS), {"nonlinearity": "relu", "lengths": LENGTHS}),
    OpRow("lstm_step", ops.lstm_step_forward, ops.lstm_step_backward,
          partial(lstm, states=("prev_h", "prev_c"), step=True)),
    OpRow("lstm", ops.lstm_forward, ops.lstm_backward, partial(lstm, states=("h0",), step=False)),
    OpRow("lstm_layer", ops.lstm_layer_forward, ops.lstm_layer_backward,
          partial(lstm, states=("h0", "c0"), step=False)),
    OpRow("lstm_layer-lengths", ops.lstm_layer_forward, ops.lstm_layer_backward,
          partial(lstm, states=("h0", "c0"), step=False), {"lengths": LENGTHS}),
    OpRow("gru_step", ops.gru_step_forward, ops.gru_step_backward, partial(gru, states=("prev_h",), step=True)),
    OpRow("gru", ops.gru_forward, ops.gru_backward, partial(gru, states=("h0",), step=False)),
    OpRow("gru_layer-lengths", ops.gru_layer_forward, ops.gru_layer_backward,
          partial(gru, states=("h0",), step=False), {"lengths": LENGTHS}),
]  # fmt: skip

# nn.RNN, nn.LSTM, nn.GRU and the cells add their module rows here
MODULE_ROWS: list[ModuleRow] = []
