"""Recurrent modules mirroring ``torch.nn``: RNN, LSTM, GRU (base.py: RNNBase) and their cells (cells.py)."""

from .base import RNNBase
from .cells import GRUCell, LSTMCell, RNNCell
from .gru import GRU
from .lstm import LSTM
from .rnn import RNN

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]
