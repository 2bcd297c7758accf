"""Run folders: config, metrics.jsonl, checkpoints, curves; never reused; unique names."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from scratchnn.train import make_run_dir, read_jsonl

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
