"""How `scratchnn train` fails: a diverging run, and files that cannot be written, each end in one line
naming what went wrong (exit status 1: the command was right, the run failed), never a traceback or a
flood of NumPy warnings, and keep the last good checkpoint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SPIRALS = ["--dataset", "spirals", "--hidden", "16", "--val-size", "100", "--batch-size", "64", "--quiet"]


def _scratchnn(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "scratchnn", *argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=cwd)


def test_a_diverging_run_is_one_line_without_warnings(tmp_path: Path) -> None:
    proc = _scratchnn("train", "mlp", *SPIRALS, "--lr", "1e10", "--epochs", "3", "--out", "run", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr  # no RuntimeWarning, no traceback
    assert proc.stderr.startswith("scratchnn: error: training diverged at epoch 1, step ")
    assert proc.stderr.rstrip().endswith("lower the learning rate or clip gradients")
    assert not (tmp_path / "run" / "results.json").exists()
