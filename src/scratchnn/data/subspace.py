"""The autoencoder course project's synthetic set: a Gaussian with a high-variance subspace, randomly rotated.

    z ~ N(0, I_dim);  z_j *= var_scale for j < k;  x = Q z  (Q a random rotation);  y = [z_1 + ... + z_k > 0]

so Cov(x) = Q diag(var_scale^2 (k times), 1 (dim - k times)) Q^T: the top-k principal subspace of x is
spanned by Q's first k columns, which no coordinate axis reveals. A linear autoencoder with a k-unit code
should find it (Baldi and Hornik), and its code then separates the classes linearly, since the label is a
linear function of the same k coordinates; raw x separates them too, but a code of fewer dimensions that
misses the subspace does not.

``var_scale`` multiplies the first k coordinates, as the course's code did, so it is their standard
deviation and var_scale^2 their variance: the project's "20 high-variance dimensions scaled by 10" have
variance 100 against 1 for the other 80 (a gap in the spectrum of 100, not 10).

:func:`train_val_test_split` cuts any set into train, validation and test parts (0.7 / 0.2 / 0.1 by default).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._config import get_rng
from .._validate import check_float, check_int, invalid_shape, invalid_type, invalid_value, size_error

__all__ = ["make_subspace_gaussian", "random_rotation", "train_val_test_split"]


def random_rotation(dim: int, *, rng: np.random.Generator | None = None) -> np.ndarray:
    """A random orthogonal matrix, uniform over O(dim) (Haar): the Q of a QR of a standard Gaussian matrix,
    each column's sign fixed so that R's diagonal is positive (NumPy's QR leaves the signs arbitrary, which
    would make the distribution depend on the LAPACK build instead of on ``rng`` alone).

    Shape:
        Q: (dim, dim) float64, Q^T Q = I
    """
    dim = check_int(dim, "dim", low=1)
    try:
        G = get_rng(rng).standard_normal((dim, dim))  # (dim, dim)
    except (ValueError, MemoryError):
        raise size_error({"dim": dim}, "a size whose (dim, dim) matrix fits in memory") from None
    Q, R = np.linalg.qr(G)
    signs = np.where(np.diag(R) < 0, -1.0, 1.0)  # (dim,); a zero diagonal (probability 0) counts as positive
    return Q * signs  # (dim, dim) * (dim,): column j times sign(R_jj)


def make_subspace_gaussian(
    n: int = 10_000,
    dim: int = 100,
    k: int = 20,
    var_scale: float = 10.0,
    *,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` samples of the course project's rotated high-variance-subspace Gaussian; returns ``X, y, Q``.

    z ~ N(0, I); the first ``k`` coordinates of z are multiplied by ``var_scale`` (standard deviation
    var_scale, variance var_scale^2); x = Q z with Q = :func:`random_rotation` (dim); the label is 1 where
    the sum of the first k ORIGINAL (pre-rotation) coordinates is positive, else 0 (balanced in
    expectation). The top-k principal subspace of X is spanned by ``Q[:, :k]``. The rotation is drawn
    first, then the samples, all from ``rng``: one seed gives one dataset.

    Args:
        n: number of samples (>= 1).
        dim: dimension of x (>= 1).
        k: dimension of the high-variance subspace, 1 <= k <= dim.
        var_scale: the factor on the first k coordinates, a float in (0, inf).
        rng: generator for the rotation and the samples; None uses scratchnn's default generator.

    Shape:
        X: (n, dim) float32;  y: (n,) int64 in {0, 1};  Q: (dim, dim) float64
    """
    n, dim = check_int(n, "n", low=1), check_int(dim, "dim", low=1)
    k = check_int(k, "k", low=1, high=dim)
    var_scale = check_float(var_scale, "var_scale", low=0.0, low_open=True, finite=True)
    rng = get_rng(rng)
    Q = random_rotation(dim, rng=rng)  # (dim, dim)
    try:
        Z = rng.standard_normal((n, dim))  # (n, dim), the original coordinates
    except (ValueError, MemoryError):
        raise size_error({"n": n, "dim": dim}, "a size whose samples fit in memory") from None
    with np.errstate(all="ignore"):  # a var_scale like 1e300 overflows: reported below, by name
        Z[:, :k] *= var_scale
        y = (Z[:, :k].sum(axis=1) > 0).astype(np.int64)  # (n, k) -> (n,)
        X = Z @ Q.T  # (n, dim) @ (dim, dim) -> (n, dim): row i is Q z_i
        X32 = X.astype(np.float32)
    if not np.isfinite(X32).all():
        raise invalid_value("var_scale", "a value whose samples float32 holds", var_scale)
    return X32, y, Q


def train_val_test_split(
    X: np.ndarray,
    y: np.ndarray,
    fractions: Sequence[float] = (0.7, 0.2, 0.1),
    *,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle the samples and cut them into ``X_train, y_train, X_val, y_val, X_test, y_test``.

    The train and validation parts get round(fraction * N) samples each and the test part the rest, so
    every sample lands in exactly one part; each part must get at least one. The permutation comes from
    ``rng`` (None: scratchnn's default generator): a seeded generator gives the same split every time.

    Args:
        X, y: samples and targets along the first axis.
        fractions: (train, validation, test), each in (0, 1), summing to 1.

    Shape:
        X: (N, *), y: (N, *) -> parts (N_train, *), (N_val, *), (N_test, *) with N_train + N_val + N_test = N
    """
    for name, arr in (("X", X), ("y", y)):
        if not isinstance(arr, np.ndarray):
            raise invalid_type(name, "a numpy.ndarray", arr)
        if arr.ndim < 1:
            raise invalid_shape(name, "(N, *)", arr.shape)
    n = len(X)
    if len(y) != n:
        raise invalid_shape("y", f"({n}, *) to match X's {n} samples", y.shape)
    f_train, f_val, _ = _fractions(fractions)
    n_train, n_val = round(f_train * n), round(f_val * n)
    if min(n_train, n_val, n - n_train - n_val) < 1:
        raise invalid_shape("X", f"(N, *) with enough samples for a non-empty part at fractions {fractions}", X.shape)
    perm = get_rng(rng).permutation(n)
    parts = np.split(perm, [n_train, n_train + n_val])  # 3 x index arrays
    return X[parts[0]], y[parts[0]], X[parts[1]], y[parts[1]], X[parts[2]], y[parts[2]]


def _fractions(value: Any) -> tuple[float, float, float]:
    expected = "three fractions (train, validation, test) in (0, 1) that sum to 1"
    if isinstance(value, (str, bytes, np.ndarray)) or not isinstance(value, Sequence):
        raise invalid_type("fractions", expected, value)
    if len(value) != 3:
        raise invalid_value("fractions", expected, value)
    if not all(isinstance(f, numbers.Real) and not isinstance(f, bool) for f in value):
        raise invalid_type("fractions", expected, value)
    out = tuple(float(f) for f in value)
    if not all(0.0 < f < 1.0 for f in out) or abs(sum(out) - 1.0) > 1e-9:
        raise invalid_value("fractions", expected, value)
    return out[0], out[1], out[2]
