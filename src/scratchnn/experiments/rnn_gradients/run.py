"""``rnn-gradients``: how gradients vanish or explode through time, and what it does to learning.

The course project's widget (weight and bias scale sliders printing ||h_t|| and ||dL/dh_t||) as a
measured study, in four parts:

1. heatmaps: log10 ||dL/dh_1|| / ||dL/dh_T|| of a vanilla RNN (``W_hh`` = weight scale x an orthogonal
   matrix, biases ~ bias scale x N(0, 1)) over a grid of weight and bias scales, per nonlinearity
   (identity, ReLU, tanh), loss on the last step (:func:`scratchnn.analysis.rnn_flow_grid`);
2. per-step curves ||dL/dh_t|| and ||h_t|| at a few representative scales;
3. RNN vs LSTM vs GRU at torch's initialization, T = 100: the per-step gradient, mean over seeds
   (:func:`scratchnn.analysis.module_flow`);
4. the running-mean regression (``data.make_running_mean``) trained with the loss on every step or on
   the last step only, T in {10, 50, 100}, RNN / LSTM / GRU, several seeds: the final test MSE at the
   last step and over all steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._validate import check_int, invalid_value
from ..harness.context import RunContext

__all__ = ["Config", "QUICK", "run", "flow_task", "cells_task", "running_mean_task"]


@dataclass(frozen=True)
class Config:
    T: int = 50  # steps of the heatmaps and per-step curves
    weight_scales: tuple[float, ...] = tuple(np.round(np.geomspace(0.25, 4.0, 17), 4).tolist())
    bias_scales: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
    nonlinearities: tuple[str, ...] = ("identity", "relu", "tanh")
    hidden_size: int = 64  # H of the vanilla RNN of parts 1-2 and of the cells of part 3
    batch_size: int = 16  # sequences averaged per grid cell
    curve_scales: tuple[tuple[float, float], ...] = ((0.5, 0.0), (0.9, 0.0), (1.0, 0.0), (1.1, 0.0), (1.5, 0.0))
    curve_scales += ((1.5, 2.0),)  # a saturating bias: tanh's gradient vanishes where the linear net's explodes
    cells_T: int = 100  # part 3
    cells_seeds: int = 5
    rm_T: tuple[int, ...] = (10, 50, 100)  # part 4: sequence lengths
    rm_cells: tuple[str, ...] = ("rnn", "lstm", "gru")
    rm_hidden: int = 32
    rm_train: int = 2000  # training sequences
    rm_test: int = 500
    rm_epochs: int = 30
    rm_batch_size: int = 50
    rm_lr: float = 3e-3
    rm_seeds: int = 3

    def __post_init__(self) -> None:
        for name in ("T", "hidden_size", "batch_size", "cells_T", "cells_seeds", "rm_hidden", "rm_train", "rm_test"):
            check_int(getattr(self, name), name, low=1)
        for name in ("rm_epochs", "rm_batch_size", "rm_seeds"):
            check_int(getattr(self, name), name, low=1)
        if not self.rm_T or any(not isinstance(t, int) or t < 1 for t in self.rm_T):
            raise invalid_value("rm_T", "one or more positive ints", self.rm_T)
        if any(c not in ("rnn", "lstm", "gru") for c in self.rm_cells):
            raise invalid_value("rm_cells", "cells among 'rnn', 'lstm', 'gru'", self.rm_cells)
        if any(n not in ("identity", "relu", "tanh") for n in self.nonlinearities):
            raise invalid_value("nonlinearities", "names among 'identity', 'relu', 'tanh'", self.nonlinearities)


#: ``--quick``: small grids, short sequences, one seed
QUICK: dict[str, Any] = {
    "T": 20,
    "weight_scales": (0.5, 1.0, 2.0),
    "bias_scales": (0.0, 2.0),
    "hidden_size": 16,
    "batch_size": 4,
    "curve_scales": ((0.5, 0.0), (1.5, 2.0)),
    "cells_T": 20,
    "cells_seeds": 2,
    "rm_T": (5, 10),
    "rm_cells": ("rnn", "gru"),
    "rm_hidden": 8,
    "rm_train": 200,
    "rm_test": 100,
    "rm_epochs": 4,
    "rm_seeds": 1,
}


def flow_task(config: dict[str, Any], nonlinearity: str, seed: int) -> dict[str, Any]:
    """Part 1 and 2 for one nonlinearity: the grid, and the per-step curves at ``curve_scales``."""
    from ...analysis import rnn_flow_grid

    common = dict(
        T=config["T"], batch_size=config["batch_size"], hidden_size=config["hidden_size"], nonlinearity=nonlinearity,
        seed=seed,
    )  # fmt: skip
    grid = rnn_flow_grid(config["weight_scales"], config["bias_scales"], **common)
    curves = []
    for s, b in config["curve_scales"]:
        one = rnn_flow_grid([s], [b], **common)
        curves.append({"weight_scale": s, "bias_scale": b, "grad_norm": one["grad_norm"][0, 0].tolist()})
        curves[-1]["h_norm"] = one["h_norm"][0, 0].tolist()
    return {"log10_ratio": grid["log10_ratio"].tolist(), "curves": curves}


def cells_task(cell: str, T: int, hidden_size: int, batch_size: int, seed: int) -> dict[str, Any]:
    """Part 3 for one cell and seed: ||dL/dh_t|| at torch's initialization, loss on the last step."""
    from ... import nn
    from ...analysis import module_flow

    rng = np.random.default_rng(seed)
    module = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell](
        hidden_size, hidden_size, batch_first=True, dtype=np.float64, rng=rng
    )
    x = rng.standard_normal((batch_size, T, hidden_size))
    flow = module_flow(module, x, rng=rng)
    return {"grad_norm": flow.grad_norm.tolist(), "h_norm": flow.h_norm.tolist()}


