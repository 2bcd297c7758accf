"""``scratchnn train mlp``: a FullyConnectedNet on Fashion-MNIST (or MNIST, or spirals), end to end.

Loads the data, holds out a validation split, trains with the Trainer (progress bar, metrics,
checkpoints, curves), restores the weights of the best validation epoch, evaluates on the test
set and writes ``results.json`` next to ``config.json`` and ``metrics.jsonl`` in a new run folder.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from .. import _config
from .._validate import positive_float, positive_int
from ..models import FullyConnectedNet
from ..nn import CrossEntropyLoss
from .common import add_training_flags, hold_out_validation, make_optimizer, make_scheduler
from .session import Session

__all__ = ["add_parser", "run_from_args", "load_dataset"]

DATASETS = ("fashion-mnist", "mnist", "spirals")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``mlp`` to the subcommands of ``scratchnn train``."""
    p = subparsers.add_parser(
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


def load_dataset(name: str, root: str | None, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """X_train, y_train, X_test, y_test with X flattened to (N, D) float32."""
    from ..data import load_fashion_mnist, load_mnist, make_spirals, train_val_split

    if name == "fashion-mnist":
        return tuple(load_fashion_mnist(root, flatten=True))
    if name == "mnist":
        return tuple(load_mnist(root, flatten=True))
    if name == "spirals":
        X, y = make_spirals(n_per_class=400, n_classes=3, noise=0.2, rng=rng)
        return tuple(train_val_split(X, y, 0.25, rng=rng))
    raise ValueError(f"Invalid value for `dataset`: expected fashion-mnist, mnist or spirals. Received: {name!r}")


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``scratchnn train mlp`` with parsed flags; returns the exit status."""
    from ..train import Callback, EarlyStopping, Trainer

    session = Session(args, "mlp")
    _config.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    X_train, y_train, X_test, y_test = load_dataset(args.dataset, args.data_root, rng)
    if args.limit is not None:
        X_train, y_train = X_train[: args.limit], y_train[: args.limit]
    X_train, y_train, X_val, y_val = hold_out_validation(X_train, y_train, args.val_size, rng)
    num_classes = int(max(y_train.max(), y_test.max())) + 1

    model = FullyConnectedNet(
        args.hidden,
        input_dim=X_train.shape[1],
        num_classes=num_classes,
        weight_init=args.weight_init,
        weight_scale=args.weight_scale,
        seed=args.seed,
    )
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr, args.weight_decay)
    steps_per_epoch = math.ceil(len(X_train) / args.batch_size)
    scheduler, interval = make_scheduler(optimizer, args.schedule, args.epochs, steps_per_epoch)
    callbacks: list[Callback] = []
    if X_val is not None:  # keep the weights of the best validation epoch
        callbacks.append(EarlyStopping(monitor="val_acc", patience=args.epochs, restore_best_weights=True))
    config = session.config(
        args, num_train=len(X_train), num_val=0 if X_val is None else len(X_val), num_test=len(X_test)
    )
    trainer = Trainer(
        model,
        CrossEntropyLoss(),
        optimizer,
        scheduler=scheduler,
        scheduler_interval=interval,
        batch_size=args.batch_size,
        clip_grad_norm=args.clip_grad_norm,
        epochs=args.epochs,
        callbacks=[*callbacks, *session.callbacks],
        run_dir=session.run_dir,
        config=config,
        verbose=not args.quiet,
        rng=rng,
    )
    if not session.fit(trainer, X_train, y_train, X_val, y_val):
        return session.exit_status  # stopped by a signal: the command that resumes it was printed
    seconds = session.stopwatch.seconds  # of every session of the run
    test = trainer.evaluate(X_test, y_test)
    results = {
        "test_accuracy": test["accuracy"],
        "test_loss": test["loss"],
        "train_seconds": round(seconds, 1),
        "epochs": trainer.epoch,
        "steps": trainer.step,
        "best_val_acc": max((h.get("val_acc", float("nan")) for h in trainer.history), default=None),
    }
    session.write_results(results)
    print(f"test accuracy {test['accuracy']:.4f}  (test loss {test['loss']:.4f}, {seconds:.0f} s of training)")
    print(f"run folder: {session.run_dir}")
    return 0
