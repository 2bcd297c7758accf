"""One training step and batched inference, for both model contracts the Trainer accepts.

- a loss module: ``scores = model(x)``, ``loss = criterion(scores, y)``,
  ``model.backward(criterion.backward(), input_grad=False)``;
- the course contract (``criterion is None``): ``model.loss(x)`` -> scores, ``model.loss(x, y)`` -> ``(loss, grads)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

import numpy as np

from .._validate import NonFiniteError, invalid_shape, invalid_type
from ..nn.module import Module
from ..nn.parameter import Param
from ..nn.utils import clip_grad_norm_
from .divergence import DivergenceCheck, quiet_fp
from .metrics import Metric

__all__ = ["check_fit_data", "train_step", "eval_mode", "batched_scores", "evaluate_arrays"]


def check_fit_data(X: Any, y: Any, X_val: Any, y_val: Any) -> None:
    """Arrays with matching lengths and finite values; validation data both or neither."""
    for name, arr in (("X_train", X), ("y_train", y)):
        if not isinstance(arr, np.ndarray):
            raise invalid_type(name, "a numpy.ndarray", arr)
        check_finite(arr, name)
    if len(y) != len(X):
        raise invalid_shape("y_train", f"({len(X)}, ...) to match X_train", y.shape)
    if (X_val is None) != (y_val is None):
        raise ValueError(
            "Invalid value for `X_val, y_val`: expected both or neither. "
            f"Received: X_val={type(X_val).__name__}, y_val={type(y_val).__name__}"
        )
    if X_val is not None:
        for name, arr in (("X_val", X_val), ("y_val", y_val)):
            if not isinstance(arr, np.ndarray) or len(arr) == 0:
                raise invalid_type(name, "a non-empty numpy.ndarray", arr)
        if len(y_val) != len(X_val):
            raise invalid_shape("y_val", f"({len(X_val)}, ...) to match X_val", y_val.shape)
        check_finite(X_val, "X_val")
        check_finite(y_val, "y_val")


def check_finite(arr: np.ndarray, name: str) -> None:
    """``ValueError`` naming ``name``, the NaN and inf counts and the first bad row, if a float array has any."""
    if arr.dtype.kind not in "fc":
        return
    rows = max(1, (1 << 20) // max(1, arr[:1].size))  # about a million values at a time: no huge bool temporary
    for lo in range(0, len(arr), rows):
        if not np.isfinite(arr[lo : lo + rows]).all():
            bad = ~np.isfinite(arr)  # (N, ...): only on the way to the error
            n_nan = int(np.isnan(arr).sum())
            first = int(np.argwhere(bad.reshape(len(arr), -1).any(axis=1))[0, 0])
            raise NonFiniteError(
                f"Invalid value for `{name}`: expected finite values (no NaN or inf). Received: {name} with "
                f"{n_nan} NaN and {int(bad.sum()) - n_nan} inf values, the first in row {first}"
            )


def train_step(
    model: Module,
    criterion: Module | None,
    optimizer: Any,
    xb: np.ndarray,
    yb: np.ndarray,
    *,
    clip_grad_norm: float | None = None,
    check: DivergenceCheck | None = None,
) -> tuple[float, np.ndarray | None]:
    """Forward, backward, clipping to ``clip_grad_norm`` (the global L2 norm of the optimizer's params'
    gradients), ``optimizer.step()``; returns the loss and the scores (None on the course path).

    Gradients are zeroed on the whole model first (frozen params too, so they never pile up). With
    ``check`` the loss, the gradients and the updated params are checked to be finite (raising
    :class:`~scratchnn.train.divergence.TrainingDiverged`), and NumPy warns of nothing meanwhile.
    """
    with quiet_fp() if check is not None else nullcontext():
        return _step(model, criterion, optimizer, xb, yb, clip_grad_norm, check)


def _step(
    model: Module,
    criterion: Module | None,
    optimizer: Any,
    xb: np.ndarray,
    yb: np.ndarray,
    clip_grad_norm: float | None,
    check: DivergenceCheck | None,
) -> tuple[float, np.ndarray | None]:
    scores: np.ndarray | None = None
    try:
        if criterion is None:
            loss, grads = model.loss(xb, yb)
        else:
            scores = model(xb)
            loss = criterion(scores, yb)
    except NonFiniteError as e:  # a layer or the loss refused inf or NaN that the forward pass made
        if check is None:
            raise
        raise check.error("inf or NaN in the forward pass") from e
    if check is not None:
        check.loss(float(loss))
    model.zero_grad()
    if criterion is None:
        for name, p in model.named_parameters():
            if name not in grads:
                raise KeyError(
                    f"{type(model).__name__}.loss(X, y) returned no gradient for parameter {name!r} "
                    f"(it returned {sorted(grads)})"
                )
            p.accumulate_grad(grads[name])
    else:
        # None: the loss's upstream gradient is 1; the input is data, so no dx (torch: xb.requires_grad is False)
        model.backward(criterion.backward(None), input_grad=False)
    if check is not None:
        check.grads(optimizer_params(optimizer), float(loss))
    if clip_grad_norm is not None:
        clip_grad_norm_(optimizer_params(optimizer), clip_grad_norm)
    optimizer.step()
    if check is not None:
        check.params(optimizer_params(optimizer))
    return float(loss), scores


def optimizer_params(optimizer: Any) -> list[Param]:
    """Every param the optimizer steps, group by group."""
    return [p for g in optimizer.param_groups for p in g["params"]]


@contextmanager
def eval_mode(model: Module) -> Iterator[None]:
    """``model.eval()`` inside the block, then the previous mode back (callbacks evaluate mid-epoch)."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _batches(n: int, batch_size: int) -> Iterator[slice]:
    for lo in range(0, n, batch_size):
        yield slice(lo, min(lo + batch_size, n))


def _scores(model: Module, criterion: Module | None, xb: np.ndarray) -> np.ndarray:
    out: np.ndarray = model.loss(xb) if criterion is None else model(xb)
    return out


def batched_scores(model: Module, criterion: Module | None, X: np.ndarray, batch_size: int) -> np.ndarray:
    """The model's scores for ``X``, computed ``batch_size`` rows at a time. Shape: (N, *) -> (N, C); N may be 0."""
    if len(X) == 0:  # no batch to join: the model maps the empty batch to (0, C) itself
        return _scores(model, criterion, X)
    return np.concatenate([_scores(model, criterion, X[s]) for s in _batches(len(X), batch_size)])


def evaluate_arrays(
    model: Module,
    criterion: Module | None,
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    metrics: Sequence[tuple[str, str, Metric]],
) -> dict[str, float]:
    """Sample-weighted mean loss over batches and each metric over all scores, keyed by metric name.

    On the course path the loss is ``model.loss(X, y)``'s, regularization included.
    """
    if len(X) == 0:
        raise ValueError(f"Invalid shape for `X`: expected (N, ...) with N >= 1. Received: X.shape={X.shape}")
    if len(X) != len(y):
        raise ValueError(f"Invalid shape for `y`: expected ({len(X)}, ...) to match X. Received: y.shape={y.shape}")
    total, parts = 0.0, []
    for s in _batches(len(X), batch_size):
        if criterion is None:
            loss = model.loss(X[s], y[s])[0]
            parts.append(model.loss(X[s]))
        else:
            parts.append(model(X[s]))
            loss = criterion(parts[-1], y[s])
        total += float(loss) * (s.stop - s.start)
    scores = np.concatenate(parts)  # (N, C)
    out = {"loss": total / len(X)}
    out.update({name: float(fn(scores, y)) for name, _, fn in metrics})
    return out
