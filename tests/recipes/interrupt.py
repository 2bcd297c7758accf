"""Stopping a recipe's run the way a user does, and comparing its checkpoints after --resume, for the resume tests."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from scratchnn.recipes.session import Stopwatch
from scratchnn.train.checkpoint import read_checkpoint

from ..train.helpers import assert_tree_equal


def ctrl_c_after_each_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each epoch's end sends this process SIGINT, as Ctrl-C would: the next run stops after its first epoch.
    ``monkeypatch.undo()`` lets later runs finish."""

    def ctrl_c(self: Stopwatch, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(Stopwatch, "on_epoch_end", ctrl_c, raising=False)


def assert_same_checkpoints(straight: Path, run: Path, names: tuple[str, ...] = ("last", "best")) -> None:
    """The resumed run's checkpoints hold the model and optimizer state of the run that was never stopped."""
    for name in names:
        a, b = (read_checkpoint(r / "checkpoints" / f"{name}.safetensors") for r in (straight, run))
        assert_tree_equal(b["model"], a["model"])
        assert_tree_equal(b["optimizer"], a["optimizer"])
