"""Stopping and resuming anywhere: StopOnSignal (scratchnn/train/interrupt.py) ends training after the step
under way with a checkpoint; ModelCheckpoint(every_n_steps) writes mid-epoch ones; a run resumed from
either (even one taken after an epoch's last step, even with augmentation) equals an uninterrupted run."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import scratchnn
from scratchnn import nn, optim
from scratchnn.train import (
    Callback,
    Interrupted,
    ModelCheckpoint,
    RandomHorizontalFlip,
    StopOnSignal,
    Trainer,
    read_jsonl,
)
from scratchnn.train.checkpoint import read_checkpoint

from .helpers import assert_tree_equal, make_trainer, params_of, spirals

X, Y, XV, YV = spirals(50)  # 150 samples, batches of 32: 5 steps per epoch
EPOCHS = 3


class Signal(Callback):
    """Send ``signums`` to this process after step ``at`` (a user's Ctrl-C, a scheduler's SIGTERM)."""

    def __init__(self, at: int, *signums: int) -> None:
        self.at, self.signums = at, signums

    def on_batch_end(self, trainer: Any, step: int, logs: dict[str, Any]) -> None:
        if step == self.at:
            for s in self.signums:
                os.kill(os.getpid(), s)


class Crash(Callback):
    """Die after step ``at`` (a power cut: nothing after it runs)."""

    def __init__(self, at: int) -> None:
        self.at = at

    def on_batch_end(self, trainer: Any, step: int, logs: dict[str, Any]) -> None:
        if step == self.at:
            raise RuntimeError("power cut")


def _run(run: Path | None, *extra: Callback, every: int | None = None) -> Trainer:
    """A fresh trainer on the same seeds; its callbacks have the same types in every call (checkpoints check)."""
    scratchnn.manual_seed(0)
    callbacks: list[Callback] = [StopOnSignal(), ModelCheckpoint(every_n_steps=every), *extra]
    return make_trainer(noise=True, epochs=EPOCHS, run_dir=run, callbacks=callbacks)


def _without_time(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.items() if k != "time"} for e in entries]


@pytest.fixture(scope="module")
def straight(tmp_path_factory: pytest.TempPathFactory) -> tuple[Trainer, Path]:
    run = tmp_path_factory.mktemp("straight") / "run"
    trainer = _run(run, Signal(0))
    trainer.fit(X, Y, XV, YV)
    return trainer, run


def _resume(run: Path, *extra: Callback, every: int | None = None) -> Trainer:
    trainer = _run(run, *extra, every=every)
    trainer.load_checkpoint(run / "checkpoints" / "last.safetensors")
    with trainer.callbacks[0]:  # type: ignore[attr-defined]
        trainer.fit(X, Y, XV, YV)
    return trainer


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_after_the_step_with_a_checkpoint_that_resumes_exactly(
    tmp_path: Path, signum: int, straight: tuple[Trainer, Path]
) -> None:
    run = tmp_path / "run"
    trainer = _run(run, Signal(7, signum))
    stop = trainer.callbacks[0]
    assert isinstance(stop, StopOnSignal)
    with stop:
        trainer.fit(X, Y, XV, YV)
    assert signal.getsignal(signum) in (signal.default_int_handler, signal.SIG_DFL)  # put back
    assert stop.signum == signum and trainer.step == 7 and trainer.history[-1]["partial"]
    assert read_checkpoint(run / "checkpoints" / "last.safetensors")["trainer"]["step"] == 7
    resumed = _resume(run, Signal(0))
    assert_tree_equal(params_of(resumed.model), params_of(straight[0].model))
    assert_tree_equal(resumed.optimizer.state_dict(), straight[0].optimizer.state_dict())
    want = _without_time(read_jsonl(straight[1] / "metrics.jsonl"))
    assert _without_time(read_jsonl(run / "metrics.jsonl")) == want  # the partial line of epoch 2 went


def test_a_signal_outside_fit_or_a_second_one_raises_interrupted(tmp_path: Path) -> None:
    with pytest.raises(Interrupted) as info, StopOnSignal():
        os.kill(os.getpid(), signal.SIGTERM)
    assert info.value.signum == signal.SIGTERM and isinstance(info.value, KeyboardInterrupt)
    trainer = _run(tmp_path / "run", Signal(7, signal.SIGINT, signal.SIGINT))  # Ctrl-C twice: abort at once
    with pytest.raises(Interrupted), trainer.callbacks[0]:  # type: ignore[attr-defined]
        trainer.fit(X, Y, XV, YV)
    assert read_checkpoint(tmp_path / "run" / "checkpoints" / "last.safetensors")["trainer"]["step"] == 5


@pytest.mark.parametrize("crash_at,every,saved_at", [(9, 3, 6), (12, 5, 10), (6, 5, 5)])
def test_every_n_steps_checkpoints_resume_exactly(
    tmp_path: Path, crash_at: int, every: int, saved_at: int, straight: tuple[Trainer, Path]
) -> None:
    # (6, 5, 5): step 5 ends epoch 1, whose end writes last.safetensors (every_n_steps does not twice)
    run = tmp_path / "run"
    with pytest.raises(RuntimeError, match="power cut"):
        _run(run, Crash(crash_at), every=every).fit(X, Y, XV, YV)
    assert read_checkpoint(run / "checkpoints" / "last.safetensors")["trainer"]["step"] == saved_at
    resumed = _resume(run, Crash(0), every=every)
    assert_tree_equal(params_of(resumed.model), params_of(straight[0].model))
    assert _without_time(resumed.history) == _without_time(straight[0].history)


class SaveAt(Callback):
    def __init__(self, step: int, path: Path) -> None:
        self.step, self.path = step, path

    def on_batch_end(self, trainer: Any, step: int, logs: dict[str, Any]) -> None:
        if step == self.step:
            trainer.save_checkpoint(self.path)


def test_a_checkpoint_after_an_epochs_last_step_resumes_with_that_epochs_end(tmp_path: Path) -> None:
    straight = make_trainer(epochs=EPOCHS, callbacks=[SaveAt(0, tmp_path / "x.safetensors")])
    straight.fit(X, Y, XV, YV)
    first = make_trainer(epochs=EPOCHS, callbacks=[SaveAt(5, tmp_path / "ck.safetensors")], max_steps=6)
    first.fit(X, Y, XV, YV)
    second = make_trainer(7, epochs=EPOCHS, callbacks=[SaveAt(0, tmp_path / "x.safetensors")])
    second.load_checkpoint(tmp_path / "ck.safetensors")  # step 5: epoch 1 trained, its end not yet done
    second.fit(X, Y, XV, YV)
    assert second.step == straight.step == 15
    assert_tree_equal(params_of(second.model), params_of(straight.model))
    assert _without_time(second.history) == _without_time(straight.history)


def _flip_trainer(seed: int, **kwargs: Any) -> tuple[Trainer, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.standard_normal((40, 1, 4, 4)).astype(np.float32)  # (N, C, H, W), asymmetric in W
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3, rng=rng))
    shuffle = np.random.default_rng(1)  # shared by the loader and the flips, as in `scratchnn train cnn`
    flip = RandomHorizontalFlip(images, rng=shuffle)
    opt = optim.SGD(model.parameters(), lr=0.1)
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, batch_size=8, epochs=3, callbacks=[flip], verbose=False,
                      rng=shuffle, **kwargs)  # fmt: skip
    return trainer, images


def test_augmented_images_of_the_epoch_come_back_on_a_mid_epoch_resume(tmp_path: Path) -> None:
    labels = np.arange(40) % 3
    straight, images = _flip_trainer(0)
    straight.fit(images, labels)
    first, images = _flip_trainer(0, max_steps=8)  # 5 steps per epoch: stops mid-epoch 2
    first.fit(images, labels)
    first.save_checkpoint(tmp_path / "ck.safetensors")
    second, images = _flip_trainer(0)  # fresh, unflipped images
    second.load_checkpoint(tmp_path / "ck.safetensors")
    second.fit(images, labels)
    assert_tree_equal(params_of(second.model), params_of(straight.model))
