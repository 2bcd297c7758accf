"""Losses: each returns ``(loss, dx)`` in one call, with torch's ``reduction`` semantics.

``reduction`` is ``'mean'`` (the default), ``'sum'`` or ``'none'``. With ``'mean'``/``'sum'`` the loss
is a scalar of the input's dtype; with ``'none'`` it is an array of per-sample (per-element)
losses. ``dx`` is the gradient of ``sum(dloss * loss)``: ``dloss`` is the upstream gradient, a scalar
for ``'mean'``/``'sum'`` or an array of the loss's shape for ``'none'`` (a scalar is broadcast), and
``None`` means 1, the usual case of a loss at the top of the graph. A Python number is taken in the
input's dtype; a NumPy array or scalar must have that dtype (docs/dtypes.md).

An empty batch (N = 0) gives NaN for ``'mean'`` (0 / 0, as torch; no warning), 0 for ``'sum'``, an
empty array for ``'none'``, and an empty ``dx``.

Classification losses over class scores here (softmax cross-entropy, SVM, multi-margin); losses that
compare each element with a target are in :mod:`.pointwise_losses` (MSE, BCE with logits).

Derivations: docs/derivations/softmax_cross_entropy.md, svm.md
"""

from __future__ import annotations

import math
import numbers
from typing import Any, TypeAlias

import numpy as np

from .._numerics import quiet
from .._threads import run_blocks
from .._validate import (
    check_array,
    check_choice,
    check_float,
    check_int,
    check_labels,
    invalid_dtype,
    invalid_shape,
    invalid_type,
    invalid_value,
)

REDUCTIONS = ("mean", "sum", "none")
Loss: TypeAlias = np.ndarray | np.floating[Any]  # a scalar for 'mean'/'sum', an array for 'none'


def upstream_grad(g: Any, name: str, shape: tuple[int, ...], dtype: np.dtype[Any]) -> np.ndarray:
    """A loss's upstream gradient as an array of the loss's shape or 0-d, in the input's dtype.

    None means 1; a Python number is taken in ``dtype``; an array (or NumPy scalar) must have ``dtype``.
    """
    if g is None:
        return np.ones(shape, dtype=dtype)
    if isinstance(g, (np.ndarray, np.generic)):
        if g.dtype != dtype:
            raise invalid_dtype(name, f"{dtype}, the loss's dtype", g.dtype)
    elif isinstance(g, bool) or not isinstance(g, numbers.Real):
        raise invalid_type(name, f"None, a real number or a numpy.ndarray of the loss's shape {shape}", g)
    elif not _fits(g, dtype):  # 1e100 in float32 would be inf, with NumPy's overflow warning
        raise invalid_value(name, f"a number within {dtype}'s range, |{name}| <= {np.finfo(dtype).max:.4g}", g)
    arr = np.asarray(g, dtype=dtype)
    if arr.shape not in (shape, ()):
        raise invalid_shape(name, f"{shape} (the loss's shape) or a scalar", arr.shape)
    return arr


def _fits(number: Any, dtype: np.dtype[Any]) -> bool:
    """A Python number that ``dtype`` holds (inf and NaN do: they are what they are in any float dtype)."""
    try:
        value = float(number)
    except OverflowError:  # an int beyond every float
        return False
    return not math.isfinite(value) or abs(value) <= float(np.finfo(dtype).max)


def _reduce(losses: np.ndarray, reduction: str, dloss: Any, total: Any = None) -> tuple[Loss, np.ndarray]:
    """Reduce per-sample losses; also return g = dloss * d(loss)/d(losses), a scalar or losses' shape.

    ``total`` is the mean's divisor (default: the number of losses). A zero divisor gives NaN
    and zero gradient, as torch's 0/0 does (an empty batch, or every target ignored).
    """
    if reduction == "none":
        return losses, upstream_grad(dloss, "dloss", losses.shape, losses.dtype)
    total = losses.size if total is None else total
    g = _reduced_grad(reduction, dloss, losses.dtype, total)
    if reduction == "sum":
        return losses.sum(), g
    if total == 0:
        return losses.dtype.type(np.nan), g
    return losses.sum() / total, g


