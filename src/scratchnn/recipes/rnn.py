"""``scratchnn train rnn``: Fashion-MNIST read row by row by a recurrent network, end to end.

Each 28 x 28 image is a sequence of T = 28 steps of 28 pixels (its rows, top to bottom); a
``RecurrentClassifier`` (RNN, LSTM or GRU) reads it and classifies it from its last state. Loads the
images, standardizes them with the training set's mean and std, holds out a validation split,
trains with the Trainer (progress bar, metrics, checkpoints, curves), restores the weights of the
best validation epoch, evaluates on the test set and writes ``results.json`` (with the confusion
matrix) and ``confusion_matrix.png`` next to ``config.json`` and ``metrics.jsonl`` in a new run folder.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from .. import _config
from .common import (
    add_image_dataset_flags,
    add_recurrent_flags,
    add_training_flags,
    classifier_results,
    hold_out_validation,
    load_images,
    make_optimizer,
    make_scheduler,
)
from .session import Session

__all__ = ["add_parser", "run_from_args"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rnn`` to the subcommands of ``scratchnn train``."""
    p = subparsers.add_parser(
        "rnn",
        help="train a recurrent network (RNN, LSTM or GRU) on images read row by row",
        description="Train a recurrent network written from scratch on Fashion-MNIST read row by row (28 steps of "
        "28 pixels) and report test accuracy. Writes a run folder with config.json, metrics.jsonl, checkpoints/, "
        "curves.png, results.json (with the confusion matrix) and confusion_matrix.png.",
    )
    add_image_dataset_flags(p, "oriented bars on noise, 12 rows of 12 pixels")
    add_recurrent_flags(p, hidden=128, layers=1, dropout=0.0)
    add_training_flags(
        p, kind="rnn", lr=2e-3, epochs=10, seed_help="seed for init, dropout and shuffling", clip=1.0
    )  # fmt: skip


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``scratchnn train rnn`` with parsed flags; returns the exit status."""
    from ..models import RecurrentClassifier
    from ..nn import CrossEntropyLoss
    from ..train import Callback, EarlyStopping, Trainer

    session = Session(args, "rnn")
    _config.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    X_train, y_train, X_test, y_test, class_names = load_images(args.dataset, args.data_root, rng)
    X_train, X_test = X_train[:, 0], X_test[:, 0]  # (N, 1, H, W) -> (N, T=H, W): the rows as steps
    if args.limit is not None:
        X_train, y_train = X_train[: args.limit], y_train[: args.limit]
    X_train, y_train, X_val, y_val = hold_out_validation(X_train, y_train, args.val_size, rng)
    # standardize with the training images' statistics only (one mean and std over all pixels)
    mean, std = np.float32(X_train.mean()), np.float32(X_train.std() + 1e-8)
    X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    X_val = None if X_val is None else (X_val - mean) / std
    num_classes = len(class_names)

    model = RecurrentClassifier(
        X_train.shape[2], args.hidden, num_classes, cell=args.cell, num_layers=args.layers, dropout=args.dropout,
        rng=rng,
    )  # fmt: skip
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr, args.weight_decay)
    steps_per_epoch = math.ceil(len(X_train) / args.batch_size)
    scheduler, interval = make_scheduler(optimizer, args.schedule, args.epochs, steps_per_epoch)
    callbacks: list[Callback] = []
    if X_val is not None:  # keep the weights of the best validation epoch
        callbacks.append(EarlyStopping(monitor="val_acc", patience=args.epochs, restore_best_weights=True))
    config = session.config(
        args,
        num_train=len(X_train),
        num_val=0 if X_val is None else len(X_val),
        num_test=len(X_test),
        input_shape=list(X_train.shape[1:]),
        input_mean=float(mean),
        input_std=float(std),
        parameters=int(sum(p.data.size for p in model.parameters())),
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
    results = {"cell": args.cell} | classifier_results(trainer, session, X_test, y_test, class_names)
    session.write_results(results)  # last: it marks the run as finished
    acc, loss, seconds = results["test_accuracy"], results["test_loss"], results["train_seconds"]
    print(f"test accuracy {acc:.4f}  (test loss {loss:.4f}, {seconds:.0f} s of training)")
    print(f"run folder: {session.run_dir}")
    return 0
