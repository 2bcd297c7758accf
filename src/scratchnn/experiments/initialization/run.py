"""``initialization``: what the scale of the initial weights does to signal, gradients and training.

Part 1 (deep nets). 10-layer tanh and ReLU MLPs under zeros, N(0, 0.01^2), N(0, 1), Xavier and He
(see :mod:`scratchnn.analysis.initialization`): the per-layer activation std and weight-gradient norm
of one forward/backward pass at initialization, then short training runs (SGD + momentum, the same
batches for every run) with the loss and validation accuracy. Data: standardized Fashion-MNIST
subsets; ``--quick`` uses 10 Gaussian blobs instead (no download).

Part 2 (the curve-fitting study). A sum of ``fit_num_sines`` random sines on [-1, 1], 1,500 noisy
training points, a 4-hidden-layer ReLU net under tiny U(-0.03, 0.03), huge U(-3, 3) and Kaiming
initialization: per-layer gradient norms at init, training, the test MSE against the noise-free
function on a grid, and the fitted curves. A run that diverges is reported with its step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..._validate import check_float, check_int, invalid_value
from ...analysis.initialization import (
    SCHEMES,
    deep_mlp,
    init_weights_,
    layer_stats,
    make_sines,
    sines_at,
    train_until_diverged,
)
from ...nn import CrossEntropyLoss, Module, MSELoss
from ...optim import SGD, Adam, Optimizer
from ..harness.context import RunContext

__all__ = ["Config", "QUICK", "run", "load_data"]


@dataclass(frozen=True)
class Config:
    dataset: Literal["fashion-mnist", "synthetic"] = "fashion-mnist"  # synthetic: 10 Gaussian blobs, no download
    synthetic_dim: int = 64  # input dimension of the synthetic blobs
    num_train: int = 10_000  # training samples of part 1 (a random subset of the 60k)
    num_val: int = 2_000  # validation samples, disjoint from the training ones
    depth: int = 10  # hidden layers of the deep nets
    width: int = 256  # units per hidden layer
    schemes: tuple[str, ...] = ("zeros", "normal_0.01", "normal_1", "xavier", "he")  # part 1's initializations
    nonlinearities: tuple[str, ...] = ("tanh", "relu")  # part 1's activation functions
    stats_batch: int = 1_000  # training samples in the forward/backward pass at initialization
    steps: int = 500  # optimizer steps per part-1 training run (6.4 epochs of 10k at batch 128)
    batch_size: int = 128  # samples per step
    lr: float = 0.01  # SGD learning rate of part 1
    momentum: float = 0.9  # SGD momentum of both parts
    eval_every: int = 50  # steps between validation evaluations
    fit_schemes: tuple[str, ...] = ("uniform_0.03", "uniform_3", "kaiming")  # part 2: tiny, huge, Kaiming
    fit_num_sines: int = 5  # sines in the target function, random amplitude, frequency and phase
    fit_num_train: int = 1_500  # noisy training points, x ~ U(-1, 1)
    fit_noise: float = 0.1  # std of the Gaussian noise on the training targets
    fit_depth: int = 4  # hidden layers of the curve-fitting net (ReLU)
    fit_width: int = 64  # units per hidden layer
    fit_steps: int = 3_000  # optimizer steps (128 epochs at batch 64)
    fit_batch_size: int = 64  # samples per step
    fit_optimizer: Literal["sgd", "adam"] = "sgd"  # sgd: SGD + momentum; adam: Adam (hides tiny gradients)
    fit_lr: float = 0.01  # learning rate of part 2
    diverge_factor: float = 1e4  # a run whose loss exceeds this x its first loss (or overflows) has diverged

    def __post_init__(self) -> None:
        for name in (
            "synthetic_dim",
            "num_train",
            "num_val",
            "depth",
            "width",
            "stats_batch",
            "steps",
            "batch_size",
            "eval_every",
            "fit_num_sines",
            "fit_num_train",
            "fit_depth",
            "fit_width",
            "fit_steps",
            "fit_batch_size",
        ):
            check_int(getattr(self, name), name, low=1)
        check_float(self.lr, "lr", low=0.0, low_open=True)
        check_float(self.fit_lr, "fit_lr", low=0.0, low_open=True)
        check_float(self.momentum, "momentum", low=0.0, high=1.0, high_open=True)
        check_float(self.fit_noise, "fit_noise", low=0.0)
        check_float(self.diverge_factor, "diverge_factor", low=1.0, low_open=True)
        for name in ("schemes", "fit_schemes"):
            chosen = getattr(self, name)
            if not chosen or any(s not in SCHEMES for s in chosen):
                raise invalid_value(name, "a non-empty selection of " + ", ".join(SCHEMES), chosen)
        if not self.nonlinearities or any(n not in ("tanh", "relu") for n in self.nonlinearities):
            raise invalid_value("nonlinearities", "a non-empty selection of tanh, relu", self.nonlinearities)
        if self.stats_batch > self.num_train:
            raise invalid_value("stats_batch", f"at most num_train={self.num_train}", self.stats_batch)


#: ``--quick``: synthetic blobs, width 64, 60 training steps per deep net, 300 steps of curve fitting
QUICK: dict[str, Any] = {
    "dataset": "synthetic",
    "num_train": 1_000,
    "num_val": 300,
    "width": 64,
    "stats_batch": 500,
    "steps": 60,
    "eval_every": 20,
    "fit_num_train": 500,
    "fit_width": 32,
    "fit_steps": 300,
}


def load_data(config: Config, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``X_train, y_train, X_val, y_val``, standardized with the training subset's mean and std.

    Shape: X_* (N, D) float32 (D = 784 for Fashion-MNIST), y_* (N,) int64.
    """
    n = config.num_train + config.num_val
    if config.dataset == "synthetic":  # 10 blobs whose centres are about one noise std apart per feature
        y = rng.integers(0, 10, size=n)
        centres = rng.standard_normal((10, config.synthetic_dim))  # (K, D)
        X = centres[y] + rng.standard_normal((n, config.synthetic_dim))  # (N, D)
    else:
        from ...data import load_fashion_mnist

        X_all, y_all, _, _ = load_fashion_mnist(flatten=True)
        if n > len(X_all):
            raise invalid_value("num_train + num_val", f"at most {len(X_all)}", n)
        idx = rng.choice(len(X_all), size=n, replace=False)
        X, y = X_all[idx], y_all[idx]
    X_train = X[: config.num_train]
    X = ((X - X_train.mean()) / X_train.std()).astype(np.float32)  # unit-scale inputs: the schemes assume them
    return X[: config.num_train], y[: config.num_train].astype(np.int64), X[config.num_train :], y[config.num_train :]


