"""Temporal layers: an affine map and a softmax loss applied at every time step (the course's names).

``temporal_affine_forward`` turns RNN hidden states (N, T, D) into scores (N, T, M) with one GEMM
over all N*T steps; ``temporal_softmax_loss`` scores them against next-token labels, skipping the
padded steps a mask marks.

Derivation: docs/derivations/embedding.md (the temporal ops section)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._numerics import quiet
from .._validate import (
    check_array,
    check_grad,
    check_labels,
    check_same_dtype,
    invalid_shape,
    invalid_type,
    invalid_value,
)
from .losses import Loss, upstream_grad


@quiet
def temporal_affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Any]:
    """out[n, t] = x[n, t] @ w + b at every step, as one (N*T, D) @ (D, M) GEMM.

    Backward: dx = dout @ w.T; dw = sum_{n,t} x[n, t]^T dout[n, t]; db = sum_{n,t} dout[n, t].

    Shape:
        x: (N, T, D);  w: (D, M);  b: (M,);  out: (N, T, M)

    Derivation: docs/derivations/embedding.md
    """
    check_array(x, "x", ndim=3)
    check_array(w, "w", ndim=2)
    check_array(b, "b", ndim=1)
    check_same_dtype(w, "w", x)
    check_same_dtype(b, "b", x)
    N, T, D = x.shape
    if w.shape[0] != D:
        raise invalid_shape("w", f"({D}, M) to match x's {D} features", w.shape)
    M = w.shape[1]
    if b.shape != (M,):
        raise invalid_shape("b", f"({M},) to match w", b.shape)
    out = x.reshape(N * T, D) @ w  # (N*T, D) @ (D, M) -> (N*T, M)
    out += b
    return out.reshape(N, T, M), (x, w)  # (N*T, M) -> (N, T, M)


@quiet
def temporal_affine_backward(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`temporal_affine_forward`: (dx, dw, db)."""
    x, w = cache
    N, T, D = x.shape
    M = w.shape[1]
    check_grad(dout, "dout", (N, T, M), x.dtype)
    d2 = dout.reshape(N * T, M)  # (N, T, M) -> (N*T, M)
    dx = (d2 @ w.T).reshape(N, T, D)  # (N*T, M) @ (M, D) -> (N*T, D) -> (N, T, D)
    dw = x.reshape(N * T, D).T @ d2  # (D, N*T) @ (N*T, M) -> (D, M)
    db = d2.sum(axis=0)  # (N*T, M) -> (M,)
    return dx, dw, db


def _check_mask(mask: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A (N, T) mask of booleans (or integers 0/1), as bool."""
    if not isinstance(mask, np.ndarray) or mask.dtype.kind not in "biu":
        raise invalid_type("mask", "a numpy.ndarray of booleans (True: the step counts)", mask)
    if mask.shape != shape:
        raise invalid_shape("mask", f"{shape} to match x's (N, T)", mask.shape)
    if mask.dtype.kind != "b":
        if mask.size and (mask.min() < 0 or mask.max() > 1):
            raise invalid_value("mask", "booleans or the integers 0 and 1", mask)
        mask = mask.astype(bool)
    return mask


@quiet
def temporal_softmax_loss(
    x: np.ndarray, y: np.ndarray, mask: np.ndarray, *, dloss: Any = None
) -> tuple[Loss, np.ndarray]:
    """The course's temporal softmax loss: cross-entropy summed over the unmasked steps, divided by N.

        L = -(1/N) sum_{n,t} mask[n, t] log softmax(x[n, t])[y[n, t]]

    (divided by the batch size N, not by the number of unmasked steps, as in the course; torch's
    ``CrossEntropyLoss(reduction='sum')(...) / N`` over the kept steps is the same number).
    Backward, with p = softmax(x[n, t]) and g = ``dloss`` (None: 1):
    dx[n, t] = g mask[n, t] (p - onehot(y[n, t])) / N.

    Every label must be in [0, V), also at masked steps (the course pads with the <NULL> id). An
    empty batch gives NaN (0 / 0, as the library's other 'mean' losses) and an empty dx.

    Shape:
        x: (N, T, V) scores;  y: (N, T) integer labels;  mask: (N, T) booleans;  loss: scalar;  dx: (N, T, V)

    Derivation: docs/derivations/embedding.md
    """
    check_array(x, "x", ndim=3, finite=True)
    N, T, V = x.shape
    if V == 0:
        raise invalid_shape("x", "(N, T, V) with at least one class", x.shape)
    if isinstance(y, np.ndarray) and y.shape != (N, T):
        raise invalid_shape("y", f"({N}, {T}) to match x's (N, T)", y.shape)
    check_labels(y.reshape(-1) if isinstance(y, np.ndarray) else y, "y", N * T, V)  # (N, T) -> (N*T,)
    keep = _check_mask(mask, (N, T)).reshape(-1)  # (N, T) -> (N*T,)
    g = upstream_grad(dloss, "dloss", (), x.dtype)
    if N == 0:
        return x.dtype.type(np.nan), np.zeros_like(x)
    flat = x.reshape(N * T, V)  # (N, T, V) -> (N*T, V)
    labels = y.reshape(-1)  # (N*T,)
    rows = np.arange(N * T)
    shifted = flat - flat.max(axis=1, keepdims=True)  # (N*T, V), a stable softmax
    exp = np.exp(shifted)
    sum_exp = exp.sum(axis=1, keepdims=True)  # (N*T, V) -> (N*T, 1)
    nll = np.log(sum_exp[:, 0]) - shifted[rows, labels]  # (N*T,): -log p[y]
    loss = nll[keep].sum() / N
    dx = exp / sum_exp  # the probabilities
    dx[rows, labels] -= 1
    dx *= (keep * (g / N))[:, None].astype(x.dtype)  # masked steps get no gradient
    return loss, dx.reshape(N, T, V)  # (N*T, V) -> (N, T, V)
