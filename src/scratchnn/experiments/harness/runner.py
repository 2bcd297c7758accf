"""Running an experiment: ``run_experiment`` writes a new run folder with ``config.json``, ``metrics.jsonl``,
figures, ``results.json`` and ``report.md``.

Writing an experiment
---------------------
An experiment is one folder ``scratchnn/experiments/<name>/`` holding ``run.py`` and ``report.py``
(``__init__.py`` re-exports their public names; the registry imports the folder as a module).
``run.py`` holds:

- ``Config``: a ``@dataclass(frozen=True)`` whose fields have defaults and a comment each. Field
  types drive ``--set key=value`` parsing (int, float, bool, str, ``Literal[...]``, tuples/lists of
  those, ``X | None``; see :mod:`.overrides`). Check values in ``__post_init__`` with the
  ``_validate`` helpers if you like: it runs on every override.
- ``QUICK: dict[str, Any]``: the field overrides of ``--quick`` (same code path, seconds long,
  no download: synthetic data there, so the test suite never needs a real dataset).
- ``run(config: Config, ctx: RunContext) -> dict``: does the work and returns JSON-able results
  (numpy numbers and arrays are converted; non-finite floats are written as null). It may log rows
  with ``ctx.log({...})``, and runs its repeats and grids through ``ctx.map(fn, tasks)`` (the sweep
  runner). It draws no figures (a figure that cannot be rebuilt from the results may still be saved
  with ``ctx.savefig(fig, "name")``).

``report.py`` imports ``Config`` from ``run.py`` (one way) and holds:

- ``figures(config, results) -> {name: Figure}``: every figure, drawn from the results alone with
  :func:`scratchnn.figures.new_figure`; the runner saves each as ``<name>.png``, so a report can be
  redrawn from ``results.json`` without running again;
- ``report(config: Config, results: dict) -> Report``: question, setup, tables, figure files and a
  reading computed from the numbers (see :class:`~.report.Report`, :class:`~.report.Table`).

and one row in :data:`.registry.EXPERIMENTS` (``name -> ExperimentInfo(module, title, quick, full)``).
The smallest complete example is ``tests/experiments/toy.py``; a real one is
:mod:`scratchnn.experiments.optimizers`.

Imports for an experiment's files::

    from ..harness.context import RunContext           # ctx.rng, ctx.log, ctx.map, ctx.echo   (run.py)
    from ..harness.report import Report, Table, fmt    # (report.py)
    from ...figures import new_figure                  # (report.py)

``Report(title, question, setup, tables=[Table(columns, rows, caption="")], figures=[("x.png",
"caption")], reading="markdown built from the numbers", headline="one line for docs/experiments.md")``.
``ctx.echo(msg)`` prints progress on the command line only. A diverging run is a result: catch it
(``np.errstate(over="raise", invalid="raise")`` + ``FloatingPointError``, or a non-finite loss)
and report the step, as ``optimizers.train_one`` does.

Running one
-----------
``run_experiment(name, *, quick=False, seed=0, overrides=None, out=None, verbose=False,
backend="serial", workers=None, threads=1, ray_address=None)`` returns ``(results, out_dir)``.
Order of settings: ``Config()`` defaults, then ``QUICK`` (with
``quick``), then ``overrides`` (``{"lr": "0.1"}``, strings parsed by field type). Every check
(name, overrides, the output folder) happens before anything is written. The run folder
(``out``, which must be absent or empty, or a new ``runs/<name>-<time>``) gets:

- ``config.json``: experiment name, quick, seed, overrides, BLAS threads per run and the full config;
- ``runs/<key>/``: one folder per run of the experiment's sweep (``task.json``, ``results.json``, or
  ``error.txt`` for a run that failed twice; see :mod:`.sweep`);
- ``metrics.jsonl``: the rows ``ctx.log`` appended (the file exists even if empty);
- the PNGs of ``figures(config, results)`` (and any ``ctx.savefig`` wrote);
- ``results.json``: ``run``'s results plus ``runtime_s``;
- ``report.md``: :func:`~.report.render_markdown` of ``report(config, results)``; every figure it
  names must exist.

A run whose sweep was interrupted or had failed runs (:class:`~.sweep.SweepError`, raised after the
other runs finished) is finished in its own folder by :func:`resume_experiment`: the runs with
``results.json`` are read back, the others run.

``scratchnn.manual_seed(seed)`` is called before ``run``, and ``ctx.rng`` is
``np.random.default_rng(seed)``: pass it (or generators spawned from it) to data, init and
shuffling, so a seed reproduces a run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import time
from pathlib import Path
from typing import Any

from ... import _config
from ..._validate import check_choice, check_int
from .context import RunContext, jsonable
from .overrides import apply_overrides
from .registry import load_experiment
from .report import Report, render_markdown

__all__ = ["run_experiment", "resume_experiment", "config_for"]


def config_for(name: str, *, quick: bool = False, overrides: dict[str, Any] | None = None) -> Any:
    """The ``Config`` a run of ``name`` would use: defaults, then ``QUICK`` if ``quick``, then ``overrides``."""
    module = load_experiment(name)
    config = module.Config()
    if quick:
        config = dataclasses.replace(config, **module.QUICK)
    return apply_overrides(config, overrides, experiment=name)


def _new_out_dir(name: str, out: str | os.PathLike[str] | None) -> Path:
    if out is None:
        from ...train.run_dir import make_run_dir

        return make_run_dir("runs", name)
    path = Path(out).expanduser()
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(
            f"run folder {path} already exists and is not empty; a run folder is never reused "
            "(nothing was written): pass a new --out, or omit it for runs/<name>-<time>"
        )
    path.mkdir(parents=True, exist_ok=True)
    return path


def _command(name: str, quick: bool, seed: int, overrides: dict[str, Any] | None, threads: int) -> str:
    parts = ["scratchnn experiment run", name] + (["--quick"] if quick else []) + [f"--seed {seed}"]
    parts += [f"--set {shlex.quote(f'{k}={v}')}" for k, v in (overrides or {}).items()]
    parts += [f"--threads {threads}"] if threads != 1 else []
    return " ".join(parts)


def run_experiment(
    name: str,
    *,
    quick: bool = False,
    seed: int = 0,
    overrides: dict[str, Any] | None = None,
    out: str | os.PathLike[str] | None = None,
    verbose: bool = False,
    backend: str = "serial",
    workers: int | None = None,
    threads: int = 1,
    ray_address: str | None = None,
) -> tuple[dict[str, Any], Path]:
    """Run experiment ``name`` into a new run folder; returns ``(results, out_dir)`` (see the module docstring).

    ``backend``, ``workers`` and ``ray_address`` say where the experiment's sweep runs execute
    (:func:`~.sweep.run_sweep`: ``"serial"`` here, ``"processes"`` on local workers, ``"ray"``);
    ``threads`` is the BLAS thread count of every run, in every backend (it is part of the config
    the folder records, as results may depend on it; the backend never changes them).
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"Invalid value for `seed`: expected a non-negative int. Received: seed={seed!r}")
    config = config_for(name, quick=quick, overrides=overrides)
    _check_where(backend, workers, threads)
    out_dir = _new_out_dir(name, out)
    settings = {
        "experiment": name,
        "quick": quick,
        "seed": seed,
        "overrides": dict(overrides or {}),
        "threads": threads,
        "config": dataclasses.asdict(config),
    }
    (out_dir / "config.json").write_text(json.dumps(jsonable(settings), indent=2) + "\n")
    ctx = RunContext(out_dir, seed, quick, verbose, backend, workers, threads, ray_address)
    return _execute(name, config, ctx, overrides), out_dir


