"""Principal component analysis, the baseline of the autoencoder area, and principal angles between subspaces.

    enc = pca(X_train, k)                   # fitted on the training set only
    linear_probe(enc, (X_train, y_train), (X_test, y_test))   # the PCA baseline of the probe
    principal_angles(W_dec, enc.components.T).max()         # degrees between two k-dim subspaces

A linear autoencoder with a k-unit code, trained to its optimum, reconstructs through the projection on the
top-k principal subspace of its (centred) training data: its decoder's columns span that subspace, though not
in the basis of the principal directions (Baldi and Hornik, 1989). :func:`principal_angles` measures how far
two subspaces are apart in a way that ignores the basis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import check_array, check_int, invalid_shape

__all__ = ["PCAEncoder", "pca", "principal_angles"]


@dataclass(frozen=True)
class PCAEncoder:
    """A fitted PCA projection: ``encode(X) = (X - mean) @ components.T``, in X's dtype (callable too).

    Shape:
        mean: (D,);  components: (k, D), orthonormal rows by decreasing variance;  explained_variance: (k,)
        encode: (N, D) -> (N, k)
    """

    mean: np.ndarray
    components: np.ndarray
    explained_variance: np.ndarray

    def encode(self, X: np.ndarray) -> np.ndarray:
        check_array(X, "X", ndim=2)
        D = self.mean.shape[0]
        if X.shape[1] != D:
            raise invalid_shape("X", f"(N, {D}), the features PCA was fitted on", X.shape)
        centred = X - self.mean.astype(X.dtype)  # (N, D)
        out: np.ndarray = centred @ self.components.T.astype(X.dtype)  # (N, D) @ (D, k) -> (N, k)
        return out

    __call__ = encode


def pca(X: np.ndarray, k: int) -> PCAEncoder:
    """The top-``k`` principal components of ``X`` (centred by its mean), from a thin SVD in float64.

    Each component's sign is fixed so that its entry of largest magnitude is positive: one X, one result.
    explained_variance_i = s_i^2 / (N - 1), the variance of X along component i (unbiased, as scikit-learn's).

    Shape:
        X: (N, D) with N >= 2;  k in [1, min(N, D)]
    """
    check_array(X, "X", ndim=2, finite=True)
    N, D = X.shape
    if N < 2:
        raise invalid_shape("X", "(N, D) with N >= 2 samples (a variance needs two)", X.shape)
    k = check_int(k, "k", low=1, high=min(N, D))
    X64 = X.astype(np.float64)
    mean = X64.mean(axis=0)  # (D,)
    _, s, Vt = np.linalg.svd(X64 - mean, full_matrices=False)  # s: (min(N, D),), Vt: (min(N, D), D)
    components = Vt[:k]  # (k, D)
    rows = np.arange(k)
    signs = np.sign(components[rows, np.abs(components).argmax(axis=1)])  # (k,)
    components = components * signs[:, None]
    return PCAEncoder(mean, components, s[:k] ** 2 / (N - 1))


def principal_angles(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """The principal angles, in degrees and ascending, between the column spaces of ``A`` and ``B``.

    With Q_A, Q_B orthonormal bases of the two spaces (a QR of each), the cosines of the angles are the
    singular values of Q_A^T Q_B (Bjorck and Golub, 1973). Two equal subspaces have every angle 0 whatever
    their bases; the largest angle is 90 when some direction of the smaller space is orthogonal to the other.
    (For angles below about 1e-4 degrees arccos loses precision; a sine-based formula would keep it.)

    Shape:
        A: (D, p), B: (D, q), each of full column rank;  angles: (min(p, q),)
    """
    check_array(A, "A", ndim=2, finite=True)
    check_array(B, "B", ndim=2, finite=True)
    if B.shape[0] != A.shape[0]:
        raise invalid_shape("B", f"({A.shape[0]}, q) to match A's {A.shape[0]} rows", B.shape)
    if min(A.shape[1], B.shape[1]) < 1 or max(A.shape[1], B.shape[1]) > A.shape[0]:
        raise invalid_shape("A", "(D, p) and B (D, q) with 1 <= p, q <= D", A.shape)
    Qa, _ = np.linalg.qr(A.astype(np.float64))  # (D, p)
    Qb, _ = np.linalg.qr(B.astype(np.float64))  # (D, q)
    cosines = np.linalg.svd(Qa.T @ Qb, compute_uv=False)  # (p, D) @ (D, q) -> (p, q) -> (min(p, q),)
    return np.sort(np.degrees(np.arccos(np.clip(cosines, -1.0, 1.0))))
