"""Small synthetic datasets for fast tests and demos, and a shuffled train/validation split."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .._config import get_rng
from .._validate import check_float, check_int, invalid_shape, invalid_type, invalid_value


def make_spirals(
    n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, *, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The CS231n spiral: ``n_classes`` interleaved arms in the plane, not linearly separable.

    Arm k has points at radius r = linspace(0, 1, n) and angle t = linspace(4k, 4(k+1), n) + noise * eps,
    eps ~ N(0, 1), at (r sin t, r cos t); samples are grouped by class (class 0 first).

    Args:
        n_per_class: points per arm (>= 1).
        n_classes: number of arms and classes (>= 1).
        noise: standard deviation of the angle noise, in radians (>= 0).
        rng: generator for the noise; None uses scratchnn's default generator.

    Shape:
        X: (N, 2) float32 with N = n_per_class * n_classes;  y: (N,) int64 in [0, n_classes)
    """
    n = check_int(n_per_class, "n_per_class", low=1)
    k = check_int(n_classes, "n_classes", low=1)
    noise = check_float(noise, "noise", low=0.0)
    rng = get_rng(rng)
    r = np.tile(np.linspace(0.0, 1.0, n), k)  # (n,) -> (N,)
    start = 4.0 * np.repeat(np.arange(k), n)  # (N,)
    t = start + np.tile(np.linspace(0.0, 4.0, n), k) + noise * rng.standard_normal(n * k)  # (N,)
    X = np.stack([r * np.sin(t), r * np.cos(t)], axis=1).astype(np.float32)  # 2 x (N,) -> (N, 2)
    y = np.repeat(np.arange(k, dtype=np.int64), n)  # (N,)
    return X, y


def train_val_split(
    X: np.ndarray, y: np.ndarray, val_size: float | int, *, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle the samples and split off a validation set: ``X_train, y_train, X_val, y_val``.

    The order matches the loaders' ``X_train, y_train, X_test, y_test``. Every sample lands in
    exactly one part; both parts are non-empty.

    Args:
        X, y: samples and targets along the first axis.
        val_size: a fraction in (0, 1) of the samples (rounded to the nearest count), or an int count.
        rng: generator for the shuffle; None uses scratchnn's default generator.

    Shape:
        X: (N, *), y: (N, *) -> X_train: (N - V, *), y_train: (N - V, *), X_val: (V, *), y_val: (V, *)
    """
    for name, arr in (("X", X), ("y", y)):
        if not isinstance(arr, np.ndarray):
            raise invalid_type(name, "a numpy.ndarray", arr)
        if arr.ndim < 1:
            raise invalid_shape(name, "(N, *)", arr.shape)
    n = len(X)
    if n < 2:
        raise invalid_shape("X", "(N, *) with N >= 2 samples to split", X.shape)
    if len(y) != n:
        raise invalid_shape("y", f"({n}, *) to match X's {n} samples", y.shape)
    n_val = _val_count(val_size, n)
    perm = get_rng(rng).permutation(n)
    train_idx, val_idx = perm[n_val:], perm[:n_val]
    return X[train_idx], y[train_idx], X[val_idx], y[val_idx]


def _val_count(val_size: Any, n: int) -> int:
    if isinstance(val_size, numbers.Integral) and not isinstance(val_size, bool):
        return check_int(val_size, "val_size", low=1, high=n - 1)
    frac = check_float(val_size, "val_size", low=0.0, high=1.0, low_open=True, high_open=True)
    count = round(frac * n)
    if not 1 <= count <= n - 1:
        raise invalid_value("val_size", f"a fraction giving between 1 and {n - 1} of the {n} samples", val_size)
    return count
