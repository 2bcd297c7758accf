"""What every normalization shares: standardize over some axes, then a per-feature affine map.

BatchNorm, LayerNorm and GroupNorm differ only in the view they standardize and the axes they
average over (STYLE #7): BatchNorm averages a (N, C, S) view over N and S, LayerNorm a (M, K) view
over K, GroupNorm a (N, G, K) view over K. These private helpers are that common core; the public
course-named pairs live in batchnorm.py, layernorm.py and groupnorm.py.

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

Axes = tuple[int, ...]


def standardize(x: np.ndarray, axes: Axes, eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """xhat = (x - mean) / sqrt(var + eps) over ``axes``; returns (xhat, inv_std, mean, var), stats with kept dims.

    ``var`` is the biased variance (divided by the count m), the one the forward normalizes with.
    An empty x (no samples, or groups of no values) standardizes to an empty xhat, as in torch.
    """
    if x.size == 0:  # x.mean over an empty axis would warn "Mean of empty slice" and give NaN statistics
        stats = np.zeros([1 if i in axes else n for i, n in enumerate(x.shape)], dtype=x.dtype)
        return x.copy(), stats + 1, stats, stats
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    var = (xc * xc).mean(axis=axes, keepdims=True)
    inv_std = 1 / np.sqrt(var + eps)
    return xc * inv_std, inv_std, mean, var


def standardize_backward(dxhat: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray, axes: Axes) -> np.ndarray:
    """The closed form: dx = inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), means over ``axes``."""
    if dxhat.size == 0:
        return dxhat.copy()
    mean_dxhat = dxhat.mean(axis=axes, keepdims=True)
    mean_dxhat_xhat = (dxhat * xhat).mean(axis=axes, keepdims=True)
    return inv_std * (dxhat - mean_dxhat - xhat * mean_dxhat_xhat)


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
