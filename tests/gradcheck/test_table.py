"""The table runner (scratchnn/gradcheck/table.py) and the `scratchnn gradcheck` command that prints it:
a broken or raising row is reported and fails the command; every row of the tables is printed."""

from __future__ import annotations

import io

import numpy as np
import pytest

from scratchnn import nn
from scratchnn.cli import main
from scratchnn.gradcheck.rows import F64, MODULE_ROWS, OP_ROWS, ModuleRow, away_from_zero
from scratchnn.gradcheck.table import Result, print_table, run_all


class _ReLUWithoutMask(nn.ReLU):
    """A wrong backward: passes the upstream gradient through where the input was negative."""

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        self._saved()
        return grad_out if input_grad else None


BROKEN = ModuleRow("ReLU-broken", lambda r: (_ReLUWithoutMask(), (away_from_zero(r.standard_normal((3, 5))),)))
RAISES = ModuleRow("Linear-wrong_shape", lambda r: (nn.Linear(5, 3, dtype=F64, rng=r), (r.standard_normal((4, 6)),)))


def test_run_all_results() -> None:
    results = run_all(op_rows=OP_ROWS[:1], module_rows=[MODULE_ROWS[0], BROKEN, RAISES])
    assert [(r.name, r.kind) for r in results] == [
        (OP_ROWS[0].id, "op"),
        (MODULE_ROWS[0].id, "module"),
        ("ReLU-broken", "module"),
        ("Linear-wrong_shape", "module"),
    ]
    assert all(isinstance(r, Result) for r in results)
    assert [r.passed for r in results] == [True, True, False, False]
    assert set(results[1].errors) == {"input0", "weight", "bias"}
    assert results[2].error is None and results[2].errors["input0"] > 0.5
    assert results[3].errors == {} and results[3].error is not None
    assert results[3].error.startswith("ValueError: Invalid shape for `input`")


def test_print_table_fails_on_a_broken_row() -> None:
    out = io.StringIO()
    assert print_table(out, op_rows=OP_ROWS[:2], module_rows=[BROKEN]) == 1  # affine (x, w, b), affine_relu (x, w, b)
    text = out.getvalue()
    broken_lines = [line for line in text.splitlines() if line.startswith("ReLU-broken ")]
    assert len(broken_lines) == 1 and broken_lines[0].split()[-1] == "FAIL"
    assert "3 checks (7 gradients), 2 passed, 1 FAILED: ReLU-broken" in text.splitlines()[-1]


def test_print_table_reports_a_row_that_raises() -> None:
    out = io.StringIO()
    assert print_table(out, op_rows=[], module_rows=[MODULE_ROWS[0], RAISES]) == 1
    text = out.getvalue()
    assert "Linear-wrong_shape: ValueError: Invalid shape for `input`" in text
    assert "1 FAILED: Linear-wrong_shape" in text


def test_cli_gradcheck_prints_every_row(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gradcheck"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["name", "kind"]
    rows = [line.split() for line in lines[2:-1]]
    printed = {(cells[0], cells[1]) for cells in rows}
    expected = {(row.id, "op") for row in OP_ROWS} | {(row.id, "module") for row in MODULE_ROWS}
    assert printed == expected
    assert all(cells[-1] == "ok" and float(cells[3]) < float(cells[4]) for cells in rows)
    n = len(OP_ROWS) + len(MODULE_ROWS)
    assert lines[-1].startswith(f"{n} checks ({len(rows)} gradients), {n} passed")
