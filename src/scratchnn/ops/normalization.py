"""What every normalization shares: standardize over some axes, then a per-feature affine map.

BatchNorm, LayerNorm and GroupNorm differ only in the view they standardize and the axes they
average over (STYLE #7): BatchNorm averages a (N, C, S) view over N and S, LayerNorm a (M, K) view
over K, GroupNorm a (N, G, K) view over K. LayerNorm and GroupNorm share :func:`standardize` (over the
last axis) and its backward; the public course-named pairs live in batchnorm.py, layernorm.py and
groupnorm.py.

Derivation of the closed-form backward: docs/derivations/batchnorm.md#closed-form
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

import numpy as np

from .._validate import (
    check_array,
    check_choice,
    check_float,
    check_same_dtype,
    invalid_shape,
    invalid_type,
    invalid_value,
)

# Rows up to this long are summed by np.einsum, longer ones by NumPy's pairwise .sum. On LayerNorm's rows of
# 128 float32 values einsum is 3.5x faster (22 vs 78 us for 1536 rows: .sum pays its pairwise cascade's
# set-up per row); measured against a float64 sum, its error equals .sum's up to rows of a few thousand
# values and is 10x larger at 25,000 (a GroupNorm group of whole images), where .sum's cost per row is small.
EINSUM_ROWS = 4096


def _row_means(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """mean over the last axis of a, or of a * b. Shape: (..., K) -> (..., 1)."""
    K = a.shape[-1]
    if K <= EINSUM_ROWS:
        sums = np.einsum("...k->...", a) if b is None else np.einsum("...k,...k->...", a, b)
    else:
        sums = (a if b is None else a * b).sum(axis=-1)
    return (sums / K)[..., None]


def standardize(x: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """xhat = (x - mean) / sqrt(var + eps) over the last axis; returns (xhat, inv_std, mean, var), stats (..., 1).

    ``var`` is the biased variance (divided by the count K), the one the forward normalizes with.
    An empty x (no samples, or groups of no values) standardizes to an empty xhat, as in torch.

    Shape: x, xhat (..., K);  inv_std, mean, var (..., 1)
    """
    if x.size == 0:  # a mean over an empty axis would warn "Mean of empty slice" and give NaN statistics
        stats = np.zeros((*x.shape[:-1], 1), dtype=x.dtype)
        return x.copy(), stats + 1, stats, stats
    mean = _row_means(x)
    xhat = x - mean  # centred for now, standardized in place below: every fresh array is pages to fault in
    var = _row_means(xhat, xhat)
    inv_std = 1 / np.sqrt(var + eps)
    xhat *= inv_std
    return xhat, inv_std, mean, var


def standardize_backward(dxhat: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray) -> np.ndarray:
    """The closed form: dx = inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), means over the last axis.

    Shape: dxhat, xhat, dx (..., K);  inv_std (..., 1)
    """
    if dxhat.size == 0:
        return dxhat.copy()
    mean_dxhat = _row_means(dxhat)
    mean_dxhat_xhat = _row_means(dxhat, xhat)
    dx = dxhat - mean_dxhat  # then in place, in the formula's order: two arrays where the one-liner makes four
    dx -= xhat * mean_dxhat_xhat
    dx *= inv_std
    return dx


def reduce_except(a: np.ndarray, axis: int) -> np.ndarray:
    """Sum over every axis but ``axis``: the gradient of a parameter broadcast along the others."""
    return a.sum(axis=tuple(i for i in range(a.ndim) if i != axis))


def check_param_dict(param: Any, name: str, allowed: tuple[str, ...], *, writable: bool = False) -> Mapping[str, Any]:
    """The course's ``bn_param`` / ``ln_param`` / ``gn_param`` / ``dropout_param``: a dict with known keys only.

    Unknown keys are an error: a course ``bn_param`` with ``momentum=0.9`` means the opposite here,
    and a misspelt key would otherwise be silently ignored.
    """
    kind = MutableMapping if writable else Mapping
    if not isinstance(param, kind):
        raise invalid_type(name, "a dict", param)
    unknown = [k for k in param if k not in allowed]
    if unknown:
        raise invalid_value(name, "keys among " + ", ".join(repr(k) for k in allowed), unknown[0])
    return param


def check_eps(eps: Any) -> float:
    return check_float(eps, "eps", low=0.0, low_open=True)


def check_affine(a: Any, name: str, shapes: tuple[tuple[int, ...], ...], x: np.ndarray) -> np.ndarray | None:
    """``gamma`` / ``beta``: None (no affine) or a float array of one of ``shapes`` with x's dtype."""
    if a is None:
        return None
    check_array(a, name)
    if a.shape not in shapes:
        raise invalid_shape(name, " or ".join(str(s) for s in shapes), a.shape)
    check_same_dtype(a, name, x)
    return a


def check_mode(mode: Any, name: str) -> str:
    return str(check_choice(mode, f"{name}['mode']", ("train", "test")))
