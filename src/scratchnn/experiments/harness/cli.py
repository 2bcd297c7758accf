"""``scratchnn experiment list`` and ``scratchnn experiment run NAME [--quick] [--seed S] [--set k=v ...] [--out DIR]``.

The lead's ``cli.py`` calls :func:`add_parser` on its subcommands and :func:`run_from_args` when
``args.command == "experiment"``; errors (``ValueError``, ``FileExistsError``, ...) are turned into
one-line messages there.
"""

from __future__ import annotations

import argparse
import sys

from ..._validate import nonneg_int

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
    run.add_argument("--quiet", action="store_true", help="no progress lines")


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
    from .overrides import parse_set_args
    from .runner import run_experiment

    overrides = parse_set_args(args.overrides)
    results, out_dir = run_experiment(
        args.name, quick=args.quick, seed=args.seed, overrides=overrides, out=args.out, verbose=not args.quiet
    )
    print(f"report: {out_dir / 'report.md'} ({results['runtime_s']:.1f} s)", file=sys.stdout)
    return 0
