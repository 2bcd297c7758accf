"""Gradient clipping, as ``torch.nn.utils``: ``clip_grad_norm_``, ``clip_grad_value_`` and their parts.

Both act in place on ``Param.grad`` between ``backward()`` and ``optimizer.step()``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..._validate import check_float, invalid_type
from ..parameter import Param

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _params(parameters: Param | Iterable[Param]) -> list[Param]:
    params = [parameters] if isinstance(parameters, Param) else list(parameters)
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
    """||x||_p of the flattened array, computed in its dtype (as torch's ``vector_norm``)."""
    x = x.reshape(-1)
    if x.size == 0:
        return 0.0
    if p == math.inf:
        return float(np.max(np.abs(x)))
    if p == 1:
        return float(np.sum(np.abs(x)))
    if p == 2:
        return float(np.sqrt(np.dot(x, x)))
    return float(np.sum(np.abs(x) ** p) ** (1 / p))


def get_total_norm(
    tensors: Iterable[np.ndarray], norm_type: float | str = 2.0, error_if_nonfinite: bool = False
) -> float:
    """The p-norm of all arrays together, as if concatenated into one vector.

    total = || (||g_1||_p, ..., ||g_k||_p) ||_p        (max |g| for p = inf)
    """
    p = _norm_type(norm_type)
    norms = np.array([_vector_norm(np.asarray(t), p) for t in tensors], dtype=np.float64)  # (k,)
    total = _vector_norm(norms, p)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {p} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return total


def clip_grads_with_norm_(parameters: Param | Iterable[Param], max_norm: float, total_norm: float) -> None:
    """Scale every ``.grad`` by min(max_norm / (total_norm + 1e-6), 1), in place."""
    max_norm = check_float(max_norm, "max_norm", low=0)
    clip_coef = min(max_norm / (float(total_norm) + 1e-6), 1.0)  # a Python float: float32 grads stay float32
    for p in _params(parameters):
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
