"""One session of ``scratchnn train MODEL``: a new run folder, or ``--resume`` of a stopped one.

Every recipe gets the same behaviour from :class:`Session` (and :func:`resume_args`, applied by
``recipes.cli`` before the recipe runs):

- ``--resume RUN_DIR`` continues a run that stopped (Ctrl-C, SIGTERM, a crash, a full disk) from
  ``RUN_DIR/checkpoints/last.safetensors`` with the run's own flags, read back from its
  ``config.json``. Other flags may be left out; given, they must equal the run's (an error says
  which does not), except ``--quiet`` and ``--checkpoint-every``, which change no result. The
  finished run equals one that was never stopped: weights, ``metrics.jsonl`` (but for the ``time``
  of each epoch) and ``results.json`` (whose training time adds up every session's);
- SIGINT or SIGTERM during training finishes the step under way, writes ``last.safetensors`` and
  prints the command that resumes the run (exit status 130 or 143);
- ``--checkpoint-every N`` also writes ``last.safetensors`` every N steps within an epoch.
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..serialization.files import write_atomic
from ..train.callbacks import Callback, ModelCheckpoint, TrainerView
from ..train.interrupt import StopOnSignal
from ..train.run_dir import make_run_dir, to_jsonable
from .common import check_new_run_dir

if TYPE_CHECKING:
    import numpy as np

    from ..train import Trainer

__all__ = ["Session", "Stopwatch", "resume_args", "FREE_ON_RESUME"]

#: flags that change no result: a resumed run may take other values for them
FREE_ON_RESUME = ("quiet", "checkpoint_every")
_NOT_CONFIG = ("command", "model", "resume")  # in args, but not part of what a run is


def _done(trainer: Trainer) -> str:
    return f"{trainer.epoch} of {trainer.epochs} epochs done"


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def resume_args(args: argparse.Namespace, given: set[str]) -> None:
    """Give ``args`` the flags of the run ``args.resume`` (its ``config.json``); ``given``: the flags typed.

    Raises ``ValueError`` for ``--out`` (the run folder is ``--resume``'s), for a folder of another
    recipe's run, and for a given flag whose value is not the run's (but :data:`FREE_ON_RESUME`);
    ``FileNotFoundError`` when the folder or its ``config.json`` is missing.
    """
    run = Path(args.resume).expanduser()
    if "out" in given:
        raise ValueError(
            "Invalid value for `--out`: expected no --out with --resume (the run continues in its own "
            f"folder). Received: --out={args.out}"
        )
    try:
        saved = json.loads((run / "config.json").read_text())["config"]
    except FileNotFoundError:
        raise FileNotFoundError(
            f"--resume {run}: no such run folder (it needs the config.json of a scratchnn train run)"
        ) from None
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"--resume {run}: its config.json is not one scratchnn train wrote") from None
    command = f"train {args.model}"
    if not isinstance(saved, dict) or saved.get("command") != command:
        raise ValueError(
            f"Invalid value for `--resume`: expected a run of `scratchnn {command}`. "
            f"Received: --resume={run}, a run of `scratchnn {saved.get('command') if isinstance(saved, dict) else '?'}`"
        )
    for dest, value in vars(args).items():
        if dest in _NOT_CONFIG or dest == "out" or dest not in saved:
            continue  # a flag newer than the run keeps its default
        if dest in given and dest in FREE_ON_RESUME:
            continue
        if dest in given and to_jsonable(value) != saved[dest]:
            raise ValueError(
                f"Invalid value for `{_flag(dest)}`: expected the run's own {saved[dest]!r} (--resume continues "
                f"the run as it started; leave the flag out). Received: {_flag(dest)}={value!r}"
            )
        setattr(args, dest, saved[dest])


class Stopwatch(Callback):
    """Wall-clock and CPU seconds spent in ``fit``, summed over every session of a run.

    Its state holds the totals up to the moment a checkpoint is written, so a resumed run goes on
    counting from there (the time after the last checkpoint of a session that crashed is lost).
    """

    def __init__(self) -> None:
        self.seconds = self.cpu_seconds = 0.0  # the totals of the sessions before this one's fit
        self._start: tuple[float, float] | None = None

    def on_train_begin(self, trainer: TrainerView) -> None:
        self._start = (time.perf_counter(), time.process_time())

    def on_train_end(self, trainer: TrainerView) -> None:
        self.seconds, self.cpu_seconds = self.totals()
        self._start = None

    def totals(self) -> tuple[float, float]:
        """Wall-clock and CPU (all threads) seconds so far."""
        if self._start is None:
            return self.seconds, self.cpu_seconds
        return (
            self.seconds + time.perf_counter() - self._start[0],
            self.cpu_seconds + time.process_time() - self._start[1],
        )

    def state_dict(self) -> dict[str, Any]:
        seconds, cpu_seconds = self.totals()
        return {"seconds": seconds, "cpu_seconds": cpu_seconds}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.seconds, self.cpu_seconds = float(state["seconds"]), float(state["cpu_seconds"])
        self._start = None


class Session:
    """The run folder, the checkpoint to resume and the callbacks of one ``scratchnn train`` session.

    Built first thing (it checks ``--out`` or ``--resume`` before anything is loaded)::

        session = Session(args, "mlp")
        ...  # data, model, optimizer, the recipe's own callbacks
        trainer = Trainer(..., callbacks=[*mine, *session.callbacks], run_dir=session.run_dir,
                          config=session.config(args, num_train=...))
        if not session.fit(trainer, X_train, y_train, X_val, y_val):
            return session.exit_status  # stopped by a signal: the resume command was printed
        ...  # evaluate; results with session.stopwatch.seconds
        session.write_results(results)
    """

    def __init__(self, args: argparse.Namespace, kind: str, *, monitor: str | None = None, mode: str = "auto") -> None:
        self.kind = kind
        self.resume_from: Path | None = None
        self.stop = StopOnSignal()
        self.stopwatch = Stopwatch()
        self.callbacks: list[Callback] = [
            self.stop,
            self.stopwatch,
            ModelCheckpoint(every_n_steps=args.checkpoint_every, monitor=monitor, mode=mode),  # best.safetensors
        ]
        if args.resume is None:
            check_new_run_dir(args.out, kind)
            self._run_dir = None if args.out is None else Path(args.out)
            return
        self._run_dir = Path(args.resume).expanduser()
        if (self._run_dir / "results.json").exists():
            raise ValueError(
                f"Invalid value for `--resume`: expected a run that has not finished. Received: "
                f"--resume={self._run_dir}, which finished (it holds results.json): nothing to resume"
            )
        self.resume_from = self._run_dir / "checkpoints" / "last.safetensors"
        if not self.resume_from.is_file():
            raise FileNotFoundError(
                f"--resume {self._run_dir}: the run stopped before its first checkpoint "
                f"({self.resume_from} is missing); start it anew"
            )

    @property
    def run_dir(self) -> Path:
        """``--resume``'s folder, ``--out``, or a new ``runs/<kind>-<time>`` (made at the first call)."""
        if self._run_dir is None:
            self._run_dir = make_run_dir("runs", self.kind)
        return self._run_dir

    def config(self, args: argparse.Namespace, **extra: Any) -> dict[str, Any]:
        """What ``config.json`` records: the command, every flag (``--resume`` reads them back), ``extra``."""
        flags = {k: v for k, v in vars(args).items() if k not in _NOT_CONFIG}
        return {"command": f"train {self.kind}", **flags, **extra}

    def fit(
        self,
        trainer: Trainer,
        X_train: np.ndarray,
        y_train: np.ndarray,
        X_val: np.ndarray | None,
        y_val: np.ndarray | None,
    ) -> bool:
        """Load the checkpoint to resume (if any) and train; False when a signal stopped training."""
        with self.stop:
            if self.resume_from is not None:
                trainer.load_checkpoint(self.resume_from)
                if trainer.verbose:
                    print(f"resuming {self.run_dir} at step {trainer.step} ({_done(trainer)})")
            trainer.fit(X_train, y_train, X_val, y_val)
        if self.stop.signum is None:
            return True
        signum = self.stop.signum
        how = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
        print(
            f"scratchnn: {how} at step {trainer.step} ({_done(trainer)}); "
            f"resume with: scratchnn train {self.kind} --resume {shlex.quote(str(self.run_dir))}",
            file=sys.stderr,
        )
        return False

    @property
    def exit_status(self) -> int:
        """128 + the signal that stopped training (130 for SIGINT, 143 for SIGTERM), as a shell reports it."""
        return 128 + (self.stop.signum or 0)

    def write_results(self, results: dict[str, Any]) -> Path:
        """``results.json`` in the run folder (its presence marks the run as finished)."""
        path = self.run_dir / "results.json"
        write_atomic(path, (json.dumps(results, indent=2) + "\n").encode())
        return path
