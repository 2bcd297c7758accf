"""Fuzz specs of the positional encodings (nn/transformer/positional.py): the sinusoidal encoding's input is
(T, N, E), (N, T, E) or unbatched (T, E), T up to the table's length, in either mode (training draws a dropout
mask); the learned table's input is integer ids (*, T), which have no gradient."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from scratchnn import nn

from .calls import Case, Draw, ModuleSpec


def sinusoidal(d: Draw) -> Case:
    E, max_len, batch_first = d.int(1, 4), d.int(1, 5), d.pick([True, False])
    kwargs: dict[str, Any] = {"d_model": E, "max_len": max_len, "dropout": d.pick([0.0, d.float(0, 0.99)]),
                              "batch_first": batch_first}  # fmt: skip
    T, N = d.int(0, max_len), d.int(0, 3)
    shape = d.pick([(T, E), (N, T, E) if batch_first else (T, N, E)])
    return Case(kwargs, [d.x(shape)], shape)


def learned(d: Draw) -> Case:
    P, E = d.int(1, 5), d.int(1, 3)
    lead = tuple(d.draw(st.lists(st.integers(0, 3), max_size=2)))
    shape = (*lead, d.int(0, P))
    return Case({"num_positions": P, "embedding_dim": E}, [d.labels(shape, 50)], (*shape, E), ids=True)


SPECS: list[ModuleSpec] = [
    ModuleSpec(nn.PositionalEncoding, sinusoidal),
    ModuleSpec(nn.LearnedPositionalEmbedding, learned),
]
