"""The ``scratchnn`` command: train a model, check gradients, fetch data.

    scratchnn train mlp --hidden 512 256 --epochs 20 --out runs/my-mlp
    scratchnn train mlp --resume runs/my-mlp
    scratchnn gradcheck
    scratchnn data fashion-mnist
    scratchnn data debian
    scratchnn sample runs/char-rnn-2026-12-07-0130 --prompt "This package" --temperature 0.8

Errors end in one line, never a traceback: bad flag values and other bad input with exit status 2,
a run that fails on the way (it diverged, a file could not be written or read) with exit status 1.
Ctrl-C and SIGTERM end it with 130 and 143 (``scratchnn train`` first checkpoints the run and prints
the ``--resume`` command that continues it).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from ._validate import nonneg_float, nonneg_int
from ._version import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scratchnn", description="Deep learning from scratch in NumPy.")
    parser.add_argument("--version", action="version", version=f"scratchnn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from .recipes.cli import add_parser as add_train_parser

    add_train_parser(sub)

    sub.add_parser(
        "gradcheck",
        help="check every op and module against numerical gradients (float64)",
        description="Print a table of every op and module with its worst relative gradient error.",
    )

    data = sub.add_parser(
        "data",
        help="find or download a dataset",
        description="Find a dataset (or download it, checksum-verified) and print where it is. "
        "'debian' reads the English package descriptions from apt's lists, caches them and prints their counts.",
    )
    data.add_argument("name", choices=("fashion-mnist", "mnist", "cifar10", "debian"))
    data.add_argument("--root", default=None, metavar="DIR", help="look here first (image datasets)")
    data.add_argument("--no-download", action="store_true", help="only look, never download (image datasets)")
    data.add_argument("--path", default=None, metavar="FILE", help="debian: a Translation-en file to read")
    data.add_argument("--lists-dir", default=None, metavar="DIR", help="debian: apt's lists folder")
    data.add_argument("--no-cache", action="store_true", help="debian: parse the lists, write no cache")

    sample = sub.add_parser(
        "sample",
        help="print text from a trained character-level language model",
        description="Print text drawn from the model of a finished `scratchnn train char-rnn` run, one character "
        "at a time from softmax(scores / temperature), after a prompt.",
    )
    sample.add_argument("run", metavar="RUN_DIR", help="the run folder of `scratchnn train char-rnn`")
    sample.add_argument("--prompt", default="This package ", help="text to start from (default: 'This package ')")
    sample.add_argument("--length", type=nonneg_int, default=400, help="characters to draw (default: 400)")
    sample.add_argument(
        "--temperature",
        type=nonneg_float,
        default=0.8,
        help="softmax temperature: lower is safer, higher more varied, 0 always the most likely (default: 0.8)",
    )
    sample.add_argument("--seed", type=nonneg_int, default=0, help="random seed (default: 0)")
    sample.add_argument("--until-end", action="store_true", help="stop at the end of a description")

    summarize = sub.add_parser(
        "summarize",
        help="summarize text with a trained summarizer",
        description="Print the summary of each TEXT (or of each line of --file) by the model of a finished "
        "`scratchnn train summarizer` run, with the run's beam search settings.",
    )
    summarize.add_argument("text", nargs="*", metavar="TEXT", help="documents to summarize")
    summarize.add_argument("--checkpoint", required=True, metavar="RUN_DIR", help="the run folder of the summarizer")
    summarize.add_argument("--file", default=None, metavar="FILE", help="summarize each line of FILE as well")
    summarize.add_argument("--beam-size", type=nonneg_int, default=None, help="beams (default: the run's; 1: greedy)")

    from .experiments.harness.cli import add_parser as add_experiment_parser

    add_experiment_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            from .recipes.cli import run_from_args as run_train_from_args

            return run_train_from_args(args)
        if args.command == "gradcheck":
            from .gradcheck.table import print_table

            return print_table()
        if args.command == "experiment":
            from .experiments.harness.cli import run_from_args as run_experiment_from_args

            return run_experiment_from_args(args)
        if args.command == "sample":
            from .recipes.char_rnn import sample_text

            print(sample_text(args.run, args.prompt, args.length, args.temperature, args.seed, args.until_end))
            return 0
        if args.command == "summarize":
            from .recipes.summarizer import summarize_texts

            texts = list(args.text)
            if args.file is not None:
                texts += [line for line in open(args.file, encoding="utf-8").read().splitlines() if line.strip()]
            if not texts:
                raise ValueError(
                    "Invalid value for `TEXT`: expected a document to summarize (or --file). Received: none"
                )
            if args.beam_size == 0:
                raise ValueError("Invalid value for `--beam-size`: expected an int >= 1. Received: --beam-size=0")
            for summary in summarize_texts(args.checkpoint, texts, beam_size=args.beam_size):
                print(summary)
            return 0
        if args.command == "data":
            from .data import debian_report, ensure_dataset

            if args.name == "debian":
                if args.root is not None:
                    raise ValueError("--root is for the image datasets; for debian use --path or --lists-dir")
                lists_dir = {} if args.lists_dir is None else {"lists_dir": args.lists_dir}
                print(debian_report(args.path, cache=not args.no_cache, **lists_dir))
                return 0
            if args.path is not None or args.lists_dir is not None or args.no_cache:
                raise ValueError("--path, --lists-dir and --no-cache are for debian only")
            path = ensure_dataset(args.name, root=args.root, download=not args.no_download)
            print(path)
            return 0
    except (ValueError, TypeError, OSError, NotImplementedError) as e:
        message, status = _one_line(e)
        print(f"scratchnn: error: {message}", file=sys.stderr)
        return status
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (scratchnn.train.Interrupted) outside training
        signum = getattr(e, "signum", signal.SIGINT)
        print("scratchnn: " + ("interrupted" if signum == signal.SIGINT else "terminated"), file=sys.stderr)
        return 128 + signum
    parser.error(f"unknown command {args.command!r}")
    return 2


def _one_line(e: Exception) -> tuple[str, int]:
    """The message and exit status for an error: 2 for bad input, 1 for a run that failed on the way."""
    if isinstance(e, OSError) and (e.errno is not None or not isinstance(e, (FileExistsError, FileNotFoundError))):
        # the system refused a read or a write (permission, full disk, read-only file system)
        if e.filename is not None:  # not named by the library's writers, which say "cannot write <path>: <why>"
            return f"cannot access {e.filename}: {e.strerror}", 1
        return str(e.strerror or e), 1
    # the library's errors already name the argument, the expectation and the value
    return str(e), 1 if isinstance(e, FloatingPointError) else 2  # a diverged run (TrainingDiverged): no bad input
