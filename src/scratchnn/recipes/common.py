"""What every ``scratchnn train MODEL`` recipe shares: the training flags and the set-up of a run (its
folder, validation split, optimizer and learning-rate schedule). The flag types are in ``_validate``.

Imported by ``scratchnn.cli`` to build its parser, so the heavy imports sit inside the functions.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validate import nonneg_float, nonneg_int, positive_float, positive_int, probability

if TYPE_CHECKING:
    from ..optim import Optimizer
    from ..optim.lr_scheduler import LRScheduler

__all__ = [
    "IMAGE_DATASETS",
    "add_image_dataset_flags",
    "add_text_flags",
    "add_recurrent_flags",
    "load_images",
    "OPTIMIZERS",
    "add_training_flags",
    "check_new_run_dir",
    "hold_out_validation",
    "make_optimizer",
    "make_scheduler",
    "warmup_cosine",
    "classifier_results",
]

IMAGE_DATASETS = ("fashion-mnist", "mnist", "synthetic")  # see load_images


def load_images(name: str, root: str | None, rng: np.random.Generator) -> tuple[Any, ...]:
    """X_train, y_train, X_test, y_test as (N, C, H, W) float32 images, and the class names.

    'synthetic' is 800 oriented bars on noise (12 x 12), a task learned in seconds with no download.
    """
    from ..data import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist
    from ..data.synthetic import BAR_CLASSES, make_bars

    if name == "fashion-mnist":
        return (*load_fashion_mnist(root), FASHION_MNIST_CLASSES)
    if name == "mnist":
        return (*load_mnist(root), tuple(str(d) for d in range(10)))
    if name == "synthetic":
        X, y = make_bars(800, rng=rng)
        return X[:600], y[:600], X[600:], y[600:], BAR_CLASSES
    raise ValueError(f"Invalid value for `dataset`: expected fashion-mnist, mnist or synthetic. Received: {name!r}")


def add_image_dataset_flags(p: argparse.ArgumentParser, synthetic_help: str) -> None:
    """``--dataset`` (one of :data:`IMAGE_DATASETS`) and ``--data-root``."""
    p.add_argument(
        "--dataset",
        choices=IMAGE_DATASETS,
        default="fashion-mnist",
        help=f"fashion-mnist (default), mnist, or synthetic ({synthetic_help}, no download)",
    )
    p.add_argument(
        "--data-root",
        default=None,
        metavar="DIR",
        help="folder holding the dataset files (default: $SCRATCHNN_DATA, the user cache, "
        "the Debian package folder, then download)",
    )


OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")


def add_text_flags(p: argparse.ArgumentParser) -> None:
    """``--path`` and ``--lists-dir``: where the Debian descriptions come from."""
    p.add_argument(
        "--path", default=None, metavar="FILE", help="a Translation-en file to read instead of apt's lists"
    )  # fmt: skip
    p.add_argument(
        "--lists-dir", default="/var/lib/apt/lists", metavar="DIR",
        help="apt's lists folder (default: /var/lib/apt/lists; fill it with "
        "`apt-get -o Acquire::Languages=en update`)",
    )  # fmt: skip


def add_recurrent_flags(
    p: argparse.ArgumentParser, *, hidden: int, layers: int, dropout: float, embedding_dim: int | None = None
) -> None:
    """``--cell``, ``--hidden``, ``--layers``, ``--dropout`` and (for token inputs) ``--embedding-dim``."""
    p.add_argument("--cell", choices=("rnn", "lstm", "gru"), default="lstm", help="recurrent cell (default: lstm)")
    p.add_argument(
        "--hidden", type=positive_int, default=hidden, help=f"hidden size of each layer (default: {hidden})"
    )  # fmt: skip
    p.add_argument("--layers", type=positive_int, default=layers, help=f"stacked recurrent layers (default: {layers})")
    if embedding_dim is not None:
        p.add_argument(
            "--embedding-dim", type=positive_int, default=embedding_dim,
            help=f"token embedding size (default: {embedding_dim})",
        )  # fmt: skip
    p.add_argument(
        "--dropout", type=probability, default=dropout,
        help=f"drop probability between recurrent layers and before the output layer (default: {dropout:g})",
    )  # fmt: skip


def add_training_flags(
    p: argparse.ArgumentParser, *, kind: str, lr: float, epochs: int, seed_help: str, clip: float | None = None
) -> None:
    """The optimizer, schedule, clipping, length, validation, seed, output and resume flags of a recipe."""
    p.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        default="adamw",
        help="optimizer (default: adamw); momentum/nesterov are SGD with momentum 0.9",
    )
    p.add_argument("--lr", type=positive_float, default=lr, help=f"peak learning rate (default: {lr:g})")
    p.add_argument(
        "--weight-decay",
        type=nonneg_float,
        default=0.05,
        help="weight decay (decoupled for adamw, L2 otherwise; default: 0.05)",
    )
    p.add_argument(
        "--schedule",
        choices=("none", "cosine", "step"),
        default="cosine",
        help="learning-rate schedule over the run (default: cosine, per step)",
    )
    p.add_argument(
        "--clip-grad-norm",
        type=positive_float,
        default=clip,
        metavar="MAX_NORM",
        help="clip the global L2 norm of the gradients to MAX_NORM before each step (default: "
        + ("no clipping)" if clip is None else f"{clip:g})"),
    )
    p.add_argument("--epochs", type=positive_int, default=epochs, help=f"training epochs (default: {epochs})")
    p.add_argument("--batch-size", type=positive_int, default=128, help="minibatch size (default: 128)")
    p.add_argument(
        "--val-size",
        type=nonneg_int,
        default=5000,
        help="training samples held out for validation and best-epoch selection (default: 5000)",
    )
    p.add_argument(
        "--limit",
        type=positive_int,
        default=None,
        metavar="N",
        help="use only the first N training samples (quick runs)",
    )
    p.add_argument("--seed", type=nonneg_int, default=0, help=f"{seed_help} (default: 0)")
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help=f"run folder to create (must not exist; default: runs/{kind}-<timestamp>)",
    )
    p.add_argument(
        "--resume",
        default=None,
        metavar="RUN_DIR",
        help="continue the stopped run in RUN_DIR (Ctrl-C, SIGTERM, a crash) from its last checkpoint with its own "
        "flags, read from its config.json: other flags may be left out, or must equal the run's (--quiet and "
        "--checkpoint-every may differ); the result equals an uninterrupted run's",
    )
    p.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=None,
        metavar="N",
        help="also write checkpoints/last.safetensors every N steps within an epoch, for long epochs "
        "(default: at the end of each epoch, and when Ctrl-C or SIGTERM stops training)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")


def check_new_run_dir(out: str | None, kind: str) -> None:
    """Refuse an ``--out`` that exists and is not an empty folder, before anything is written."""
    if out and Path(out).exists() and (not Path(out).is_dir() or any(Path(out).iterdir())):
        raise FileExistsError(
            f"run folder {out} already exists and is not empty; a run folder is never reused (nothing was "
            f"written): pass a new --out, omit it for runs/{kind}-<time>, or continue a stopped run with --resume {out}"
        )


def hold_out_validation(
    X: np.ndarray, y: np.ndarray, val_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``X_train, y_train, X_val, y_val``: ``val_size`` random samples held out (none: X_val is None)."""
    if not val_size:
        return X, y, None, None
    if val_size >= len(X):
        raise ValueError(
            f"Invalid value for `--val-size`: expected fewer than the {len(X)} training "
            f"samples. Received: --val-size={val_size}"
        )
    from ..data import train_val_split

    X_train, y_train, X_val, y_val = train_val_split(X, y, val_size, rng=rng)
    return X_train, y_train, X_val, y_val


