"""`scratchnn train ... --resume RUN_DIR` (scratchnn/recipes/session.py): a run stopped by SIGINT or SIGTERM
mid-epoch checkpoints, prints the command that resumes it, and once resumed ends bit for bit where an
uninterrupted run ends (weights, metrics.jsonl and results.json apart from timings); and --resume's errors.

The stop tests run real processes: start one, poll for its first --checkpoint-every checkpoint (no
sleeping for a guessed time: the machine may be loaded), signal it, run the command it printed."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from scratchnn.cli import main
from scratchnn.recipes import mlp
from scratchnn.train import read_jsonl
from scratchnn.train.checkpoint import read_checkpoint

from .interrupt import assert_same_checkpoints, ctrl_c_after_each_epoch

TIMEOUT = 600  # seconds for one process on a loaded two-core machine: generous, the runs take seconds
TIMINGS = ("train_seconds", "train_cpu_seconds", "seconds_per_epoch")
MLP = ["mlp", "--dataset", "spirals", "--hidden", "64", "64", "--lr", "1e-2", "--epochs", "40", "--batch-size", "16",
       "--val-size", "100", "--quiet"]  # fmt: skip
CNN = [
    "cnn",
    "--dataset",
    "synthetic",
    "--channels",
    "4",
    "8",
    "--hidden",
    "16",
    "--epochs",
    "12",
    "--batch-size",
    "32",
    "--val-size",
    "100",
    "--flip",
    "--quiet",
]  # fmt: skip  (BatchNorm, dropout and flips: all resume exactly)


def _start(cwd: Path, *argv: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "scratchnn", "train", *argv]
    return subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    _, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, err


def _stopped_run(cwd: Path, argv: list[str], signum: int) -> tuple[str, Path]:
    """Start a run, signal it once its first mid-epoch checkpoint is there; the resume command it printed."""
    run = cwd / "stopped"
    proc = _start(cwd, *argv, "--checkpoint-every", "5", "--out", "stopped")
    deadline = time.monotonic() + TIMEOUT
    while not (run / "checkpoints" / "last.safetensors").exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signum)
    status, err = _finish(proc)
    assert status == 128 + signum, err
    assert "Traceback" not in err and err.count("\n") == 1, err
    how = "interrupted" if signum == signal.SIGINT else "stopped by SIGTERM"
    assert err.startswith(f"scratchnn: {how} at step "), err
    command = err.split("resume with: ")[1].strip()
    assert command == f"scratchnn train {argv[0]} --resume stopped"
    assert not (run / "results.json").exists()
    return command, run


def _compare(straight: Path, resumed: Path) -> None:
    assert_same_checkpoints(straight, resumed)  # final weights (best: what the test set saw), optimizer and all
    lines = [[{k: v for k, v in e.items() if k != "time"} for e in read_jsonl(run / "metrics.jsonl")]
             for run in (straight, resumed)]  # fmt: skip
    assert lines[1] == lines[0]
    results = [json.loads((run / "results.json").read_text()) for run in (straight, resumed)]
    assert {k: v for k, v in results[1].items() if k not in TIMINGS} == {
        k: v for k, v in results[0].items() if k not in TIMINGS
    }


def _seconds_before(run: Path) -> float:
    states = read_checkpoint(run / "checkpoints" / "last.safetensors")["trainer"]["callbacks"]
    return float(next(c["state"]["seconds"] for c in states if c["type"] == "Stopwatch"))


@pytest.mark.slow
@pytest.mark.parametrize("argv,signum", [(MLP, signal.SIGINT), (MLP, signal.SIGTERM), (CNN, signal.SIGTERM)])
def test_a_run_stopped_by_a_signal_resumes_to_the_uninterrupted_result(
    tmp_path: Path, argv: list[str], signum: int
) -> None:
    straight = _start(tmp_path, *argv, "--out", "straight")  # meanwhile, on the other core
    command, run = _stopped_run(tmp_path, argv, signum)
    stopped = read_checkpoint(run / "checkpoints" / "last.safetensors")["trainer"]
    # stopped with training under way (on this machine a few steps into epoch 1: mid-epoch; under heavy
    # load it may be later, even at an epoch's end: the resume must be exact wherever it stopped)
    assert stopped["step"] >= 5 and stopped["epoch"] < int(argv[argv.index("--epochs") + 1])
    before = _seconds_before(run)
    resumed = subprocess.run(
        [sys.executable, "-m", *shlex.split(command)], cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert resumed.returncode == 0, resumed.stderr
    assert _finish(straight) == (0, "")
    _compare(tmp_path / "straight", run)
    assert json.loads((run / "results.json").read_text())["train_seconds"] >= round(before, 1)  # both sessions


# ------------------------------------------------------------------------------------------- --resume's rules
SMALL = ["train", "mlp", "--dataset", "spirals", "--hidden", "8", "--epochs", "2", "--val-size", "100", "--quiet"]


@pytest.fixture
def stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A run folder whose training a SIGINT stopped at the end of its first epoch (in this process)."""

    ctrl_c_after_each_epoch(monkeypatch)
    run = tmp_path / "run"
    assert main([*SMALL, "--out", str(run)]) == 130
    monkeypatch.undo()
    assert read_checkpoint(run / "checkpoints" / "last.safetensors")["trainer"]["epoch"] == 1
    return run


def test_resume_with_the_same_flags_or_none(stopped: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main([*SMALL, "--resume", str(stopped), "--checkpoint-every", "3"]) == 0  # same values; a free one
    assert json.loads((stopped / "results.json").read_text())["epochs"] == 2
    assert main(["train", "mlp", "--resume", str(stopped)]) == 2  # finished now
    assert "which finished (it holds results.json): nothing to resume" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--lr", "0.1"], "Invalid value for `--lr`: expected the run's own 0.001 (--resume continues the run"),
        (["--hidden", "8", "8"], "Invalid value for `--hidden`: expected the run's own [8]"),
        (["--out", "elsewhere"], "Invalid value for `--out`: expected no --out with --resume"),
    ],
)
def test_resume_refuses_flags_that_change_the_run(
    stopped: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["train", "mlp", "--resume", str(stopped), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"scratchnn: error: {message}") and err.count("\n") == 1, err


def test_resume_needs_a_stopped_run_of_the_same_recipe(
    stopped: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["train", "cnn", "--resume", str(stopped)]) == 2
    assert "expected a run of `scratchnn train cnn`. Received: --resume=" in capsys.readouterr().err
    assert main(["train", "mlp", "--resume", str(tmp_path / "nowhere")]) == 2
    assert "no such run folder" in capsys.readouterr().err
    (stopped / "checkpoints" / "last.safetensors").unlink()
    assert main(["train", "mlp", "--resume", str(stopped)]) == 2
    assert "the run stopped before its first checkpoint" in capsys.readouterr().err


def test_sigterm_before_training_ends_the_command_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def load(*args: Any) -> Any:
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("SIGTERM did not stop the command")

    monkeypatch.setattr(mlp, "load_dataset", load)
    assert main([*SMALL, "--out", str(tmp_path / "run")]) == 143
    assert capsys.readouterr().err == "scratchnn: terminated\n"
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # put back
