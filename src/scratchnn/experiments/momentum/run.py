"""``momentum``: gradient descent against heavy-ball momentum on least squares, predicted and measured.

f(w) = 1/(2n) ||X w - y||^2 on a fixed Gaussian design X (n, d). Along each eigenvector of the
Hessian X^T X / n (eigenvalue lambda) momentum is a linear recursion whose 2x2 iteration matrix
[[1 + beta - lr lambda, -beta], [1, 0]] has eigenvalues that are real, repeated or complex depending on
(lr, beta); its spectral radius, maximized over the directions, predicts the run's convergence rate,
and lr < 2 (1 + beta) / lambda_max its stability (:mod:`scratchnn.analysis.momentum`). The runs use
``scratchnn.optim.SGD(momentum=beta)`` (torch's buffer form, the same iterates as Polyak's heavy ball).

Over a grid of beta and lr (as fractions of the stability bound) every run's rate is measured by a
geometric fit of ||w_t - w*|| over its asymptotic tail (:func:`~scratchnn.analysis.least_squares.measured_rate`)
and set against the prediction; a few settings also get loss curves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._validate import check_float, check_int, invalid_value
from ...analysis.least_squares import LeastSquares, make_least_squares, measured_rate, run_momentum
from ...analysis.momentum import (
    REGIMES,
    classify_regime,
    convergence_rate,
    optimal_gd,
    optimal_heavy_ball,
    spectral_radius,
    stability_bound,
)
from ..harness.context import RunContext

__all__ = ["Config", "QUICK", "run", "measure"]


@dataclass(frozen=True)
class Config:
    n: int = 400  # rows of the design (samples)
    d: int = 200  # columns (weights); d / n = 1/2 gives a condition number of about 30
    noise: float = 0.1  # std of the noise in y = X w_true + noise
    betas: tuple[float, ...] = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95)  # momentum values of the grid (0: GD)
    lr_fracs: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9, 0.97, 1.03)  # lr as fractions of 2(1+beta)/lambda_max
    max_steps: int = 30_000  # cap on a run's steps (a run stops once its error is tol x the first)
    tol: float = 1e-13  # relative error at which a run has converged to rounding
    curve_steps: int = 400  # steps of the runs drawn as loss curves

    def __post_init__(self) -> None:
        check_int(self.n, "n", low=2)
        check_int(self.d, "d", low=1, high=self.n - 1)
        for name in ("max_steps", "curve_steps"):
            check_int(getattr(self, name), name, low=1)
        check_float(self.noise, "noise", low=0.0)
        check_float(self.tol, "tol", low=0.0, high=1e-3, low_open=True)
        if not self.betas or any(not 0 <= b < 1 for b in self.betas):
            raise invalid_value("betas", "one or more momentum values in [0, 1)", self.betas)
        if not self.lr_fracs or any(not f > 0 for f in self.lr_fracs):
            raise invalid_value("lr_fracs", "one or more positive fractions of the stability bound", self.lr_fracs)


#: ``--quick``: a 100 x 50 design, 3 x 4 grid (one setting above the bound per beta): about a second
QUICK: dict[str, Any] = {
    "n": 100,
    "d": 50,
    "betas": (0.0, 0.5, 0.9),
    "lr_fracs": (0.25, 0.6, 0.9, 1.05),
    "max_steps": 5_000,
    "curve_steps": 200,
}


def measure(problem: LeastSquares, lr: float, beta: float, config: Config) -> dict[str, Any]:
    """One run at (lr, beta): the predicted rate and regime of the slowest direction, the measured rate."""
    rho = spectral_radius(lr, beta, problem.lams)  # (d,)
    slowest = int(np.argmax(rho))
    predicted = float(rho[slowest])
    # enough steps to fall from 1 to tol at the predicted rate, with a margin; unstable runs stop at the bound
    steps = config.max_steps
    if predicted < 1:
        steps = min(steps, int(math.log(config.tol) / math.log(predicted) * 1.2) + 100)
    run = run_momentum(problem, lr, beta, steps, tol=config.tol)
    measured = measured_rate(run.errors)
    counts = {r: int(np.sum(classify_regime(lr, beta, problem.lams) == r)) for r in REGIMES}
    return {
        "beta": beta,
        "lr": lr,
        "lr_frac": lr / stability_bound(beta, float(problem.lams[-1])),
        "predicted": predicted,
        "measured": measured,
        "rel_error": abs(measured - predicted) / predicted,
        "regime": str(classify_regime(lr, beta, problem.lams[slowest])),
        "regime_counts": counts,
        "steps": len(run.errors) - 1 if run.diverged_step is None else run.diverged_step,
        "diverged_step": run.diverged_step,
        "converged": run.diverged_step is None and run.errors[-1] < config.tol * run.errors[0],
    }


def _curves(problem: LeastSquares, config: Config) -> dict[str, Any]:
    mu, L = float(problem.lams[0]), float(problem.lams[-1])
    lr_gd, _ = optimal_gd(mu, L)
    lr_hb, beta_hb, _ = optimal_heavy_ball(mu, L)
    settings = {
        "GD, best lr 2/(mu+L)": (lr_gd, 0.0),
        "heavy ball, Polyak's (lr, beta)": (lr_hb, beta_hb),
        "heavy ball, beta 0.9 at GD's lr": (lr_gd, 0.9),
        "heavy ball, beta 0.5, lr 1.05x bound": (1.05 * stability_bound(0.5, L), 0.5),
    }
    curves = {}
    for label, (lr, beta) in settings.items():
        run = run_momentum(problem, lr, beta, config.curve_steps, tol=config.tol)
        curves[label] = {
            "lr": lr,
            "beta": beta,
            "predicted": float(convergence_rate(lr, beta, problem.lams)),
            "errors": run.errors.tolist(),
            "losses": run.losses.tolist(),
            "diverged_step": run.diverged_step,
        }
    return curves


def run(config: Config, ctx: RunContext) -> dict[str, Any]:
    problem = make_least_squares(config.n, config.d, config.noise, rng=ctx.rng)
    mu, L = float(problem.lams[0]), float(problem.lams[-1])
    settings = [(beta, frac) for beta in config.betas for frac in config.lr_fracs]
    tasks = {
        f"beta{beta:g}-lr{frac:g}x": {"problem": problem, "beta": beta, "config": config}
        | {"lr": frac * stability_bound(beta, L)}
        for beta, frac in settings
    }
    grid = ctx.map(measure, tasks)
    for (beta, frac), row in zip(settings, grid):
        ctx.log(row)
        ctx.echo(
            f"beta={beta:<5g} lr={frac:<5g}x bound: predicted {row['predicted']:.5f}, measured "
            f"{row['measured']:.5f} ({row['regime']})"
            + (f", diverged at step {row['diverged_step']}" if row["diverged_step"] else "")
        )
    lr_gd, rate_gd = optimal_gd(mu, L)
    lr_hb, beta_hb, rate_hb = optimal_heavy_ball(mu, L)
    optimal = {"gd": measure(problem, lr_gd, 0.0, config), "heavy_ball": measure(problem, lr_hb, beta_hb, config)}
    optimal["gd"]["theory"], optimal["heavy_ball"]["theory"] = rate_gd, rate_hb
    stable = [r for r in grid if r["predicted"] < 1]
    results = {
        "lams": problem.lams.tolist(),
        "mu": mu,
        "L": L,
        "kappa": L / mu,
        "grid": grid,
        "optimal": optimal,
        "curves": _curves(problem, config),
        "max_rel_error": max((r["rel_error"] for r in stable), default=None),
        "stable_all_converged": all(r["converged"] for r in stable),
        "unstable_all_diverged": all(r["diverged_step"] is not None for r in grid if r["predicted"] > 1),
    }
    return results
