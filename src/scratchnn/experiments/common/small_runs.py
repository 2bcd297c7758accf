"""What the normalization and dropout experiments share: small data subsets and one course-Solver run.

The course runs its BatchNorm and dropout experiments on small CIFAR-10 subsets (1,000 and 500
training images) with the mean image subtracted. Here Fashion-MNIST takes CIFAR-10's place, the same
way: a random training subset, a disjoint validation subset, both centred on the training subset's
mean image. ``dataset='synthetic'`` gives Gaussian blobs instead (the ``--quick`` versions, so the
test suite needs no download): class centres N(0, I) in ``dim`` dimensions, each sample its centre plus
N(0, noise^2) per feature; ``noise`` sets how much of the task is learnable rather than memorizable.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..._validate import check_int, invalid_value
from ...data.synthetic import make_blobs
from ...models import FullyConnectedNet
from ...nn.module import Module
from ...train import Solver
from ..harness.context import RunContext

__all__ = [
    "DATASETS",
    "load_small_data",
    "load_config_data",
    "describe_data",
    "train_run",
    "average_runs",
    "repeat_seeds",
    "solver_run",
    "repeated_runs",
    "data_sizes",
]

DATASETS = ("fashion-mnist", "synthetic")
ACC_KEYS = ("best_val_acc", "best_train_acc", "final_val_acc", "final_train_acc")


def load_small_data(
    dataset: str,
    num_train: int,
    num_val: int,
    rng: np.random.Generator,
    *,
    synthetic_dim: int = 64,
    synthetic_noise: float = 1.0,
) -> dict[str, np.ndarray]:
    """The course's ``data`` dict: ``X_train, y_train, X_val, y_val``, centred on the training mean.

    Shape:
        X_train: (num_train, D) float32 (D = 784 for Fashion-MNIST);  y_train: (num_train,) int64;
        X_val: (num_val, D);  y_val: (num_val,)
    """
    num_train, num_val = check_int(num_train, "num_train", low=1), check_int(num_val, "num_val", low=1)
    n = num_train + num_val
    if dataset == "synthetic":
        X, y, _ = make_blobs(n, synthetic_dim, synthetic_noise, rng=rng)
    elif dataset == "fashion-mnist":
        from ...data import load_fashion_mnist

        X_all, y_all, _, _ = load_fashion_mnist(flatten=True)
        if n > len(X_all):
            raise invalid_value("num_train + num_val", f"at most {len(X_all)}", n)
        idx = rng.choice(len(X_all), size=n, replace=False)
        X, y = X_all[idx], y_all[idx].astype(np.int64)
    else:
        raise invalid_value("dataset", "one of " + ", ".join(DATASETS), dataset)
    mean = X[:num_train].mean(axis=0)  # the course subtracts the training set's mean image
    X = (X - mean).astype(np.float32)
    return {"X_train": X[:num_train], "y_train": y[:num_train], "X_val": X[num_train:], "y_val": y[num_train:]}


def load_config_data(config: Any, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """:func:`load_small_data` as an experiment's config asks: its ``dataset``, ``num_train``,
    ``num_val``, ``synthetic_dim`` and ``synthetic_noise``."""
    return load_small_data(
        config.dataset,
        config.num_train,
        config.num_val,
        rng,
        synthetic_dim=config.synthetic_dim,
        synthetic_noise=config.synthetic_noise,
    )


def describe_data(dataset: str, num_train: int, num_val: int, dim: int, noise: float) -> str:
    """One sentence for a report's setup: which data, how many samples."""
    if dataset == "fashion-mnist":
        what = "Fashion-MNIST (784 pixels in [0, 1], centred on the training subset's mean image)"
    else:
        what = f"Synthetic data: 10 Gaussian blobs in {dim} dimensions (centres N(0, I), noise std {noise:g})"
    return f"{what}: {num_train:,} training and {num_val:,} validation samples, disjoint random subsets."


def train_run(
    model: Module,
    data: dict[str, np.ndarray],
    *,
    lr: float,
    batch_size: int,
    num_epochs: int,
    rng: np.random.Generator,
    loss_window: int = 100,
) -> dict[str, Any]:
    """Train ``model`` with the course's ``Solver`` (Adam at ``lr``) and return its histories.

    The accuracies are the Solver's: eval mode, on all training and validation samples, after the
    first step and after each epoch (``num_epochs + 1`` values). ``final_train_loss`` is the mean
    minibatch loss over the last ``loss_window`` steps (the course's measure). A run that overflows
    is a result, not a crash: it stops there, ``diverged_step`` names the step and its loss is inf.
    """
    solver = Solver(
        model,
        data,
        update_rule="adam",
        optim_config={"learning_rate": lr},
        batch_size=batch_size,
        num_epochs=num_epochs,
        num_train_samples=None,
        verbose=False,
        rng=rng,
    )
    diverged_step = None
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        try:
            solver.train()
        except FloatingPointError:
            diverged_step = 1 + (solver.trainer.step if solver.trainer is not None else 0)
    losses = solver.loss_history
    final = float(np.mean(losses[-loss_window:])) if losses and diverged_step is None else math.inf
    return {
        "diverged_step": diverged_step,
        "final_train_loss": final,
        "best_val_acc": max(solver.val_acc_history, default=0.0),
        "best_train_acc": max(solver.train_acc_history, default=0.0),
        "final_val_acc": solver.val_acc_history[-1] if diverged_step is None else 0.0,
        "final_train_acc": solver.train_acc_history[-1] if diverged_step is None else 0.0,
        "train_acc": list(solver.train_acc_history),
        "val_acc": list(solver.val_acc_history),
        "steps": solver.trainer.step if solver.trainer is not None else 0,
    }


