"""``scratchnn experiment list``; ``scratchnn experiment run NAME [--quick] [--seed S] [--set k=v ...] [--out DIR]
[--backend processes|serial|ray] [--workers N] [--threads N] [--ray-address ADDR]``; and
``scratchnn experiment resume RUN_DIR`` with the same sweep flags.

The lead's ``cli.py`` calls :func:`add_parser` on its subcommands and :func:`run_from_args` when
``args.command == "experiment"``; errors (``ValueError``, ``FileExistsError``, ...) are turned into
one-line messages there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..._validate import nonneg_int, positive_int

__all__ = ["add_parser", "run_from_args"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``experiment`` with its ``list`` and ``run`` subcommands to the ``scratchnn`` command."""
    p = subparsers.add_parser(
        "experiment",
        help="list or run the experiments (optimizers, initialization, ...)",
        description="Run an experiment into a new run folder holding config.json, results.json, metrics.jsonl, "
        "figures and report.md.",
    )
    sub = p.add_subparsers(dest="experiment_command", required=True, metavar="ACTION")
    sub.add_parser(
        "list",
        help="the experiments with their titles and runtimes",
        description="List every experiment: name, title, runtime of --quick and of the full run.",
    )
    run = sub.add_parser(
        "run",
        help="run one experiment and write its report",
        description="Run one experiment; the run folder's report.md holds the question, setup, "
        "results table, figures and a reading of the numbers.",
    )
    run.add_argument("name", metavar="NAME", help="the experiment (see `scratchnn experiment list`)")
    run.add_argument(
        "--quick", action="store_true", help="the seconds-long version on small synthetic data (same code path)"
    )
    run.add_argument("--seed", type=nonneg_int, default=0, help="random seed for data, init and shuffling (default: 0)")
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config field, parsed by its type (repeatable; e.g. --set steps=500 "
        "--set lrs_adam=1e-3,3e-3)",
    )
    run.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="run folder to create (must be absent or empty; default: runs/NAME-<timestamp>)",
    )
    _add_where_flags(run)
    resume = sub.add_parser(
        "resume",
        help="finish an interrupted run in its own folder",
        description="Continue an interrupted (or partly failed) experiment run: the sweep runs that finished "
        "are read back from RUN_DIR/runs/, the others run, then the results, figures and report are written.",
    )
    resume.add_argument("run_dir", metavar="RUN_DIR", help="the run folder (it holds config.json)")
    _add_where_flags(resume, threads=False)


def _add_where_flags(p: argparse.ArgumentParser, *, threads: bool = True) -> None:
    """Where the sweep runs execute, which never changes their results; ``--threads`` is recorded with the run."""
    p.add_argument(
        "--backend",
        choices=("serial", "processes", "ray"),
        default="processes",
        help="where the runs of the experiment's sweep execute: local worker processes (default), this process "
        "(serial), or a Ray cluster",
    )
    p.add_argument(
        "--workers", type=positive_int, default=None, help="runs at a time (default: one per CPU core; Ray: its CPUs)"
    )
    if threads:
        p.add_argument("--threads", type=positive_int, default=1, help="BLAS threads of each run (default: 1)")
    p.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDR",
        help="with --backend ray: the cluster to connect to (default: start a local Ray on this machine)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def _list() -> int:
    from .registry import EXPERIMENTS

    width = max(len(n) for n in EXPERIMENTS)
    print(f"{'name':<{width}}  {'quick':>6}  {'full':>8}  title")
    for name, info in EXPERIMENTS.items():
        print(f"{name:<{width}}  {info.quick_runtime:>6}  {info.full_runtime:>8}  {info.title}")
    return 0


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``scratchnn experiment ...`` with parsed flags; returns the exit status."""
    if args.experiment_command == "list":
        return _list()
    from .sweep import SweepError

    where = {"backend": args.backend, "workers": args.workers, "ray_address": args.ray_address}
    try:
        results, out_dir = _run_or_resume(args, where)
    except SweepError as e:
        run_dir = Path(next(iter(e.failed.values()))).parents[2]  # <run>/runs/<key>/error.txt
        print(
            f"scratchnn: error: {e}\nThe finished runs are saved; once the cause is fixed, continue with: "
            f"scratchnn experiment resume {run_dir}",
            file=sys.stderr,
        )
        return 1
    print(f"report: {out_dir / 'report.md'} ({results['runtime_s']:.1f} s)", file=sys.stdout)
    return 0


def _run_or_resume(args: argparse.Namespace, where: dict[str, Any]) -> tuple[dict[str, Any], Path]:
    from .overrides import parse_set_args
    from .runner import resume_experiment, run_experiment

    if args.experiment_command == "resume":
        return resume_experiment(args.run_dir, verbose=not args.quiet, **where)
    overrides = parse_set_args(args.overrides)
    return run_experiment(
        args.name,
        quick=args.quick,
        seed=args.seed,
        overrides=overrides,
        out=args.out,
        verbose=not args.quiet,
        threads=args.threads,
        **where,
    )
