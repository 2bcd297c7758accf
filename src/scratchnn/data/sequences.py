"""Synthetic sequence tasks for recurrent networks.

``make_running_mean`` is the RNN course project's regression: read numbers one per step and output,
at every step, the mean of everything read so far. Trained on every step, each target needs only the
previous output and the new number; trained on the last step alone, the gradient for the first
number must travel back through all T steps, which is what the vanishing-gradient study measures.
"""

from __future__ import annotations

import numpy as np

from .._config import get_rng
from .._validate import check_float_dtype, check_int

__all__ = ["make_running_mean"]


def make_running_mean(
    n: int, T: int, *, dim: int = 1, dtype: object = np.float32, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Sequences ``x_t ~ N(0, 1)`` and their running means ``y_t = (x_1 + ... + x_t) / t``.

    Args:
        n: number of sequences (>= 1).
        T: steps per sequence (>= 1).
        dim: numbers read per step (>= 1); each is averaged on its own.
        dtype: float32 or float64.
        rng: generator; None uses scratchnn's default generator.

    Shape:
        x, y: (N, T, dim)
    """
    n = check_int(n, "n", low=1)
    T = check_int(T, "T", low=1)
    dim = check_int(dim, "dim", low=1)
    dt = check_float_dtype(dtype)
    x = get_rng(rng).standard_normal((n, T, dim))  # float64, so the means are exact before the cast
    y = np.cumsum(x, axis=1) / np.arange(1, T + 1)[:, None]  # (N, T, dim) / (T, 1)
    return x.astype(dt), y.astype(dt)
