"""Every op row of THE op-spec table (scratchnn/gradcheck_specs.py) against float64 central differences.

The rows live in the package so that `scratchnn gradcheck` and this test check the same table; a new
op is one new row there. ``check_op`` draws a random upstream gradient; inputs avoid kinks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from scratchnn import ops
from scratchnn.gradcheck import check_op
from scratchnn.gradcheck_specs import away_from_zero, class_inputs
from scratchnn.gradcheck_table import OP_ROWS, H, OpRow, run_op_row
from scratchnn.ops import activations, affine, losses


@pytest.mark.parametrize("row", OP_ROWS, ids=[row.id for row in OP_ROWS])
def test_gradcheck(row: OpRow) -> None:
    errors = run_op_row(row)
    assert errors, "nothing was checked"
    assert max(errors.values()) < row.tol, errors


def test_row_ids_are_unique() -> None:
    ids = [row.id for row in OP_ROWS]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_check_op_catches_wrong_gradients() -> None:
    """The table can fail: a 1% error in dx, or a loss that ignores its upstream gradient, is caught."""
    inputs = class_inputs(np.random.default_rng(0), None)

    def scaled(*args: Any, **kwargs: Any) -> Any:
        loss, dx = ops.softmax_loss(*args, **kwargs)
        return loss, 1.01 * dx

    def drops_dloss(x: np.ndarray, y: np.ndarray, *, dloss: Any = None) -> Any:
        return ops.softmax_loss(x, y)

    assert check_op(scaled, None, inputs, loss=True, h=H)["x"] > 1e-3
    assert check_op(drops_dloss, None, inputs, loss=True, h=H)["x"] > 1e-3
    relu_x = {"x": away_from_zero(np.random.default_rng(0).standard_normal((3, 4)))}
    assert check_op(ops.relu_forward, lambda dout, cache: dout, relu_x, h=H)["x"] > 1e-3


def test_run_op_row_catches_a_wrong_backward() -> None:
    """A row whose backward is off by 1% fails through the same runner the table uses."""

    def sigmoid_backward_off(dout: np.ndarray, cache: Any) -> np.ndarray:
        return 1.01 * ops.sigmoid_backward(dout, cache)

    row = OpRow("sigmoid-broken", ops.sigmoid_forward, sigmoid_backward_off, lambda r: {"x": r.standard_normal((3, 5))})
    assert run_op_row(row)["x"] > 1e-3


@pytest.mark.parametrize("module", [activations, affine, losses])
def test_table_covers_every_op(module: Any) -> None:
    public = {
        name for name, f in vars(module).items() if callable(f) and getattr(f, "__module__", "") == module.__name__
    }
    public = {name for name in public if not name.startswith("_")}
    covered = {row.forward.__name__ for row in OP_ROWS} | {row.backward.__name__ for row in OP_ROWS if row.backward}
    assert public and public <= covered, f"ops without a gradcheck row: {sorted(public - covered)}"
