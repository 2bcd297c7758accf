"""Callbacks: code the Trainer calls at fixed points of training (Keras's hooks, given the trainer).

Order: callbacks run in the order given, except that checkpointing callbacks
(:class:`ModelCheckpoint`) run *last* at the end of an epoch and *first* at the end of
training, so a checkpoint holds the state of every other callback after that epoch, and the
weights training reached before any best-weights restore.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .._validate import check_choice, check_float, check_int, invalid_type
from ..data.loader import DataLoader
from ..nn.module import Module
from ..serialization.files import writing

__all__ = ["Callback", "EarlyStopping", "ModelCheckpoint", "TrainerView", "check_callbacks", "dispatch"]


class TrainerView(Protocol):
    """What a callback may use of the :class:`~scratchnn.train.Trainer` its hooks are given.

    The callback contract, written down once: annotate a hook's ``trainer`` with it. The Trainer
    is one (mypy checks that where it calls the hooks, in :func:`dispatch`).
    """

    stop_training: bool  # set it to True to end training after this step or epoch

    @property
    def model(self) -> Module: ...
    @property
    def step(self) -> int: ...  # optimizer steps taken
    @property
    def epoch(self) -> int: ...  # epochs completed
    @property
    def max_steps(self) -> int | None: ...
    @property
    def run_dir(self) -> Path | None: ...
    @property
    def resumed(self) -> bool: ...  # whether training continues from a loaded checkpoint
    @property
    def train_loader(self) -> DataLoader | None: ...  # the loader over fit's training data
    def save_checkpoint(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None: ...
    def evaluate(self, X: np.ndarray, y: np.ndarray, batch_size: int | None = None) -> dict[str, float]: ...


class Callback:
    """Base class: override the hooks you need. ``trainer.stop_training = True`` ends training.

    ``state_dict()`` / ``load_state_dict()`` carry a callback's state through checkpoints, so
    a resumed run continues with the same best value, patience counter, ...
    """

    def on_train_begin(self, trainer: TrainerView) -> None:
        """Called when ``fit`` starts (also when it resumes)."""

    def on_train_end(self, trainer: TrainerView) -> None:
        """Called when ``fit`` ends (epochs or steps done, or stopped), not when it raises."""

    def on_epoch_begin(self, trainer: TrainerView, epoch: int) -> None:
        """Called before the first batch of epoch ``epoch`` (1-based); not when resuming mid-epoch."""

    def on_epoch_end(self, trainer: TrainerView, epoch: int, logs: dict[str, Any]) -> None:
        """Called after validation with the epoch's history entry (which callbacks may add keys to)."""

    def on_batch_end(self, trainer: TrainerView, step: int, logs: dict[str, Any]) -> None:
        """Called after each optimizer step; ``logs`` holds ``loss`` and ``batch`` (1-based in the epoch)."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""


class _Monitor:
    """Tracks the best value of one history key; mode 'auto' maximizes keys with 'acc' in the name."""

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        if not isinstance(monitor, str):
            raise invalid_type("monitor", "a history key such as 'val_loss' or 'val_acc'", monitor)
        check_choice(mode, "mode", ("auto", "min", "max"))
        self.monitor = monitor
        self.mode = ("max" if "acc" in monitor else "min") if mode == "auto" else mode
        self.min_delta = abs(check_float(min_delta, "min_delta"))
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0

    def value(self, logs: dict[str, Any]) -> float:
        if logs.get(self.monitor) is None:
            have = [k for k, v in logs.items() if v is not None]
            raise KeyError(
                f"monitor={self.monitor!r} is not in this epoch's history entry; it has {have} "
                "(val_* keys need validation data passed to fit)"
            )
        return float(logs[self.monitor])

    def improved(self, current: float) -> bool:
        """Better than the best by more than min_delta (NaN never improves)."""
        if self.mode == "min":
            return current < self.best - self.min_delta
        return current > self.best + self.min_delta

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch = float(state["best"]), int(state["best_epoch"])


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights`` the model gets the weights of its best epoch back when
    training ends (early or not), as Keras's callback of the same name.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        patience: int = 5,
        min_delta: float = 0.0,
        restore_best_weights: bool = True,
    ) -> None:
        self._m = _Monitor(monitor, mode, min_delta)
        self.patience = check_int(patience, "patience", low=0)
        self.restore_best_weights = bool(restore_best_weights)
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights: OrderedDict[str, np.ndarray] | None = None

    @property
    def monitor(self) -> str:
        return self._m.monitor

    @property
    def best(self) -> float:
        return self._m.best

    @property
    def best_epoch(self) -> int:
        return self._m.best_epoch

    def on_epoch_end(self, trainer: TrainerView, epoch: int, logs: dict[str, Any]) -> None:
        current = self._m.value(logs)
        if self._m.improved(current):
            self._m.best, self._m.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_weights = trainer.model.state_dict()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True

    def on_train_end(self, trainer: TrainerView) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        return {
            **self._m.state_dict(),
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "best_weights": self.best_weights,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._m.load_state_dict(state)
        self.wait, self.stopped_epoch = int(state["wait"]), int(state["stopped_epoch"])
        weights = state["best_weights"]
        self.best_weights = None if weights is None else OrderedDict(weights)


class ModelCheckpoint(Callback):
    """Write resumable checkpoints: ``best.safetensors`` when ``monitor`` improves, ``last.safetensors``.

    Each is a full trainer checkpoint (:meth:`Trainer.save_checkpoint`), written at the end of
    each epoch (``last`` also when training stops mid-epoch, and every ``every_n_steps`` optimizer
    steps within an epoch, for long epochs; a run resumes from there exactly). ``dirpath=None`` means
    ``<run_dir>/checkpoints``; ``monitor=None`` means ``val_loss``, or ``train_loss`` when ``fit``
    has no validation data. The callback replaces only its own files: at the start of a
    new (not resumed) run it refuses a folder that already holds them.
    """

    def __init__(
        self,
        dirpath: str | Path | None = None,
        *,
        monitor: str | None = None,
        mode: str = "auto",
        save_best: bool = True,
        save_last: bool = True,
        every_n_steps: int | None = None,
    ) -> None:
        self.dirpath = None if dirpath is None else Path(dirpath)
        self.every_n_steps = None if every_n_steps is None else check_int(every_n_steps, "every_n_steps", low=1)
        self._m = _Monitor(monitor or "val_loss", mode, 0.0)
        self._choose_monitor = monitor is None
        self.save_best, self.save_last = bool(save_best), bool(save_last)
        self._last_saved_step = -1
        self._started = False

    @property
    def best_model_path(self) -> Path | None:
        """Where the best checkpoint is (None before one was written)."""
        return None if self._m.best_epoch == 0 or self.dirpath is None else self.dirpath / "best.safetensors"

    @property
    def last_model_path(self) -> Path | None:
        return None if self.dirpath is None else self.dirpath / "last.safetensors"

    def on_train_begin(self, trainer: TrainerView) -> None:
        if self.dirpath is None:
            if trainer.run_dir is None:
                raise ValueError("ModelCheckpoint(dirpath=None) needs a Trainer with run_dir, or pass dirpath")
            self.dirpath = trainer.run_dir / "checkpoints"
        with writing(self.dirpath):
            self.dirpath.mkdir(parents=True, exist_ok=True)
        if not (trainer.resumed or self._started):
            for name in ("best", "last"):
                for suffix in (".safetensors", ".json"):
                    if (self.dirpath / (name + suffix)).exists():
                        raise FileExistsError(
                            f"{self.dirpath / (name + suffix)} exists from another run; "
                            "ModelCheckpoint does not overwrite it: choose another dirpath"
                        )
        self._started = True  # from now on the files there are this callback's own

    def on_epoch_end(self, trainer: TrainerView, epoch: int, logs: dict[str, Any]) -> None:
        assert self.dirpath is not None
        if self._choose_monitor:
            self._m.monitor = "val_loss" if logs.get("val_loss") is not None else "train_loss"
        current = self._m.value(logs)
        if self.save_best and self._m.improved(current):
            self._m.best, self._m.best_epoch = current, epoch
            trainer.save_checkpoint(self.dirpath / "best.safetensors", overwrite=True)
        if self.save_last:
            self._save_last(trainer)

    def on_batch_end(self, trainer: TrainerView, step: int, logs: dict[str, Any]) -> None:
        if self.every_n_steps is not None and step % self.every_n_steps == 0:
            assert trainer.train_loader is not None
            if logs["batch"] < len(trainer.train_loader) or not self.save_last:  # else the epoch's end writes it
                self._save_last(trainer)

    def on_train_end(self, trainer: TrainerView) -> None:
        if self.save_last and trainer.step != self._last_saved_step:  # stopped mid-epoch
            self._save_last(trainer)

    def _save_last(self, trainer: TrainerView) -> None:
        assert self.dirpath is not None
        self._last_saved_step = trainer.step
        trainer.save_checkpoint(self.dirpath / "last.safetensors", overwrite=True)

    def state_dict(self) -> dict[str, Any]:
        return self._m.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._m.load_state_dict(state)


def check_callbacks(callbacks: Iterable[Any]) -> list[Callback]:
    """``callbacks`` as a new list, checked to be :class:`Callback` objects."""
    out = list(callbacks)
    for cb in out:
        if not isinstance(cb, Callback):
            raise invalid_type("callbacks", "a sequence of scratchnn.train.Callback objects", cb)
    return out


def dispatch(callbacks: Sequence[Callback], hook: str, trainer: TrainerView, *args: Any) -> None:
    """Call ``hook`` on each callback, in the order the module doc gives (checkpointing ones last or first)."""
    checkpointers: list[Callback] = [cb for cb in callbacks if isinstance(cb, ModelCheckpoint)]
    others: list[Callback] = [cb for cb in callbacks if not isinstance(cb, ModelCheckpoint)]
    for cb in checkpointers + others if hook == "on_train_end" else others + checkpointers:
        getattr(cb, hook)(trainer, *args)