def _optimizer(model: Module, name: str, lr: float, momentum: float) -> Optimizer:
    return Adam(model.parameters(), lr=lr) if name == "adam" else SGD(model.parameters(), lr=lr, momentum=momentum)


def deep_net_run(config: Config, data: tuple[np.ndarray, ...], nonlinearity: str, scheme: str, seed: int) -> dict:
    """One sweep task: statistics at init and training of the deep net of one (nonlinearity, scheme).

    Every run draws from the same generator seed: schemes differ only in the weights' distribution.
    """
    X, y, X_val, y_val = data
    model = deep_mlp(X.shape[1], config.width, config.depth, 10, nonlinearity, rng=np.random.default_rng(seed))
    init_weights_(model, scheme, rng=np.random.default_rng(seed))
    with np.errstate(all="raise", under="ignore"):
        s = layer_stats(model, CrossEntropyLoss(), X[: config.stats_batch], y[: config.stats_batch])
    std = s.act_std
    stats = {
        "act_mean": s.act_mean,
        "act_std": std,
        "grad_norm": s.grad_norm,
        "loss": s.loss,
        "std_ratio": std[-1] / std[0] if std[0] > 0 else 0.0,
    }

    def evaluate() -> dict[str, float]:
        scores = model(X_val)
        return {
            "val_loss": float(CrossEntropyLoss()(scores, y_val)),
            "val_acc": float(np.mean(scores.argmax(axis=1) == y_val)),
        }

    r = train_until_diverged(
        model,
        CrossEntropyLoss(),
        _optimizer(model, "sgd", config.lr, config.momentum),
        X,
        y,
        steps=config.steps,
        batch_size=config.batch_size,
        rng=np.random.default_rng(seed + 1),
        diverge_factor=config.diverge_factor,
        eval_every=config.eval_every,
        evaluate=evaluate,
    )
    accs = [e["val_acc"] for e in r.evals]
    training = {
        "loss": r.losses,
        "eval_steps": [e["step"] for e in r.evals],
        "val_acc": accs,
        "val_loss": [e["val_loss"] for e in r.evals],
        "diverged_step": r.diverged_step,
        "final_val_acc": None if r.diverged_step is not None else accs[-1],
        "best_val_acc": max(accs, default=None),
    }
    return {"stats": stats, "training": training}


