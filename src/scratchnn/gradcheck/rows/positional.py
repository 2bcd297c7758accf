"""Gradient-check rows of the positional encodings (nn/transformer/positional.py): the sinusoidal encoding in eval
mode and in training with a fixed dropout mask, the learned table at offset 0 and further on (its input is ids:
the weight only)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import nn
from .base import F64, ModuleRow, randn


class FixedMaskPositionalEncoding(nn.PositionalEncoding):
    """The same dropout mask on every training forward (the generator rewound): a fixed function to differentiate."""

    def draw_dropout_mask(self, shape: tuple[int, ...], dtype: np.dtype[Any]) -> np.ndarray:
        self.rng = np.random.default_rng(0)
        return super().draw_dropout_mask(shape, dtype)


class LearnedPositionsAt3(nn.LearnedPositionalEmbedding):
    """Positions 3 .. 3 + T - 1: one step of incremental decoding, the rows before it untouched."""

    def forward(self, input: np.ndarray, offset: int = 3) -> np.ndarray:
        return super().forward(input, offset)


def _ids(r: np.random.Generator) -> tuple[np.ndarray, ...]:
    return (r.integers(0, 20, (3, 4)),)  # (N, T): only the shape is read


MODULE_ROWS = [
    ModuleRow("PositionalEncoding-eval",
              lambda r: (nn.PositionalEncoding(6, 10, 0.5, dtype=F64).eval(), randn(r, 4, 3, 6))),
    ModuleRow("PositionalEncoding-train-fixed_mask-batch_first",
              lambda r: (FixedMaskPositionalEncoding(6, 10, 0.5, True, dtype=F64), randn(r, 3, 4, 6))),
    ModuleRow("LearnedPositionalEmbedding", lambda r: (nn.LearnedPositionalEmbedding(7, 5, F64, rng=r), _ids(r))),
    ModuleRow("LearnedPositionalEmbedding-offset", lambda r: (LearnedPositionsAt3(8, 5, F64, rng=r), _ids(r))),
]  # fmt: skip
