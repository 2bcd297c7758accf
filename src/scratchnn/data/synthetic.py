"""Small synthetic datasets for fast tests, quick experiments and demos, and a shuffled train/validation split.

``make_spirals`` (the CS231n spiral), ``make_blobs`` (Gaussian class blobs, the small-data experiments'
``--quick`` data), ``gaussian_mixture`` (offset, correlated blobs: an ill-conditioned loss surface for
the optimizer comparison) and ``make_bars`` (oriented bars on noise: a translation-invariant image task
a convolution solves in seconds, so ``scratchnn train cnn``'s whole path is tested without a download).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .._config import get_rng
from .._validate import check_float, check_int, invalid_shape, invalid_type, invalid_value, size_error


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
    noise = check_float(noise, "noise", low=0.0, finite=True)
    rng = get_rng(rng)
    r = np.tile(np.linspace(0.0, 1.0, n), k)  # (n,) -> (N,)
    start = 4.0 * np.repeat(np.arange(k), n)  # (N,)
    t = start + np.tile(np.linspace(0.0, 4.0, n), k) + noise * rng.standard_normal(n * k)  # (N,)
    X = np.stack([r * np.sin(t), r * np.cos(t)], axis=1).astype(np.float32)  # 2 x (N,) -> (N, 2)
    y = np.repeat(np.arange(k, dtype=np.int64), n)  # (N,)
    return X, y


def _float32(X: np.ndarray, name: str, value: Any) -> np.ndarray:
    """X in float32, whose range ``value`` of argument ``name`` must not leave (1e200 * noise is inf there)."""
    with np.errstate(over="ignore"):  # reported below, by name
        out = X.astype(np.float32)
    if not np.isfinite(out).all():
        raise invalid_value(name, "a value whose samples float32 holds", value)
    return out


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


def make_blobs(
    n: int, dim: int, noise: float, *, num_classes: int = 10, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` samples of ``num_classes`` Gaussian blobs: x = m_y + noise * e, with m_k, e ~ N(0, I).

    Returns ``X, y, centres``. Two centres lie about sqrt(2 dim) apart, so ``noise`` well below
    sqrt(dim / 2) keeps the classes separable, and near it they overlap.

    Shape:
        X: (n, dim) float32;  y: (n,) int64 in [0, num_classes);  centres: (num_classes, dim)
    """
    n, dim = check_int(n, "n", low=1), check_int(dim, "dim", low=1)
    noise = check_float(noise, "noise", low=0.0, finite=True)
    num_classes, rng = check_int(num_classes, "num_classes", low=1), get_rng(rng)
    try:
        centres = rng.standard_normal((num_classes, dim))  # (K, D)
        y = rng.integers(0, num_classes, size=n)
        X = centres[y] + noise * rng.standard_normal((n, dim))  # (n, D)
    except (ValueError, MemoryError):  # sizes NumPy cannot allocate
        raise size_error(
            {"n": n, "dim": dim, "num_classes": num_classes}, "a size whose samples fit in memory"
        ) from None
    return _float32(X, "noise", noise), y.astype(np.int64), centres


def gaussian_mixture(n: int, dim: int, classes: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` Gaussian blobs in ``dim`` dimensions with a shared positive mean and correlated noise.

    x = 0.5 + 0.2 * m_y + 0.3 * A z + 0.1 e, with m_k, z, e standard normal and A a fixed random
    (dim, 8) mixing matrix / sqrt(8): like raw pixel intensities, every feature is offset and the
    features are correlated, so the loss surface is ill-conditioned. Shape: X (n, dim) float32, y (n,).
    """
    n, dim, classes = check_int(n, "n", low=1), check_int(dim, "dim", low=1), check_int(classes, "classes", low=1)
    rng = get_rng(rng)
    try:
        means = rng.standard_normal((classes, dim))  # (K, D)
        mixing = rng.standard_normal((dim, 8)) / np.sqrt(8.0)  # (D, 8)
        y = rng.integers(0, classes, size=n)
        X = 0.5 + 0.06 * means[y] + 0.3 * rng.standard_normal((n, 8)) @ mixing.T + 0.1 * rng.standard_normal((n, dim))
    except (ValueError, MemoryError):  # sizes NumPy cannot allocate
        raise size_error({"n": n, "dim": dim, "classes": classes}, "a size whose samples fit in memory") from None
    return X.astype(np.float32), y.astype(np.int64)


BAR_CLASSES = ("horizontal", "vertical", "diagonal", "anti-diagonal")


def make_bars(n: int, size: int = 12, noise: float = 0.3, *, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A small synthetic image task for tests: a bar of one of four orientations, anywhere in the image.

    Class k is the orientation (horizontal, vertical, diagonal, anti-diagonal) of a bar of length
    size // 2 at a random position, on N(0, noise^2) noise. Translation-invariant, so a convolution
    solves it where a pixel-wise model struggles.

    Shape:
        X: (n, 1, size, size) float32;  y: (n,) int64 in [0, 4)
    """
    n, size = check_int(n, "n", low=1), check_int(size, "size", low=4)
    noise, rng = check_float(noise, "noise", low=0.0, finite=True), get_rng(rng)
    L = size // 2
    try:
        y = rng.integers(0, 4, n)
        X = _float32(noise * rng.standard_normal((n, 1, size, size)), "noise", noise)
    except (ValueError, MemoryError) as e:
        if str(e).startswith("Invalid value for `noise`"):
            raise
        raise size_error({"n": n, "size": size}, "a size whose images fit in memory") from None
    t = np.arange(L)
    offsets = {0: (0 * t, t), 1: (t, 0 * t), 2: (t, t), 3: (t, L - 1 - t)}  # (row, col) of each bar pixel
    corner = rng.integers(0, size - L + 1, (n, 2))
    for k, (dr, dc) in offsets.items():
        idx = np.flatnonzero(y == k)
        rows = corner[idx, :1] + dr  # (n_k, 1) + (L,) -> (n_k, L)
        cols = corner[idx, 1:] + dc
        X[idx[:, None], 0, rows, cols] += 1.0
    return X, y.astype(np.int64)
