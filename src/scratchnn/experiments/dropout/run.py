"""``dropout``: training and validation accuracy over epochs at dropout p in {0, 0.25, 0.5, 0.75}.

The course's experiment: a network with one hidden layer of 500 ReLU units on a small training set
(500 samples) that it can memorize, with inverted dropout of drop probability p after the hidden
layer (torch's meaning of p; the course's ``dropout_keep_ratio`` is 1 - p). The course's Solver trains
it with Adam (lr 5e-4, batch 100, 25 epochs). The generalization gap is the training minus the
validation accuracy (both in eval mode, i.e. without dropout). Each p trains ``repeats`` times with
different initial weights, masks and batch orders (the same for every p within a repeat); the curves
and table give the means.

Data: Fashion-MNIST (see :mod:`.small_runs`); ``--quick`` uses Gaussian blobs, noisy enough that
the network memorizes its training samples long before it generalizes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..._validate import check_float, check_int, invalid_value
from ..common.small_runs import average_runs, data_sizes, load_config_data, repeat_seeds, repeated_runs
from ..harness.context import RunContext

__all__ = ["Config", "QUICK", "run", "by_p", "first_epoch_at"]


@dataclass(frozen=True)
class Config:
    dataset: Literal["fashion-mnist", "synthetic"] = "fashion-mnist"  # synthetic: Gaussian blobs, no download
    num_train: int = 500  # training samples: the small subset of the course's experiment
    num_val: int = 2_000  # validation samples, disjoint from the training ones
    synthetic_dim: int = 64  # input dimension of the synthetic blobs
    synthetic_noise: float = 3.0  # per-feature noise std of the synthetic blobs (centres are N(0, I))
    hidden_dims: tuple[int, ...] = (500,)  # the course's network
    ps: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75)  # drop probabilities (torch's p)
    weight_init: Literal["he", "normal"] = "he"  # he: trains within the epochs; normal: N(0, weight_scale^2)
    weight_scale: float = 1e-2  # std of the 'normal' init (the course's default)
    lr: float = 5e-4  # Adam's learning rate (the course's)
    batch_size: int = 100  # samples per step (the course's)
    num_epochs: int = 25  # epochs per run (the course's)
    train_level: float = 0.95  # the table's last column: the first epoch with training accuracy >= this
    repeats: int = 5  # runs per p with different initial weights, masks and batch orders; curves are means

    def __post_init__(self) -> None:
        for name in ("num_train", "num_val", "synthetic_dim", "batch_size", "num_epochs", "repeats"):
            check_int(getattr(self, name), name, low=1)
        check_float(self.synthetic_noise, "synthetic_noise", low=0.0)
        check_float(self.weight_scale, "weight_scale", low=0.0, low_open=True)
        check_float(self.lr, "lr", low=0.0, low_open=True)
        check_float(self.train_level, "train_level", low=0.0, high=1.0)
        if not self.hidden_dims or any(not isinstance(h, int) or h < 1 for h in self.hidden_dims):
            raise invalid_value("hidden_dims", "one or more positive ints", self.hidden_dims)
        if not self.ps or any(not 0 <= p < 1 for p in self.ps) or len(set(self.ps)) < len(self.ps):
            raise invalid_value("ps", "distinct drop probabilities in [0, 1)", self.ps)


#: ``--quick``: 200 noisy blob samples in 64 dimensions, a hidden layer of 256, two repeats
QUICK: dict[str, Any] = {
    "dataset": "synthetic",
    "num_train": 200,
    "num_val": 500,
    "hidden_dims": (256,),
    "batch_size": 50,
    "lr": 1e-3,
    "repeats": 2,
}


def by_p(results: dict[str, Any], p: float) -> dict[str, Any]:
    """The averaged results of drop probability ``p``."""
    return next(r for r in results["runs"] if r["p"] == p)


def first_epoch_at(curve: list[float], level: float) -> int | None:
    """The first epoch (index into an accuracy curve; 0 is after the first step) reaching ``level``, or None."""
    return next((i for i, a in enumerate(curve) if a >= level), None)


def run(config: Config, ctx: RunContext) -> dict[str, Any]:
    data = load_config_data(config, ctx.rng)
    seeds = repeat_seeds(ctx.rng, config.repeats)
    train = {"lr": config.lr, "batch_size": config.batch_size, "num_epochs": config.num_epochs}
    # seed=None and a generator: fresh masks every step (a seed would fix them, the course's gradcheck device)
    net = {"hidden_dims": config.hidden_dims, "weight_scale": config.weight_scale, "weight_init": config.weight_init}
    per_p = repeated_runs(ctx, data, seeds, {f"p{p:g}": (net | {"dropout": p}, train) for p in config.ps})
    for p in config.ps:
        for repeat, r in enumerate(per_p[f"p{p:g}"]):
            gap = r["final_train_acc"] - r["final_val_acc"]
            ctx.log(
                {"p": p, "repeat": repeat} | {k: r[k] for k in ("final_train_acc", "final_val_acc", "best_val_acc")}
            )
            ctx.echo(
                f"repeat {repeat} p={p:g}: final train acc {r['final_train_acc']:.3f}, val acc "
                f"{r['final_val_acc']:.3f}, gap {gap:.3f}"
            )
    return {"runs": [_average(p, per_p[f"p{p:g}"], config.train_level) for p in config.ps]} | data_sizes(data)


def _average(p: float, runs: list[dict[str, Any]], level: float) -> dict[str, Any]:
    """Mean curves and final numbers over the repeats of one p, and the gap's mean and spread."""
    mean = average_runs(runs)
    gaps = [r["final_train_acc"] - r["final_val_acc"] for r in runs]
    return mean | {
        "p": p,
        "gap": (np.asarray(mean["train_acc"]) - np.asarray(mean["val_acc"])).tolist(),
        "final_gap": float(np.mean(gaps)),
        "final_gap_std": float(np.std(gaps)),
        "final_gaps": gaps,
        "level_epoch": first_epoch_at(mean["train_acc"], level),
    }