def running_mean_task(
    cell: str, loss_on: str, T: int, hidden: int, n_train: int, n_test: int, epochs: int, batch_size: int,
    lr: float, seed: int,
) -> dict[str, Any]:  # fmt: skip
    """Part 4, one run: train on the running mean with the loss on ``loss_on`` steps; test MSEs."""
    from ...data import make_running_mean
    from ...nn import MSELoss
    from ...optim import Adam
    from ...train import Trainer
    from .model import RunningMeanNet

    rng = np.random.default_rng(seed)
    X, Y = make_running_mean(n_train + n_test, T, rng=rng)
    model = RunningMeanNet(cell, hidden, loss_on=loss_on, rng=rng)
    y_train = Y[:n_train] if loss_on == "all" else Y[:n_train, -1]  # (N, T, 1) or (N, 1)
    trainer = Trainer(
        model, MSELoss(), Adam(model.parameters(), lr=lr), batch_size=batch_size, epochs=epochs, clip_grad_norm=1.0,
        verbose=False, rng=rng, metrics=(),
    )  # fmt: skip
    trainer.fit(X[:n_train], y_train)
    model.eval()
    model.loss_on = "all"  # predict every step, whatever it was trained on
    pred = model(X[n_train:])  # (N_test, T, 1)
    err = (pred - Y[n_train:]) ** 2
    return {
        "mse_last": float(err[:, -1].mean()),
        "mse_all": float(err.mean()),
        "mse_zero_last": float((Y[n_train:, -1] ** 2).mean()),  # predicting 0: the variance of the target
        "train_loss": [h["train_loss"] for h in trainer.history],
    }


def run(config: Config, ctx: RunContext) -> dict[str, Any]:
    cfg = {k: getattr(config, k) for k in ("T", "weight_scales", "bias_scales", "hidden_size", "batch_size")}
    cfg["curve_scales"] = config.curve_scales
    seed = int(ctx.rng.integers(2**31))
    flows = ctx.map(
        flow_task, {f"flow-{n}": {"config": cfg, "nonlinearity": n, "seed": seed} for n in config.nonlinearities}
    )
    for n, flow in zip(config.nonlinearities, flows):
        ctx.echo(f"{n}: log10 ratio from {np.min(flow['log10_ratio']):.1f} to {np.max(flow['log10_ratio']):.1f}")

    cell_seeds = [int(s) for s in ctx.rng.integers(2**31, size=config.cells_seeds)]
    cell_tasks = {
        f"cells-{cell}-seed{i}": {"cell": cell, "T": config.cells_T, "hidden_size": config.hidden_size,
                                  "batch_size": config.batch_size, "seed": s}
        for cell in ("rnn", "lstm", "gru") for i, s in enumerate(cell_seeds)
    }  # fmt: skip
    cell_runs = iter(ctx.map(cells_task, cell_tasks))
    cells = {}
    for cell in ("rnn", "lstm", "gru"):
        runs = [next(cell_runs) for _ in cell_seeds]
        cells[cell] = {"grad_norm": np.exp(np.mean([np.log(r["grad_norm"]) for r in runs], axis=0)).tolist()}

    rm_seeds = [int(s) for s in ctx.rng.integers(2**31, size=config.rm_seeds)]
    train = {"hidden": config.rm_hidden, "n_train": config.rm_train, "n_test": config.rm_test,
             "epochs": config.rm_epochs, "batch_size": config.rm_batch_size, "lr": config.rm_lr}  # fmt: skip
    keys = [(c, loss_on, T, i) for c in config.rm_cells for loss_on in ("all", "last") for T in config.rm_T
            for i in range(config.rm_seeds)]  # fmt: skip
    rm_tasks = {f"rm-{c}-{loss_on}-T{T}-seed{i}": {"cell": c, "loss_on": loss_on, "T": T, "seed": rm_seeds[i]} | train
                for c, loss_on, T, i in keys}  # fmt: skip
    rm = []
    for (c, loss_on, T, i), r in zip(keys, ctx.map(running_mean_task, rm_tasks)):
        ctx.log({"cell": c, "loss_on": loss_on, "T": T, "seed": i, "mse_last": r["mse_last"], "mse_all": r["mse_all"]})
        rm.append({"cell": c, "loss_on": loss_on, "T": T, "seed": i} | r)
    return {"nonlinearities": list(config.nonlinearities), "flows": flows, "cells": cells, "running_mean": rm}
