"""Pointwise losses: each element of ``x`` against the same element of a target ``y`` (MSE, BCE with logits,
the autoencoders' reconstruction loss).

They return ``(loss, dx)`` with torch's ``reduction`` semantics, as the losses of :mod:`.losses`
(whose reduction helpers they share): ``dx`` is the gradient of ``sum(dloss * loss)``, ``dloss=None`` means 1,
and an empty input gives NaN for ``'mean'`` (as torch). The target ``y`` and the weights are cast to x's dtype.

Derivations: docs/derivations/mse.md (and the reconstruction loss), bce_with_logits.md
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._numerics import quiet
from .._validate import check_array, check_choice, invalid_shape, invalid_type, invalid_value
from .losses import REDUCTIONS, Loss, _reduce, upstream_grad

__all__ = ["mse_loss", "bce_with_logits_loss", "reconstruction_loss", "RECONSTRUCTION_REDUCTIONS"]

# the course project's (1/N) ||X - X_hat||_F^2 (sum over features, mean over samples) and torch's MSE mean
RECONSTRUCTION_REDUCTIONS = ("sum_per_sample", "mean")


def _check_pair(x: Any, y: Any) -> np.ndarray:
    """Finite floating x and y of the same shape; returns y in x's dtype."""
    check_array(x, "x", finite=True)
    check_array(y, "y", finite=True)
    if y.shape != x.shape:
        raise invalid_shape("y", f"{x.shape} to match x", y.shape)
    return y.astype(x.dtype, copy=False)


