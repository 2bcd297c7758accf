"""``scratchnn train MODEL``: one subcommand per recipe, each with its own flags and the shared training flags.

The top-level ``cli.py`` calls :func:`add_parser` on its subcommands and :func:`run_from_args` when
``args.command == "train"``. A new recipe is a module with ``add_parser`` and ``run_from_args`` and one
line in ``RECIPES``; it builds a :class:`~scratchnn.recipes.session.Session` and gets ``--resume``,
``--checkpoint-every`` and the clean stop on SIGINT / SIGTERM with it.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import signal

__all__ = ["RECIPES", "add_parser", "run_from_args"]

#: model name -> the module behind ``scratchnn train <name>`` (imported to build the parser: keep them light)
RECIPES = {
    "mlp": "scratchnn.recipes.mlp",
    "cnn": "scratchnn.recipes.cnn",
    "rnn": "scratchnn.recipes.rnn",
    "char-rnn": "scratchnn.recipes.char_rnn",
    "sections": "scratchnn.recipes.sections",
    "autoencoder": "scratchnn.recipes.autoencoder",
    "summarizer": "scratchnn.recipes.summarizer",
    "mae": "scratchnn.recipes.mae",
}

_DEFAULTS = "recipe_defaults"  # where the parsed args keep the recipe's defaults until run_from_args


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``train`` with one subcommand per recipe to the ``scratchnn`` command."""
    train = subparsers.add_parser("train", help="train a model and write a run folder")
    models = train.add_subparsers(dest="model", required=True, metavar="MODEL")
    for name, module in RECIPES.items():
        importlib.import_module(module).add_parser(models)
        _defaults_later(models.choices[name])


def _defaults_later(p: argparse.ArgumentParser) -> None:
    """Parse only the flags typed (argparse's SUPPRESS); the defaults come in :func:`run_from_args`.

    So ``--resume`` can tell a flag typed with the default value from one left out (argparse cannot).
    """
    defaults = {a.dest: a.default for a in p._actions if a.default is not argparse.SUPPRESS}
    for action in p._actions:
        action.default = argparse.SUPPRESS
    for dest in defaults:  # a recipe's own set_defaults(batch_size=...) would otherwise read as typed
        p._defaults.pop(dest, None)
    p.set_defaults(**{_DEFAULTS: defaults})


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``scratchnn train <model> ...`` with parsed flags; returns the exit status."""
    from ..train.interrupt import StopOnSignal
    from .session import resume_args

    defaults = vars(args).pop(_DEFAULTS, {})
    given = {dest for dest in defaults if hasattr(args, dest)}
    for dest, value in defaults.items():
        if dest not in given:
            setattr(args, dest, copy.deepcopy(value))
    if args.resume is not None:
        resume_args(args, given)
    # SIGTERM outside training ends the command as Ctrl-C does (Interrupted); during training the
    # recipe's Session stops training cleanly instead
    with StopOnSignal((signal.SIGTERM,)):
        status: int = importlib.import_module(RECIPES[args.model]).run_from_args(args)
    return status