def resume_experiment(
    run_dir: str | os.PathLike[str],
    *,
    verbose: bool = False,
    backend: str = "serial",
    workers: int | None = None,
    ray_address: str | None = None,
) -> tuple[dict[str, Any], Path]:
    """Finish an interrupted run in its own folder: the sweep runs that finished are read back, not run again.

    The experiment, quick flag, seed, overrides and thread count come from the folder's
    ``config.json``; the config they give must equal the recorded one (the code may have changed
    since). ``metrics.jsonl`` is written anew from the runs' results; a finished run (one with a
    ``report.md``) is refused, so nothing finished is overwritten.
    """
    out_dir = Path(run_dir).expanduser()
    try:
        settings = json.loads((out_dir / "config.json").read_text())
        name, quick, seed = settings["experiment"], settings["quick"], settings["seed"]
        overrides, threads = settings["overrides"], settings.get("threads", 1)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(
            f"Invalid value for `run_dir`: expected the folder of an experiment run (with its config.json). "
            f"Received: run_dir={str(out_dir)!r} ({type(e).__name__}: {e})"
        ) from None
    if (out_dir / "report.md").exists():
        raise FileExistsError(f"run folder {out_dir} holds a finished run (report.md); nothing to resume")
    config = config_for(name, quick=quick, overrides=overrides)
    if jsonable(dataclasses.asdict(config)) != settings["config"]:
        raise ValueError(
            f"Invalid value for `run_dir`: its config.json records a config of {name} that this version of "
            f"scratchnn no longer builds from the same settings. Received: run_dir={str(out_dir)!r}"
        )
    _check_where(backend, workers, threads)
    ctx = RunContext(out_dir, seed, quick, verbose, backend, workers, threads, ray_address)
    return _execute(name, config, ctx, overrides), out_dir


def _check_where(backend: str, workers: int | None, threads: int) -> None:
    from .sweep import BACKENDS

    check_choice(backend, "backend", BACKENDS)
    if workers is not None:
        check_int(workers, "workers", low=1)
    check_int(threads, "threads", low=1)


def _execute(name: str, config: Any, ctx: RunContext, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """``run``, figures, ``results.json`` and ``report.md`` of one experiment into ``ctx.out_dir``."""
    from threadpoolctl import threadpool_limits

    module = load_experiment(name)
    out_dir = ctx.out_dir
    (out_dir / "metrics.jsonl").write_text("")  # ctx.log appends; a resumed run logs every row again
    _config.manual_seed(ctx.seed)
    start = time.perf_counter()
    with threadpool_limits(limits=ctx.threads, user_api="blas"):  # the experiment's own work, as its runs'
        results = dict(module.run(config, ctx))
    runtime = time.perf_counter() - start
    results["runtime_s"] = round(runtime, 2)
    (out_dir / "results.json").write_text(json.dumps(jsonable(results), indent=2) + "\n")
    for fig_name, fig in getattr(module, "figures", _no_figures)(config, results).items():
        ctx.savefig(fig, fig_name)
    report = module.report(config, results)
    if not isinstance(report, Report):
        raise TypeError(f"{module.__name__}.report() must return a Report, not {type(report).__name__}")
    absent = [file for file, _ in report.figures if not (out_dir / file).is_file()]
    if absent:
        raise FileNotFoundError(f"{module.__name__}.report() names figures the run did not save: {absent}")
    command = _command(name, ctx.quick, ctx.seed, overrides, ctx.threads)
    text = render_markdown(report, name=name, command=command, runtime_s=runtime, quick=ctx.quick)
    (out_dir / "report.md").write_text(text)
    ctx.echo(f"{report.title}: {report.headline}" if report.headline else report.title)
    return results


def _no_figures(config: Any, results: dict[str, Any]) -> dict[str, Any]:
    return {}
