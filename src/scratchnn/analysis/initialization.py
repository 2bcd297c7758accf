"""Weight initialization studied at step 0 and in training: deep plain MLPs, per-layer statistics,
and a training loop that reports divergence instead of crashing.

Schemes (every ``Linear`` weight of the network gets it; biases start at zero):

=============  ========================================  ===============================
name           weight ~                                  why
=============  ========================================  ===============================
zeros          0                                         the symmetric failure: no signal
normal_0.01    N(0, 0.01^2)                              "small random": shrinks per layer
normal_1       N(0, 1)                                   "large random": saturates/explodes
xavier         N(0, 2 / (fan_in + fan_out))              Glorot & Bengio: keeps variance (tanh)
he             N(0, 2 / fan_in)                          He et al.: keeps variance (ReLU)
uniform_0.03   U(-0.03, 0.03)                            the curve-fitting study's "tiny"
uniform_3      U(-3, 3)                                  the curve-fitting study's "huge"
kaiming        U(+-sqrt(6 / fan_in)), = He's variance    the curve-fitting study's "Kaiming"
=============  ========================================  ===============================
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validate import check_choice, check_int
from ..nn import Linear, Module, ReLU, Sequential, Tanh, init
from ..train.steps import train_step

__all__ = [
    "SCHEMES",
    "init_weights_",
    "deep_mlp",
    "LayerStats",
    "layer_stats",
    "TrainRun",
    "train_until_diverged",
    "make_sines",
    "sines_at",
]

_Init = Callable[[np.ndarray, np.random.Generator], Any]
SCHEMES: dict[str, _Init] = {
    "zeros": lambda w, rng: init.zeros_(w),
    "normal_0.01": lambda w, rng: init.normal_(w, 0.0, 0.01, rng=rng),
    "normal_1": lambda w, rng: init.normal_(w, 0.0, 1.0, rng=rng),
    "xavier": lambda w, rng: init.xavier_normal_(w, rng=rng),
    "he": lambda w, rng: init.kaiming_normal_(w, nonlinearity="relu", rng=rng),
    "uniform_0.03": lambda w, rng: init.uniform_(w, -0.03, 0.03, rng=rng),
    "uniform_3": lambda w, rng: init.uniform_(w, -3.0, 3.0, rng=rng),
    "kaiming": lambda w, rng: init.kaiming_uniform_(w, nonlinearity="relu", rng=rng),
}


def init_weights_(model: Module, scheme: str, *, rng: np.random.Generator) -> Module:
    """Re-initialize every ``Linear`` in ``model`` in place: weight by ``scheme`` (a key of SCHEMES), bias 0."""
    check_choice(scheme, "scheme", tuple(SCHEMES))
    for m in model.modules():
        if isinstance(m, Linear):
            SCHEMES[scheme](m.weight.data, rng)
            if m.bias is not None:
                init.zeros_(m.bias)
    return model


def deep_mlp(
    in_features: int,
    width: int,
    depth: int,
    out_features: int,
    nonlinearity: str,
    *,
    rng: np.random.Generator | None = None,
) -> Sequential:
    """``depth`` hidden layers (Linear + Tanh/ReLU) of ``width`` units, then a Linear head.

    Shape:
        input: (N, in_features);  output: (N, out_features)
    """
    check_int(depth, "depth", low=1)
    act = {"tanh": Tanh, "relu": ReLU}[check_choice(nonlinearity, "nonlinearity", ("tanh", "relu"))]
    layers: list[Module] = []
    for i in range(depth):
        layers += [Linear(in_features if i == 0 else width, width, rng=rng), act()]
    layers.append(Linear(width, out_features, rng=rng))
    return Sequential(*layers)


@dataclass(frozen=True)
class LayerStats:
    """One forward and backward pass: per hidden layer the mean and std of its activations (after the
    nonlinearity), per Linear (hidden layers, then the head) the Frobenius norm of its weight gradient."""

    act_mean: list[float]
    act_std: list[float]
    grad_norm: list[float]
    loss: float


def layer_stats(model: Sequential, criterion: Module, X: np.ndarray, y: np.ndarray) -> LayerStats:
    """Forward ``X`` through ``model`` child by child, recording activations, then backward the loss.

    Norms and moments are taken in float64 (a N(0, 1) ReLU net reaches 1e10 and more). Gradients are
    zeroed before and after, so the model is left as it was.
    """
    means: list[float] = []
    stds: list[float] = []
    h = X
    for m in model:
        h = m(h)
        if isinstance(m, (Tanh, ReLU)):
            h64 = h.astype(np.float64)
            means.append(float(h64.mean()))
            stds.append(float(h64.std()))
    loss = float(criterion(h, y))
    model.zero_grad()
    grad = criterion.backward(None)  # None: the loss's upstream gradient is 1
    for m in reversed(list(model)):
        grad = m.backward(grad)
    norms = [float(np.linalg.norm(m.weight.grad.astype(np.float64))) for m in model.modules() if isinstance(m, Linear)]
    model.zero_grad()
    return LayerStats(act_mean=means, act_std=stds, grad_norm=norms, loss=loss)


@dataclass
class TrainRun:
    """A training run's per-step losses, the evaluations made every ``eval_every`` steps, and the step at
    which it diverged (loss not finite or above the bound, or a floating-point overflow), else None."""

    losses: list[float] = field(default_factory=list)
    evals: list[dict[str, float]] = field(default_factory=list)
    diverged_step: int | None = None


def train_until_diverged(
    model: Module,
    criterion: Module,
    optimizer: Any,
    X: np.ndarray,
    y: np.ndarray,
    *,
    steps: int,
    batch_size: int,
    rng: np.random.Generator,
    diverge_factor: float = 1e4,
    eval_every: int = 0,
    evaluate: Callable[[], dict[str, float]] | None = None,
) -> TrainRun:
    """``steps`` optimizer steps on shuffled mini-batches (a new permutation per epoch), stopped and marked
    diverged at the first step whose loss is non-finite or above ``diverge_factor`` x the first step's loss,
    or that overflows.

    Every step runs under ``np.errstate(all='raise', under='ignore')`` whatever the caller's setting, so
    an overflow anywhere in forward, backward or the update surfaces here as ``FloatingPointError``
    (caught: the run is reported, not crashed). ``evaluate()`` runs at step 0, every ``eval_every`` steps
    and at the end; its numbers are stored with the step.
    """
    steps = check_int(steps, "steps", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    run = TrainRun()

    def _eval(step: int) -> bool:
        if evaluate is None:
            return True
        try:
            with np.errstate(all="raise", under="ignore"):
                row = evaluate()
        except FloatingPointError:
            return False
        run.evals.append({"step": step, **row})
        return all(math.isfinite(v) for v in row.values())

    if not _eval(0):
        run.diverged_step = 0
        return run
    order = np.empty(0, dtype=np.int64)
    for step in range(1, steps + 1):
        if len(order) < batch_size:
            order = np.concatenate([order, rng.permutation(len(X))])
        idx, order = order[:batch_size], order[batch_size:]
        try:
            with np.errstate(all="raise", under="ignore"):
                loss, _ = train_step(model, criterion, optimizer, X[idx], y[idx])
        except FloatingPointError:
            loss = math.inf
        if not math.isfinite(loss) or (run.losses and loss > diverge_factor * run.losses[0]):
            run.diverged_step = step
            return run
        run.losses.append(loss)
        if evaluate is not None and (step == steps or (eval_every and step % eval_every == 0)):
            if not _eval(step):
                run.diverged_step = step
                return run
    return run


def make_sines(
    n: int, num_sines: int, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, dict[str, list[float]]]:
    """x ~ U(-1, 1) and y = sum_k a_k sin(w_k x + phi_k) + noise * eps, with a_k ~ U(0.2, 1),
    w_k ~ U(1, 12) (up to about 4 periods on [-1, 1]) and phi_k ~ U(0, 2 pi). Also returns the sines.

    Shape: x (n, 1), y (n, 1) float32.
    """
    sines = {
        "amplitude": rng.uniform(0.2, 1.0, num_sines).tolist(),
        "frequency": rng.uniform(1.0, 12.0, num_sines).tolist(),
        "phase": rng.uniform(0.0, 2 * np.pi, num_sines).tolist(),
    }
    x = rng.uniform(-1.0, 1.0, n)
    y = sines_at(x, sines) + noise * rng.standard_normal(n)
    return x[:, None].astype(np.float32), y[:, None].astype(np.float32), sines


def sines_at(x: np.ndarray, sines: dict[str, list[float]]) -> np.ndarray:
    """The noise-free target at ``x``. Shape: (n,) -> (n,) float64."""
    a, w, phi = (np.asarray(sines[k]) for k in ("amplitude", "frequency", "phase"))
    return np.sum(a * np.sin(np.outer(x, w) + phi), axis=1)  # (n, K) -> (n,)
