"""Run folders: one new folder per training run, never reused.

A run folder holds ``config.json`` (what was run), ``metrics.jsonl`` (one JSON line per epoch,
appended as training goes, each after the checkpoint of its epoch), ``checkpoints/`` and, at the
end, ``curves.png``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import invalid_type
from ..serialization.files import cannot_write, write_atomic, writing

__all__ = [
    "RunLog",
    "resume_metrics",
    "make_run_dir",
    "prepare_run_dir",
    "open_run_dir",
    "trainer_settings",
    "to_jsonable",
    "write_json",
    "append_jsonl",
    "read_jsonl",
]


def make_run_dir(root: str | os.PathLike[str] = "runs", name: str = "mlp") -> Path:
    """Create and return a new, empty folder ``root/name-YYYYmmdd-HHMMSS`` (``-2``, ``-3``... if taken)."""
    if not isinstance(name, str) or not name or os.sep in name:
        raise invalid_type("name", "a non-empty folder name without path separators", name)
    root_path = Path(root).expanduser()
    with writing(root_path):
        root_path.mkdir(parents=True, exist_ok=True)
    base = f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    n = 1
    while True:
        path = root_path / (base if n == 1 else f"{base}-{n}")
        try:
            path.mkdir()  # exist_ok=False: two runs racing for a name both end up with their own folder
            return path
        except FileExistsError:
            n += 1
        except OSError as e:
            raise cannot_write(path, e) from e


def prepare_run_dir(path: str | os.PathLike[str], *, resume: bool = False) -> Path:
    """Check that ``path`` can hold a new run (absent or empty) and create it with ``checkpoints/``.

    With ``resume`` an existing run folder is accepted as it is (its ``metrics.jsonl`` is
    appended to). Raises ``FileExistsError`` before writing anything otherwise.
    """
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise FileExistsError(f"run_dir {p} exists and is not a folder")
    if not resume and p.is_dir() and any(p.iterdir()):
        raise FileExistsError(
            f"run_dir {p} already holds files; a run folder is never reused, so nothing of an earlier "
            "run is overwritten. Use scratchnn.train.make_run_dir() for a fresh one, or resume "
            "with trainer.load_checkpoint() from a checkpoint in that folder."
        )
    with writing(p):
        (p / "checkpoints").mkdir(parents=True, exist_ok=True)
    return p


def open_run_dir(
    path: Path, config: Mapping[str, Any], settings: Mapping[str, Any], *, resumed_from: Path | None = None
) -> None:
    """Prepare ``path`` for a run and write its ``config.json`` (``config`` and the trainer's ``settings``).

    A run resumed from a checkpoint inside ``path`` (``resumed_from``) goes on in that folder, and
    keeps the ``config.json`` it has.
    """
    prepare_run_dir(path, resume=resumed_from is not None and path.resolve() in resumed_from.parents)
    if not (path / "config.json").exists():
        write_json(path / "config.json", {"config": config, "trainer": settings})


def to_jsonable(obj: Any) -> Any:
    """A JSON-able copy: numpy numbers and arrays become Python ones, tuples lists, the rest ``repr``."""
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    return repr(obj)  # a config record, not something to rebuild objects from


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON to a new file (never over an existing one)."""
    text = json.dumps(to_jsonable(obj), indent=2) + "\n"
    with writing(path), open(path, "x") as f:
        f.write(text)


def append_jsonl(path: Path, entry: Mapping[str, Any]) -> None:
    """Append one JSON line (non-finite floats as NaN / Infinity, as Python's json writes them)."""
    line = json.dumps(to_jsonable(entry)) + "\n"
    with writing(path), open(path, "a") as f:
        f.write(line)


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The entries of a ``metrics.jsonl`` file, in order."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def trainer_settings(trainer: Mapping[str, Any]) -> dict[str, Any]:
    """What ``config.json`` records about a trainer besides the caller's config.

    ``trainer`` is the trainer's attributes as a plain dict (``vars(trainer)``): ``model``,
    ``criterion``, ``optimizer``, ``scheduler``, ``scheduler_interval``, ``batch_size``,
    ``epochs``, ``max_steps``, ``clip_grad_norm``, ``callbacks`` and ``metrics``.
    """
    return {
        "model": repr(trainer["model"]),
        "criterion": repr(trainer["criterion"]),
        "optimizer": repr(trainer["optimizer"]),
        "scheduler": None if trainer["scheduler"] is None else type(trainer["scheduler"]).__name__,
        "scheduler_interval": trainer["scheduler_interval"],
        "batch_size": trainer["batch_size"],
        "epochs": trainer["epochs"],
        "max_steps": trainer["max_steps"],
        "clip_grad_norm": trainer["clip_grad_norm"],
        "callbacks": [type(cb).__name__ for cb in trainer["callbacks"]],
        "metrics": [name for name, _, _ in trainer["metrics"]],
    }


class RunLog:
    """A Trainer's side of its run folder: opened by the first ``fit``, ``metrics.jsonl`` behind the checkpoints.

    An epoch's history entry is :meth:`log` ged when it is made, but its line is written by
    :meth:`flush` only after the epoch's callbacks (:class:`ModelCheckpoint` among them) ran: when
    writing the checkpoint fails, the log does not run ahead of it (a resume would log the epoch
    twice). After a resume from a checkpoint of this folder, :meth:`open` first makes the log match
    the checkpoint (:func:`resume_metrics`).
    """

    def __init__(self) -> None:
        self.opened = False
        self.pending: list[dict[str, Any]] = []  # entries metrics.jsonl does not hold yet
        self.resumed_from: Path | None = None  # the checkpoint the trainer loaded
        self._rewind: tuple[list[dict[str, Any]], int] | None = None  # its history and step, until open

    def resume(self, checkpoint: Path, history: list[dict[str, Any]], step: int) -> None:
        """The trainer loaded ``checkpoint`` (its ``history`` and ``step``): the next :meth:`open` rewinds to it."""
        self.resumed_from, self._rewind, self.pending = checkpoint, (list(history), step), []

    def open(self, path: Path | None, config: Mapping[str, Any], trainer: Mapping[str, Any]) -> None:
        """At each ``fit``: the first time, :func:`open_run_dir`; after a resume, :func:`resume_metrics`.

        ``trainer`` is ``vars(trainer)`` (see :func:`trainer_settings`). Lines a failed ``fit`` left
        unwritten (a checkpoint that could not be written) are written now.
        """
        if path is None:
            return
        if not self.opened:
            open_run_dir(path, config, trainer_settings(trainer), resumed_from=self.resumed_from)
            self.opened = True
        if self._rewind is not None:
            resume_metrics(path, self.resumed_from, *self._rewind)
            self._rewind = None
        self.flush(path)

    def log(self, entry: dict[str, Any]) -> None:
        self.pending.append(entry)

    def flush(self, path: Path | None) -> None:
        """Append the pending entries to ``path/metrics.jsonl``."""
        if path is not None:
            for entry in self.pending:
                append_jsonl(path / "metrics.jsonl", entry)
        self.pending = []


def resume_metrics(path: Path, checkpoint: Path | None, history: list[dict[str, Any]], step: int) -> None:
    """Make ``path/metrics.jsonl`` what a run resumed from ``checkpoint`` (at ``step``) should find.

    Only for a checkpoint inside the run folder ``path``. Lines past ``step`` go (epochs whose
    checkpoint failed, or a resume from ``best``), so does a line torn by a crash, and so does the
    ``partial`` line of an epoch that training stopped in (the resumed run writes the epoch's full
    line, so the log reads as an uninterrupted run's); entries of the checkpoint's ``history`` the
    file lacks (lost between the checkpoint and the line) are added.
    The file is replaced atomically, and only when that changes it.
    """
    if checkpoint is None or path.resolve() not in checkpoint.parents:
        return
    log = path / "metrics.jsonl"
    old = log.read_text().splitlines() if log.exists() else []
    kept, last = [], -1
    for line in old:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict) or entry.get("partial") or not isinstance(entry.get("step"), int):
            continue
        if last <= entry["step"] <= step:
            kept.append(line)
            last = entry["step"]
    kept += [
        json.dumps(to_jsonable(e))
        for e in history
        if not e.get("partial") and isinstance(e.get("step"), int) and e["step"] > last
    ]
    if kept != old:
        write_atomic(log, "".join(line + "\n" for line in kept).encode())
