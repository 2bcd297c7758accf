"""How `scratchnn train` fails: a diverging run, and files that cannot be written, each end in one line
naming what went wrong (exit status 1: the command was right, the run failed), never a traceback or a
flood of NumPy warnings, and keep the last good checkpoint."""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scratchnn.cli import main
from scratchnn.train import read_jsonl
from scratchnn.train.checkpoint import read_checkpoint

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


def test_clip_grad_norm_is_the_advice_that_works(tmp_path: Path) -> None:
    # the run above, with SGD so that a step is at most lr * max_norm = 1 long: it no longer diverges
    args = ["train", "mlp", *SPIRALS, "--optimizer", "sgd", "--weight-decay", "0", "--lr", "1e30", "--epochs", "3"]
    proc = _scratchnn(*args, "--clip-grad-norm", "1e-30", "--out", "run", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "run" / "results.json").exists()
    proc = _scratchnn(*args, "--out", "unclipped", cwd=tmp_path)
    assert proc.returncode == 1 and "training diverged" in proc.stderr, proc.stderr


def test_an_out_folder_that_cannot_be_made_is_one_line_naming_it(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    proc = _scratchnn("train", "mlp", *SPIRALS, "--epochs", "1", "--out", "notes.txt/run", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == "scratchnn: error: cannot write notes.txt/run: Not a directory\n"


# Tests run as root here, and root writes into a chmod 0o500 folder all the same; a read-only bind mount
# needs privileges a test should not ask for. So the unwritable folder is simulated where the library
# meets the file system: the write calls themselves raise the PermissionError the kernel would.


def test_an_unwritable_out_folder_is_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    real_mkdir = Path.mkdir

    def mkdir(self: Path, *args: Any, **kwargs: Any) -> None:
        if locked in self.parents:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    assert main(["train", "mlp", *SPIRALS, "--epochs", "1", "--out", str(locked / "run")]) == 1
    assert capsys.readouterr().err == f"scratchnn: error: cannot write {locked / 'run'}: Permission denied\n"
    assert list(locked.iterdir()) == []


def test_a_checkpoints_folder_that_becomes_unwritable_keeps_the_last_good_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    real_open, writes = os.open, []

    def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith(".tmp") and Path(path).parent == run / "checkpoints":
            writes.append(path)
            if len(writes) > 2:  # epoch 1 wrote best.safetensors and last.safetensors; now the folder is locked
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    assert main(["train", "mlp", *SPIRALS, "--epochs", "3", "--out", str(run)]) == 1
    err = capsys.readouterr().err
    assert re.fullmatch(
        rf"scratchnn: error: cannot write {re.escape(str(run / 'checkpoints'))}/(best|last)\.safetensors: "
        r"Permission denied\n",
        err,
    ), err
    monkeypatch.undo()
    ckpt = read_checkpoint(run / "checkpoints" / "last.safetensors")  # whole, from the end of epoch 1
    assert ckpt["trainer"]["epoch"] == 1
    assert [e["epoch"] for e in read_jsonl(run / "metrics.jsonl")] == [1]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.safetensors", "last.safetensors"]
