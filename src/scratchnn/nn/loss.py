"""Loss modules mirroring ``torch.nn``: CrossEntropyLoss, MSELoss, BCEWithLogitsLoss, MultiMarginLoss.

``loss = crit(input, target)`` returns the loss (a scalar of the input's dtype for 'mean'/'sum', an
array for 'none'); ``dinput = crit.backward(grad_out=None)`` returns the gradient with respect to
the input, ``grad_out`` being the upstream gradient of the loss (``None`` means 1, the usual case;
for 'none' an array of the loss's shape; an array must have the loss's dtype, docs/dtypes.md).
Targets get no gradient. An empty batch gives NaN for 'mean' (0 / 0, as torch, without a warning), 0
for 'sum', an empty array for 'none', and an empty input gradient.

Differences from torch:
- the deprecated ``size_average``/``reduce`` are omitted; later arguments are keyword-only, so a
  positional torch call fails loudly instead of binding wrongly;
- ``weight``/``pos_weight`` are cast to the input's dtype (torch raises on a mismatch);
- CrossEntropyLoss takes class-index targets only, not class probabilities.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._numerics import quiet_fp
from .._validate import check_array, check_choice, check_float, check_int, check_labels, invalid_shape, invalid_type
from ..ops.losses import (
    REDUCTIONS,
    Loss,
    _check_class_weight,
    _softmax_loss_checked,
    multi_margin_loss,
    upstream_grad,
)
from ..ops.pointwise_losses import bce_with_logits_loss, mse_loss
from .module import Module


def _check_classes(weight: np.ndarray | None, input: np.ndarray, C: int) -> None:
    """The input's C classes are the class weight's (fixed at construction: the input is what is wrong)."""
    if weight is not None and weight.shape[:1] != (C,):
        axis = "axis 0" if input.ndim == 1 else "axis 1"
        raise invalid_shape("input", f"{weight.shape[0]} classes along {axis}, one per class weight", input.shape)


def _check_target(target: Any, shape: tuple[int, ...]) -> np.ndarray:
    if not isinstance(target, np.ndarray):
        raise invalid_type("target", "a numpy.ndarray", target)
    if target.shape != shape:
        raise invalid_shape("target", f"{shape} to match the input", target.shape)
    return target


def _class_scores(input: Any, max_ndim: int | None, expected: str) -> tuple[np.ndarray, tuple[int, ...]]:
    """Scores (C,), (N, C) or (N, C, d_1, ..., d_k) as a (M, C) matrix, and the loss's 'none' shape."""
    check_array(input, "input", finite=True)
    class_axis = 0 if input.ndim == 1 else 1
    if input.ndim == 0 or (max_ndim is not None and input.ndim > max_ndim) or input.shape[class_axis] == 0:
        raise invalid_shape("input", expected + " with C >= 1", input.shape)
    if input.ndim == 1:
        return input[None, :], ()  # (C,) -> (1, C): one unbatched sample
    if input.ndim == 2:
        return input, (input.shape[0],)
    C = input.shape[1]
    return np.moveaxis(input, 1, -1).reshape(-1, C), (input.shape[0], *input.shape[2:])  # -> (M, C)


