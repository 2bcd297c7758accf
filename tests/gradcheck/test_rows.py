"""Every row of THE gradient-check tables (scratchnn/gradcheck/rows/) against float64 central differences.

The rows live in the package so that `scratchnn gradcheck` and this test check the same tables; a new
op or module is one new row in its area's file. ``check_op`` / ``check_module`` draw a random upstream
gradient; inputs avoid kinks.
"""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest

from scratchnn import models, nn, ops
from scratchnn.gradcheck.rows import MODULE_ROWS, OP_ROWS, ModuleRow, OpRow, away_from_zero
from scratchnn.gradcheck.table import run_module_row, run_op_row

# the names an ops file gives its op pairs and losses; helpers (im2col, standardize, ...) are not ops
OP_SUFFIXES = ("_forward", "_backward", "_loss", "_naive", "_fast")


@pytest.mark.parametrize("row", OP_ROWS, ids=[row.id for row in OP_ROWS])
def test_gradcheck_op(row: OpRow) -> None:
    errors = run_op_row(row)
    assert errors, "nothing was checked"
    assert max(errors.values()) < row.tol, errors


@pytest.mark.parametrize("row", MODULE_ROWS, ids=[row.id for row in MODULE_ROWS])
def test_gradcheck_module(row: ModuleRow) -> None:
    module, inputs = row.make(np.random.default_rng(0))
    errors = run_module_row(row)
    # the input (unless it is integer ids, which have no gradient), any further differentiable inputs (a
    # recurrent module's h0) and every parameter were checked
    checked_inputs = {k for k in errors if k.startswith("input")}
    assert ("input0" in checked_inputs) == (inputs[0].dtype.kind == "f")
    assert set(errors) == checked_inputs | {name for name, _ in module.named_parameters()}
    assert max(errors.values()) < row.tol, errors


@pytest.mark.parametrize("rows", [OP_ROWS, MODULE_ROWS], ids=["ops", "modules"])
def test_row_ids_are_unique(rows: list[OpRow] | list[ModuleRow]) -> None:
    ids = [row.id for row in rows]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


# every ops file, in area folders too (recurrent.rnn, ...); ops/normalization.py holds the standardization and
# checks the norm ops share and ops/attention/masks.py the masks attention takes, no op pair of their own
NOT_OPS = (".normalization", ".attention.masks")
OPS_FILES = [
    m.name.removeprefix("scratchnn.ops.")
    for m in pkgutil.walk_packages(ops.__path__, "scratchnn.ops.")
    if not m.ispkg and "._" not in m.name and not m.name.endswith(NOT_OPS)
]


@pytest.mark.parametrize("name", OPS_FILES)
def test_table_covers_every_op(name: str) -> None:
    """Every forward, backward and loss function of every ops file has a row in the table."""
    module = importlib.import_module(f"scratchnn.ops.{name}")
    public = {
        fname
        for fname, f in vars(module).items()
        if callable(f) and f.__module__ == module.__name__ and fname.endswith(OP_SUFFIXES) and fname[0] != "_"
    }
    covered = {row.forward.__name__ for row in OP_ROWS} | {row.backward.__name__ for row in OP_ROWS if row.backward}
    assert public, f"ops/{name}.py defines no op"
    assert public <= covered, f"ops without a gradcheck row: {sorted(public - covered)}"


def test_table_covers_every_module() -> None:
    """Every Module class in scratchnn.nn and scratchnn.models has a row (itself or inside a Sequential)."""
    rng = np.random.default_rng(0)
    covered = {type(m).__name__ for row in MODULE_ROWS for m in row.make(rng)[0].modules()}
    exported = {getattr(nn, name) for name in nn.__all__} | {getattr(models, name) for name in models.__all__}
    # ModuleList has no forward, so there is nothing to differentiate
    wanted = {c.__name__ for c in exported if isinstance(c, type) and issubclass(c, nn.Module)}
    wanted -= {"Module", "ModuleList"}
    assert wanted and wanted <= covered, f"modules without a gradcheck row: {sorted(wanted - covered)}"


def test_run_op_row_catches_a_wrong_backward() -> None:
    """A row whose backward is off by 1% fails through the same runner the table uses."""

    def sigmoid_backward_off(dout: np.ndarray, cache: object) -> np.ndarray:
        return 1.01 * ops.sigmoid_backward(dout, cache)

    row = OpRow("sigmoid-broken", ops.sigmoid_forward, sigmoid_backward_off, lambda r: {"x": r.standard_normal((3, 5))})
    assert run_op_row(row)["x"] > 1e-3


class _ReLUWithoutMask(nn.ReLU):
    """A wrong backward: passes the upstream gradient through where the input was negative."""

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        self._saved()
        return grad_out


def test_run_module_row_catches_a_wrong_backward() -> None:
    broken = ModuleRow("ReLU-broken", lambda r: (_ReLUWithoutMask(), (away_from_zero(r.standard_normal((3, 5))),)))
    assert run_module_row(broken)["input0"] > 0.5
