"""Pointwise losses: each element of ``x`` against the same element of a target ``y`` (MSE, BCE with logits).

They return ``(loss, dx)`` with torch's ``reduction`` semantics, as the losses of :mod:`.losses`
(whose reduction helpers they share): ``dx`` is the gradient of ``sum(dloss * loss)``, ``dloss=None`` means 1,
and an empty input gives NaN for ``'mean'`` (as torch). The target ``y`` and the weights are cast to x's dtype.

Derivations: docs/derivations/mse.md, bce_with_logits.md
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._numerics import quiet
from .._validate import check_array, check_choice, invalid_shape
from .losses import REDUCTIONS, Loss, _reduce

__all__ = ["mse_loss", "bce_with_logits_loss"]


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
