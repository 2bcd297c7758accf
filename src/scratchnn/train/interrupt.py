"""Stopping on a signal: Ctrl-C (SIGINT) or a scheduler's SIGTERM ends training cleanly and resumably.

Without it, SIGINT raises ``KeyboardInterrupt`` somewhere inside a step (no checkpoint of where
training was) and SIGTERM kills the process. With :class:`StopOnSignal` the step under way is
finished, training stops as if a callback had set ``stop_training``, the partial epoch is logged
and :class:`~scratchnn.train.ModelCheckpoint` writes ``last.safetensors`` at the end of training,
from which ``load_checkpoint`` and ``fit`` continue bit for bit.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterable
from types import FrameType, TracebackType
from typing import Any

from .callbacks import Callback, TrainerView

__all__ = ["StopOnSignal", "Interrupted"]


class Interrupted(KeyboardInterrupt):
    """A signal that :class:`StopOnSignal` could not turn into a clean stop (``signum``: which one).

    Raised at once for a signal outside ``fit`` (before it starts, after it ends: there is no step to
    finish) and for a second signal while the first one's stop is under way (press Ctrl-C twice to
    abort at once; the checkpoint written before stays). A ``KeyboardInterrupt``, as Ctrl-C is.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StopOnSignal(Callback):
    """On SIGINT or SIGTERM, finish the current step and stop training (a checkpoint follows).

    A callback and a context manager: pass it to the Trainer, and run ``fit`` inside ``with`` (the
    handlers are installed on entering and the previous ones put back on leaving)::

        stop = StopOnSignal()
        trainer = Trainer(model, criterion, optimizer, callbacks=[stop], run_dir="runs/a")
        with stop:
            trainer.fit(X, y)
        if stop.signum is not None:  # stopped: runs/a/checkpoints/last.safetensors resumes it
            ...

    ``signum`` is the signal that stopped training (None if none did). Handlers can only be set in
    the main thread: elsewhere the ``with`` block installs nothing and training is not stopped.
    """

    def __init__(self, signals: Iterable[int] = (signal.SIGINT, signal.SIGTERM)) -> None:
        self.signals = tuple(signal.Signals(s) for s in signals)
        self.signum: int | None = None
        self._trainer: TrainerView | None = None
        self._previous: dict[signal.Signals, Any] = {}

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for s in self.signals:
                self._previous[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        self._previous = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._trainer is None or self.signum is not None:
            raise Interrupted(signum)
        self.signum = signum
        self._trainer.stop_training = True  # checked after the step under way

    def on_train_begin(self, trainer: TrainerView) -> None:
        self._trainer = trainer

    def on_train_end(self, trainer: TrainerView) -> None:
        self._trainer = None
