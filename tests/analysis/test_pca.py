"""pca / PCAEncoder and principal_angles on data whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn import analysis


def test_pca_recovers_known_components() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 3)) * np.array([5.0, 2.0, 0.5])  # variances 25, 4, 0.25 along the axes
    enc = analysis.pca(X, 2)
    np.testing.assert_allclose(np.abs(enc.components), [[1, 0, 0], [0, 1, 0]], atol=0.02)
    assert np.all(enc.components[np.arange(2), np.abs(enc.components).argmax(axis=1)] > 0)  # signs fixed
    np.testing.assert_allclose(enc.explained_variance, [25, 4], rtol=0.1)
    np.testing.assert_allclose(enc(X), (X - X.mean(0)) @ enc.components.T, rtol=1e-10)
    with pytest.raises(ValueError, match=r"^Invalid value for `k`: expected an int in \[1, 3\]"):
        analysis.pca(X, 4)
    with pytest.raises(ValueError, match=r"^Invalid shape for `X`: expected \(N, 3\), the features PCA"):
        enc(X[:, :2])


def test_principal_angles_of_known_subspaces() -> None:
    e1, e2 = np.eye(3)[:, :1], np.eye(3)[:, 1:2]
    np.testing.assert_allclose(analysis.principal_angles(e1, e2), [90.0])
    tilted = np.array([[1.0], [1.0], [0.0]])
    np.testing.assert_allclose(analysis.principal_angles(e1, tilted), [45.0])
    np.testing.assert_allclose(analysis.principal_angles(np.eye(3)[:, :2], np.eye(3)[:, :2] @ [[2, 1], [1, 3]]),
                               [0.0, 0.0], atol=1e-6)  # same plane, another basis: 0  # fmt: skip
    with pytest.raises(ValueError, match=r"^Invalid shape for `B`: expected \(3, q\) to match A's 3 rows"):
        analysis.principal_angles(e1, np.ones((2, 1)))
