"""Layer normalization: each sample standardized over its last dimensions, the same in train and test.

The core of BatchNorm with the roles of the axes swapped: x is viewed as (M, K), K the product of
the normalized dimensions, and each row is standardized over its K values. No running statistics.

Derivation: docs/derivations/layernorm.md
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._numerics import quiet
from .._validate import check_array, check_grad, invalid_shape, invalid_type
from .normalization import check_affine, check_eps, check_param_dict, standardize, standardize_backward

# 'mode' is accepted and ignored: the course's network sets it on every normalization's param dict
LN_PARAM_KEYS = ("eps", "normalized_shape", "mode")


def _normalized_shape(x: np.ndarray, gamma: Any, beta: Any, ln_param: Any) -> tuple[int, ...]:
    if "normalized_shape" in ln_param:
        shape = ln_param["normalized_shape"]
        if isinstance(shape, (int, np.integer)):
            shape = (shape,)
        if not isinstance(shape, tuple) or not all(isinstance(s, (int, np.integer)) for s in shape):
            raise invalid_type("ln_param['normalized_shape']", "an int or a tuple of ints", shape)
        shape = tuple(int(s) for s in shape)
    else:  # the shape of the affine parameters, or the last axis (the course's (N, D))
        given = gamma if gamma is not None else beta
        shape = tuple(given.shape) if isinstance(given, np.ndarray) else tuple(x.shape[-1:])
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k :]) != shape:
        raise invalid_shape("x", f"(*, {', '.join(map(str, shape))}) to match normalized_shape", x.shape)
    if 0 in shape:  # no values to standardize (a reshape to (M, 0) cannot even infer M)
        raise invalid_shape("x", "normalized dimensions of size >= 1", x.shape)
    return shape


@quiet
def layernorm_forward(x: np.ndarray, gamma: Any, beta: Any, ln_param: Any) -> tuple[np.ndarray, Any]:
    """out = gamma * (x - mean) / sqrt(var + eps) + beta, mean and (biased) var over each sample's features.

    The normalized dimensions are the last ones: ``ln_param['normalized_shape']`` if given, else
    gamma's (or beta's) shape, else the last axis (the course's (N, D)). ``ln_param``: eps (default
    1e-5), normalized_shape; a 'mode' key is accepted and ignored (train and test are the same).
    ``gamma`` / ``beta`` may be None (torch's elementwise_affine=False / bias=False).

    Backward, with K the number of normalized values per sample, means over those K values:
        dxhat = dout * gamma
        dx = (1 / sqrt(var + eps)) * (dxhat - mean_K(dxhat) - xhat * mean_K(dxhat * xhat))
        dgamma = sum over samples of dout * xhat;  dbeta = sum over samples of dout

    Shape:
        x, out: (*, *normalized_shape), the course's (N, D);  gamma, beta: normalized_shape

    Derivation: docs/derivations/layernorm.md
    """
    check_array(x, "x")
    ln_param = check_param_dict(ln_param, "ln_param", LN_PARAM_KEYS)
    eps = check_eps(ln_param.get("eps", 1e-5))
    shape = _normalized_shape(x, gamma, beta, ln_param)
    gamma = check_affine(gamma, "gamma", (shape,), x)
    beta = check_affine(beta, "beta", (shape,), x)
    K = int(np.prod(shape))
    x2 = x.reshape(-1, K)  # (*, *normalized_shape) -> (M, K)
    xhat, inv_std, _, _ = standardize(x2, eps)  # stats: (M, 1)
    out = xhat * gamma.reshape(1, K) if gamma is not None else xhat.copy()
    if beta is not None:
        out += beta.reshape(1, K)
    cache = (xhat, inv_std, gamma, None if beta is None else beta.shape, x.shape)
    return out.reshape(x.shape), cache  # (M, K) -> x's shape


@quiet
def layernorm_backward(dout: np.ndarray, cache: Any, *, need_dx: bool = True) -> tuple[Any, Any, Any]:
    """Gradients of :func:`layernorm_forward`: (dx, dgamma, dbeta), None for an absent gamma / beta.

    ``need_dx=False`` returns None for dx and skips its passes (a first layer whose input is data).
    """
    xhat, inv_std, gamma, beta_shape, x_shape = cache
    check_grad(dout, "dout", x_shape, xhat.dtype)
    K = xhat.shape[1]
    dout2 = dout.reshape(-1, K)  # x's shape -> (M, K)
    # column sums as einsum's: the same row-by-row sums as .sum(axis=0), without the (M, K) product array
    dbeta = np.einsum("mk->k", dout2).reshape(beta_shape) if beta_shape is not None else None
    dgamma = np.einsum("mk,mk->k", dout2, xhat).reshape(gamma.shape) if gamma is not None else None
    if not need_dx:
        return None, dgamma, dbeta
    dxhat = dout2 * gamma.reshape(1, K) if gamma is not None else dout2
    dx = standardize_backward(dxhat, xhat, inv_std)
    return dx.reshape(x_shape), dgamma, dbeta  # (M, K) -> x's shape
