"""Run the gradient-check tables (:mod:`scratchnn.gradcheck.rows`) and print them: `scratchnn gradcheck`.

Every row is checked in float64 against central differences with step ``H`` and a random upstream
gradient; a row passes when the worst relative error of every argument is below its tolerance.
The test suite parametrizes over the same rows (tests/gradcheck/test_rows.py),
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TextIO, cast

import numpy as np

from .numeric import check_module, check_op
from .rows import MODULE_ROWS, OP_ROWS, TOL, H, ModuleRow, OpRow

__all__ = [
    "H",
    "TOL",
    "OpRow",
    "ModuleRow",
    "OP_ROWS",
    "MODULE_ROWS",
    "Result",
    "run_op_row",
    "run_module_row",
    "run_all",
    "print_table",
]


@dataclass(frozen=True)
class Result:
    """One row's outcome: worst relative error per argument (input or parameter name)."""

    name: str
    kind: str  # 'op' or 'module'
    errors: dict[str, float]
    tol: float
    passed: bool
    error: str | None = None  # what the row raised, if it could not run


def run_op_row(row: OpRow) -> dict[str, float]:
    """Worst relative error of each gradient of an op row (inputs from a seeded rng, upstream from another)."""
    inputs = row.make(np.random.default_rng(0))
    backward = cast(Callable[..., Any], row.backward)  # None for a loss: check_op never calls it then
    return check_op(
        row.forward, backward, inputs, row.kwargs, loss=row.loss, h=H, rng=np.random.default_rng(1),
        exact_zeros=row.exact_zeros,
    )  # fmt: skip


def run_module_row(row: ModuleRow) -> dict[str, float]:
    """Worst relative error of each input and parameter gradient of a module row (``input0``, ``weight``, ...)."""
    module, inputs = row.make(np.random.default_rng(0))
    return check_module(module, *inputs, h=H, rng=np.random.default_rng(1), exact_zeros=row.exact_zeros)


def _run(name: str, kind: str, tol: float, check: Callable[[], dict[str, float]]) -> Result:
    try:
        # floating-point errors raise, as in the test suite: an overflow is a failed row, not a quiet NaN
        with np.errstate(all="raise", under="ignore"):
            errors = check()
    except Exception as e:  # one broken row must not hide the rest of the table
        return Result(name, kind, {}, tol, False, f"{type(e).__name__}: {e}")
    passed = bool(errors) and all(err < tol for err in errors.values())  # NaN fails
    return Result(name, kind, errors, tol, passed, None if errors else "nothing was checked")


def run_all(op_rows: Sequence[OpRow] | None = None, module_rows: Sequence[ModuleRow] | None = None) -> list[Result]:
    """Check every op row, then every module row (the package's tables unless others are given)."""
    op_rows = OP_ROWS if op_rows is None else op_rows
    module_rows = MODULE_ROWS if module_rows is None else module_rows
    results = [_run(row.id, "op", row.tol, partial(run_op_row, row)) for row in op_rows]
    results += [_run(row.id, "module", row.tol, partial(run_module_row, row)) for row in module_rows]
    return results


def print_table(
    file: TextIO | None = None,
    *,
    op_rows: Sequence[OpRow] | None = None,
    module_rows: Sequence[ModuleRow] | None = None,
) -> int:
    """Print one line per checked gradient and a summary; return 0 if every row passes, else 1.

    ``file`` defaults to ``sys.stdout`` (looked up at call time).
    """
    out = sys.stdout if file is None else file
    start = time.perf_counter()
    results = run_all(op_rows, module_rows)
    elapsed = time.perf_counter() - start

    cells = [("name", "kind", "argument", "worst rel error", "tol", "ok")]
    for r in results:
        tol = f"{r.tol:.0e}"
        for arg, err in r.errors.items():
            cells.append((r.name, r.kind, arg, f"{err:.2e}", tol, "ok" if err < r.tol else "FAIL"))
        if r.error is not None:
            cells.append((r.name, r.kind, "-", "raised" if not r.errors else "-", tol, "FAIL"))
    widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]))]

    def fmt(line: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip()

    print(fmt(cells[0]), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for line in cells[1:]:
        print(fmt(line), file=out)

    failed = [r for r in results if not r.passed]
    for r in failed:
        if r.error is not None:
            print(f"{r.name}: {r.error}", file=out)
    n_grads = sum(len(r.errors) for r in results)
    summary = f"{len(results)} checks ({n_grads} gradients), {len(results) - len(failed)} passed"
    if failed:
        summary += f", {len(failed)} FAILED: " + ", ".join(r.name for r in failed)
    print(f"{summary} ({elapsed:.1f} s, float64, h={H:g})", file=out)
    return 1 if failed else 0
