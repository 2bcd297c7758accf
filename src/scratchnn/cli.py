"""The ``scratchnn`` command: train a model, check gradients, fetch data.

    scratchnn train mlp --hidden 512 256 --epochs 20 --out runs/my-mlp
    scratchnn gradcheck
    scratchnn data fashion-mnist

Bad flag values end in a one-line error (exit status 2), never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
from .experiments.train_common import add_training_flags, positive_float, positive_int

DATASETS = ("fashion-mnist", "mnist", "spirals")


def _add_train_mlp(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "mlp",
        help="train a fully connected network (FullyConnectedNet)",
        description="Train a fully connected ReLU network written from scratch and report test accuracy. "
        "Writes a run folder with config.json, metrics.jsonl, checkpoints/ and curves.png.",
    )
    p.add_argument(
        "--dataset",
        choices=DATASETS,
        default="fashion-mnist",
        help="fashion-mnist (default), mnist, or spirals (synthetic, 2-D, no download)",
    )
    p.add_argument(
        "--data-root",
        default=None,
        metavar="DIR",
        help="folder holding the dataset files (default: $SCRATCHNN_DATA, the user cache, "
        "the Debian package folder, then download)",
    )
    p.add_argument(
        "--hidden",
        type=positive_int,
        nargs="+",
        default=[512, 256],
        metavar="H",
        help="hidden layer sizes (default: 512 256)",
    )
    p.add_argument(
        "--weight-init", choices=("he", "xavier", "normal"), default="he", help="weight initialization (default: he)"
    )
    p.add_argument(
        "--weight-scale", type=positive_float, default=1e-2, help="std of the 'normal' initialization (default: 1e-2)"
    )
    add_training_flags(p, kind="mlp", lr=1e-3, epochs=30, seed_help="random seed for init and shuffling")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scratchnn", description="Deep learning from scratch in NumPy.")
    parser.add_argument("--version", action="version", version=f"scratchnn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser("train", help="train a model and write a run folder")
    train_sub = train.add_subparsers(dest="model", required=True, metavar="MODEL")
    _add_train_mlp(train_sub)
    from .experiments.cnn import add_parser as add_train_cnn

    add_train_cnn(train_sub)

    sub.add_parser(
        "gradcheck",
        help="check every op and module against numerical gradients (float64)",
        description="Print a table of every op and module with its worst relative gradient error.",
    )

    data = sub.add_parser(
        "data",
        help="find or download a dataset",
        description="Find a dataset (or download it, checksum-verified) and print where it is.",
    )
    data.add_argument("name", choices=("fashion-mnist", "mnist", "cifar10"))
    data.add_argument("--root", default=None, metavar="DIR", help="look here first")
    data.add_argument("--no-download", action="store_true", help="only look, never download")

    from .experiments.cli import add_parser as add_experiment_parser

    add_experiment_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            if args.model == "cnn":
                from .experiments.cnn import run_from_args as run_train_cnn

                return run_train_cnn(args)
            from .experiments.mlp import run_from_args

            return run_from_args(args)
        if args.command == "gradcheck":
            from .gradcheck.table import print_table

            return print_table()
        if args.command == "experiment":
            from .experiments.cli import run_from_args as run_experiment_from_args

            return run_experiment_from_args(args)
        if args.command == "data":
            from .data import ensure_dataset

            path = ensure_dataset(args.name, root=args.root, download=not args.no_download)
            print(path)
            return 0
    except (ValueError, TypeError, FileExistsError, FileNotFoundError, NotImplementedError) as e:
        # the library's errors already name the argument, the expectation and the value
        print(f"scratchnn: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("scratchnn: interrupted", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command!r}")
    return 2