def _deep_nets(config: Config, ctx: RunContext) -> tuple[dict[str, Any], dict[str, Any]]:
    data = load_data(config, ctx.rng)
    seed = int(ctx.rng.integers(2**31))
    grid = [(nl, scheme) for nl in config.nonlinearities for scheme in config.schemes]
    common = {"config": config, "data": data, "seed": seed}
    tasks = {f"deep-{nl}-{scheme}": common | {"nonlinearity": nl, "scheme": scheme} for nl, scheme in grid}
    stats: dict[str, Any] = {nl: {} for nl in config.nonlinearities}
    training: dict[str, Any] = {nl: {} for nl in config.nonlinearities}
    for (nl, scheme), r in zip(grid, ctx.map(deep_net_run, tasks)):
        stats[nl][scheme], training[nl][scheme] = r["stats"], r["training"]
        t = r["training"]
        row = {"part": "deep", "nonlinearity": nl, "scheme": scheme, "std_ratio": r["stats"]["std_ratio"]}
        ctx.log(row | {k: t[k] for k in ("diverged_step", "best_val_acc")})
        ctx.echo(
            f"{nl:>4} {scheme:>12}: last/first activation std {r['stats']['std_ratio']:.3g}, "
            + (
                f"diverged at step {t['diverged_step']}"
                if t["diverged_step"] is not None
                else f"val acc {t['val_acc'][-1]:.3f}"
            )
        )
    return stats, training


def curve_fit_run(
    config: Config, x: np.ndarray, y: np.ndarray, X_test: np.ndarray, Y_test: np.ndarray, scheme: str, seed: int
) -> dict[str, Any]:
    """One sweep task: fit the sines with a deep ReLU net initialized by ``scheme`` (the same draws for all)."""
    model = deep_mlp(1, config.fit_width, config.fit_depth, 1, "relu", rng=np.random.default_rng(seed))
    init_weights_(model, scheme, rng=np.random.default_rng(seed))
    with np.errstate(all="raise", under="ignore"):
        s = layer_stats(model, MSELoss(), x, y)
        output_scale = float(np.std(model(X_test).astype(np.float64)))

    def evaluate() -> dict[str, float]:
        return {"test_loss": float(MSELoss()(model(X_test), Y_test))}

    r = train_until_diverged(
        model,
        MSELoss(),
        _optimizer(model, config.fit_optimizer, config.fit_lr, config.momentum),
        x,
        y,
        steps=config.fit_steps,
        batch_size=config.fit_batch_size,
        rng=np.random.default_rng(seed + 1),
        diverge_factor=config.diverge_factor,
        eval_every=max(1, config.fit_steps // 50),
        evaluate=evaluate,
    )
    prediction = None
    if r.diverged_step is None:
        prediction = model(X_test)[:, 0].astype(np.float64).tolist()
    return {
        "grad_norm": s.grad_norm,
        "grad_norm_total": float(np.linalg.norm(s.grad_norm)),
        "init_loss": s.loss,
        "init_output_std": output_scale,
        "loss": r.losses,
        "eval_steps": [e["step"] for e in r.evals],
        "test_loss_curve": [e["test_loss"] for e in r.evals],
        "diverged_step": r.diverged_step,
        "test_loss": None if r.diverged_step is not None else r.evals[-1]["test_loss"],
        "prediction": prediction,
    }


def _curve_fit(config: Config, ctx: RunContext) -> dict[str, Any]:
    x, y, sines = make_sines(config.fit_num_train, config.fit_num_sines, config.fit_noise, ctx.rng)
    x_test = np.linspace(-1.0, 1.0, 500)
    X_test = x_test[:, None].astype(np.float32)  # (500,) -> (500, 1)
    Y_test = sines_at(x_test, sines)[:, None].astype(np.float32)
    seed = int(ctx.rng.integers(2**31))
    common = {"config": config, "x": x, "y": y, "X_test": X_test, "Y_test": Y_test, "seed": seed}
    tasks = {f"curve_fit-{scheme}": common | {"scheme": scheme} for scheme in config.fit_schemes}
    runs = dict(zip(config.fit_schemes, ctx.map(curve_fit_run, tasks)))
    for scheme, r in runs.items():
        keys = ("grad_norm_total", "diverged_step", "test_loss")
        ctx.log({"part": "curve_fit", "scheme": scheme} | {k: r[k] for k in keys})
        ctx.echo(
            f"curve fit {scheme:>12}: grad norm at init {r['grad_norm_total']:.3g}, "
            + (
                f"diverged at step {r['diverged_step']}"
                if r["diverged_step"] is not None
                else f"test MSE {r['test_loss']:.4f}"
            )
        )
    return {
        "sines": sines,
        "x_train": x[:, 0].tolist(),
        "y_train": y[:, 0].tolist(),
        "x_test": x_test.tolist(),
        "y_test": Y_test[:, 0].astype(np.float64).tolist(),
        "target_variance": float(np.var(Y_test)),
        "runs": runs,
    }


def run(config: Config, ctx: RunContext) -> dict[str, Any]:
    stats, training = _deep_nets(config, ctx)
    curve_fit = _curve_fit(config, ctx)
    return {"stats": stats, "training": training, "curve_fit": curve_fit}