def average_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The mean of repeated :func:`train_run` results (same setting, different seeds).

    Accuracies (final, best, and the curves epoch by epoch) are means; the final training loss is
    the mean, or inf if any repeat diverged; ``*_std`` are the standard deviations across repeats and
    ``repeats`` the per-repeat values of the final and best validation accuracy.
    """
    n = min(len(r["train_acc"]) for r in runs)  # a diverged run's curves stop early
    mean = {k: float(np.mean([r[k] for r in runs])) for k in ACC_KEYS}
    losses = [r["final_train_loss"] for r in runs]
    diverged = [r["diverged_step"] for r in runs if r["diverged_step"] is not None]
    return (
        mean
        | {
            "train_acc": np.mean([r["train_acc"][:n] for r in runs], axis=0).tolist(),  # (repeats, n) -> (n,)
            "val_acc": np.mean([r["val_acc"][:n] for r in runs], axis=0).tolist(),
            "final_train_loss": float(np.mean(losses)) if all(math.isfinite(v) for v in losses) else math.inf,
            "best_val_acc_std": float(np.std([r["best_val_acc"] for r in runs])),
            "final_val_acc_std": float(np.std([r["final_val_acc"] for r in runs])),
            "diverged_step": min(diverged) if diverged else None,
            "diverged": len(diverged),
            "steps": max(r["steps"] for r in runs),
            "repeats": {k: [r[k] for r in runs] for k in ("final_train_acc", "final_val_acc", "best_val_acc")},
        }
    )


def repeat_seeds(rng: np.random.Generator, repeats: int) -> list[tuple[int, int]]:
    """One (init seed, batch-order seed) pair per repeat, drawn once per experiment run."""
    return [(int(a), int(b)) for a, b in rng.integers(2**31, size=(repeats, 2))]


def solver_run(
    data: dict[str, np.ndarray], net: dict[str, Any], init_seed: int, order_seed: int, **train: Any
) -> dict[str, Any]:
    """One sweep task: :func:`train_run` of a ``FullyConnectedNet(**net)`` whose weights come from
    ``init_seed`` and whose batch order comes from ``order_seed``. ``train`` are :func:`train_run`'s
    keywords (lr, batch_size, num_epochs, loss_window)."""
    model = FullyConnectedNet(
        input_dim=data["X_train"].shape[1], num_classes=10, rng=np.random.default_rng(init_seed), **net
    )
    return train_run(model, data, rng=np.random.default_rng(order_seed), **train)


def repeated_runs(
    ctx: RunContext,
    data: dict[str, np.ndarray],
    seeds: list[tuple[int, int]],
    settings: dict[str, tuple[dict[str, Any], dict[str, Any]]],
) -> dict[str, list[dict[str, Any]]]:
    """Every setting ``name -> (net, train)`` once per seed pair, all as one sweep (``ctx.map``).

    Returns ``name -> [run of repeat 0, repeat 1, ...]``. Repeat i draws its weights from
    ``seeds[i][0]`` and its batch order from ``seeds[i][1]``, so the networks an experiment compares
    see the same draws and batches within a repeat. Each run is a task of its own (folder
    ``runs/<name>-repeat<i>/``), so the sweep can spread them over worker processes.
    """
    tasks = {
        f"{name}-repeat{i}": {"data": data, "net": net, "init_seed": a, "order_seed": b} | train
        for name, (net, train) in settings.items()
        for i, (a, b) in enumerate(seeds)
    }
    results = iter(ctx.map(solver_run, tasks))
    return {name: [next(results) for _ in seeds] for name in settings}


def data_sizes(data: dict[str, np.ndarray]) -> dict[str, int]:
    """The sizes an experiment's results record: ``num_train``, ``num_val``, ``input_dim``."""
    X_train, X_val = data["X_train"], data["X_val"]
    return {"num_train": len(X_train), "num_val": len(X_val), "input_dim": int(X_train.shape[1])}
