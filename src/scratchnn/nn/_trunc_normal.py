"""Draws of a normal distribution truncated to [a, b], in bounded time wherever the window lies.

Redrawing the values outside [a, b] (the textbook method) never ends for a window far in a tail: for
[10, 11] one draw in 10^23 lands there. Here, with the window standardized to [alpha, beta] (alpha =
(a - mean) / std), plain rejection from N(0, 1) is used only where it accepts at least 1 draw in 20;
elsewhere the window is a narrow one around 0 or lies in one tail, and the proposals of Robert (1995),
"Simulation of truncated normal variables", accept most draws:

    right tail (alpha >= 0), narrow:  z ~ U(alpha, beta), kept with prob exp((alpha^2 - z^2) / 2)
    right tail, wide:                 z = alpha + E / lam, E ~ Exp(1), lam = (alpha + sqrt(alpha^2 + 4)) / 2,
                                      kept with prob exp(-(z - lam)^2 / 2) if z <= beta
    around 0 (alpha < 0 < beta):      z ~ U(alpha, beta), kept with prob exp(-z^2 / 2)

A window in the left tail is the right-tail one reflected.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np


def trunc_normal(rng: np.random.Generator, mean: float, std: float, a: float, b: float, n: int) -> np.ndarray:
    """``n`` draws of N(mean, std^2) conditioned on [a, b] (std > 0, a < b, mean and std finite), float64."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    z = _standard(rng, alpha, beta, n)
    return np.clip(mean + std * z, a, b)  # rounding of mean + std * z may step a hair outside


def _mass(alpha: float, beta: float) -> float:
    """P(alpha <= Z <= beta) for Z ~ N(0, 1), without cancellation in either tail."""
    if alpha >= 0:
        return 0.5 * (math.erfc(alpha / math.sqrt(2)) - math.erfc(beta / math.sqrt(2)))
    if beta <= 0:
        return _mass(-beta, -alpha)
    return 1 - 0.5 * (math.erfc(-alpha / math.sqrt(2)) + math.erfc(beta / math.sqrt(2)))


def _standard(rng: np.random.Generator, alpha: float, beta: float, n: int) -> np.ndarray:
    if _mass(alpha, beta) >= 0.05:
        return _rejection(n, lambda k: rng.standard_normal(k), lambda z: (z >= alpha) & (z <= beta))
    if beta <= 0:
        return -_standard(rng, -beta, -alpha, n)
    if alpha < 0:  # a narrow window around 0 (a wide one holds much mass)
        return _rejection(n, lambda k: rng.uniform(alpha, beta, k), lambda z: rng.random(z.size) < np.exp(-z * z / 2))
    root = alpha * math.sqrt(1 + 4 / (alpha * alpha)) if alpha > 0 else 2.0  # sqrt(alpha^2 + 4), no overflow
    lam = (alpha + root) / 2
    narrow = (2 * math.sqrt(math.e) / (alpha + root)) * math.exp(-alpha / (alpha + root))  # Robert's switch
    if beta - alpha <= narrow:
        return _rejection(
            n,
            lambda k: rng.uniform(alpha, beta, k),
            lambda z: rng.random(z.size) < np.exp((alpha - z) * (alpha + z) / 2),
        )

    def keep(z: np.ndarray) -> np.ndarray:
        return (z <= beta) & (rng.random(z.size) < np.exp(-((z - lam) ** 2) / 2))

    return _rejection(n, lambda k: alpha + rng.standard_exponential(k) / lam, keep)


def _rejection(n: int, propose: Callable[[int], np.ndarray], accept: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``n`` accepted proposals, drawn in rounds of twice the number still missing (at least 16)."""
    out = np.empty(n)
    filled = 0
    while filled < n:
        z = propose(max(16, 2 * (n - filled)))
        z = z[accept(z)][: n - filled]
        out[filled : filled + z.size] = z
        filled += z.size
    return out
