"""What an experiment's ``run(config, ctx)`` gets besides its config: ``RunContext`` (the run folder, the
seed's generator, logging, progress lines) and :func:`jsonable` for what it returns.

An experiment imports only this module and :mod:`.report` from the harness (never the runner,
the registry or the command line, which import the experiments).
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...train.run_dir import to_jsonable

__all__ = ["RunContext", "jsonable"]


@dataclass
class RunContext:
    """What ``run(config, ctx)`` gets besides its config: the run folder, the seed's generator, logging.

    Attributes:
        out_dir: the run folder (new, created by :func:`run_experiment`).
        seed: the run's seed; ``rng`` is ``np.random.default_rng(seed)``.
        quick: whether this is the ``--quick`` version.
        verbose: whether :meth:`echo` prints and :meth:`map` shows its progress bar (the command line sets it).
        backend, workers, threads, ray_address: where :meth:`map` runs its tasks (see
            :func:`~.sweep.run_sweep`); they change where a run executes, never its results.
    """

    out_dir: Path
    seed: int = 0
    quick: bool = False
    verbose: bool = False
    backend: str = "serial"
    workers: int | None = None
    threads: int = 1
    ray_address: str | None = None
    rng: np.random.Generator = field(init=False)
    figures: list[str] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir)
        self.rng = np.random.default_rng(self.seed)

    def log(self, row: dict[str, Any]) -> None:
        """Append ``row`` as one JSON line to ``metrics.jsonl``."""
        with open(self.out_dir / "metrics.jsonl", "a") as f:
            f.write(json.dumps(jsonable(row)) + "\n")

    def savefig(self, fig: Any, name: str) -> str:
        """Write the matplotlib figure ``fig`` as ``<name>.png`` in the run folder; return the file name."""
        file = name if name.endswith(".png") else f"{name}.png"
        if os.sep in file or file.startswith("."):
            raise ValueError(f"Invalid value for `name`: expected a plain file name. Received: name={name!r}")
        fig.savefig(self.out_dir / file, dpi=110)
        self.figures.append(file)
        return file

    def map(self, fn: Callable[..., Mapping[str, Any]], tasks: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
        """``fn(**kwargs)`` for every ``key -> kwargs`` of ``tasks``, through the sweep runner; results in key order.

        Each task is an independent run with its own folder ``runs/<key>/`` (``task.json``,
        ``results.json``) in the run folder: a resumed experiment skips the runs that finished, and
        the results are the same whichever backend ran them. ``fn`` is a module-level function of
        its keyword arguments only (seeds among them) returning JSON-able results.
        """
        from .sweep import Task, run_sweep

        return run_sweep(
            [Task(key, fn, kwargs) for key, kwargs in tasks.items()],
            self.out_dir / "runs",
            backend=self.backend,
            workers=self.workers,
            threads=self.threads,
            ray_address=self.ray_address,
            progress=self.verbose,
        )

    def echo(self, message: str) -> None:
        """Print a progress line (only when verbose, i.e. on the command line)."""
        if self.verbose:
            print(message, file=sys.stdout, flush=True)


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy values made Python ones and non-finite floats made None (strict JSON)."""
    obj = to_jsonable(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [jsonable(v) for v in obj]
    return obj
