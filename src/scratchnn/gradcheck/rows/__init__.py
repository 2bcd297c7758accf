"""THE gradient-check tables: one row per op and one per module, by area, for the tests and `scratchnn gradcheck`.

A new op or module is one new row in its area's file (STYLE.md #9); :mod:`scratchnn.gradcheck.table`
runs them, and ``tests/gradcheck/test_rows.py`` parametrizes over the same rows.
"""

from __future__ import annotations

from . import (
    attention,
    autoencoder,
    dense,
    mae,
    norm,
    patches,
    positional,
    recurrent,
    recurrent_modules,
    spatial,
    text,
    transformer,
)
from .base import F64, TOL, H, ModuleRow, OpRow, away_from_zero, distinct

__all__ = ["OP_ROWS", "MODULE_ROWS", "OpRow", "ModuleRow", "TOL", "H", "F64", "away_from_zero", "distinct"]

OP_ROWS: list[OpRow] = [*dense.OP_ROWS, *spatial.OP_ROWS, *norm.OP_ROWS, *recurrent.OP_ROWS, *autoencoder.OP_ROWS]
OP_ROWS += attention.OP_ROWS
OP_ROWS += patches.OP_ROWS
OP_ROWS += transformer.OP_ROWS
MODULE_ROWS: list[ModuleRow] = [*dense.MODULE_ROWS, *spatial.MODULE_ROWS, *norm.MODULE_ROWS, *recurrent.MODULE_ROWS]
MODULE_ROWS += recurrent_modules.MODULE_ROWS
MODULE_ROWS += text.MODULE_ROWS
MODULE_ROWS += autoencoder.MODULE_ROWS
MODULE_ROWS += positional.MODULE_ROWS
MODULE_ROWS += transformer.MODULE_ROWS
MODULE_ROWS += mae.MODULE_ROWS
