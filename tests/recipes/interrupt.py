"""Stopping a recipe's run the way a user does, for the resume tests."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

from scratchnn.recipes.session import Stopwatch


def ctrl_c_after_each_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each epoch's end sends this process SIGINT, as Ctrl-C would: the next run stops after its first epoch.
    ``monkeypatch.undo()`` lets later runs finish."""

    def ctrl_c(self: Stopwatch, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(Stopwatch, "on_epoch_end", ctrl_c, raising=False)
