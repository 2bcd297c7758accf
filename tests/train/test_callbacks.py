"""EarlyStopping and ModelCheckpoint on scripted metrics; hook order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scratchnn.train import Callback, EarlyStopping, ModelCheckpoint, Trainer
from scratchnn.train.checkpoint import read_checkpoint

from .helpers import assert_tree_equal, make_trainer, params_of, spirals

X, Y, XV, YV = spirals(20)


class Script(Callback):
    """Puts scripted values under ``key`` in each epoch's entry (callbacks later in the list see them)."""

    def __init__(self, key: str, values: list[float]) -> None:
        self.key, self.values = key, values

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        logs[self.key] = self.values[epoch - 1]


class Snapshots(Callback):
    def __init__(self) -> None:
        self.params: dict[int, dict[str, np.ndarray]] = {}
        self.events: list[str] = []

    def on_train_begin(self, trainer: Trainer) -> None:
        self.events.append("train_begin")

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        self.events.append(f"epoch_begin {epoch}")

    def on_batch_end(self, trainer: Trainer, step: int, logs: dict[str, Any]) -> None:
        self.events.append(f"batch {step}")

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        self.params[epoch] = params_of(trainer.model)
        self.events.append(f"epoch_end {epoch}")

    def on_train_end(self, trainer: Trainer) -> None:
        self.events.append("train_end")


def test_early_stopping_stops_at_the_right_epoch_and_restores_the_best_weights() -> None:
    # best 0.8 at epoch 2; 0.79 at epoch 4 is not better by min_delta=0.05, so patience 2 runs out there
    snaps = Snapshots()
    stopper = EarlyStopping(monitor="score", mode="min", patience=2, min_delta=0.05)
    trainer = make_trainer(
        epochs=10, batch_size=30, lr=0.05, callbacks=[Script("score", [1.0, 0.8, 0.9, 0.79, 0.5, 0.4]), snaps, stopper]
    )
    history = trainer.fit(X, Y)
    assert len(history) == 4 and [h["score"] for h in history] == [1.0, 0.8, 0.9, 0.79]
    assert (stopper.best_epoch, stopper.best, stopper.stopped_epoch) == (2, 0.8, 4)
    assert not np.array_equal(snaps.params[4]["0.weight"], snaps.params[2]["0.weight"])
    assert_tree_equal(params_of(trainer.model), snaps.params[2])
    assert snaps.events[:4] == ["train_begin", "epoch_begin 1", "batch 1", "batch 2"]
    assert snaps.events[-2:] == ["epoch_end 4", "train_end"]


def test_early_stopping_maximizes_accuracy_and_can_keep_the_last_weights() -> None:
    snaps = Snapshots()
    stopper = EarlyStopping(monitor="val_acc", patience=1, restore_best_weights=False)
    trainer = make_trainer(epochs=5, callbacks=[Script("val_acc", [0.5, 0.7, 0.6, 0.9, 0.95]), snaps, stopper])
    trainer.fit(X, Y, XV, YV)
    assert (stopper.best_epoch, stopper.stopped_epoch) == (2, 3)  # 'auto' is 'max' for accuracies
    assert_tree_equal(params_of(trainer.model), snaps.params[3])


def test_missing_monitor_key_says_what_there_is() -> None:
    trainer = make_trainer(epochs=2, callbacks=[EarlyStopping()])
    with pytest.raises(KeyError, match=r"monitor='val_loss' is not in this epoch's history entry; it has \["):
        trainer.fit(X, Y)


def test_model_checkpoint_writes_best_and_last(tmp_path: Path) -> None:
    snaps = Snapshots()
    ckpt = ModelCheckpoint(tmp_path / "ck", monitor="score")
    trainer = make_trainer(epochs=4, callbacks=[Script("score", [3.0, 1.0, 2.0, 1.5]), snaps, ckpt])
    trainer.fit(X, Y)
    assert ckpt.best_model_path == tmp_path / "ck" / "best.safetensors"
    best, last = read_checkpoint(tmp_path / "ck" / "best.safetensors"), read_checkpoint(ckpt.last_model_path)
    assert_tree_equal(best["model"], snaps.params[2])
    assert_tree_equal(last["model"], snaps.params[4])
    assert best["trainer"]["epoch"] == 2 and last["trainer"]["step"] == trainer.step
    # a new run does not overwrite another run's checkpoints
    other = make_trainer(epochs=1, callbacks=[ModelCheckpoint(tmp_path / "ck")])
    with pytest.raises(FileExistsError, match="best.safetensors exists from another run"):
        other.fit(X, Y)


def test_checkpoint_at_epoch_end_holds_the_other_callbacks_state(tmp_path: Path) -> None:
    # ModelCheckpoint is listed first but writes after EarlyStopping has counted the epoch
    stopper = EarlyStopping(monitor="score", patience=5)
    trainer = make_trainer(
        epochs=3, callbacks=[ModelCheckpoint(tmp_path, monitor="score"), Script("score", [1.0, 2.0, 3.0]), stopper]
    )
    trainer.fit(X, Y)
    saved = read_checkpoint(tmp_path / "last.safetensors")["trainer"]["callbacks"]
    assert [c["type"] for c in saved] == ["ModelCheckpoint", "Script", "EarlyStopping"]
    assert saved[2]["state"]["wait"] == 2 == stopper.wait


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"mode": "up"}, ValueError, r"Invalid value for `mode`: expected one of 'auto', 'min', 'max'"),
        ({"patience": -1}, ValueError, r"Invalid value for `patience`: expected an int >= 0"),
        ({"monitor": 3}, TypeError, r"Invalid type for `monitor`"),
    ],
)
def test_early_stopping_bad_arguments(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        EarlyStopping(**kwargs)
