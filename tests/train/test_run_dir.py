"""Run folders: config, metrics.jsonl, checkpoints, curves; never reused; unique names."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scratchnn import serialization
from scratchnn.train import ModelCheckpoint, make_run_dir, read_jsonl
from scratchnn.train import run_dir as run_dir_module

from .helpers import make_trainer, params_of, spirals

X, Y, XV, YV = spirals(20)


def test_run_folder_contents(tmp_path: Path) -> None:
    run = tmp_path / "run"
    trainer = make_trainer(epochs=3, run_dir=run, config={"experiment": "spirals", "hidden": 32})
    history = trainer.fit(X, Y, XV, YV)
    assert sorted(p.name for p in run.iterdir()) == ["checkpoints", "config.json", "curves.png", "metrics.jsonl"]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.safetensors", "last.safetensors"]
    config = json.loads((run / "config.json").read_text())
    assert config["config"] == {"experiment": "spirals", "hidden": 32}
    assert config["trainer"]["batch_size"] == 32 and config["trainer"]["epochs"] == 3
    assert config["trainer"]["callbacks"] == ["ModelCheckpoint"]
    lines = read_jsonl(run / "metrics.jsonl")
    assert lines == history  # one line per epoch, the same numbers
    assert [e["epoch"] for e in lines] == [1, 2, 3] and [e["step"] for e in lines] == [2, 4, 6]
    assert set(lines[0]) == {"epoch", "step", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "time"}
    assert (run / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_existing_run_folder_is_never_reused(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "notes.txt").write_text("mine")
    trainer = make_trainer(epochs=2, run_dir=run)
    before = params_of(trainer.model)
    with pytest.raises(FileExistsError, match=r"run_dir .*run already holds files; a run folder is never reused"):
        trainer.fit(X, Y)
    assert [p.name for p in run.iterdir()] == ["notes.txt"]  # nothing written
    assert trainer.step == 0
    for k, v in params_of(trainer.model).items():
        np.testing.assert_array_equal(v, before[k])  # nothing trained either


def test_an_empty_existing_folder_is_fine_and_a_second_fit_continues_the_same_run(tmp_path: Path) -> None:
    run = make_run_dir(tmp_path, "mlp")
    trainer = make_trainer(epochs=2, run_dir=run)
    trainer.fit(X, Y)
    trainer.epochs = 3
    trainer.fit(X, Y)  # the trainer's own run: appended, not refused
    assert [e["epoch"] for e in read_jsonl(run / "metrics.jsonl")] == [1, 2, 3]


def test_make_run_dir_names_are_unique(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "strftime", lambda fmt: "20261128-231500")
    paths = [make_run_dir(tmp_path / "runs", "mlp") for _ in range(3)]
    assert [p.name for p in paths] == ["mlp-20261128-231500", "mlp-20261128-231500-2", "mlp-20261128-231500-3"]
    assert all(p.is_dir() and not any(p.iterdir()) for p in paths)
    with pytest.raises(TypeError, match="Invalid type for `name`"):
        make_run_dir(tmp_path, "a/b")


# ------------------------------------------------------------------------------------------- log and checkpoints agree
def _epochs(run: Path) -> list[tuple[int, bool]]:
    return [(e["epoch"], e.get("partial", False)) for e in read_jsonl(run / "metrics.jsonl")]


def _fail(monkeypatch: pytest.MonkeyPatch, target: Any, name: str, *, call: int, of: str | None = None) -> None:
    """Make ``target.name`` raise OSError at its ``call``-th call (counting calls on a path named ``of``)."""
    real, calls = getattr(target, name), []

    def maybe_fail(path: Path, *args: Any) -> Any:
        if of is None or path.name == of:
            calls.append(path)
            if len(calls) == call:
                raise OSError("disk full")
        return real(path, *args)

    monkeypatch.setattr(target, name, maybe_fail)


def _resume(run: Path, checkpoint: str = "last") -> list[dict[str, Any]]:
    trainer = make_trainer(epochs=3, run_dir=run)
    trainer.load_checkpoint(run / "checkpoints" / f"{checkpoint}.safetensors")
    return trainer.fit(X, Y, XV, YV)


def test_a_checkpoint_that_fails_mid_run_then_a_resume_logs_each_epoch_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    # epoch 2's last.safetensors cannot be written (its best.safetensors, written before, can)
    _fail(monkeypatch, serialization, "write_atomic", call=2, of="last.safetensors")
    with pytest.raises(OSError, match="disk full"):
        make_trainer(epochs=3, run_dir=run).fit(X, Y, XV, YV)
    monkeypatch.undo()
    assert _epochs(run) == [(1, False)]  # the log does not run ahead of last.safetensors
    history = _resume(run)
    assert _epochs(run) == [(1, False), (2, False), (3, False)]
    assert read_jsonl(run / "metrics.jsonl") == history


def test_a_log_line_lost_after_its_checkpoint_comes_back_on_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    _fail(monkeypatch, run_dir_module, "append_jsonl", call=2)  # epoch 2's checkpoints are written, its line is not
    with pytest.raises(OSError, match="disk full"):
        make_trainer(epochs=3, run_dir=run).fit(X, Y, XV, YV)
    monkeypatch.undo()
    assert _epochs(run) == [(1, False)]
    _resume(run)
    assert _epochs(run) == [(1, False), (2, False), (3, False)]


def test_a_resume_from_an_earlier_checkpoint_cuts_the_log_back_and_drops_a_torn_line(tmp_path: Path) -> None:
    run = tmp_path / "run"
    trainer = make_trainer(epochs=3, run_dir=run, callbacks=[ModelCheckpoint(monitor="train_loss", mode="max")])
    trainer.fit(X, Y, XV, YV)  # best.safetensors: epoch 1 (the train loss only falls)
    assert serialization.load(run / "checkpoints" / "best.safetensors")["trainer"]["epoch"] == 1
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"epoch": 4, "st')  # a line torn by a crash
    before = (run / "metrics.jsonl").read_text()
    trainer = make_trainer(epochs=3, run_dir=run, callbacks=[ModelCheckpoint(monitor="train_loss", mode="max")])
    trainer.load_checkpoint(run / "checkpoints" / "best.safetensors")
    assert (run / "metrics.jsonl").read_text() == before  # loading writes nothing; the next fit does
    trainer.fit(X, Y, XV, YV)
    assert _epochs(run) == [(1, False), (2, False), (3, False)]
    assert read_jsonl(run / "metrics.jsonl")[0] == json.loads(before.splitlines()[0])  # kept as it was


def test_checkpoints_get_the_same_mode_as_the_other_files(tmp_path: Path) -> None:
    run = tmp_path / "run"
    make_trainer(epochs=1, run_dir=run).fit(X, Y)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [*run.iterdir(), *(run / "checkpoints").iterdir()]}
    modes.pop("checkpoints")
    assert len(set(modes.values())) == 1, modes
