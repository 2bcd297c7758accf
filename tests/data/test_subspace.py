"""make_subspace_gaussian (the course project's set), random_rotation and train_val_test_split."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn.data import make_subspace_gaussian, random_rotation, train_val_test_split


def test_shapes_dtypes_and_determinism() -> None:
    X, y, Q = make_subspace_gaussian(50, dim=12, k=3, rng=np.random.default_rng(0))
    assert X.shape == (50, 12) and X.dtype == np.float32
    assert y.shape == (50,) and y.dtype == np.int64 and set(np.unique(y)) <= {0, 1}
    assert Q.shape == (12, 12) and Q.dtype == np.float64
    X2, y2, Q2 = make_subspace_gaussian(50, dim=12, k=3, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, make_subspace_gaussian(50, dim=12, k=3, rng=np.random.default_rng(1))[0])


def test_defaults_are_the_course_projects() -> None:
    X, y, Q = make_subspace_gaussian(rng=np.random.default_rng(0))
    assert X.shape == (10_000, 100)
    Z = X.astype(np.float64) @ Q  # back to the original coordinates: x = Q z, so z = Q^T x
    std = Z.std(axis=0)
    # var_scale = 10 multiplies the first 20 coordinates: their std is 10 (variance 100), the others' 1
    np.testing.assert_allclose(std[:20], 10.0, rtol=0.05)
    np.testing.assert_allclose(std[20:], 1.0, rtol=0.05)
    np.testing.assert_array_equal(y, (Z[:, :20].sum(axis=1) > 0).astype(np.int64))  # labels: pre-rotation sum
    assert 0.45 < y.mean() < 0.55  # balanced


def test_the_top_principal_subspace_is_the_rotated_block_and_no_axis_shows_it() -> None:
    X, _, Q = make_subspace_gaussian(4000, dim=10, k=3, var_scale=5.0, rng=np.random.default_rng(0))
    cov = np.cov(X.astype(np.float64), rowvar=False)
    eigvals, eigvecs = np.linalg.eigh(cov)  # ascending
    np.testing.assert_allclose(eigvals[-3:], 25.0, rtol=0.1)  # var_scale^2
    np.testing.assert_allclose(eigvals[:-3], 1.0, rtol=0.15)
    top = eigvecs[:, -3:]
    cosines = np.linalg.svd(top.T @ Q[:, :3], compute_uv=False)
    assert cosines.min() > 0.99  # the same subspace
    axes = np.eye(10)[:, np.argsort(np.diag(cov))[-3:]]  # the 3 coordinates of largest variance
    assert np.linalg.svd(top.T @ axes, compute_uv=False).min() < np.cos(np.radians(30))  # do not span it


def test_random_rotation_is_orthogonal_and_sign_fixed() -> None:
    Q = random_rotation(7, rng=np.random.default_rng(3))
    np.testing.assert_allclose(Q.T @ Q, np.eye(7), atol=1e-12)
    G = np.random.default_rng(3).standard_normal((7, 7))
    R = Q.T @ G  # G = Q R with R upper triangular and a positive diagonal: the sign-fixed QR
    np.testing.assert_allclose(np.tril(R, -1), 0.0, atol=1e-12)
    assert np.all(np.diag(R) > 0)


def test_split_fractions_disjoint_and_deterministic() -> None:
    X, y = np.arange(100.0).reshape(50, 2), np.arange(50)
    parts = train_val_test_split(X, y, rng=np.random.default_rng(0))
    X_tr, y_tr, X_val, y_val, X_te, y_te = parts
    assert (len(y_tr), len(y_val), len(y_te)) == (35, 10, 5)  # 0.7 / 0.2 / 0.1
    assert sorted(np.concatenate([y_tr, y_val, y_te]).tolist()) == list(range(50))  # each sample once
    np.testing.assert_array_equal(X_tr[:, 0], 2 * y_tr)  # rows stay with their labels
    again = train_val_test_split(X, y, rng=np.random.default_rng(0))
    for a, b in zip(parts, again, strict=True):
        np.testing.assert_array_equal(a, b)
    _, y_tr2, *_ = train_val_test_split(X, y, (0.5, 0.25, 0.25), rng=np.random.default_rng(0))
    assert len(y_tr2) == 25


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"dim": 5, "k": 6}, ValueError, r"^Invalid value for `k`: expected an int in \[1, 5\]"),
        ({"var_scale": 0.0}, ValueError, r"^Invalid value for `var_scale`: expected a float in \(0, inf\)"),
        ({"n": 0}, ValueError, r"^Invalid value for `n`: expected an int >= 1"),
        ({"n": 2, "dim": 2, "k": 1, "var_scale": 1e300}, ValueError,
         r"^Invalid value for `var_scale`: expected a value whose samples float32 holds"),
        ({"n": 2**40, "dim": 2**20}, ValueError, r"^Invalid value for `(n|dim)`: expected a size"),
        ({"rng": 1}, TypeError, r"^Invalid type for `rng`"),
    ],
)  # fmt: skip
def test_bad_generator_arguments(kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        make_subspace_gaussian(**{"n": 10, **kwargs})


X50, Y50 = np.zeros((50, 2)), np.zeros(50)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((np.zeros((5, 2)), np.zeros(4)), ValueError, r"^Invalid shape for `y`: expected \(5, \*\)"),
        ((np.zeros((5, 2)), np.zeros(5)), ValueError, r"^Invalid shape for `X`: expected \(N, \*\) with enough"),
        ((X50, Y50, (0.5, 0.5)), ValueError, r"^Invalid value for `fractions`: expected three fractions"),
        ((X50, Y50, (0.6, 0.3, 0.2)), ValueError, r"^Invalid value for `fractions`"),
        ((X50, Y50, (0.6, 0.3, True)), TypeError, r"^Invalid type for `fractions`"),
        ((X50, Y50, "abc"), TypeError, r"^Invalid type for `fractions`"),
        (([1, 2, 3], np.zeros(3)), TypeError, r"^Invalid type for `X`: expected a numpy.ndarray"),
    ],
)  # fmt: skip
def test_bad_split_arguments(args: tuple, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        train_val_test_split(*args)
