"""``optimizers``: one FullyConnectedNet trained under seven optimizers, each at its best learning rate.

SGD, SGD + momentum, Nesterov, AdaGrad, RMSprop, Adam and AdamW train the same network from the
same initialization on the same batches, for the same number of steps. Each optimizer tries the
learning rates of a small sweep; the one with the best validation accuracy is its result. A run
that diverges (non-finite or exploding loss) stops there and is reported as diverged.

Data: Fashion-MNIST (pixels in [0, 1], not centred: its large mean direction makes the problem
ill-conditioned, as raw images are), a random subset of the training set for training and a
disjoint one for validation. ``--quick`` uses ``dataset='synthetic'`` instead: a 10-class
Gaussian mixture in 64 dimensions whose features share a large positive mean and correlated
noise, built to have that same ill-conditioning, so the test suite needs no download.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..._validate import check_float, check_int, invalid_value
from ...data.synthetic import gaussian_mixture
from ...models import FullyConnectedNet
from ...nn import CrossEntropyLoss
from ...optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from ...train import Callback, Trainer
from ...train.callbacks import TrainerView
from ..harness.context import RunContext

__all__ = ["NAMES", "LABELS", "Config", "QUICK", "run", "train_one", "load_data"]

#: how the report and the progress lines name each optimizer
LABELS = {
    "sgd": "SGD",
    "momentum": "SGD+momentum",
    "nesterov": "Nesterov",
    "adagrad": "AdaGrad",
    "rmsprop": "RMSprop",
    "adam": "Adam",
    "adamw": "AdamW",
}

NAMES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")


@dataclass(frozen=True)
class Config:
    dataset: Literal["fashion-mnist", "synthetic"] = "fashion-mnist"  # synthetic: the Gaussian mixture above
    num_train: int = 20_000  # training samples (a random subset of the 60k)
    num_val: int = 4_000  # validation samples, disjoint from the training ones
    hidden_dims: tuple[int, ...] = (256, 128)  # the FullyConnectedNet's hidden layers (He init)
    batch_size: int = 100  # samples per step
    steps: int = 1_000  # optimizer steps per run: the same budget for every optimizer (5 epochs)
    eval_every: int = 50  # steps between validation evaluations
    target_acc: float = 0.85  # the "steps to reach" column counts steps until val accuracy >= this
    momentum: float = 0.9  # of SGD+momentum and Nesterov
    weight_decay_adamw: float = 0.01  # AdamW's decoupled weight decay (torch's default); 0 for the others
    optimizers: tuple[str, ...] = NAMES  # which of the seven to run
    lrs_sgd: tuple[float, ...] = (0.1, 0.3, 1.0)  # each optimizer's learning-rate sweep
    lrs_momentum: tuple[float, ...] = (0.01, 0.03, 0.1)
    lrs_nesterov: tuple[float, ...] = (0.01, 0.03, 0.1)
    lrs_adagrad: tuple[float, ...] = (0.003, 0.01, 0.03)
    lrs_rmsprop: tuple[float, ...] = (1e-4, 3e-4, 1e-3)
    lrs_adam: tuple[float, ...] = (3e-4, 1e-3, 3e-3)
    lrs_adamw: tuple[float, ...] = (3e-4, 1e-3, 3e-3)
    diverge_factor: float = 10.0  # a run whose loss exceeds this x its first loss has diverged

    def __post_init__(self) -> None:
        for name in ("num_train", "num_val", "batch_size", "steps", "eval_every"):
            check_int(getattr(self, name), name, low=1)
        check_float(self.target_acc, "target_acc", low=0.0, high=1.0)
        check_float(self.momentum, "momentum", low=0.0, high=1.0, high_open=True)
        check_float(self.diverge_factor, "diverge_factor", low=1.0, low_open=True)
        if not self.optimizers or any(o not in NAMES for o in self.optimizers):
            raise invalid_value("optimizers", "a non-empty selection of " + ", ".join(NAMES), self.optimizers)
        for o in NAMES:
            lrs = getattr(self, f"lrs_{o}")
            if not lrs or any(not lr > 0 for lr in lrs):
                raise invalid_value(f"lrs_{o}", "one or more positive learning rates", lrs)

    def lrs(self, name: str) -> tuple[float, ...]:
        lrs: tuple[float, ...] = getattr(self, f"lrs_{name}")
        return lrs


#: ``--quick``: synthetic data, a small net, 150 steps (a few seconds in all); sweeps that bracket
#: each optimizer's best rate on this data (SGD's top rate, 1.0, is past its stability limit)
QUICK: dict[str, Any] = {
    "dataset": "synthetic",
    "num_train": 2_000,
    "num_val": 500,
    "hidden_dims": (64,),
    "batch_size": 50,
    "steps": 150,
    "eval_every": 25,
    "target_acc": 0.8,
    "lrs_sgd": (0.1, 0.3, 1.0),
    "lrs_momentum": (0.03, 0.1, 0.3),
    "lrs_nesterov": (0.03, 0.1, 0.3),
    "lrs_adagrad": (0.01, 0.03, 0.1),
    "lrs_rmsprop": (1e-3, 3e-3, 1e-2),
    "lrs_adam": (3e-3, 1e-2, 3e-2),
    "lrs_adamw": (3e-3, 1e-2, 3e-2),
}


def make_optimizer(name: str, params: Any, lr: float, config: Config) -> Optimizer:
    """The seven optimizers with torch's defaults; momentum and Nesterov use ``config.momentum``."""
    if name == "sgd":
        return SGD(params, lr=lr)
    if name in ("momentum", "nesterov"):
        return SGD(params, lr=lr, momentum=config.momentum, nesterov=name == "nesterov")
    if name == "adagrad":
        return Adagrad(params, lr=lr)
    if name == "rmsprop":
        return RMSprop(params, lr=lr)
    if name == "adam":
        return Adam(params, lr=lr)
    return AdamW(params, lr=lr, weight_decay=config.weight_decay_adamw)