def make_optimizer(name: str, params: Any, lr: float, weight_decay: float) -> Optimizer:
    """The CLI's optimizer names: 'momentum' and 'nesterov' are SGD with momentum 0.9."""
    from ..optim import SGD, Adagrad, Adam, AdamW, RMSprop

    if name == "sgd":
        return SGD(params, lr=lr, weight_decay=weight_decay)
    if name in ("momentum", "nesterov"):
        return SGD(params, lr=lr, momentum=0.9, nesterov=name == "nesterov", weight_decay=weight_decay)
    if name == "adagrad":
        return Adagrad(params, lr=lr, weight_decay=weight_decay)
    if name == "rmsprop":
        return RMSprop(params, lr=lr, weight_decay=weight_decay)
    if name == "adam":
        return Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return AdamW(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(
        f"Invalid value for `optimizer`: expected one of sgd, momentum, nesterov, adagrad, "
        f"rmsprop, adam, adamw. Received: optimizer={name!r}"
    )


def make_scheduler(
    optimizer: Optimizer, schedule: str, epochs: int, steps_per_epoch: int
) -> tuple[LRScheduler | None, str]:
    """The ``--schedule`` and the Trainer's ``scheduler_interval`` for it ('step' or 'epoch')."""
    from ..optim.lr_scheduler import CosineAnnealingLR, StepLR

    if schedule == "cosine":  # per step, to zero at the last step
        return CosineAnnealingLR(optimizer, T_max=epochs * steps_per_epoch), "step"
    if schedule == "step":  # x0.1 every half of the run, per epoch
        return StepLR(optimizer, step_size=max(1, epochs // 2), gamma=0.1), "epoch"
    return None, "epoch"


def warmup_cosine(optimizer: Optimizer, warmup: int, total: int) -> LRScheduler:
    """A linear warmup from lr/warmup to lr over ``warmup`` steps (none for 0), then a cosine decay to 0 at
    step ``total``, as a per-step scheduler."""
    from ..optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR

    if warmup <= 0 or total <= 1:
        return CosineAnnealingLR(optimizer, T_max=max(total, 1))
    warmup = min(warmup, total - 1)
    return SequentialLR(
        optimizer,
        [
            LinearLR(optimizer, start_factor=1 / warmup, total_iters=warmup),
            CosineAnnealingLR(optimizer, total - warmup),
        ],
        milestones=[warmup],
    )


def classifier_results(
    trainer: Any, session: Any, X_test: np.ndarray, y_test: np.ndarray, class_names: Any
) -> dict[str, Any]:
    """A trained classifier's test numbers for ``results.json`` (the best weights, eval mode), and its
    ``confusion_matrix.png`` in the run folder: what ``train cnn`` and ``train rnn`` report alike."""
    from ..figures.classifier import confusion_matrix, plot_confusion_matrix
    from ..nn import CrossEntropyLoss

    seconds, cpu_seconds = session.stopwatch.seconds, session.stopwatch.cpu_seconds  # of every session
    scores = trainer.predict(X_test)  # (N_test, num_classes), eval mode, best weights
    cm = confusion_matrix(y_test, np.argmax(scores, axis=1), len(class_names))
    plot_confusion_matrix(cm, session.run_dir / "confusion_matrix.png", class_names=class_names)
    return {
        "test_accuracy": float(np.trace(cm) / len(y_test)),
        "test_loss": float(CrossEntropyLoss()(scores, y_test)),  # without label smoothing
        "train_seconds": round(seconds, 1),
        "train_cpu_seconds": round(cpu_seconds, 1),  # all threads; unlike wall time, not inflated by other work
        "seconds_per_epoch": round(seconds / max(trainer.epoch, 1), 1),
        "epochs": trainer.epoch,
        "steps": trainer.step,
        "best_val_acc": max((h.get("val_acc", float("nan")) for h in trainer.history), default=None),
        "class_names": list(class_names),
        "confusion_matrix": cm.tolist(),
        "per_class_accuracy": (np.diag(cm) / np.maximum(cm.sum(axis=1), 1)).round(4).tolist(),
    }
