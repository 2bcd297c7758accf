"""Least squares on a fixed random design, optimized by gradient descent or heavy-ball momentum.

The measured side of :mod:`scratchnn.analysis.momentum`: build the problem, run the two equivalent
forms of momentum (the textbook heavy ball and torch's SGD buffer, through ``scratchnn.optim.SGD``),
and fit the geometric rate of ||w_t - w*|| over the asymptotic tail of a run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._config import get_rng
from .._validate import check_choice, check_float, check_int, invalid_value
from ..nn.parameter import Param
from ..optim import SGD

__all__ = ["LeastSquares", "make_least_squares", "Trajectory", "run_momentum", "measured_rate"]


@dataclass(frozen=True)
class LeastSquares:
    """f(w) = 1/(2n) ||X w - y||^2, its Hessian H = X^T X / n (eigenvalues ``lams``, ascending) and w*.

    Shape:
        X: (n, d);  y: (n,);  w_star: (d,);  H: (d, d);  lams: (d,)
    """

    X: np.ndarray
    y: np.ndarray
    w_star: np.ndarray
    H: np.ndarray
    lams: np.ndarray

    def loss(self, w: np.ndarray) -> float:
        r = self.X @ w - self.y  # (n, d) @ (d,) -> (n,)
        return float(r @ r) / (2 * len(self.y))

    def excess_loss(self, w: np.ndarray) -> float:
        """f(w) - f(w*) = 1/2 (w - w*)^T H (w - w*) exactly (a quadratic); computed this way it does not
        round to 0 when f(w) is within machine precision of f(w*)."""
        e = w - self.w_star
        return 0.5 * float(e @ self.H @ e)

    def grad(self, w: np.ndarray) -> np.ndarray:
        """X^T (X w - y) / n, written as H (w - w*) (equal at the exact w*, and cheaper: d x d)."""
        return self.H @ (w - self.w_star)  # (d, d) @ (d,) -> (d,)


def make_least_squares(
    n: int = 400, d: int = 100, noise: float = 0.1, *, rng: np.random.Generator | None = None
) -> LeastSquares:
    """A Gaussian design X (n, d), y = X w_true + noise * eps, everything float64.

    With n > d the Hessian is full rank; its eigenvalues follow the Marchenko-Pastur law on about
    [(1 - sqrt(d/n))^2, (1 + sqrt(d/n))^2], so d/n sets the condition number (d/n = 1/4: about 9).
    """
    n = check_int(n, "n", low=2)
    d = check_int(d, "d", low=1, high=n - 1)
    noise = check_float(noise, "noise", low=0.0)
    g = get_rng(rng)
    X = g.standard_normal((n, d))
    y = X @ g.standard_normal(d) + noise * g.standard_normal(n)  # (n, d) @ (d,) -> (n,)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    H = X.T @ X / n  # (d, n) @ (n, d) -> (d, d)
    return LeastSquares(X=X, y=y, w_star=w_star, H=H, lams=np.linalg.eigvalsh(H))


@dataclass(frozen=True)
class Trajectory:
    """One run: ``errors[t] = ||w_t - w*||``, ``losses[t] = f(w_t) - f(w*)`` for t = 0..steps taken, and the
    step at which the run was stopped as diverged (error above ``bound`` x the first, or not finite), else None."""

    errors: np.ndarray
    losses: np.ndarray
    diverged_step: int | None


def run_momentum(
    problem: LeastSquares,
    lr: float,
    beta: float,
    steps: int,
    *,
    w0: np.ndarray | None = None,
    form: str = "sgd",
    tol: float = 1e-13,
    bound: float = 1e6,
) -> Trajectory:
    """Run ``steps`` iterations of momentum from ``w0`` (default: zeros), stopping early once
    ||w_t - w*|| < tol ||w_0 - w*|| (converged to rounding) or above ``bound`` times it (diverged).

    ``form='sgd'`` steps ``scratchnn.optim.SGD(momentum=beta)`` (torch's buffer form), ``'heavy_ball'``
    the textbook recursion w_{t+1} = w_t - lr g_t + beta (w_t - w_{t-1}); they give the same iterates.
    """
    lr = check_float(lr, "lr", low=0.0, low_open=True)
    beta = check_float(beta, "beta", low=0.0, high=1.0, high_open=True)
    steps = check_int(steps, "steps", low=1)
    check_choice(form, "form", ("sgd", "heavy_ball"))
    w = np.zeros_like(problem.w_star) if w0 is None else np.array(w0, dtype=np.float64)
    if w.shape != problem.w_star.shape:
        raise invalid_value("w0", f"an array of shape {problem.w_star.shape}", w.shape)
    errors, losses = [float(np.linalg.norm(w - problem.w_star))], [problem.excess_loss(w)]
    if errors[0] == 0:
        raise invalid_value("w0", "a starting point other than w*", "w*")
    param = Param(w)
    opt = SGD([param], lr=lr, momentum=beta)
    w_prev = w.copy()
    diverged: int | None = None
    for t in range(1, steps + 1):
        if form == "sgd":
            param.grad[...] = problem.grad(param.data)
            opt.step()
            w = param.data
        else:
            w, w_prev = w - lr * problem.grad(w) + beta * (w - w_prev), w
        err = float(np.linalg.norm(w - problem.w_star))
        if not math.isfinite(err) or err > bound * errors[0]:
            diverged = t
            break
        errors.append(err)
        losses.append(problem.excess_loss(w))
        if err < tol * errors[0]:
            break
    return Trajectory(errors=np.array(errors), losses=np.array(losses), diverged_step=diverged)


def measured_rate(errors: np.ndarray, *, tail: float = 0.75, floor: float = 1e-12) -> float:
    """The geometric rate r of ``errors[t] ~ C r^t``: exp of the least-squares slope of log errors[t].

    The run is cut where it first drops below ``floor`` x errors[0] (rounding takes over there); of the
    log-distance L it then covers (log errors[end] / errors[0]), the fit keeps the last ``tail`` fraction:
    from the first step past (1 - tail) L to the end. Measuring the window in decades rather than steps
    gives a fast run as many points as a slow one, lets the faster directions die out first, and averages
    the oscillation of the complex regime over many periods. A diverging run is measured the same way.
    """
    errors = np.asarray(errors, dtype=np.float64)
    tail = check_float(tail, "tail", low=0.0, high=1.0, low_open=True)
    if errors.ndim != 1 or len(errors) < 3 or not errors[0] > 0:
        raise invalid_value("errors", "a 1-D array of >= 3 norms starting above 0", errors.shape)
    below = np.flatnonzero(errors < floor * errors[0])
    end = int(below[0]) if below.size else len(errors)
    log_ratio = np.log(np.maximum(errors[:end], np.finfo(np.float64).tiny) / errors[0])
    past = np.flatnonzero(np.abs(log_ratio) >= (1 - tail) * abs(log_ratio[-1]))
    start = min(int(past[0]), end - 3) if past.size else end - 3
    slope = np.polyfit(np.arange(start, end), log_ratio[start:end], 1)[0]
    return float(np.exp(slope))