class _Loss(Module):
    """Shared shell: keeps the unit-upstream gradient of forward and scales it in backward."""

    def __init__(self, reduction: str) -> None:
        super().__init__()
        self.reduction = check_choice(reduction, "reduction", REDUCTIONS)

    def _finish(self, loss: Loss, dx: np.ndarray, loss_shape: tuple[int, ...], class_axis: int | None) -> Loss:
        if self.reduction == "none":
            loss = np.reshape(loss, loss_shape)
        self._save((dx, loss_shape, class_axis))
        return loss

    # no ``input_grad``: a loss starts the backward pass, and its input (the scores) always needs its gradient
    def backward(self, grad_out: Any = None) -> np.ndarray:  # type: ignore[override]
        dx, loss_shape, class_axis = self._saved()
        if grad_out is None:
            # in dx's own memory order: for (N, C, d_1, ...) scores it is a view of an (M, C) array, and a
            # C-order copy would transpose it (a summarizer's (N, V, T) scores, whose caller wants (N, T, V))
            return dx.copy(order="K")
        # the loss's shape (or a scalar, broadcast) and dtype; a Python number is taken in that dtype
        g = upstream_grad(grad_out, "grad_out", loss_shape if self.reduction == "none" else (), dx.dtype)
        if g.ndim and class_axis is not None:
            g = np.expand_dims(g, class_axis)  # (N, d_1, ...) -> (N, 1, d_1, ...): one factor per sample
        # every loss here is a sum of per-sample terms, so dx is linear in each sample's upstream gradient
        with quiet_fp():  # an inf upstream gradient times a zero entry is NaN, as in torch, without a warning
            return np.asarray(dx * g)  # an array also for a 0-d input (NumPy gives a scalar)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy over class axis 1, as ``torch.nn.CrossEntropyLoss`` (class-index targets).

    Uses :func:`scratchnn.ops.softmax_loss`: class ``weight``, ``ignore_index``, ``label_smoothing``
    and ``reduction`` have torch's exact semantics ('mean' divides by the summed weight of the
    non-ignored targets; all targets ignored gives NaN, as torch).

    Shape:
        input: (C,), (N, C) or (N, C, d_1, ..., d_k);  target: (), (N,) or (N, d_1, ..., d_k) integer labels
        weight: (C,);  output: scalar, or the target's shape for 'none'
    """

    def __init__(
        self,
        weight: np.ndarray | None = None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(reduction)
        self.register_buffer("weight", None if weight is None else check_array(weight, "weight", ndim=1, finite=True))
        self.ignore_index = check_int(ignore_index, "ignore_index")
        self.label_smoothing = check_float(label_smoothing, "label_smoothing", low=0.0, high=1.0)

    def forward(self, input: np.ndarray, target: np.ndarray) -> Loss:
        x, loss_shape = _class_scores(input, None, "(C,), (N, C) or (N, C, d_1, ..., d_k)")
        _check_classes(self.weight, input, x.shape[1])
        y = _check_target(target, loss_shape).reshape(-1)
        check_labels(y, "target", x.shape[0], x.shape[1], self.ignore_index)
        w = _check_class_weight(self.weight, x.shape[1], x.dtype)
        loss, dx = _softmax_loss_checked(x, y, w, self.ignore_index, self.reduction, self.label_smoothing, None)
        if input.ndim == 1:
            dx = dx[0]  # (1, C) -> (C,)
        elif input.ndim > 2:
            dx = np.moveaxis(dx.reshape(*loss_shape, x.shape[1]), -1, 1)  # (M, C) -> (N, C, d_1, ...)
        return self._finish(loss, dx, loss_shape, 1)


class MultiMarginLoss(_Loss):
    """Multiclass hinge loss, as ``torch.nn.MultiMarginLoss``: (w[y]/C) sum_{j != y} max(0, margin - x_y + x_j)^p.

    Uses :func:`scratchnn.ops.multi_margin_loss`; 'mean' averages over samples.

    Shape:
        input: (C,) or (N, C);  target: () or (N,) integer labels;  weight: (C,)
        output: scalar, or the target's shape for 'none'
    """

    def __init__(
        self, p: int = 1, margin: float = 1.0, weight: np.ndarray | None = None, *, reduction: str = "mean"
    ) -> None:
        super().__init__(reduction)
        self.p = int(check_choice(p, "p", (1, 2)))
        self.margin = check_float(margin, "margin", finite=True)
        self.register_buffer("weight", None if weight is None else check_array(weight, "weight", ndim=1, finite=True))

    def forward(self, input: np.ndarray, target: np.ndarray) -> Loss:
        x, loss_shape = _class_scores(input, 2, "(C,) or (N, C)")
        _check_classes(self.weight, input, x.shape[1])
        y = _check_target(target, loss_shape).reshape(-1)
        check_labels(y, "target", x.shape[0], x.shape[1])
        loss, dx = multi_margin_loss(x, y, p=self.p, margin=self.margin, weight=self.weight, reduction=self.reduction)
        return self._finish(loss, dx.reshape(input.shape), loss_shape, 0 if input.ndim == 1 else 1)


def _check_pair(input: Any, target: Any) -> None:
    check_array(input, "input", finite=True)
    check_array(target, "target", finite=True)
    if target.shape != input.shape:
        raise invalid_shape("target", f"{input.shape} to match the input", target.shape)


class MSELoss(_Loss):
    """Mean squared error, as ``torch.nn.MSELoss`` (input and target of the same shape).

    Shape:
        input, target: any shape, the same;  output: scalar, or the input's shape for 'none'
    """

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input: np.ndarray, target: np.ndarray) -> Loss:
        _check_pair(input, target)
        loss, dx = mse_loss(input, target, reduction=self.reduction)
        return self._finish(loss, dx, input.shape, None)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid plus binary cross-entropy in one stable step, as ``torch.nn.BCEWithLogitsLoss``.

    ``weight`` rescales each element's loss and ``pos_weight`` the positive term (both broadcast
    to the input, ``pos_weight`` usually (C,)); see :func:`scratchnn.ops.bce_with_logits_loss`.

    Shape:
        input, target: any shape, the same;  output: scalar, or the input's shape for 'none'
    """

    def __init__(
        self, weight: np.ndarray | None = None, *, reduction: str = "mean", pos_weight: np.ndarray | None = None
    ) -> None:
        super().__init__(reduction)
        self.register_buffer("weight", None if weight is None else check_array(weight, "weight", finite=True))
        self.register_buffer(
            "pos_weight", None if pos_weight is None else check_array(pos_weight, "pos_weight", finite=True)
        )

    def forward(self, input: np.ndarray, target: np.ndarray) -> Loss:
        _check_pair(input, target)
        loss, dx = bce_with_logits_loss(
            input, target, weight=self.weight, pos_weight=self.pos_weight, reduction=self.reduction
        )
        return self._finish(loss, dx, input.shape, None)
