"""``scratchnn train cnn``: a ConvNet (conv - BatchNorm - ReLU - pool blocks) on Fashion-MNIST, end to end.

Loads the images, standardizes them with the training set's mean and std, holds out a validation
split, trains with the Trainer (progress bar, metrics, checkpoints, curves), restores the weights
of the best validation epoch, evaluates on the test set and writes ``results.json`` (with the
confusion matrix), ``confusion_matrix.png`` and ``filters.png`` (the first layer's filters) next
to ``config.json`` and ``metrics.jsonl`` in a new run folder.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from .. import _config
from .._validate import positive_int, probability
from .common import (
    add_image_dataset_flags,
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
    """Add ``cnn`` to the subcommands of ``scratchnn train``."""
    p = subparsers.add_parser(
        "cnn",
        help="train a convolutional network (ConvNet: conv-BN-ReLU-pool blocks)",
        description="Train a convolutional network written from scratch and report test accuracy. Writes a run "
        "folder with config.json, metrics.jsonl, checkpoints/, curves.png, results.json (with the confusion "
        "matrix), confusion_matrix.png and filters.png (the first layer's filters).",
    )
    add_image_dataset_flags(p, "oriented bars on noise, 12x12")
    p.add_argument(
        "--channels",
        type=positive_int,
        nargs="+",
        default=[32, 64],
        metavar="C",
        help="output channels of each conv-BN-ReLU-pool block (default: 32 64)",
    )
    p.add_argument("--kernel-size", type=positive_int, default=3, help="odd side of the conv kernels (default: 3)")
    p.add_argument(
        "--hidden",
        type=positive_int,
        nargs="*",
        default=[128],
        metavar="H",
        help="sizes of the classifier's hidden Linear-ReLU layers (default: 128; none given: one Linear layer)",
    )
    p.add_argument(
        "--flip",
        action="store_true",
        help="data augmentation: each epoch, mirror a random half of the training images left-right",
    )
    p.add_argument("--no-batchnorm", action="store_true", help="no BatchNorm2d after the convolutions")
    p.add_argument("--pool", choices=("max", "avg"), default="max", help="2x2 pooling of each block (default: max)")
    p.add_argument(
        "--dropout", type=probability, default=0.25, help="drop probability before each Linear layer (default: 0.25)"
    )
    p.add_argument(
        "--label-smoothing",
        type=probability,
        default=0.0,
        help="weight of the uniform distribution mixed into the targets of the loss (default: 0; the train "
        "and validation losses include it, the test loss does not)",
    )
    add_training_flags(p, kind="cnn", lr=2e-3, epochs=10, seed_help="seed for init, dropout and shuffling")


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``scratchnn train cnn`` with parsed flags; returns the exit status."""
    from ..figures.classifier import plot_filters
    from ..models import ConvNet
    from ..nn import CrossEntropyLoss
    from ..train import Callback, EarlyStopping, RandomHorizontalFlip, Trainer

    session = Session(args, "cnn")
    if args.kernel_size % 2 == 0:
        raise ValueError(
            f"Invalid value for `--kernel-size`: expected an odd int (the convolutions keep the "
            f"image size). Received: --kernel-size={args.kernel_size}"
        )
    _config.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    X_train, y_train, X_test, y_test, class_names = load_images(args.dataset, args.data_root, rng)
    if args.limit is not None:
        X_train, y_train = X_train[: args.limit], y_train[: args.limit]
    X_train, y_train, X_val, y_val = hold_out_validation(X_train, y_train, args.val_size, rng)
    # standardize with the training images' statistics only (one mean and std over all pixels)
    mean, std = np.float32(X_train.mean()), np.float32(X_train.std() + 1e-8)
    X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    X_val = None if X_val is None else (X_val - mean) / std
    num_classes = len(class_names)

    model = ConvNet(
        in_channels=X_train.shape[1],
        num_classes=num_classes,
        channels=args.channels,
        input_size=X_train.shape[2:],
        kernel_size=args.kernel_size,
        hidden=args.hidden,
        dropout=args.dropout,
        batchnorm=not args.no_batchnorm,
        pool=args.pool,
        rng=rng,
    )
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr, args.weight_decay)
    steps_per_epoch = math.ceil(len(X_train) / args.batch_size)
    scheduler, interval = make_scheduler(optimizer, args.schedule, args.epochs, steps_per_epoch)
    callbacks: list[Callback] = []
    if args.flip:
        callbacks.append(RandomHorizontalFlip(X_train, rng=rng))
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
        CrossEntropyLoss(label_smoothing=args.label_smoothing),
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
    results = classifier_results(trainer, session, X_test, y_test, class_names)
    plot_filters(model.first_conv.weight.data, session.run_dir / "filters.png")
    session.write_results(results)  # last: it marks the run as finished
    acc, loss, seconds = results["test_accuracy"], results["test_loss"], results["train_seconds"]
    print(f"test accuracy {acc:.4f}  (test loss {loss:.4f}, {seconds:.0f} s of training)")
    print(f"run folder: {session.run_dir}")
    return 0
