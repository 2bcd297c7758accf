"""``scratchnn train mlp``: a FullyConnectedNet on Fashion-MNIST (or MNIST, or spirals), end to end.

Loads the data, holds out a validation split, trains with the Trainer (progress bar, metrics,
checkpoints, curves), restores the weights of the best validation epoch, evaluates on the test
set and writes ``results.json`` next to ``config.json`` and ``metrics.jsonl`` in a new run folder.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import _config
from ..models import FullyConnectedNet
from ..nn import CrossEntropyLoss
from ..optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from ..optim.lr_scheduler import CosineAnnealingLR, LRScheduler, StepLR


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


def make_optimizer(name: str, params: Any, lr: float, weight_decay: float) -> Optimizer:
    """The CLI's optimizer names: 'momentum' and 'nesterov' are SGD with momentum 0.9."""
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


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``scratchnn train mlp`` with parsed flags; returns the exit status."""
    from ..train import EarlyStopping, Trainer, make_run_dir

    if args.out and Path(args.out).exists() and (not Path(args.out).is_dir() or any(Path(args.out).iterdir())):
        raise FileExistsError(
            f"run folder {args.out} already exists and is not empty; a run folder is never "
            "reused (nothing was written): pass a new --out, or omit it for runs/mlp-<time>"
        )
    _config.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    X_train, y_train, X_test, y_test = load_dataset(args.dataset, args.data_root, rng)
    if args.limit is not None:
        X_train, y_train = X_train[: args.limit], y_train[: args.limit]
    X_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    if args.val_size:
        from ..data import train_val_split

        if args.val_size >= len(X_train):
            raise ValueError(
                f"Invalid value for `--val-size`: expected fewer than the {len(X_train)} training "
                f"samples. Received: --val-size={args.val_size}"
            )
        X_train, y_train, X_val, y_val = train_val_split(X_train, y_train, args.val_size, rng=rng)
    num_classes = int(max(y_train.max(), y_test.max())) + 1

    run_dir = Path(args.out) if args.out else make_run_dir("runs", "mlp")
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
    scheduler: LRScheduler | None = None
    interval = "epoch"
    if args.schedule == "cosine":  # per step, to zero at the last step
        scheduler, interval = CosineAnnealingLR(optimizer, T_max=args.epochs * steps_per_epoch), "step"
    elif args.schedule == "step":  # x0.1 at 50% and again at 75% of the run, per epoch
        scheduler = StepLR(optimizer, step_size=max(1, args.epochs // 2), gamma=0.1)
    callbacks = []
    if X_val is not None:  # keep the weights of the best validation epoch
        callbacks.append(EarlyStopping(monitor="val_acc", patience=args.epochs, restore_best_weights=True))
    config = {
        "command": "train mlp",
        **{k: v for k, v in vars(args).items() if k not in ("command", "model")},
        "num_train": len(X_train),
        "num_val": 0 if X_val is None else len(X_val),
        "num_test": len(X_test),
    }
    trainer = Trainer(
        model,
        CrossEntropyLoss(),
        optimizer,
        scheduler=scheduler,
        scheduler_interval=interval,
        batch_size=args.batch_size,
        epochs=args.epochs,
        callbacks=callbacks,
        run_dir=run_dir,
        config=config,
        verbose=not args.quiet,
        rng=rng,
    )
    t0 = time.perf_counter()
    trainer.fit(X_train, y_train, X_val, y_val)
    seconds = time.perf_counter() - t0
    test = trainer.evaluate(X_test, y_test)
    results = {
        "test_accuracy": test["accuracy"],
        "test_loss": test["loss"],
        "train_seconds": round(seconds, 1),
        "epochs": trainer.epoch,
        "steps": trainer.step,
        "best_val_acc": max((h.get("val_acc", float("nan")) for h in trainer.history), default=None),
    }
    (run_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"test accuracy {test['accuracy']:.4f}  (test loss {test['loss']:.4f}, {seconds:.0f} s of training)")
    print(f"run folder: {run_dir}")
    return 0