def _reduced_grad(reduction: str, dloss: Any, dtype: np.dtype[Any], total: Any) -> np.ndarray:
    """g of :func:`_reduce` for 'sum' or 'mean', which needs no loss: dloss, or dloss / total (0 if total is 0)."""
    g = upstream_grad(dloss, "dloss", (), dtype)
    if reduction == "sum":
        return g
    return np.zeros_like(g) if total == 0 else g / total


def _check_class_weight(weight: Any, num_classes: int, dtype: np.dtype[Any]) -> np.ndarray | None:
    """``None`` or a finite (C,) array of per-class weights, cast to the scores' dtype."""
    if weight is None:
        return None
    check_array(weight, "weight", ndim=1, finite=True)
    if weight.shape != (num_classes,):
        raise invalid_shape("weight", f"({num_classes},), one weight per class", weight.shape)
    return weight.astype(dtype, copy=False)


def _check_scores(x: Any) -> tuple[int, int]:
    check_array(x, "x", ndim=2, finite=True)
    if x.shape[1] == 0:
        raise invalid_shape("x", "(N, C) with at least one class", x.shape)
    return x.shape


def _per_row(g: np.ndarray) -> np.ndarray:
    """Per-sample upstream gradient (N,) as a column that scales the rows of dx."""
    return g.reshape(-1, 1) if g.ndim else g


# ---------------------------------------------------------------------------------------------- softmax
@quiet
def softmax_loss(
    x: np.ndarray,
    y: np.ndarray,
    *,
    weight: np.ndarray | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    dloss: Any = None,
) -> tuple[Loss, np.ndarray]:
    """Softmax cross-entropy with torch ``CrossEntropyLoss`` semantics; defaults give the course loss.

    With log-probabilities l = log softmax(x) (a stable log-sum-exp), class weights w (all 1 if
    ``None``), smoothing e and C classes, sample n with target y_n costs

        L_n = -(1 - e) w[y_n] l[n, y_n] - (e / C) sum_c w[c] l[n, c],   and 0 if y_n == ignore_index.

    'mean' divides sum_n L_n by W = sum of w[y_n] over the non-ignored samples (their count when
    unweighted), as torch does; W = 0 (every target ignored) gives NaN and a zero gradient, as torch.

    Backward, with p = softmax(x[n]) and g_n the upstream gradient (divided by W for 'mean'):
    dx[n] = g_n ((1 - e) w[y_n] (p - onehot(y_n)) + (e / C) (sum(w) p - w)), 0 for ignored samples.

    Shape:
        x: (N, C) scores;  y: (N,) integer labels in [0, C) or ``ignore_index``;  weight: (C,)
        loss: scalar, or (N,) for 'none';  dx: (N, C)

    Derivation: docs/derivations/softmax_cross_entropy.md
    """
    N, C = _check_scores(x)
    ignore_index = check_int(ignore_index, "ignore_index")
    check_labels(y, "y", N, C, ignore_index)
    reduction = check_choice(reduction, "reduction", REDUCTIONS)
    e = check_float(label_smoothing, "label_smoothing", low=0.0, high=1.0)
    return _softmax_loss_checked(x, y, _check_class_weight(weight, C, x.dtype), ignore_index, reduction, e, dloss)


