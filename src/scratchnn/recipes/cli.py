"""``scratchnn train MODEL``: one subcommand per recipe, each with its own flags and the shared training flags.

The top-level ``cli.py`` calls :func:`add_parser` on its subcommands and :func:`run_from_args` when
``args.command == "train"``. A new recipe is a module with ``add_parser`` and ``run_from_args`` and one
line in ``RECIPES``.
"""

from __future__ import annotations

import argparse
import importlib

__all__ = ["RECIPES", "add_parser", "run_from_args"]

#: model name -> the module behind ``scratchnn train <name>`` (imported to build the parser: keep them light)
RECIPES = {"mlp": "scratchnn.recipes.mlp", "cnn": "scratchnn.recipes.cnn"}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``train`` with one subcommand per recipe to the ``scratchnn`` command."""
    train = subparsers.add_parser("train", help="train a model and write a run folder")
    models = train.add_subparsers(dest="model", required=True, metavar="MODEL")
    for module in RECIPES.values():
        importlib.import_module(module).add_parser(models)


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``scratchnn train <model> ...`` with parsed flags; returns the exit status."""
    status: int = importlib.import_module(RECIPES[args.model]).run_from_args(args)
    return status
