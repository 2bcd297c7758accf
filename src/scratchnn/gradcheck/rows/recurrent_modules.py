"""Gradient-check rows of the recurrent modules: nn.RNN, nn.LSTM, nn.GRU (layers, directions, packed input,
h0, dropout with a fixed mask) and their cells, each wrapped in :class:`Flat` so that ``check_module`` sees
one array in and one out (the ops' own rows are in rows/recurrent.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import nn
from ...models import CharRNN, RecurrentClassifier
from ...nn.utils.rnn import PackedSequence, pack_padded_sequence, pack_padded_sequence_backward
from .base import F64, ModuleRow


def _leaves(obj: Any) -> list[np.ndarray]:
    """The arrays of a nested output, in order: (output, (h_n, c_n)) -> [output, h_n, c_n]; packed -> its data."""
    if isinstance(obj, PackedSequence):
        return [obj.data]
    if isinstance(obj, tuple):
        return [a for part in obj for a in _leaves(part)]
    return [obj]


class Flat(nn.Module):
    """A recurrent module with every output concatenated into one flat array, for ``check_module``.

    ``forward(x, *states)``: the states (h0, or h0 and c0) are passed as the module's ``hx``; with
    ``lengths`` the padded ``x`` is packed first (enforce_sorted=False). ``backward`` splits the upstream
    gradient back into the output's parts, runs the module's backward and returns (dx, d_state, ...),
    dx unpacked back to x's padded shape.
    """

    def __init__(self, inner: nn.Module, lengths: list[int] | None = None) -> None:
        super().__init__()
        self.inner = inner
        self.lengths = lengths

    def forward(self, x: np.ndarray, *states: np.ndarray) -> np.ndarray:
        batch_first = getattr(self.inner, "batch_first", False)
        inp: Any = x if self.lengths is None else pack_padded_sequence(x, self.lengths, batch_first, False)
        hx = None if not states else (states[0] if len(states) == 1 else tuple(states))
        parts = _leaves(self.inner(inp, hx))
        flat = np.concatenate([p.reshape(-1) for p in parts])
        self._save((inp, x.shape, [p.shape for p in parts], len(states)), flat)
        return flat

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> Any:
        inp, x_shape, shapes, n_states = self._saved(grad_out)
        cuts = np.cumsum([int(np.prod(s)) for s in shapes])[:-1]
        grads = [g.reshape(s) for g, s in zip(np.split(grad_out, cuts), shapes)]
        dx, *d_states = _leaves(self.inner.backward(*grads))
        if isinstance(inp, PackedSequence):
            T = x_shape[1] if getattr(self.inner, "batch_first", False) else x_shape[0]
            dx = pack_padded_sequence_backward(dx, inp, T, getattr(self.inner, "batch_first", False))
        return (dx, *d_states) if n_states else dx


def _fixed_masks(m: nn.Module, r: np.random.Generator, shape: tuple[int, ...], p: float, layers: int) -> None:
    """Replace the module's mask draw with fixed masks (one per layer but the last): the row's function is then
    deterministic, so central differences see the dropout the analytic gradient saw."""
    masks = [(r.random(shape) >= p) / (1 - p) for _ in range(layers - 1)]
    m.draw_dropout_mask = lambda layer, shape, dtype: masks[layer]


def rnn_row(
    cls: Any, r: np.random.Generator, *, T: int = 4, N: int = 2, states: int = 0, lengths: list[int] | None = None,
    dropout: float = 0.0, **kw: Any,
) -> tuple[nn.Module, tuple[np.ndarray, ...]]:  # fmt: skip
    """A small float64 module (D = 3, H = 3) and a (T, N, D) input (batch-major with batch_first), plus states."""
    m = cls(3, 3, dropout=dropout, dtype=F64, rng=r, **kw)
    S = m.num_layers * m.num_directions
    x = r.standard_normal((N, T, 3) if m.batch_first else (T, N, 3))
    if dropout:
        _fixed_masks(m, r, (N, T, 3 * m.num_directions), dropout, m.num_layers)
    return Flat(m, lengths), (x, *(r.standard_normal((S, N, 3)) for _ in range(states)))


def right_padded_ids(r: np.random.Generator, N: int, T: int, V: int) -> np.ndarray:
    """(N, T) ids in [1, V) with each row cut to a random length >= 1 by padding id 0 (for token-input models)."""
    x = r.integers(1, V, size=(N, T))
    x[np.arange(T) >= r.integers(1, T + 1, size=N)[:, None]] = 0
    return x


def cell_row(
    cls: Any, r: np.random.Generator, *, states: int = 0, unbatched: bool = False, **kw: Any
) -> tuple[nn.Module, tuple[np.ndarray, ...]]:
    lead = () if unbatched else (3,)
    m = cls(4, 3, dtype=F64, rng=r, **kw)
    return Flat(m), (r.standard_normal((*lead, 4)), *(r.standard_normal((*lead, 3)) for _ in range(states)))


MODULE_ROWS = [
    ModuleRow("RNN", lambda r: rnn_row(nn.RNN, r)),
    ModuleRow("RNN-relu-h0", lambda r: rnn_row(nn.RNN, r, states=1, nonlinearity="relu")),
    ModuleRow("RNN-2layers-bidirectional-packed",
              lambda r: rnn_row(nn.RNN, r, N=3, num_layers=2, bidirectional=True, lengths=[2, 4, 3])),
    ModuleRow("LSTM-h0_c0", lambda r: rnn_row(nn.LSTM, r, states=2)),
    ModuleRow("LSTM-2layers-bidirectional-batch_first-h0_c0",
              lambda r: rnn_row(nn.LSTM, r, states=2, num_layers=2, bidirectional=True, batch_first=True)),
    ModuleRow("LSTM-bidirectional-packed-no_bias",
              lambda r: rnn_row(nn.LSTM, r, N=3, bidirectional=True, bias=False, lengths=[3, 1, 4])),
    # dropped inputs leave some weight entries a gradient ~1e-6, where the ~1e-12 rounding noise of a central
    # difference is a relative 1e-6 (measured: 4.8e-7 on an entry of 1.45e-6, absolute error 1.4e-12)
    ModuleRow("LSTM-3layers-dropout_fixed_mask",
              lambda r: rnn_row(nn.LSTM, r, states=2, num_layers=3, dropout=0.3, lengths=[4, 2]), tol=2e-6),
    ModuleRow("GRU", lambda r: rnn_row(nn.GRU, r)),
    ModuleRow("GRU-2layers-bidirectional-packed-h0",
              lambda r: rnn_row(nn.GRU, r, N=3, states=1, num_layers=2, bidirectional=True, lengths=[4, 4, 2])),
    ModuleRow("GRU-2layers-dropout_fixed_mask-batch_first",
              lambda r: rnn_row(nn.GRU, r, num_layers=2, dropout=0.5, bidirectional=True, batch_first=True)),
    ModuleRow("RNNCell-hx", lambda r: cell_row(nn.RNNCell, r, states=1)),
    ModuleRow("RNNCell-relu-unbatched", lambda r: cell_row(nn.RNNCell, r, unbatched=True, nonlinearity="relu")),
    ModuleRow("LSTMCell-hx", lambda r: cell_row(nn.LSTMCell, r, states=2)),
    ModuleRow("LSTMCell-no_bias", lambda r: cell_row(nn.LSTMCell, r, bias=False)),
    ModuleRow("GRUCell-hx-unbatched", lambda r: cell_row(nn.GRUCell, r, states=1, unbatched=True)),
    ModuleRow("GRUCell-no_bias", lambda r: cell_row(nn.GRUCell, r, bias=False)),
    # the recurrent models (models/sequence_classifier.py, models/char_rnn.py)
    ModuleRow("RecurrentClassifier-lstm-bidirectional-features",
              lambda r: (RecurrentClassifier(3, 4, 3, bidirectional=True, dtype=F64, rng=r),
                         (r.standard_normal((2, 5, 3)),))),
    ModuleRow("RecurrentClassifier-gru-ids-packed",
              lambda r: (RecurrentClassifier(3, 4, 3, cell="gru", vocab_size=6, dtype=F64, rng=r),
                         (right_padded_ids(r, 3, 5, 6),))),
    ModuleRow("CharRNN-rnn-2layers", lambda r: (CharRNN(5, 3, 4, 2, cell="rnn", dtype=F64, rng=r),
                                                 (r.integers(0, 5, (2, 4)),))),
]  # fmt: skip
