"""``batchnorm-batchsize``: BatchNorm at batch sizes from 5 to 200, against LayerNorm and no normalization.

BatchNorm normalizes each feature with the statistics of the current batch; at batch size 5 those
are five samples' worth, noisy, and the running averages used at evaluation inherit the noise.
LayerNorm normalizes each sample over its own features, so the batch size cannot reach it. The
8-layer FullyConnectedNet of :mod:`.batchnorm` (7 hidden ReLU layers of 50 units) trains on a small
subset (1,000 samples) with BatchNorm, with LayerNorm and without normalization, at each batch size
(the course's 5, 10 and 50, and 200), with the course's Solver (Adam, lr 10^-3.5, 10 epochs).

A fixed number of epochs means fewer steps for larger batches (2,000 at batch 5, 50 at batch 200),
as in the course; all three networks at one batch size take the same steps from the same initial
weights, so BatchNorm minus LayerNorm at one batch size isolates the batch statistics. Every number
is the mean of ``repeats`` runs with different initial weights and batch orders.

Data: Fashion-MNIST (see :mod:`.small_runs`); ``--quick`` uses Gaussian blobs, fewer samples and epochs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..._validate import check_float, check_int, invalid_value
from ..common.small_runs import average_runs, data_sizes, load_config_data, repeat_seeds, repeated_runs
from ..harness.context import RunContext

__all__ = ["Config", "QUICK", "run", "final_val_acc"]

NORMALIZATIONS = ("none", "batchnorm", "layernorm")


@dataclass(frozen=True)
class Config:
    dataset: Literal["fashion-mnist", "synthetic"] = "fashion-mnist"  # synthetic: Gaussian blobs, no download
    num_train: int = 1_000  # training samples: the small subset of the course's experiment
    num_val: int = 2_000  # validation samples, disjoint from the training ones
    synthetic_dim: int = 64  # input dimension of the synthetic blobs
    synthetic_noise: float = 2.0  # per-feature noise std of the synthetic blobs (centres are N(0, I))
    hidden_dims: tuple[int, ...] = (50,) * 7  # the 8-layer network of the batchnorm experiment
    weight_init: Literal["he", "normal"] = "he"  # he: a scale at which the baseline trains too (a fair control)
    weight_scale: float = 2e-2  # std of the 'normal' init (the course's value for this experiment)
    batch_sizes: tuple[int, ...] = (5, 10, 50, 200)
    normalizations: tuple[str, ...] = NORMALIZATIONS  # which networks to train: none, batchnorm, layernorm
    lr: float = 10**-3.5  # Adam's learning rate (the course's for this experiment)
    num_epochs: int = 10  # epochs per run (the same for every batch size, as in the course)
    repeats: int = 3  # runs per (batch size, network) with different initial weights and batch orders; means

    def __post_init__(self) -> None:
        for name in ("num_train", "num_val", "synthetic_dim", "num_epochs", "repeats"):
            check_int(getattr(self, name), name, low=1)
        check_float(self.synthetic_noise, "synthetic_noise", low=0.0)
        check_float(self.weight_scale, "weight_scale", low=0.0, low_open=True)
        check_float(self.lr, "lr", low=0.0, low_open=True)
        if not self.hidden_dims or any(not isinstance(h, int) or h < 1 for h in self.hidden_dims):
            raise invalid_value("hidden_dims", "one or more positive ints", self.hidden_dims)
        # batch statistics need two samples; a batch larger than the training set is the whole set
        if not self.batch_sizes or any(
            not isinstance(b, int) or not 2 <= b <= self.num_train for b in self.batch_sizes
        ):
            raise invalid_value("batch_sizes", f"one or more ints in [2, num_train={self.num_train}]", self.batch_sizes)
        if not self.normalizations or any(n not in NORMALIZATIONS for n in self.normalizations):
            raise invalid_value(
                "normalizations", "a non-empty selection of " + ", ".join(NORMALIZATIONS), self.normalizations
            )
        if "batchnorm" in self.normalizations and any(self.num_train % b == 1 for b in self.batch_sizes):
            # a last batch of a single sample has no batch statistics
            raise invalid_value("num_train", "a size that leaves no last batch of one sample", self.num_train)


#: ``--quick``: blobs in 64 dimensions (noise 1.25: learnable in few steps), 300 training samples,
#: batch sizes 5 and 50, 6 epochs at lr 1e-3, one repeat
QUICK: dict[str, Any] = {
    "dataset": "synthetic",
    "num_train": 300,
    "num_val": 300,
    "synthetic_noise": 1.25,
    "hidden_dims": (64,) * 7,
    "batch_sizes": (5, 50),
    "num_epochs": 6,
    "lr": 1e-3,
    "repeats": 1,
}


def final_val_acc(results: dict[str, Any], norm: str, batch_size: int) -> float:
    """The validation accuracy after the last epoch of the run with ``norm`` at ``batch_size``."""
    acc: float = _find(results, norm, batch_size)["final_val_acc"]
    return acc


def _find(results: dict[str, Any], norm: str, batch_size: int) -> dict[str, Any]:
    return next(r for r in results["runs"] if r["normalization"] == norm and r["batch_size"] == batch_size)


def run(config: Config, ctx: RunContext) -> dict[str, Any]:
    data = load_config_data(config, ctx.rng)
    seeds = repeat_seeds(ctx.rng, config.repeats)
    net = {"hidden_dims": config.hidden_dims, "weight_scale": config.weight_scale, "weight_init": config.weight_init}
    settings = {
        # within a repeat, the same initial weights and batch order for all three networks
        f"batch{batch_size}-{norm}": (
            net | {"normalization": None if norm == "none" else norm},
            {"lr": config.lr, "batch_size": batch_size, "num_epochs": config.num_epochs},
        )
        for batch_size in config.batch_sizes
        for norm in config.normalizations
    }
    repeated = repeated_runs(ctx, data, seeds, settings)
    runs = []
    for batch_size in config.batch_sizes:
        for norm in config.normalizations:
            r = average_runs(repeated[f"batch{batch_size}-{norm}"]) | {"normalization": norm, "batch_size": batch_size}
            runs.append(r)
            keys = ("final_train_acc", "final_val_acc", "final_val_acc_std", "best_val_acc", "steps", "diverged")
            ctx.log({"normalization": norm, "batch_size": batch_size} | {k: r[k] for k in keys})
            ctx.echo(
                f"batch {batch_size:>4} {norm:>9}: {r['steps']} steps, final train acc {r['final_train_acc']:.3f}, "
                f"val acc {r['final_val_acc']:.3f}" + (f" ({r['diverged']} diverged)" if r["diverged"] else "")
            )
    return {"runs": runs} | data_sizes(data)
