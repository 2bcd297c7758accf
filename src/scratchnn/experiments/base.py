"""Experiment machinery: one file per experiment, a registry, run folders with a ``report.md``.

Writing an experiment
---------------------
An experiment is one module ``scratchnn/experiments/<name>.py`` holding:

- ``Config``: a ``@dataclass(frozen=True)`` whose fields have defaults and a comment each. Field
  types drive ``--set key=value`` parsing (int, float, bool, str, ``Literal[...]``, tuples/lists of
  those, ``X | None``; see :mod:`.overrides`). Check values in ``__post_init__`` with the
  ``_validate`` helpers if you like: it runs on every override.
- ``QUICK: dict[str, Any]``: the field overrides of ``--quick`` (same code path, seconds long,
  no download: synthetic data there, so the test suite never needs a real dataset).
- ``run(config: Config, ctx: RunContext) -> dict``: does the work and returns JSON-able results
  (numpy numbers and arrays are converted; non-finite floats are written as null). It saves its
  figures with ``ctx.savefig(fig, "name")`` and may log rows with ``ctx.log({...})``.
- figure functions, e.g. ``plot_curves(results) -> Figure``, called by ``run``; make figures with
  :func:`new_figure` (matplotlib's object API on an Agg canvas, imported lazily: no pyplot).
- ``report(config: Config, results: dict) -> Report``: question, setup, tables, figure files and a
  reading computed from the numbers (see :class:`~.report.Report`, :class:`~.report.Table`).

and one row in :data:`.registry.EXPERIMENTS` (``name -> ExperimentInfo(module, title, quick, full)``).
The smallest complete example is ``tests/experiments/toy.py``; a real one is :mod:`.optimizers`.

Imports for an experiment file::

    from .base import RunContext, new_figure          # ctx.rng, ctx.log, ctx.savefig, ctx.echo
    from .report import Report, Table, fmt

``Report(title, question, setup, tables=[Table(columns, rows, caption="")], figures=[("x.png",
"caption")], reading="markdown built from the numbers", headline="one line for docs/experiments.md")``.
``ctx.echo(msg)`` prints progress on the command line only. A diverging run is a result: catch it
(``np.errstate(over="raise", invalid="raise")`` + ``FloatingPointError``, or a non-finite loss)
and report the step, as :func:`.optimizers.train_one` does.

Running one
-----------
``run_experiment(name, *, quick=False, seed=0, overrides=None, out=None, verbose=False)``
returns ``(results, out_dir)``. Order of settings: ``Config()`` defaults, then ``QUICK`` (with
``quick``), then ``overrides`` (``{"lr": "0.1"}``, strings parsed by field type). Every check
(name, overrides, the output folder) happens before anything is written. The run folder
(``out``, which must be absent or empty, or a new ``runs/<name>-<time>``) gets:

- ``config.json``: experiment name, quick, seed, overrides and the full config;
- ``metrics.jsonl``: the rows ``ctx.log`` appended (the file exists even if empty);
- the PNGs ``ctx.savefig`` wrote;
- ``results.json``: ``run``'s results plus ``runtime_s``;
- ``report.md``: :func:`~.report.render_markdown` of ``report(config, results)``; every figure it
  names must exist.

``scratchnn.manual_seed(seed)`` is called before ``run``, and ``ctx.rng`` is
``np.random.default_rng(seed)``: pass it (or generators spawned from it) to data, init and
shuffling, so a seed reproduces a run.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import _config
from ..train.run_dir import to_jsonable
from .overrides import apply_overrides
from .registry import load_experiment
from .report import Report, render_markdown

__all__ = ["RunContext", "run_experiment", "config_for", "new_figure", "jsonable"]


@dataclass
class RunContext:
    """What ``run(config, ctx)`` gets besides its config: the run folder, the seed's generator, logging.

    Attributes:
        out_dir: the run folder (new, created by :func:`run_experiment`).
        seed: the run's seed; ``rng`` is ``np.random.default_rng(seed)``.
        quick: whether this is the ``--quick`` version.
        verbose: whether :meth:`echo` prints (the command line sets it).
    """

    out_dir: Path
    seed: int = 0
    quick: bool = False
    verbose: bool = False
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

    def echo(self, message: str) -> None:
        """Print a progress line (only when verbose, i.e. on the command line)."""
        if self.verbose:
            print(message, file=sys.stdout, flush=True)


def new_figure(ncols: int = 1, *, nrows: int = 1, size: tuple[float, float] = (5.0, 3.8)) -> tuple[Any, Any]:
    """``fig, axes`` on an Agg canvas (matplotlib's object API: no pyplot, no display, no global state).

    ``axes`` is a flat list of ``nrows * ncols`` Axes; ``size`` is the size of one panel in inches.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, [ax for row in axes for ax in row]


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


def config_for(name: str, *, quick: bool = False, overrides: dict[str, Any] | None = None) -> Any:
    """The ``Config`` a run of ``name`` would use: defaults, then ``QUICK`` if ``quick``, then ``overrides``."""
    module = load_experiment(name)
    config = module.Config()
    if quick:
        config = dataclasses.replace(config, **module.QUICK)
    return apply_overrides(config, overrides, experiment=name)


def _new_out_dir(name: str, out: str | os.PathLike[str] | None) -> Path:
    if out is None:
        from ..train.run_dir import make_run_dir

        return make_run_dir("runs", name)
    path = Path(out).expanduser()
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(
            f"run folder {path} already exists and is not empty; a run folder is never reused "
            "(nothing was written): pass a new --out, or omit it for runs/<name>-<time>"
        )
    path.mkdir(parents=True, exist_ok=True)
    return path


def _command(name: str, quick: bool, seed: int, overrides: dict[str, Any] | None) -> str:
    parts = ["scratchnn experiment run", name] + (["--quick"] if quick else []) + [f"--seed {seed}"]
    parts += [f"--set {shlex.quote(f'{k}={v}')}" for k, v in (overrides or {}).items()]
    return " ".join(parts)


def run_experiment(
    name: str,
    *,
    quick: bool = False,
    seed: int = 0,
    overrides: dict[str, Any] | None = None,
    out: str | os.PathLike[str] | None = None,
    verbose: bool = False,
) -> tuple[dict[str, Any], Path]:
    """Run experiment ``name`` into a new run folder; returns ``(results, out_dir)`` (see the module docstring)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"Invalid value for `seed`: expected a non-negative int. Received: seed={seed!r}")
    module = load_experiment(name)
    config = config_for(name, quick=quick, overrides=overrides)
    out_dir = _new_out_dir(name, out)
    settings = {
        "experiment": name,
        "quick": quick,
        "seed": seed,
        "overrides": dict(overrides or {}),
        "config": dataclasses.asdict(config),
    }
    (out_dir / "config.json").write_text(json.dumps(jsonable(settings), indent=2) + "\n")
    (out_dir / "metrics.jsonl").touch()
    _config.manual_seed(seed)
    ctx = RunContext(out_dir, seed=seed, quick=quick, verbose=verbose)
    start = time.perf_counter()
    results = dict(module.run(config, ctx))
    runtime = time.perf_counter() - start
    results["runtime_s"] = round(runtime, 2)
    (out_dir / "results.json").write_text(json.dumps(jsonable(results), indent=2) + "\n")
    report = module.report(config, results)
    if not isinstance(report, Report):
        raise TypeError(f"{module.__name__}.report() must return a Report, not {type(report).__name__}")
    absent = [file for file, _ in report.figures if not (out_dir / file).is_file()]
    if absent:
        raise FileNotFoundError(f"{module.__name__}.report() names figures the run did not save: {absent}")
    text = render_markdown(
        report, name=name, command=_command(name, quick, seed, overrides), runtime_s=runtime, quick=quick
    )
    (out_dir / "report.md").write_text(text)
    ctx.echo(f"{report.title}: {report.headline}" if report.headline else report.title)
    return results, out_dir
