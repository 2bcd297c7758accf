"""Group normalization: each sample's channels split into G groups, each group standardized on its own.

LayerNorm over a reshaped view (STYLE #7): x (N, C, *) is viewed as (N, G, K) with K = (C / G) * S
values per group, standardized over K, then viewed as (N, C, S) for the per-channel affine map.
G = 1 is LayerNorm over (C, *) with per-channel parameters; G = C is InstanceNorm.

Derivation: docs/derivations/groupnorm.md
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._numerics import quiet
from .._validate import check_array, check_grad, check_int, invalid_value
from .normalization import check_affine, check_eps, check_param_dict, reduce_except, standardize, standardize_backward

# 'mode' is accepted and ignored: the course's network sets it on every normalization's param dict
GN_PARAM_KEYS = ("eps", "mode")


@quiet
def spatial_groupnorm_forward(x: np.ndarray, gamma: Any, beta: Any, G: int, gn_param: Any) -> tuple[np.ndarray, Any]:
    """out = gamma_c * (x - mean_g) / sqrt(var_g + eps) + beta_c, statistics per sample and group of channels.

    Channel c belongs to group c // (C / G); mean_g and (biased) var_g run over the group's K = (C / G) * H * W
    values of one sample, so train and test are the same. ``gn_param``: eps (default 1e-5); a 'mode'
    key is accepted and ignored. ``gamma`` / ``beta`` are (C,) (torch) or (1, C, 1, 1) (the course), or
    None (torch's affine=False); their gradients come back in the same shape.

    Backward, means over each group's K values:
        dxhat = dout * gamma
        dx = (1 / sqrt(var_g + eps)) * (dxhat - mean_K(dxhat) - xhat * mean_K(dxhat * xhat))
        dgamma_c = sum over (N, H, W) of dout * xhat;  dbeta_c = sum over (N, H, W) of dout

    Shape:
        x, out: (N, C, H, W), or any (N, C, *);  gamma, beta: (C,) or (1, C, 1, 1)

    Derivation: docs/derivations/groupnorm.md
    """
    check_array(x, "x")
    if x.ndim < 2:
        raise ValueError(f"Invalid shape for `x`: expected (N, C, *). Received: x.shape={x.shape}")
    gn_param = check_param_dict(gn_param, "gn_param", GN_PARAM_KEYS)
    eps = check_eps(gn_param.get("eps", 1e-5))
    N, C = x.shape[:2]
    G = check_int(G, "G", low=1)
    if C % G:
        raise invalid_value("G", f"a divisor of the number of channels C={C}", G)
    shapes = ((C,), (1, C) + (1,) * (x.ndim - 2))
    gamma = check_affine(gamma, "gamma", shapes, x)
    beta = check_affine(beta, "beta", shapes, x)
    S = math.prod(x.shape[2:])  # sizes written out: -1 cannot be inferred for an empty batch
    xg = x.reshape(N, G, (C // G) * S)  # (N, C, *) -> (N, G, K)
    xhat, inv_std, _, _ = standardize(xg, eps)  # stats: (N, G, 1)
    xhat_c = xhat.reshape(N, C, S)  # (N, G, K) -> (N, C, S)
    out = xhat_c * gamma.reshape(1, C, 1) if gamma is not None else xhat_c.copy()
    if beta is not None:
        out += beta.reshape(1, C, 1)
    cache = (xhat, inv_std, gamma, None if beta is None else beta.shape, x.shape)
    return out.reshape(x.shape), cache  # (N, C, S) -> x's shape


@quiet
def spatial_groupnorm_backward(dout: np.ndarray, cache: Any, *, need_dx: bool = True) -> tuple[Any, Any, Any]:
    """Gradients of :func:`spatial_groupnorm_forward`: (dx, dgamma, dbeta), each in its argument's shape.

    ``need_dx=False`` returns None for dx and skips its passes (a first layer whose input is data).
    """
    xhat, inv_std, gamma, beta_shape, x_shape = cache
    check_grad(dout, "dout", x_shape, xhat.dtype)
    N, G = xhat.shape[:2]
    C = x_shape[1]
    dout_c = dout.reshape(N, C, math.prod(x_shape[2:]))  # x's shape -> (N, C, S)
    dbeta = dout_c.sum(axis=(0, 2)).reshape(beta_shape) if beta_shape is not None else None
    dgamma = reduce_except(dout_c * xhat.reshape(dout_c.shape), 1).reshape(gamma.shape) if gamma is not None else None
    if not need_dx:
        return None, dgamma, dbeta
    dxhat = dout_c * gamma.reshape(1, C, 1) if gamma is not None else dout_c
    dx = standardize_backward(dxhat.reshape(xhat.shape), xhat, inv_std)  # (N, C, S) -> (N, G, K)
    return dx.reshape(x_shape), dgamma, dbeta  # (N, G, K) -> x's shape
