"""``RecurrentClassifier``: a recurrent network that reads a sequence and classifies it.

    [Embedding] -> RNN | LSTM | GRU (num_layers, dropout between layers)
                -> the last layer's state at each sequence's last real step -> Dropout -> Linear

The model of the course's sister project (names classified by an LSTM over padded sequences), with two
kinds of input:

- token ids (``vocab_size`` given): ``x`` (N, T) ints, right-padded with ``padding_idx``; a sequence's
  length is its number of non-padding ids. The embedded batch is packed
  (``nn.utils.rnn.pack_padded_sequence``, unsorted lengths), so the state read out is the one after each
  sequence's own last id, as in torch, and padding changes nothing.
- features (``vocab_size`` None): ``x`` (N, T, input_size) floats, every sequence T steps long
  (Fashion-MNIST read row by row: T = 28 rows of 28 pixels).

With ``bidirectional``, the read-out is the forward direction's final state and the backward
direction's state after reading the whole sequence back to its first step, concatenated (torch's h_n).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._config import get_default_dtype, get_rng
from .._validate import check_array, check_bool, check_choice, check_float, check_float_dtype, check_int, invalid_value
from ..nn.dropout import Dropout
from ..nn.linear import Linear
from ..nn.module import Module
from ..nn.recurrent import GRU, LSTM, RNN
from ..nn.sparse import Embedding
from ..nn.utils.rnn import PackedSequence, pack_padded_sequence, pack_padded_sequence_backward
from ..ops.embedding import check_ids

__all__ = ["CELLS", "RecurrentClassifier", "padded_lengths"]

CELLS = ("rnn", "lstm", "gru")


def padded_lengths(x: np.ndarray, padding_idx: int) -> np.ndarray:
    """Each row's number of ids before its padding; a ValueError unless every row is right-padded and non-empty.

    Shape:
        x: (N, T) ints;  lengths: (N,) int64
    """
    real = x != padding_idx  # (N, T)
    lengths = real.sum(axis=1).astype(np.int64)  # (N,)
    if not np.array_equal(real, np.arange(x.shape[1]) < lengths[:, None]):
        raise invalid_value("input", f"right-padded rows (ids, then only padding_idx={padding_idx})", x)
    if (lengths == 0).any():
        raise invalid_value("input", "at least one id that is not padding in every row", x)
    return lengths


class RecurrentClassifier(Module):
    """See the module docstring. Weights get torch's default initialization (each layer's own), from ``rng``.

    Args:
        input_size: features per step (feature input), or the embedding size (token input).
        hidden_size: H of every recurrent layer.
        num_classes: number of classes.
        cell: 'rnn' (tanh), 'lstm' or 'gru'.
        num_layers: stacked recurrent layers.
        dropout: drop probability between recurrent layers and before the Linear.
        bidirectional: a backward direction in every layer as well.
        vocab_size: with token input, the number of ids (the Embedding's rows); None for feature input.
        padding_idx: the id that pads token input (its embedding stays zero).
        dtype: float32 or float64 (None: the default dtype).

    Shape:
        input: (N, T) int ids or (N, T, input_size) floats;  output: (N, num_classes) scores
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_classes: int,
        *,
        cell: str = "lstm",
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        vocab_size: int | None = None,
        padding_idx: int = 0,
        dtype: Any = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.cell = check_choice(cell, "cell", CELLS)
        dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
        p = check_float(dropout, "dropout", low=0.0, high=1.0, high_open=True)
        self.bidirectional = check_bool(bidirectional, "bidirectional")
        rng = get_rng(rng)
        self.embedding: Embedding | None = None
        if vocab_size is not None:
            V = check_int(vocab_size, "vocab_size", low=1)
            self.padding_idx = check_int(padding_idx, "padding_idx", low=0, high=V - 1)
            self.embedding = Embedding(V, input_size, padding_idx=self.padding_idx, dtype=dt, rng=rng)
        recurrent = {"rnn": RNN, "lstm": LSTM, "gru": GRU}[self.cell]
        self.rnn = recurrent(
            input_size, hidden_size, num_layers, batch_first=True,
            dropout=p if check_int(num_layers, "num_layers", low=1) > 1 else 0.0,
            bidirectional=bidirectional,
            dtype=dt, rng=rng,
        )  # fmt: skip
        self.drop = Dropout(p, rng=rng)
        dirs = 2 if self.bidirectional else 1
        self.fc = Linear(hidden_size * dirs, check_int(num_classes, "num_classes", low=1), dtype=dt, rng=rng)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.embedding is not None:
            check_ids(x, "input", self.embedding.num_embeddings)
            if x.ndim != 2:
                raise invalid_value("input", "token ids of shape (N, T)", x)
            lengths = padded_lengths(x, self.padding_idx)
            emb = self.embedding(x)  # (N, T) -> (N, T, E)
            # an empty batch has nothing to pack (a PackedSequence holds at least one sequence): it runs padded
            seq: Any = pack_padded_sequence(emb, lengths, batch_first=True, enforce_sorted=False) if len(x) else emb
        else:
            seq = check_array(x, "input", ndim=3)
        out, state = self.rnn(seq)
        h_n = state[0] if self.cell == "lstm" else state  # (L * dirs, N, H)
        dirs = 2 if self.bidirectional else 1
        feat = np.concatenate(list(h_n[-dirs:]), axis=1)  # dirs x (N, H) -> (N, dirs * H)
        scores = self.fc(self.drop(feat))  # (N, dirs * H) -> (N, num_classes)
        self._save((out, x.shape[1]), scores)
        return scores

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """Gradients into every parameter; returns the input gradient for feature input (None for ids)."""
        out, T = self._saved(grad_out)
        dz = self.fc.backward(grad_out)
        assert dz is not None
        dfeat = self.drop.backward(dz)  # (N, dirs * H)
        assert dfeat is not None
        N, H = dfeat.shape[0], self.rnn.hidden_size
        dirs = 2 if self.bidirectional else 1
        dh_n = np.zeros((self.rnn.num_layers * dirs, N, H), dtype=dfeat.dtype)
        dh_n[-dirs:] = dfeat.reshape(N, dirs, H).transpose(1, 0, 2)  # (N, dirs * H) -> (dirs, N, H)
        # the per-step outputs are not used: their gradient is zero
        zero = out._replace(data=np.zeros_like(out.data)) if isinstance(out, PackedSequence) else np.zeros_like(out)
        need_dx = input_grad or self.embedding is not None
        dx = self.rnn.backward(zero, dh_n, input_grad=need_dx)
        if self.embedding is None:
            return dx if input_grad else None
        if isinstance(dx, PackedSequence):
            dx = pack_padded_sequence_backward(dx.data, out, T, batch_first=True)  # (R, E) -> (N, T, E)
        self.embedding.backward(dx)
        return None