def _softmax_loss_checked(
    x: np.ndarray, y: np.ndarray, w: np.ndarray | None, ignore_index: int, reduction: str, e: float, dloss: Any
) -> tuple[Loss, np.ndarray]:
    """:func:`softmax_loss` on arguments already validated (``nn.CrossEntropyLoss`` checks its own)."""
    N, C = x.shape
    rows = np.arange(N)
    if N and w is None and e == 0 and reduction == "mean" and dloss is None and not (y == ignore_index).any():
        # the course's loss, by far the usual case: the same formulas with the unit weights left out
        # (a fifth of the NumPy calls; the general path below costs ~0.2 ms on a (256, 10) batch)
        shifted = x - x.max(axis=1, keepdims=True)  # (N, C)
        exp = np.exp(shifted)
        sum_exp = exp.sum(axis=1, keepdims=True)  # (N, C) -> (N, 1)
        loss = (np.log(sum_exp[:, 0]) - shifted[rows, y]).sum() / N
        dx = exp / sum_exp  # probs
        dx[rows, y] -= 1
        dx /= N
        return loss, dx
    keep = y != ignore_index  # (N,)
    if reduction != "none" and 0 < keep.sum() < N:
        # ignored rows (a padded batch's pads: half of a summarizer's targets) add nothing to a reduced loss
        # and get zero gradient: work on the kept rows only, then put their gradient back in place
        kept = np.flatnonzero(keep)
        loss, dx_kept = _softmax_loss_checked(x[kept], y[kept], w, ignore_index, reduction, e, dloss)
        dx = np.zeros_like(x)
        dx[kept] = dx_kept
        return loss, dx
    if w is None and reduction != "none" and N and keep.all():
        return _smoothed_unweighted(x, y, reduction, e, dloss)
    keep_f = keep.astype(x.dtype)
    target = np.where(keep, y, 0)  # ignored samples point at class 0; their terms are masked below
    shifted = x - x.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    sum_exp = exp.sum(axis=1, keepdims=True)  # (N, C) -> (N, 1)
    log_probs = shifted - np.log(sum_exp)
    probs = exp / sum_exp
    w_y = keep_f if w is None else keep_f * w[target]  # (N,): each target's weight, 0 if ignored
    losses = (1 - e) * w_y * -log_probs[rows, target]
    if e > 0:
        smooth = -(log_probs.sum(axis=1) if w is None else log_probs @ w)  # (N, C) -> (N,)
        losses += (e / C) * np.where(keep, smooth, 0)
    loss, g = _reduce(losses, reduction, dloss, total=w_y.sum())

    coef = (1 - e) * w_y  # (N,): weight of p - onehot(y) in each row's gradient
    dx = (coef + (e / C) * (C if w is None else w.sum()) * keep_f)[:, None] * probs
    dx[rows, target] -= coef
    if e > 0:
        dx -= (e / C) * (keep_f[:, None] if w is None else keep_f[:, None] * w)
    dx *= _per_row(g)
    return loss, dx


# Scores per block of rows in _smoothed_unweighted: 1 MiB of float32, which stays in cache through the
# block's seven passes. Measured at two threads on (640, 4000), (1536, 8000) and (4096, 1000) scores,
# blocks of 2^18 were the fastest; 2^16 and 2^17 up to 1.5x slower, 2^19 up to 1.2x.
ROW_BLOCK = 1 << 18