def load_data(config: Config, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``X_train, y_train, X_val, y_val``: disjoint random subsets of the training set."""
    n = config.num_train + config.num_val
    if config.dataset == "synthetic":
        X, y = gaussian_mixture(n, 64, 10, rng)
    else:
        from ...data import load_fashion_mnist

        X_all, y_all, _, _ = load_fashion_mnist(flatten=True)
        if n > len(X_all):
            raise invalid_value("num_train + num_val", f"at most {len(X_all)}", n)
        idx = rng.choice(len(X_all), size=n, replace=False)
        X, y = X_all[idx], y_all[idx]
    return X[: config.num_train], y[: config.num_train], X[config.num_train :], y[config.num_train :]


class _Curves(Callback):
    """Per-step training loss, validation accuracy every ``eval_every`` steps, divergence detection."""

    def __init__(self, X_val: np.ndarray, y_val: np.ndarray, eval_every: int, diverge_factor: float) -> None:
        self.X_val, self.y_val, self.eval_every, self.diverge_factor = X_val, y_val, eval_every, diverge_factor
        self.loss: list[float] = []
        self.val_steps: list[int] = []
        self.val_acc: list[float] = []
        self.diverged_at: int | None = None

    def on_batch_end(self, trainer: TrainerView, step: int, logs: dict[str, Any]) -> None:
        loss = float(logs["loss"])
        self.loss.append(loss)
        if not math.isfinite(loss) or loss > self.diverge_factor * max(self.loss[0], 1e-3):
            self.diverged_at, trainer.stop_training = step, True
        elif step % self.eval_every == 0 or step == trainer.max_steps:
            self.val_steps.append(step)
            self.val_acc.append(trainer.evaluate(self.X_val, self.y_val, batch_size=1000)["accuracy"])


def train_one(name: str, lr: float, config: Config, data: tuple[np.ndarray, ...], seed: int) -> dict[str, Any]:
    """Train a fresh net (same init and batch order for every call with the same seed) for ``config.steps``."""
    X_train, y_train, X_val, y_val = data
    model = FullyConnectedNet(
        config.hidden_dims, input_dim=X_train.shape[1], num_classes=10, weight_init="he", seed=seed
    )
    curves = _Curves(X_val, y_val, config.eval_every, config.diverge_factor)
    epochs = math.ceil(config.steps * config.batch_size / len(X_train))
    trainer = Trainer(
        model,
        CrossEntropyLoss(),
        make_optimizer(name, model.parameters(), lr, config),
        batch_size=config.batch_size,
        epochs=epochs,
        max_steps=config.steps,
        callbacks=[curves],
        verbose=False,
        rng=np.random.default_rng(seed + 1),
    )
    # a diverging learning rate is a result, not a crash: overflow is caught and reported
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        try:
            trainer.fit(X_train, y_train)
            final = trainer.evaluate(X_train, y_train, batch_size=1000)["loss"]
        except FloatingPointError:
            curves.diverged_at, final = trainer.step, math.inf
    diverged = curves.diverged_at is not None
    reached = next((s for s, a in zip(curves.val_steps, curves.val_acc) if a >= config.target_acc), None)
    return {
        "optimizer": name,
        "lr": lr,
        "diverged": diverged,
        "diverged_at": curves.diverged_at,
        "final_train_loss": math.inf if diverged else final,
        "best_val_acc": max(curves.val_acc, default=0.0),
        "steps_to_target": reached,
        "loss": curves.loss,
        "val_steps": curves.val_steps,
        "val_acc": curves.val_acc,
    }


def _select(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The best run of a sweep: highest best validation accuracy, then lowest final training loss."""
    return max(runs, key=lambda r: (not r["diverged"], r["best_val_acc"], -r["final_train_loss"]))


def run(config: Config, ctx: RunContext) -> dict[str, Any]:
    seed = int(ctx.rng.integers(2**31))
    data = load_data(config, ctx.rng)
    # one task per (optimizer, lr): every run starts from the same weights and sees the same batches
    tasks = {
        f"{name}-lr{lr:g}": {"name": name, "lr": lr, "config": config, "data": data, "seed": seed}
        for name in config.optimizers
        for lr in config.lrs(name)
    }
    done = iter(ctx.map(train_one, tasks))
    sweep, best = [], {}
    for name in config.optimizers:
        runs = []
        for lr in config.lrs(name):
            r = next(done)
            runs.append(r)
            ctx.log({k: v for k, v in r.items() if k not in ("loss", "val_steps", "val_acc")})
            status = (
                f"diverged at step {r['diverged_at']}"
                if r["diverged"]
                else (f"final train loss {r['final_train_loss']:.4f}, best val acc {r['best_val_acc']:.4f}")
            )
            ctx.echo(f"{LABELS[name]:>13} lr={lr:g}: {status}")
        chosen = _select(runs)
        best[name] = chosen
        sweep += [{k: v for k, v in r.items() if k not in ("loss", "val_steps", "val_acc")} for r in runs]
    results = {
        "sweep": sweep,
        "best": best,
        "num_train": len(data[0]),
        "num_val": len(data[2]),
        "input_dim": int(data[0].shape[1]),
    }
    return results