def _check_broadcast_weight(value: Any, name: str, shape: tuple[int, ...], dtype: np.dtype[Any]) -> np.ndarray | None:
    if value is None:
        return None
    check_array(value, name, finite=True)
    try:
        fits = np.broadcast_shapes(value.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise invalid_shape(name, f"a shape that broadcasts to the input's {shape}", value.shape)
    return value.astype(dtype, copy=False)


@quiet
def mse_loss(x: np.ndarray, y: np.ndarray, *, reduction: str = "mean", dloss: Any = None) -> tuple[Loss, np.ndarray]:
    """Mean squared error, torch's ``MSELoss``: L_i = (x_i - y_i)^2, averaged over all elements.

    Backward: dx = 2 (x - y) g, with g = dloss (divided by the number of elements for 'mean').
    Only the input's gradient is returned (y is a target).

    Shape:
        x, y: any shape, the same;  loss: scalar, or x's shape for 'none';  dx: x's shape

    Derivation: docs/derivations/mse.md
    """
    y = _check_pair(x, y)
    reduction = check_choice(reduction, "reduction", REDUCTIONS)
    diff = x - y
    loss, g = _reduce(diff * diff, reduction, dloss)
    return loss, np.asarray(2 * diff * g)  # an array also for 0-d x


@quiet
def bce_with_logits_loss(
    x: np.ndarray,
    y: np.ndarray,
    *,
    weight: np.ndarray | None = None,
    pos_weight: np.ndarray | None = None,
    reduction: str = "mean",
    dloss: Any = None,
) -> tuple[Loss, np.ndarray]:
    """Binary cross-entropy on logits, torch's ``BCEWithLogitsLoss``, stable for any x:

        L_i = w_i (pw_i y_i softplus(-x_i) + (1 - y_i) softplus(x_i)),   softplus(t) = log(1 + e^t),

    i.e. -w (pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))), computed as
    (1 - y) x + (1 + (pw - 1) y) softplus(-x) with softplus(-x) = log1p(e^{-|x|}) + max(-x, 0).

    Backward: dx = g w ((1 + (pw - 1) y) (sigmoid(x) - 1) + 1 - y), which is g w (sigmoid(x) - y) for pw = 1.

    Shape:
        x, y: any shape, the same;  weight, pos_weight: broadcastable to x (pos_weight usually (C,))
        loss: scalar, or x's shape for 'none';  dx: x's shape

    Derivation: docs/derivations/bce_with_logits.md
    """
    y = _check_pair(x, y)
    w = _check_broadcast_weight(weight, "weight", x.shape, x.dtype)
    pw = _check_broadcast_weight(pos_weight, "pos_weight", x.shape, x.dtype)
    reduction = check_choice(reduction, "reduction", REDUCTIONS)
    e = np.exp(-np.abs(x))
    softplus_neg = np.log1p(e) + np.maximum(-x, 0)  # -log sigmoid(x)
    sigmoid_neg = np.where(x >= 0, e, 1) / (1 + e)  # 1 - sigmoid(x), without cancellation
    log_weight = 1 if pw is None else 1 + (pw - 1) * y
    losses = (1 - y) * x + log_weight * softplus_neg
    dlosses = (1 - y) - log_weight * sigmoid_neg
    if w is not None:
        losses = losses * w
        dlosses = dlosses * w
    loss, g = _reduce(losses, reduction, dloss)
    return loss, np.asarray(dlosses * g)


def _check_loss_mask(mask: Any, shape: tuple[int, ...], like: str = "x") -> np.ndarray:
    """A mask of x's shape: booleans (or the integers 0 and 1), True where the element counts; as bool."""
    if not isinstance(mask, np.ndarray) or mask.dtype.kind not in "biu":
        raise invalid_type("mask", "a numpy.ndarray of booleans (True: the element counts) or None", mask)
    if mask.shape != shape:
        raise invalid_shape("mask", f"{shape} to match {like}", mask.shape)
    if mask.dtype.kind != "b":
        if mask.size and (mask.min() < 0 or mask.max() > 1):
            raise invalid_value("mask", "booleans or the integers 0 and 1", mask)
        mask = mask.astype(bool)
    return mask


@quiet
def reconstruction_loss(
    x: np.ndarray,
    y: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    reduction: str = "sum_per_sample",
    dloss: Any = None,
) -> tuple[Loss, np.ndarray]:
    """An autoencoder's reconstruction ``x`` of the target ``y``, over the elements where ``mask`` is True:

        'sum_per_sample' (the course's):  L = (1/N) sum_n sum_j m_nj (x_nj - y_nj)^2 = (1/N) ||M * (X - Y)||_F^2
        'mean' (torch's MSELoss):         L = sum_nj m_nj (x_nj - y_nj)^2 / sum_nj m_nj

    with m = 1 everywhere when ``mask`` is None (then 'mean' divides by the element count N * D).
    'sum_per_sample' is D times 'mean' without a mask: same minimizer, a gradient D times larger, so the
    learning rates of the two differ by about that factor.

    Backward: dx = 2 m (x - y) g / Z, Z = N ('sum_per_sample') or sum m ('mean'), g = dloss (default 1).
    The target gets no gradient. Z = 0 (an empty batch, or a mask with no True for 'mean') gives NaN and a
    zero gradient, as torch's mean of nothing.

    Shape:
        x, y, mask: (N, *), the same;  loss: scalar;  dx: x's shape

    Derivation: docs/derivations/mse.md
    """
    y = _check_pair(x, y)
    if x.ndim == 0:
        raise invalid_shape("x", "(N, *) with a batch axis", x.shape)
    reduction = check_choice(reduction, "reduction", RECONSTRUCTION_REDUCTIONS)
    keep = None if mask is None else _check_loss_mask(mask, x.shape)
    return _reconstruction_loss_checked(x, y, keep, reduction, upstream_grad(dloss, "dloss", (), x.dtype))


def _reconstruction_loss_checked(
    x: np.ndarray, y: np.ndarray, keep: np.ndarray | None, reduction: str, g: np.ndarray
) -> tuple[Loss, np.ndarray]:
    """:func:`reconstruction_loss` on arguments already checked (``ReconstructionLoss`` checks its own, by
    their names, and would otherwise pay twice for the finiteness scans of two (N, D) arrays)."""
    if reduction == "sum_per_sample":
        total = x.shape[0]
    else:
        total = x.size if keep is None else int(np.count_nonzero(keep))
    if total == 0:
        return x.dtype.type(np.nan), np.zeros_like(x)
    diff = x - y  # (N, *): a fresh array, reused for dx below
    if keep is not None:
        diff *= keep  # masked-out elements leave the loss and get no gradient
    flat = diff.reshape(-1)  # (N, *) -> (N * D,)
    loss = x.dtype.type(np.dot(flat, flat) / total)  # one pass, no squared temporary
    diff *= 2 * g / total  # dx = 2 m (x - y) g / Z, in place
    return loss, diff
