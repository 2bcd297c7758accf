"""``batchnorm``: the course's weight-scale sweep: a deep network with and without BatchNorm.

An 8-layer FullyConnectedNet (7 hidden ReLU layers of 50 units) trains on a small training subset
(1,000 samples, as the course's 1,000 CIFAR-10 images) from N(0, weight_scale^2) weights at 20
weight scales from 1e-4 to 1 on a log grid, once without normalization and once with BatchNorm after
every hidden affine layer. At each scale both networks start from the same standard-normal draws
(only the normalization differs) and see the same batches; the course's Solver trains them with Adam
(lr 1e-3, batch 50, 10 epochs). Per run: the best validation accuracy, the best training accuracy
(both in eval mode, after each epoch) and the final training loss (mean of the last 100 minibatch
losses), plotted against the weight scale; each is the mean of ``repeats`` runs with different
initial draws and batch orders.

Data: Fashion-MNIST (see :mod:`.small_runs`); ``--quick`` uses Gaussian blobs and a shorter grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..._validate import check_float, check_int, invalid_value
from ..common.small_runs import average_runs, data_sizes, load_config_data, repeat_seeds, repeated_runs
from ..harness.context import RunContext

__all__ = ["Config", "QUICK", "run", "weight_scales"]

NORMALIZATIONS = ("none", "batchnorm")


@dataclass(frozen=True)
class Config:
    dataset: Literal["fashion-mnist", "synthetic"] = "fashion-mnist"  # synthetic: Gaussian blobs, no download
    num_train: int = 1_000  # training samples: the small subset of the course's experiment
    num_val: int = 2_000  # validation samples, disjoint from the training ones
    synthetic_dim: int = 64  # input dimension of the synthetic blobs
    synthetic_noise: float = 2.0  # per-feature noise std of the synthetic blobs (centres are N(0, I))
    hidden_dims: tuple[int, ...] = (50,) * 7  # the course's 8-layer network
    min_weight_scale: float = 1e-4  # the log grid of weight scales (std of the N(0, s^2) init)
    max_weight_scale: float = 1.0
    num_weight_scales: int = 20
    lr: float = 1e-3  # Adam's learning rate (the course's)
    batch_size: int = 50  # samples per step
    num_epochs: int = 10  # epochs per run
    loss_window: int = 100  # the final training loss is the mean minibatch loss over this many last steps
    repeats: int = 3  # runs per (scale, network) with different initial draws and batch orders; results are means

    def __post_init__(self) -> None:
        for name in (
            "num_train",
            "num_val",
            "synthetic_dim",
            "num_weight_scales",
            "batch_size",
            "num_epochs",
            "repeats",
            "loss_window",
        ):
            check_int(getattr(self, name), name, low=1)
        if self.num_train % self.batch_size == 1:  # a last batch of a single sample has no batch statistics
            raise invalid_value(
                "num_train",
                f"a size that leaves no last batch of one sample at batch_size={self.batch_size}",
                self.num_train,
            )
        check_float(self.synthetic_noise, "synthetic_noise", low=0.0)
        check_float(self.lr, "lr", low=0.0, low_open=True)
        check_float(self.min_weight_scale, "min_weight_scale", low=0.0, low_open=True)
        check_float(self.max_weight_scale, "max_weight_scale", low=self.min_weight_scale)
        if not self.hidden_dims or any(not isinstance(h, int) or h < 1 for h in self.hidden_dims):
            raise invalid_value("hidden_dims", "one or more positive ints", self.hidden_dims)


#: ``--quick``: blobs in 64 dimensions (noise 1.25: learnable in few steps), 500 training samples,
#: 10 weight scales over the same range, layers of 64, 100 steps at lr 1e-2, one repeat
QUICK: dict[str, Any] = {
    "dataset": "synthetic",
    "num_train": 500,
    "num_val": 300,
    "synthetic_noise": 1.25,
    "hidden_dims": (64,) * 7,
    "num_weight_scales": 10,
    "lr": 1e-2,
    "repeats": 1,
}


def weight_scales(config: Config) -> np.ndarray:
    """The sweep's weight scales: ``num_weight_scales`` points from min to max, evenly spaced in log."""
    lo, hi = np.log10(config.min_weight_scale), np.log10(config.max_weight_scale)
    return np.logspace(lo, hi, config.num_weight_scales)


def run(config: Config, ctx: RunContext) -> dict[str, Any]:
    data = load_config_data(config, ctx.rng)
    seeds = repeat_seeds(ctx.rng, config.repeats)
    train = {"lr": config.lr, "batch_size": config.batch_size, "num_epochs": config.num_epochs}
    train["loss_window"] = config.loss_window
    settings = {
        # within a repeat, the same draws and batches at every scale and for both networks
        f"scale{i:02d}-{norm}": (
            {
                "hidden_dims": config.hidden_dims,
                "normalization": None if norm == "none" else norm,
                "weight_scale": float(scale),
                "weight_init": "normal",
            },
            train,
        )
        for i, scale in enumerate(weight_scales(config))
        for norm in NORMALIZATIONS
    }
    repeated = repeated_runs(ctx, data, seeds, settings)
    runs: dict[str, list[dict[str, Any]]] = {norm: [] for norm in NORMALIZATIONS}
    for i, scale in enumerate(weight_scales(config)):
        for norm in NORMALIZATIONS:
            r = average_runs(repeated[f"scale{i:02d}-{norm}"]) | {"weight_scale": float(scale)}
            runs[norm].append(r)
            ctx.log({"weight_scale": float(scale), "normalization": norm} | _summary(r))
            ctx.echo(
                f"weight scale {scale:8.2e} {norm:>9}: best val acc {r['best_val_acc']:.3f}, best train acc "
                f"{r['best_train_acc']:.3f}, final train loss {r['final_train_loss']:.4g}"
                + (f" ({r['diverged']} diverged)" if r["diverged"] else "")
            )
    return {"weight_scales": weight_scales(config).tolist(), "runs": runs} | data_sizes(data)


def _summary(r: dict[str, Any]) -> dict[str, Any]:
    keys = ("best_val_acc", "best_train_acc", "final_train_loss", "diverged", "repeats")
    return {k: r[k] for k in keys}
