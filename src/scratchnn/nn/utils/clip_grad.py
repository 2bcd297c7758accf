"""Gradient clipping, as ``torch.nn.utils``: ``clip_grad_norm_``, ``clip_grad_value_`` and their parts.

Both act in place on ``Param.grad`` between ``backward()`` and ``optimizer.step()``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..._numerics import quiet_fp
from ..._validate import check_array, check_bool, check_float, check_iterable, invalid_type, invalid_value
from ..parameter import Param

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _params(parameters: Param | Iterable[Param]) -> list[Param]:
    expected = "a Param or an iterable of Params"
    params = [parameters] if isinstance(parameters, Param) else check_iterable(parameters, "parameters", expected)
    for p in params:
        if not isinstance(p, Param):
            raise invalid_type("parameters", "a Param or an iterable of Params", p)
    return params


def _norm_type(norm_type: Any) -> float:
    if isinstance(norm_type, str):  # torch accepts 'inf'
        try:
            norm_type = float(norm_type)
        except ValueError:
            raise invalid_type("norm_type", "a float > 0 or inf", norm_type) from None
    return check_float(norm_type, "norm_type", low=0, low_open=True)


def _vector_norm(x: np.ndarray, p: float) -> float:
    """||x||_p of the flattened array, computed in its dtype (as torch's ``vector_norm``) for p = 1, 2 and inf.

    Other orders, and a 2-norm whose sum of squares overflows, use ||x||_p = m ||x / m||_p with
    m = max |x|, so that |x|^p neither overflows nor underflows: an order of 1e300 is the maximum,
    not inf, and a float32 gradient of 1e20 (1e-30) has the 2-norm 1e20 (1e-30), not inf (0). inf or NaN entries give
    inf or NaN, without NumPy's warnings.
    """
    x = x.reshape(-1)
    if x.size == 0:
        return 0.0
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):  # overflow and underflow are handled here
        if p == math.inf:
            return float(np.max(np.abs(x)))
        if p == 1:
            return float(np.sum(np.abs(x)))
        if p == 2:
            norm = float(np.sqrt(np.dot(x, x)))
            if 0 < norm < math.inf:
                return norm  # else the squares may have overflowed, or underflowed (1e-30 in float32)
        m = float(np.max(np.abs(x)))
        if m == 0 or not math.isfinite(m):
            return m
        total = float(np.sum((np.abs(x.astype(np.float64)) / m) ** p))  # in [1, x.size]
        log = math.log(total) / p
        return m * math.exp(log) if log < 700 else math.inf


def get_total_norm(
    tensors: Iterable[np.ndarray], norm_type: float | str = 2.0, error_if_nonfinite: bool = False
) -> float:
    """The p-norm of all arrays together, as if concatenated into one vector.

    total = || (||g_1||_p, ..., ||g_k||_p) ||_p        (max |g| for p = inf)
    """
    p = _norm_type(norm_type)
    error_if_nonfinite = check_bool(error_if_nonfinite, "error_if_nonfinite")
    arrays = check_iterable(tensors, "tensors", "an iterable of float32 or float64 numpy.ndarrays (the gradients)")
    norms = np.array([_vector_norm(check_array(t, "tensors[i]"), p) for t in arrays], dtype=np.float64)  # (k,)
    total = _vector_norm(norms, p)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {p} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return total


def clip_grads_with_norm_(parameters: Param | Iterable[Param], max_norm: float, total_norm: float) -> None:
    """Scale every ``.grad`` by min(max_norm / (total_norm + 1e-6), 1), in place.

    A NaN ``total_norm`` (from NaN gradients) makes the gradients NaN and an infinite one zeros (NaN
    where they are inf), as in torch; a negative one is an error.
    """
    max_norm = check_float(max_norm, "max_norm", low=0)
    if isinstance(total_norm, bool) or not isinstance(total_norm, numbers.Real):
        raise invalid_type("total_norm", "a float >= 0 (a norm, NaN allowed)", total_norm)
    if total_norm < 0:
        raise invalid_value("total_norm", "a float >= 0 (a norm, NaN allowed)", total_norm)
    params = _params(parameters)
    with quiet_fp():  # inf / inf or inf * 0 from inf gradients: NaN, as in torch
        clip_coef = min(max_norm / (float(total_norm) + 1e-6), 1.0)  # a Python float: float32 grads stay float32
        if math.isnan(total_norm):
            clip_coef = math.nan
        for p in params:
            p.grad *= clip_coef


def clip_grad_norm_(
    parameters: Param | Iterable[Param], max_norm: float, norm_type: float | str = 2.0, error_if_nonfinite: bool = False
) -> float:
    """Rescale the gradients so that their total ``norm_type``-norm is at most ``max_norm``; return that norm.

        total = ||(g_1, ..., g_k)||_p;   g_i *= min(max_norm / (total + 1e-6), 1)

    As ``torch.nn.utils.clip_grad_norm_`` (p may be ``inf``: the largest |g|), except that the
    total norm (before clipping) is returned as a Python float rather than a tensor. With
    ``error_if_nonfinite`` a NaN or infinite total raises ``RuntimeError``.
    """
    params = _params(parameters)
    max_norm = check_float(max_norm, "max_norm", low=0)
    _norm_type(norm_type)
    check_bool(error_if_nonfinite, "error_if_nonfinite")
    if not params:
        return 0.0
    total = get_total_norm([p.grad for p in params], norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_value_(parameters: Param | Iterable[Param], clip_value: float) -> None:
    """Clamp every gradient entry into [-clip_value, clip_value], in place (``torch.nn.utils.clip_grad_value_``)."""
    clip_value = check_float(clip_value, "clip_value", low=0)
    for p in _params(parameters):
        np.clip(p.grad, -clip_value, clip_value, out=p.grad)
