"""Heavy-ball momentum on least squares, analysed through the eigenvalues of its iteration matrix.

Problem. f(w) = 1/(2n) ||X w - y||^2 with gradient g = H (w - w*), Hessian H = X^T X / n and
minimizer w*. Write H = Q diag(lambda_1..lambda_d) Q^T; in the coordinates e = Q^T (w - w*) every
direction evolves on its own.

Two forms of momentum, one trajectory. The textbook heavy ball (Polyak, 1964)

    w_{t+1} = w_t - lr g_t + beta (w_t - w_{t-1}),      w_{-1} = w_0,

and torch's SGD (``scratchnn.optim.SGD``, dampening 0)

    b_t = beta b_{t-1} + g_t  (b_0 = g_0),    w_{t+1} = w_t - lr b_t,

are the same iterates: w_{t+1} - w_t = -lr b_t = beta (-lr b_{t-1}) - lr g_t = beta (w_t - w_{t-1}) - lr g_t,
and the first step is w_1 = w_0 - lr g_0 in both. Gradient descent is beta = 0.

Iteration matrix. Along a direction with eigenvalue lambda, e_{t+1} = (1 + beta - lr lambda) e_t - beta e_{t-1}:

    [e_{t+1}]   [1 + beta - lr lambda   -beta] [e_t    ]
    [e_t    ] = [1                       0   ] [e_{t-1}],

with eigenvalues z = (a +- sqrt(a^2 - 4 beta)) / 2, a = 1 + beta - lr lambda (z1 z2 = beta, z1 + z2 = a).
The discriminant a^2 - 4 beta sorts the regimes: > 0 real distinct, = 0 repeated, < 0 complex (then
|z| = sqrt(beta) whatever lr is: the run oscillates with a fixed envelope). The error along the direction
shrinks like rho^t, rho = max |z| the spectral radius (t rho^t when repeated); the whole run converges at
the slowest direction's rate, max over lambda. All directions converge iff 0 <= beta < 1 and
0 < lr lambda < 2 (1 + beta), so the stability bound is lr < 2 (1 + beta) / lambda_max.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validate import check_float

__all__ = [
    "iteration_matrix",
    "iteration_eigenvalues",
    "classify_regime",
    "spectral_radius",
    "convergence_rate",
    "stability_bound",
    "optimal_gd",
    "optimal_heavy_ball",
    "REGIMES",
]

REGIMES = ("real", "repeated", "complex")


def _broadcast(lr: Any, beta: Any, lam: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    arrays = [np.asarray(v, dtype=np.float64) for v in (lr, beta, lam)]
    lr_a, beta_a, lam_a = np.broadcast_arrays(*arrays)
    return lr_a, beta_a, lam_a


def iteration_matrix(lr: Any, beta: Any, lam: Any) -> np.ndarray:
    """[[1 + beta - lr lam, -beta], [1, 0]] for every broadcast (lr, beta, lam).

    Shape:
        lr, beta, lam: broadcastable to (*);  output: (*, 2, 2)
    """
    lr_a, beta_a, lam_a = _broadcast(lr, beta, lam)
    M = np.zeros((*lr_a.shape, 2, 2))  # (*) -> (*, 2, 2)
    M[..., 0, 0] = 1 + beta_a - lr_a * lam_a
    M[..., 0, 1] = -beta_a
    M[..., 1, 0] = 1
    return M


def _discriminant(lr: Any, beta: Any, lam: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lr_a, beta_a, lam_a = _broadcast(lr, beta, lam)
    a = 1 + beta_a - lr_a * lam_a
    return a, a * a - 4 * beta_a, beta_a


def iteration_eigenvalues(lr: Any, beta: Any, lam: Any) -> np.ndarray:
    """The two eigenvalues (a +- sqrt(a^2 - 4 beta)) / 2, a = 1 + beta - lr lam, larger modulus first.

    Shape:
        lr, beta, lam: broadcastable to (*);  output: (*, 2) complex128
    """
    a, disc, _ = _discriminant(lr, beta, lam)
    root = np.sqrt(disc.astype(np.complex128))  # complex sqrt: a negative discriminant gives the conjugate pair
    z = np.stack([(a + root) / 2, (a - root) / 2], axis=-1)  # 2 x (*) -> (*, 2)
    order = np.argsort(-np.abs(z), axis=-1, kind="stable")
    return np.take_along_axis(z, order, axis=-1)


def classify_regime(lr: Any, beta: Any, lam: Any, *, rtol: float = 1e-9) -> np.ndarray:
    """'real' (distinct), 'repeated' or 'complex' from the sign of a^2 - 4 beta (|disc| <= rtol * max(a^2, 4 beta)
    counts as zero, so the repeated boundary survives rounding).

    Shape:
        lr, beta, lam: broadcastable to (*);  output: (*) array of str
    """
    a, disc, beta_a = _discriminant(lr, beta, lam)
    zero = np.abs(disc) <= rtol * np.maximum(np.maximum(a * a, 4 * beta_a), np.finfo(np.float64).tiny)
    return np.where(zero, "repeated", np.where(disc > 0, "real", "complex"))


def spectral_radius(lr: Any, beta: Any, lam: Any) -> np.ndarray:
    """max |z| over the iteration matrix's eigenvalues: the per-step contraction along direction lam.

    Shape:
        lr, beta, lam: broadcastable to (*);  output: (*) float64
    """
    return np.abs(iteration_eigenvalues(lr, beta, lam)[..., 0])


def convergence_rate(lr: Any, beta: Any, lams: Any) -> np.ndarray:
    """The run's predicted rate: max over the Hessian eigenvalues ``lams`` of the spectral radius.

    Shape:
        lr, beta: broadcastable to (*);  lams: (d,);  output: (*) float64
    """
    lams = np.asarray(lams, dtype=np.float64).reshape(-1)
    lr_a, beta_a = np.broadcast_arrays(np.asarray(lr, dtype=np.float64), np.asarray(beta, dtype=np.float64))
    rho = spectral_radius(lr_a[..., None], beta_a[..., None], lams)  # (*, 1) x (d,) -> (*, d)
    return np.asarray(rho.max(axis=-1))


def stability_bound(beta: float, lam_max: float) -> float:
    """The largest stable learning rate, 2 (1 + beta) / lam_max (needs 0 <= beta < 1)."""
    beta = check_float(beta, "beta", low=0.0, high=1.0, high_open=True)
    lam_max = check_float(lam_max, "lam_max", low=0.0, low_open=True)
    return 2 * (1 + beta) / lam_max


def optimal_gd(mu: float, L: float) -> tuple[float, float]:
    """Gradient descent's best (lr, rate) on eigenvalues in [mu, L]: lr = 2 / (L + mu), rate (k - 1) / (k + 1)."""
    mu = check_float(mu, "mu", low=0.0, low_open=True)
    L = check_float(L, "L", low=mu)
    return 2 / (L + mu), (L - mu) / (L + mu)


def optimal_heavy_ball(mu: float, L: float) -> tuple[float, float, float]:
    """Polyak's tuning on eigenvalues in [mu, L]: (lr, beta, rate) with lr = 4 / (sqrt L + sqrt mu)^2,
    beta = ((sqrt k - 1) / (sqrt k + 1))^2 and rate sqrt(beta), k = L / mu (both extreme directions sit
    on the repeated boundary, every other direction is complex)."""
    mu = check_float(mu, "mu", low=0.0, low_open=True)
    L = check_float(L, "L", low=mu)
    sk = math.sqrt(L / mu)
    beta = ((sk - 1) / (sk + 1)) ** 2
    return 4 / (math.sqrt(L) + math.sqrt(mu)) ** 2, beta, math.sqrt(beta)