def _smoothed_unweighted(x: np.ndarray, y: np.ndarray, reduction: str, e: float, dloss: Any) -> tuple[Loss, np.ndarray]:
    """:func:`softmax_loss` without class weights or ignored rows, reduced, in one (N, C) buffer.

    With unit weights the general formulas simplify: L_n = (1 - e)(lse_n - s[n, y_n]) + (e / C)(C lse_n -
    sum_c s[n, c]) for the shifted scores s and lse_n = log sum_c exp(s[n, c]), and, as (1 - e) + e = 1,
    dx[n] = g (p - (1 - e) onehot(y_n) - e / C). The buffer holds s, then exp(s), then dx: at a
    summarizer's (1,000 x 8,000) scores that is a third of the general path's memory traffic.

    The rows are cut into blocks of about ROW_BLOCK scores, each run start to end while it is in cache,
    on the intra-op threads (scratchnn/_threads.py): a summarizer's (640, 4000) loss and gradient take
    7.9 ms as one block, 4.3 ms in blocks on two threads. The upstream gradient g is a scalar known
    before any loss is ('sum': dloss, 'mean': dloss / N), so each block finishes its rows of dx at once.
    """
    N, C = x.shape
    g = _reduced_grad(reduction, dloss, x.dtype, N)  # 0-d
    dx = np.empty_like(x)  # (N, C): s, then exp(s), then dx, block by block
    losses = np.empty(N, dtype=x.dtype)

    def block(lo: int, hi: int) -> None:
        buf, t = dx[lo:hi], y[lo:hi]  # (n, C), (n,)
        rows = np.arange(hi - lo)
        np.subtract(x[lo:hi], x[lo:hi].max(axis=1, keepdims=True), out=buf)  # s
        at_target = buf[rows, t]  # (n,), a copy
        row_sum = buf.sum(axis=1) if e > 0 else None  # (n, C) -> (n,)
        np.exp(buf, out=buf)
        sum_exp = buf.sum(axis=1)  # (n, C) -> (n,)
        lse = np.log(sum_exp)
        losses[lo:hi] = (1 - e) * (lse - at_target)
        if row_sum is not None:
            losses[lo:hi] += (e / C) * (C * lse - row_sum)
        buf *= (g / sum_exp)[:, None]  # (n, C): g p
        buf[rows, t] -= (1 - e) * g
        if e > 0:
            buf -= g * (e / C)

    per_block = max(1, ROW_BLOCK // C)  # rows
    run_blocks(block, [(lo, min(lo + per_block, N)) for lo in range(0, N, per_block)])
    loss, _ = _reduce(losses, reduction, dloss)  # where reductions are defined; its g is the g above
    return loss, dx


# ---------------------------------------------------------------------------------------------- margins
def _margin_loss(
    x: np.ndarray, y: np.ndarray, p: int, margin: float, w: np.ndarray | None, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample hinge losses L_n = scale * w[y_n] * sum_{j != y_n} max(0, margin + x_j - x_{y_n})^p
    and their gradient dL_n / dx[n] (row n)."""
    N = x.shape[0]
    rows = np.arange(N)
    z = x - x[rows, y][:, None] + margin  # (N, C): margin + x_j - x_y
    z[rows, y] = 0  # the target class is not in the sum
    active = z > 0
    h = np.where(active, z, 0)
    dh = active.astype(x.dtype) if p == 1 else 2 * h
    if p == 2:
        h = h * h
    row_scale = np.full(N, scale, dtype=x.dtype) if w is None else scale * w[y]  # (N,)
    losses = row_scale * h.sum(axis=1)  # (N, C) -> (N,)
    dx = row_scale[:, None] * dh
    dx[rows, y] -= dx.sum(axis=1)  # d/dx_y of (margin + x_j - x_y) is -1 for every j
    return losses, dx


@quiet
def svm_loss(x: np.ndarray, y: np.ndarray, *, dloss: Any = None) -> tuple[Loss, np.ndarray]:
    """The course's multiclass SVM loss: (1/N) sum_n sum_{j != y_n} max(0, x[n, j] - x[n, y_n] + 1).

    Backward: each positive margin adds g/N to dx[n, j] and -g/N to dx[n, y_n] (g = ``dloss``).
    It equals C * ``multi_margin_loss(x, y)`` (torch's MultiMarginLoss divides by C).

    Shape:
        x: (N, C) scores;  y: (N,) integer labels in [0, C);  loss: scalar;  dx: (N, C)

    Derivation: docs/derivations/svm.md
    """
    N, C = _check_scores(x)
    check_labels(y, "y", N, C)
    losses, dx = _margin_loss(x, y, 1, 1.0, None, 1.0)
    loss, g = _reduce(losses, "mean", dloss)
    dx *= g
    return loss, dx


@quiet
def multi_margin_loss(
    x: np.ndarray,
    y: np.ndarray,
    *,
    p: int = 1,
    margin: float = 1.0,
    weight: np.ndarray | None = None,
    reduction: str = "mean",
    dloss: Any = None,
) -> tuple[Loss, np.ndarray]:
    """Torch's ``MultiMarginLoss``: L_n = (w[y_n] / C) sum_{j != y_n} max(0, margin - x[n, y_n] + x[n, j])^p.

    The class weight multiplies after the power, as torch computes it; 'mean' divides by N.

    Backward: with z_j = margin - x[n, y_n] + x[n, j] > 0, dx[n, j] = g_n w[y_n] / C * (1 or 2 z_j)
    for p = 1 or 2, and dx[n, y_n] = -(sum of those over j != y_n).

    Shape:
        x: (N, C) scores;  y: (N,) integer labels in [0, C);  weight: (C,)
        loss: scalar, or (N,) for 'none';  dx: (N, C)

    Derivation: docs/derivations/svm.md
    """
    N, C = _check_scores(x)
    check_labels(y, "y", N, C)
    p = check_int(p, "p", low=1, high=2)
    margin = check_float(margin, "margin", finite=True)  # an infinite margin makes every loss inf
    reduction = check_choice(reduction, "reduction", REDUCTIONS)
    w = _check_class_weight(weight, C, x.dtype)
    losses, dx = _margin_loss(x, y, p, margin, w, 1.0 / C)
    loss, g = _reduce(losses, reduction, dloss)
    dx *= _per_row(g)
    return loss, dx


# ---------------------------------------------------------------------------------------------- regression
