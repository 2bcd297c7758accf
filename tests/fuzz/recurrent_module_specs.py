"""Fuzz specs of the sequence modules: Embedding, RNN, LSTM, GRU, their cells, and the recurrent and
bag-of-words models.

A recurrent module's input comes batched (time- or batch-first), unbatched or packed (a PackedSequence of
unsorted lengths, its data in any layout), with or without an initial state; its output is the output
sequence and the final states (``Case.state_shapes``), and with an initial state its backward returns the
state's gradient too (``Case.hx``). Token-id inputs (``Case.ids``) have no gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from scratchnn import models, nn
from scratchnn.nn.utils.rnn import pack_padded_sequence

from .calls import Case, Draw, ModuleSpec, Shape


def _ids(d: Draw, shape: Shape, V: int) -> np.ndarray:
    return d.labels(shape, V)


def embedding(d: Draw) -> Case:
    V, E = d.int(1, 5), d.int(1, 3)
    S = tuple(d.int(0, 3) for _ in range(d.int(0, 3)))
    kwargs = {"num_embeddings": V, "embedding_dim": E, "padding_idx": d.pick([None, d.int(-V, V - 1)]),
              "max_norm": None, "scale_grad_by_freq": False, "sparse": False}  # fmt: skip
    return Case(kwargs, [_ids(d, S, V)], (*S, E), ids=True)


def _sequence(d: Draw, D: int, batch_first: bool) -> tuple[Any, str, int, int]:
    """(input, form, N, rows): a batched, unbatched or packed sequence of D features; rows: the output's
    first axes ((T, N), (N, T), (T,) or (sum of lengths,))."""
    form = d.pick(["batched", "unbatched", "packed"])
    T = d.int(1, 4)
    if form == "unbatched":
        return d.x((T, D)), form, 1, T
    N = d.int(1 if form == "packed" else 0, 3)
    if form == "batched":
        return d.x((N, T, D) if batch_first else (T, N, D)), form, N, T
    lengths = [d.int(1, T) for _ in range(N)]
    lengths[d.int(0, N - 1)] = T  # the padded batch's T
    padded = d.x((N, T, D))
    packed = pack_padded_sequence(padded, np.array(lengths), batch_first=True, enforce_sorted=False)
    return packed._replace(data=d.x(packed.data.shape)), form, N, sum(lengths)


def recurrent(cell: str) -> Callable[[Draw], Case]:
    def make(d: Draw) -> Case:
        D, H, L = d.int(1, 3), d.int(1, 3), d.int(1, 2)
        bidirectional, batch_first = d.pick([True, False]), d.pick([True, False])
        kwargs: dict[str, Any] = {"input_size": D, "hidden_size": H, "num_layers": L, "bias": d.pick([True, False]),
                                  "batch_first": batch_first, "bidirectional": bidirectional,
                                  "dropout": d.pick([0.0, d.float(0, 0.9)]) if L > 1 else 0.0}  # fmt: skip
        if cell == "rnn":
            kwargs["nonlinearity"] = d.pick(["tanh", "relu"])
        if cell == "lstm":
            kwargs["proj_size"] = 0  # the sweeps try others: not implemented, the template error
        x, form, N, rows = _sequence(d, D, batch_first)
        S, K = L * (2 if bidirectional else 1), H * (2 if bidirectional else 1)
        out = {"batched": (N, rows, K) if batch_first else (rows, N, K), "unbatched": (rows, K), "packed": (rows, K)}
        state = (S, H) if form == "unbatched" else (S, N, H)
        n_states = 2 if cell == "lstm" else 1
        hx: Any = None
        if d.pick([True, False]):
            hx = tuple(d.p(state) for _ in range(n_states)) if cell == "lstm" else d.p(state)
        return Case(kwargs, [x, hx], out[form], state_shapes=(state,) * n_states, hx=True)

    return make


def recurrent_cell(cell: str) -> Callable[[Draw], Case]:
    def make(d: Draw) -> Case:
        D, H = d.int(1, 3), d.int(1, 3)
        kwargs: dict[str, Any] = {"input_size": D, "hidden_size": H, "bias": d.pick([True, False])}
        if cell == "rnn":
            kwargs["nonlinearity"] = d.pick(["tanh", "relu"])
        lead = (d.int(0, 3),) if d.pick([True, False]) else ()
        state = (*lead, H)
        hx: Any = None
        if d.pick([True, False]):
            hx = (d.p(state), d.p(state)) if cell == "lstm" else d.p(state)
        return Case(kwargs, [d.x((*lead, D)), hx], state, state_shapes=(state,) if cell == "lstm" else (), hx=True)

    return make


def classifier(d: Draw) -> Case:
    D, H, C, L = d.int(1, 3), d.int(1, 3), d.int(1, 3), d.int(1, 2)
    kwargs: dict[str, Any] = {"input_size": D, "hidden_size": H, "num_classes": C, "num_layers": L,
                              "cell": d.pick(["rnn", "lstm", "gru"]), "dropout": d.pick([0.0, d.float(0, 0.9)]),
                              "bidirectional": d.pick([True, False])}  # fmt: skip
    T = d.int(1, 4)
    if d.pick([True, False]):
        N = d.int(0, 3)
        return Case(kwargs, [d.x((N, T, D))], (N, C))
    V, N = d.int(2, 5), d.int(0, 3)
    pad = d.int(0, V - 1)
    kwargs.update(vocab_size=V, padding_idx=pad)
    ids = (_ids(d, (N, T), V - 1) + 1 + pad) % V  # no padding id ...
    lengths = [d.int(1, T) for _ in range(N)]
    ids[np.arange(T) >= np.array(lengths)[:, None]] = pad  # ... but after each row's length
    return Case(kwargs, [ids], (N, C), ids=True)


def char_rnn(d: Draw) -> Case:
    V, L = d.int(1, 5), d.int(1, 2)
    kwargs = {"vocab_size": V, "embedding_dim": d.int(1, 3), "hidden_size": d.int(1, 3), "num_layers": L,
              "cell": d.pick(["rnn", "lstm", "gru"]), "dropout": d.pick([0.0, d.float(0, 0.9)])}  # fmt: skip
    N, T = d.int(0, 3), d.int(1, 4)
    return Case(kwargs, [_ids(d, (N, T), V)], (N, V, T), ids=True)


def bag_of_words(d: Draw) -> Case:
    F, C = d.int(1, 5), d.int(1, 3)
    kwargs: dict[str, Any] = {"num_features": F, "num_classes": C, "padding_idx": d.pick([None, d.int(0, F - 1)]),
                              "normalize": d.pick([True, False])}  # fmt: skip
    if d.pick([True, False]):
        kwargs["idf"] = np.abs(d.array((F,), ("normal", "zeros", "integers"), dtype=np.float64))
    N = d.int(0, 3)
    return Case(kwargs, [_ids(d, (N, d.int(0, 4)), F)], (N, C), ids=True)


SPECS: list[ModuleSpec] = [
    ModuleSpec(nn.Embedding, embedding),
    ModuleSpec(nn.RNN, recurrent("rnn")),
    ModuleSpec(nn.LSTM, recurrent("lstm")),
    ModuleSpec(nn.GRU, recurrent("gru")),
    ModuleSpec(nn.RNNCell, recurrent_cell("rnn")),
    ModuleSpec(nn.LSTMCell, recurrent_cell("lstm")),
    ModuleSpec(nn.GRUCell, recurrent_cell("gru")),
    ModuleSpec(models.RecurrentClassifier, classifier),
    ModuleSpec(models.CharRNN, char_rnn),
    ModuleSpec(models.BagOfWordsClassifier, bag_of_words),
]
