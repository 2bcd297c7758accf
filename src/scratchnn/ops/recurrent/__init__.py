"""Recurrent ops: vanilla RNN, LSTM and GRU, each as the course's step and sequence ops plus a layer function.

The layer functions (``*_layer_forward/backward``) take an initial state, return the final one too and accept
sequence lengths: nn.RNN, nn.LSTM and nn.GRU are built on them. The course's sequence ops are thin wrappers
over them; the step ops are the readable reference the tests hold them to.
Derivations: docs/derivations/recurrent/
"""

from .gru import (
    gru_backward,
    gru_forward,
    gru_layer_backward,
    gru_layer_forward,
    gru_step_backward,
    gru_step_forward,
)
from .lstm import (
    lstm_backward,
    lstm_forward,
    lstm_layer_backward,
    lstm_layer_forward,
    lstm_step_backward,
    lstm_step_forward,
)
from .rnn import (
    rnn_backward,
    rnn_forward,
    rnn_layer_backward,
    rnn_layer_forward,
    rnn_step_backward,
    rnn_step_forward,
)

__all__ = [
    "rnn_step_forward",
    "rnn_step_backward",
    "rnn_forward",
    "rnn_backward",
    "rnn_layer_forward",
    "rnn_layer_backward",
    "lstm_step_forward",
    "lstm_step_backward",
    "lstm_forward",
    "lstm_backward",
    "lstm_layer_forward",
    "lstm_layer_backward",
    "gru_step_forward",
    "gru_step_backward",
    "gru_forward",
    "gru_backward",
    "gru_layer_forward",
    "gru_layer_backward",
]
