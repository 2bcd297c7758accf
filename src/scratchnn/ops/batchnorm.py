"""Batch normalization: per-channel statistics over the batch (and any positions), torch's numerics.

One core normalizes a (N, C, S) view over N and S; ``batchnorm_forward`` is it for (N, D) and
(N, C, L) inputs, ``spatial_batchnorm_forward`` for (N, C, H, W) viewed as (N, C, H*W) (STYLE #7).
``batchnorm_backward_alt`` is the closed form that the modules use; ``batchnorm_backward`` walks the
computational graph node by node and is kept as the reference (tests hold them equal).

Derivation: docs/derivations/batchnorm.md
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._numerics import quiet
from .._validate import (
    check_array,
    check_bool,
    check_float,
    check_grad,
    check_int,
    check_same_dtype,
    invalid_shape,
    invalid_value,
)
from ._blocks import batch_blocks
from .normalization import (
    check_affine,
    check_eps,
    check_mode,
    check_param_dict,
)

BN_PARAM_KEYS = ("mode", "eps", "momentum", "running_mean", "running_var", "num_batches_tracked", "track_running_stats")


# Every pass over a conv activation costs milliseconds (a (128, 32, 28, 28) float32 array is 13 MB), so
# the per-channel sums run as BLAS matrix-vector products over the (N*C, S) rows (both cores, SIMD:
# 0.2 ms against 1.4 ms for x.sum(axis=(0, 2))) and the elementwise work is kept to the fewest passes.


def _channel_sum(a3: np.ndarray) -> np.ndarray:
    """sum over axes 0 and 2 of an (N, C, S) array: (C,)."""
    N, C, S = a3.shape
    if S < 16 or not a3.flags.c_contiguous:  # short rows (BatchNorm1d: S = 1): per-row calls would dominate
        return a3.sum(axis=(0, 2))
    rows = a3.reshape(N * C, S) @ np.ones(S, a3.dtype)  # (N*C, S) @ (S,) -> (N*C,)
    return rows.reshape(N, C).sum(axis=0)  # (N, C) -> (C,)


def _channel_dot(a3: np.ndarray, b3: np.ndarray) -> np.ndarray:
    """sum over axes 0 and 2 of a3 * b3, without forming the product: (C,)."""
    N, C, S = a3.shape
    if S < 16 or not (a3.flags.c_contiguous and b3.flags.c_contiguous):
        return (a3 * b3).sum(axis=(0, 2))
    rows = np.vecdot(a3.reshape(N * C, S), b3.reshape(N * C, S))  # (N*C,): one dot product per row
    return rows.reshape(N, C).sum(axis=0)  # (N, C) -> (C,)


def _batchnorm_forward(x: np.ndarray, gamma: Any, beta: Any, bn_param: Any) -> tuple[np.ndarray, Any]:
    """The core on any (N, C, *) input, viewed as (N, C, S)."""
    bn_param = check_param_dict(bn_param, "bn_param", BN_PARAM_KEYS, writable=True)
    mode = check_mode(bn_param.get("mode"), "bn_param")
    eps = check_eps(bn_param.get("eps", 1e-5))
    momentum = bn_param.get("momentum", 0.1)
    if momentum is not None:
        momentum = check_float(momentum, "momentum", low=0.0, high=1.0)
    track = check_bool(bn_param.get("track_running_stats", True), "bn_param['track_running_stats']")
    N, C = x.shape[:2]
    x3 = x.reshape(N, C, math.prod(x.shape[2:]))  # (N, C, *) -> (N, C, S), a view
    m = N * x3.shape[2]  # values per channel
    gamma = check_affine(gamma, "gamma", ((C,),), x)
    beta = check_affine(beta, "beta", ((C,),), x)
    running_mean: Any = bn_param.get("running_mean", np.zeros(C, dtype=x.dtype)) if track else None
    running_var: Any = bn_param.get("running_var", np.ones(C, dtype=x.dtype)) if track else None
    for name, r in (("running_mean", running_mean), ("running_var", running_var)) if track else ():
        if check_array(r, f"bn_param['{name}']").shape != (C,):  # also an explicit None, once an AttributeError
            raise invalid_shape(f"bn_param['{name}']", f"({C},), one value per channel", r.shape)
        check_same_dtype(r, f"bn_param['{name}']", x)

    batch_stats = mode == "train" or not track  # torch: no running stats means batch stats in eval too
    if batch_stats:
        if m <= 1:
            raise invalid_shape("x", "more than one value per channel to compute batch statistics", x.shape)
        mean = (_channel_sum(x3) / m).reshape(1, C, 1)  # (C,) -> (1, C, 1)
        xhat = np.empty_like(x3)  # (N, C, S): centred, then normalized in place below
        sq = np.zeros(C, dtype=x.dtype)
        for b in batch_blocks(x3):  # each block's squares are summed while it is still in cache
            np.subtract(x3[b], mean, out=xhat[b])
            sq += _channel_dot(xhat[b], xhat[b])
        var = (sq / m).reshape(1, C, 1)  # biased: the normalizing variance
        inv_std = 1 / np.sqrt(var + eps)
    else:
        if (running_var < 0).any():  # C values, fewer than the sqrt below reads: a corrupt state, not NaN outputs
            raise invalid_value("bn_param['running_var']", "non-negative variances", running_var)
        inv_std = (1 / np.sqrt(running_var + eps)).reshape(1, C, 1)
        xhat = x3 - running_mean.reshape(1, C, 1)
    if mode == "train" and track:
        # torch's convention: momentum weights the NEW batch; None means the cumulative average 1/n.
        # var is biased in the forward pass, unbiased (m / (m - 1)) in running_var, as in torch.
        n = check_int(bn_param.get("num_batches_tracked", 0), "bn_param['num_batches_tracked']", low=0) + 1
        f = 1.0 / n if momentum is None else momentum
        bn_param["running_mean"] = (1 - f) * running_mean + f * mean.reshape(C)
        bn_param["running_var"] = (1 - f) * running_var + f * (var.reshape(C) * (m / (m - 1)))
        bn_param["num_batches_tracked"] = n

    out = np.empty_like(xhat)  # never the cached xhat itself
    g = None if gamma is None else gamma.reshape(1, C, 1)
    bias = None if beta is None else beta.reshape(1, C, 1)
    for b in batch_blocks(xhat):  # the chain of three ops finds each block in cache after the first
        xhat[b] *= inv_std
        if g is not None:
            np.multiply(xhat[b], g, out=out[b])
        else:
            out[b] = xhat[b]
        if bias is not None:
            out[b] += bias
    cache = (xhat, inv_std, gamma, beta is not None, batch_stats, x.shape)
    return out.reshape(x.shape), cache  # (N, C, S) -> x's shape


@quiet
def batchnorm_forward(x: np.ndarray, gamma: Any, beta: Any, bn_param: Any) -> tuple[np.ndarray, Any]:
    """out = gamma * (x - mean) / sqrt(var + eps) + beta, per feature, with batch or running statistics.

    ``bn_param`` (the course's dict):
        mode: 'train' (batch statistics, running statistics updated) or 'test' (running statistics).
        eps: default 1e-5.
        momentum: default 0.1, torch's meaning: running = (1 - momentum) * running + momentum * batch.
            The course's momentum (default 0.9) is the weight of the OLD value, the opposite.
            None: a cumulative moving average, momentum = 1 / num_batches_tracked.
        running_mean, running_var: (D,); absent means zeros and ones (torch's init; the course starts
            running_var at zeros).
        num_batches_tracked: int, default 0.  track_running_stats: default True; False means batch
            statistics in both modes and no running statistics (torch).
    The one side effect, as in the course: in train mode the updated running_mean, running_var and
    num_batches_tracked are stored into ``bn_param`` as NEW values; the arrays passed in are untouched.
    The batch variance is biased in the normalization and unbiased (times m / (m - 1)) in running_var.

    Backward (closed form, :func:`batchnorm_backward_alt`), with m = N (* L), xhat the normalized x:
        dxhat = dout * gamma
        dx = (1 / sqrt(var + eps)) * (dxhat - mean_m(dxhat) - xhat * mean_m(dxhat * xhat))
        dgamma = sum_m(dout * xhat);  dbeta = sum_m(dout)
    In test mode the statistics are constants: dx = dout * gamma / sqrt(running_var + eps).
    ``gamma`` / ``beta`` may be None (no affine map); their gradients are then None.

    Shape:
        x, out: (N, D), or (N, C, L) normalized per channel over N and L;  gamma, beta: (D,) / (C,)

    Derivation: docs/derivations/batchnorm.md
    """
    check_array(x, "x", ndim=(2, 3))
    return _batchnorm_forward(x, gamma, beta, bn_param)


@quiet
def batchnorm_backward_alt(dout: np.ndarray, cache: Any, *, need_dx: bool = True) -> tuple[Any, Any, Any]:
    """Gradients of :func:`batchnorm_forward` in the closed form: (dx, dgamma, dbeta). The one the modules use.

    With dxhat = gamma * dout, the two means of the closed form are gamma * dbeta / m and
    gamma * dgamma / m, so one pass over the data gives each sum and

        dx = gamma * inv_std * (dout - dbeta / m - xhat * dgamma / m)

    takes four passes, one of them allocating (the textbook order takes ten, six allocating).
    ``need_dx=False`` returns None for dx and skips those passes (a first layer whose input is data).
    """
    xhat, inv_std, gamma, has_beta, batch_stats, x_shape = cache
    check_grad(dout, "dout", x_shape, xhat.dtype)
    N, C = x_shape[:2]
    dout3 = dout.reshape(N, C, math.prod(x_shape[2:]))  # x's shape -> (N, C, S)
    m = N * dout3.shape[2]
    sum_dout = _channel_sum(dout3) if has_beta or (batch_stats and need_dx) else None  # (C,)
    sum_dout_xhat = _channel_dot(dout3, xhat) if gamma is not None or (batch_stats and need_dx) else None  # (C,)
    dbeta = sum_dout if has_beta else None
    dgamma = sum_dout_xhat if gamma is not None else None
    if not need_dx:
        return None, dgamma, dbeta
    scale = inv_std if gamma is None else gamma.reshape(1, C, 1) * inv_std  # (1, C, 1): d out / d x at fixed stats
    if batch_stats:
        assert sum_dout is not None and sum_dout_xhat is not None
        a, c = (-sum_dout_xhat / m).reshape(1, C, 1), (sum_dout / m).reshape(1, C, 1)
        dx = np.empty_like(xhat)  # (N, C, S)
        for b in batch_blocks(dx):  # four ops per cache-sized block: one trip to memory
            np.multiply(xhat[b], a, out=dx[b])
            dx[b] -= c
            dx[b] += dout3[b]
            dx[b] *= scale
    else:
        dx = dout3 * scale  # the statistics are constants
    return dx.reshape(x_shape), dgamma, dbeta  # (N, C, S) -> x's shape


@quiet
def batchnorm_backward(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, Any, Any]:
    """Gradients of :func:`batchnorm_forward` by walking the computational graph (the reference).

    Graph: mu = mean(x); xc = x - mu; var = mean(xc^2); std = sqrt(var + eps); istd = 1 / std;
    xhat = xc * istd; out = gamma * xhat + beta. Each node's gradient is its local derivative times
    the gradient of the nodes it feeds. The node values xc and std are re-formed from the cached
    xhat and istd (the closed form, which the modules use, needs only those two).
    """
    xhat, inv_std, gamma, has_beta, batch_stats, x_shape = cache
    check_grad(dout, "dout", x_shape, xhat.dtype)
    N, C = x_shape[:2]
    dout3 = dout.reshape(N, C, math.prod(x_shape[2:]))  # x's shape -> (N, C, S)
    m = N * dout3.shape[2]
    dbeta = dout3.sum(axis=(0, 2)) if has_beta else None
    dgamma = (dout3 * xhat).sum(axis=(0, 2)) if gamma is not None else None
    dxhat = dout3 * gamma.reshape(1, C, 1) if gamma is not None else dout3
    if not batch_stats:  # mu and std are constants (running statistics)
        return (dxhat * inv_std).reshape(x_shape), dgamma, dbeta
    std = 1 / inv_std  # (1, C, 1)
    xc = xhat * std
    distd = (dxhat * xc).sum(axis=(0, 2), keepdims=True)  # xhat = xc * istd
    dxc = dxhat * inv_std
    dstd = -distd / (std * std)  # istd = 1 / std
    dvar = dstd * 0.5 * inv_std  # std = sqrt(var + eps): d std / d var = 1 / (2 std)
    dxc += (2 / m) * xc * dvar  # var = mean(xc^2)
    dmu = -dxc.sum(axis=(0, 2), keepdims=True)  # xc = x - mu
    dx = dxc + dmu / m  # mu = mean(x)
    return dx.reshape(x_shape), dgamma, dbeta  # (N, C, S) -> x's shape


@quiet
def spatial_batchnorm_forward(x: np.ndarray, gamma: Any, beta: Any, bn_param: Any) -> tuple[np.ndarray, Any]:
    """BatchNorm per channel over (N, H, W): :func:`batchnorm_forward` on the (N, C, H*W) view.

    One mean, one variance and one pair of running statistics per channel (the course's version
    transposed to (N*H*W, C) for the same per-channel statistics; its known bug was normalizing per
    pixel). ``bn_param``, the formulas and the side effect are those of :func:`batchnorm_forward`
    with m = N * H * W values per channel.

    Shape:
        x, out: (N, C, H, W);  gamma, beta: (C,);  running_mean, running_var: (C,)

    Derivation: docs/derivations/batchnorm.md#spatial-batchnorm
    """
    check_array(x, "x", ndim=4)
    return _batchnorm_forward(x, gamma, beta, bn_param)


@quiet
def spatial_batchnorm_backward(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, Any, Any]:
    """Gradients of :func:`spatial_batchnorm_forward`: (dx, dgamma, dbeta), the closed form."""
    return batchnorm_backward_alt(dout, cache)
