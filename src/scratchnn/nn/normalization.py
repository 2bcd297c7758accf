"""Normalization modules mirroring ``torch.nn``: BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm.

Thin shells around :mod:`scratchnn.ops.batchnorm`, :mod:`~scratchnn.ops.layernorm` and
:mod:`~scratchnn.ops.groupnorm`, with torch's constructor arguments, defaults, parameter names
(``weight``, ``bias``) and buffer names (``running_mean``, ``running_var``, ``num_batches_tracked``),
so state dicts interchange with torch's. The running statistics are the module's buffers: a forward
pass in training mode updates them IN PLACE (torch does the same), the one state a forward changes.
The input has the parameters' dtype (docs/dtypes.md). An empty batch gives an empty output and zero
gradients, except for BatchNorm's batch statistics, which need more than one value per channel: an
error there, as for one value (differs from torch, which returns it and counts it in num_batches_tracked).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._config import get_default_dtype
from .._validate import (
    check_array,
    check_bool,
    check_dtype_matches,
    check_float,
    check_float_dtype,
    check_int,
    invalid_shape,
    invalid_type,
    invalid_value,
)
from ..ops.batchnorm import batchnorm_backward_alt, batchnorm_forward, spatial_batchnorm_forward
from ..ops.groupnorm import spatial_groupnorm_backward, spatial_groupnorm_forward
from ..ops.layernorm import layernorm_backward, layernorm_forward
from .module import Module
from .parameter import Param, new_array


def _dtype_of(module: Module, *names: str) -> np.dtype[Any] | None:
    """The dtype of the first parameter or buffer among ``names`` that exists (None: nothing to match)."""
    for name in names:
        a = getattr(module, name, None)
        if a is not None:
            return np.dtype(a.dtype)
    return None


class _Norm(Module):
    """What the normalization modules share: an optional affine ``weight`` / ``bias`` handed to the op
    as arrays, and the op's (dgamma, dbeta) accumulated back into them."""

    weight: Param | None
    bias: Param | None

    def _affine(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        return (None if self.weight is None else self.weight.data, None if self.bias is None else self.bias.data)

    def _accumulate(self, dgamma: Any, dbeta: Any) -> None:
        if self.weight is not None:
            self.weight.accumulate_grad(dgamma)
        if self.bias is not None:
            self.bias.accumulate_grad(dbeta)


class _BatchNorm(_Norm):
    """BatchNorm's shared body; the subclasses fix the input ranks (``_ranks``) and the op."""

    _ranks: tuple[int, ...] = ()
    _layout = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_features = check_int(num_features, "num_features", low=1)
        self.eps = check_float(eps, "eps", low=0.0, low_open=True)
        self.momentum = None if momentum is None else check_float(momentum, "momentum", low=0.0, high=1.0)
        self.affine = check_bool(affine, "affine")
        self.track_running_stats = check_bool(track_running_stats, "track_running_stats")
        bias = check_bool(bias, "bias")
        dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
        C, sizes = self.num_features, {"num_features": num_features}
        self.weight = Param(new_array((C,), dt, sizes, 1.0)) if affine else None
        self.bias = Param(new_array((C,), dt, sizes, 0.0)) if affine and bias else None
        track = self.track_running_stats
        self.register_buffer("running_mean", new_array((C,), dt, sizes, 0.0) if track else None)
        self.register_buffer("running_var", new_array((C,), dt, sizes, 1.0) if track else None)
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64) if track else None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def forward(self, input: np.ndarray) -> np.ndarray:
        check_array(input, "input")
        if input.ndim not in self._ranks or input.shape[1] != self.num_features:
            raise invalid_shape("input", self._layout.format(C=self.num_features), input.shape)
        dt = _dtype_of(self, "weight", "running_mean")
        if dt is not None:
            check_dtype_matches(input, "input", dt, type(self).__name__)
        if (self.training or not self.track_running_stats) and input.size <= self.num_features:
            # torch's "Expected more than 1 value per channel when training" (torch returns an empty batch as is)
            raise invalid_shape("input", "more than one value per channel to compute batch statistics", input.shape)
        bn_param: dict[str, Any] = {
            "mode": "train" if self.training else "test",
            "eps": self.eps,
            "momentum": self.momentum,
            "track_running_stats": self.track_running_stats,
        }
        if self.track_running_stats:
            bn_param.update(
                running_mean=self.running_mean,
                running_var=self.running_var,
                num_batches_tracked=int(self.num_batches_tracked),
            )
        w, b = self._affine()
        forward = spatial_batchnorm_forward if input.ndim == 4 else batchnorm_forward
        out, cache = forward(input, w, b, bn_param)
        if self.training and self.track_running_stats:  # the buffers, in place (the op returned new arrays)
            self.running_mean[...] = bn_param["running_mean"]
            self.running_var[...] = bn_param["running_var"]
            self.num_batches_tracked[...] = bn_param["num_batches_tracked"]
        self._save(cache, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        dx, dgamma, dbeta = batchnorm_backward_alt(grad_out, self._saved(grad_out), need_dx=input_grad)
        self._accumulate(dgamma, dbeta)
        return dx

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """BatchNorm over (N, C) or (N, C, L), per channel, as ``torch.nn.BatchNorm1d``.

    Training: normalize with the batch's mean and biased variance (over N, and L), then update
    running_mean / running_var (unbiased) as running = (1 - momentum) * running + momentum * batch;
    ``momentum=None`` is the cumulative average (momentum = 1 / num_batches_tracked). Eval: normalize
    with the running statistics; with ``track_running_stats=False`` there are none (the buffers are
    None) and batch statistics are used in eval too. out = weight * xhat + bias; ``affine=False`` drops
    both, the keyword-only ``bias=False`` (torch 2.13) the bias.

    Shape:
        input, output: (N, C) or (N, C, L);  weight, bias, running_mean, running_var: (C,)
    """

    _ranks = (2, 3)
    _layout = "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    """BatchNorm per channel over (N, H, W), as ``torch.nn.BatchNorm2d`` (spatial batchnorm).

    The same rules as :class:`BatchNorm1d`, with one mean and variance per channel over N * H * W values.

    Shape:
        input, output: (N, C, H, W);  weight, bias, running_mean, running_var: (C,)
    """

    _ranks = (4,)
    _layout = "(N, {C}, H, W)"


class LayerNorm(_Norm):
    """Each sample standardized over its last ``len(normalized_shape)`` dimensions, as ``torch.nn.LayerNorm``.

    out = weight * (x - mean) / sqrt(var + eps) + bias, mean and biased var over the normalized
    dimensions; the same in train and eval. ``weight`` (ones) and ``bias`` (zeros) have
    ``normalized_shape``; ``elementwise_affine=False`` drops both, ``bias=False`` the bias.

    Shape:
        input, output: (*, *normalized_shape);  weight, bias: normalized_shape
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...] | list[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)) and not isinstance(normalized_shape, bool):
            normalized_shape = (int(normalized_shape),)
        if not isinstance(normalized_shape, (tuple, list)) or not normalized_shape:
            raise invalid_type("normalized_shape", "an int or a non-empty tuple of ints", normalized_shape)
        self.normalized_shape = tuple(check_int(s, "normalized_shape[i]", low=1) for s in normalized_shape)
        self.eps = check_float(eps, "eps", low=0.0, low_open=True)
        self.elementwise_affine = check_bool(elementwise_affine, "elementwise_affine")
        bias = check_bool(bias, "bias")
        dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
        shape, sizes = self.normalized_shape, {"normalized_shape": normalized_shape}
        self.weight = Param(new_array(shape, dt, sizes, 1.0)) if elementwise_affine else None
        self.bias = Param(new_array(shape, dt, sizes, 0.0)) if elementwise_affine and bias else None

    def forward(self, input: np.ndarray) -> np.ndarray:
        check_array(input, "input")
        k = len(self.normalized_shape)
        if input.ndim < k or tuple(input.shape[input.ndim - k :]) != self.normalized_shape:
            raise invalid_shape("input", "(*, " + ", ".join(map(str, self.normalized_shape)) + ")", input.shape)
        dt = _dtype_of(self, "weight", "bias")
        if dt is not None:
            check_dtype_matches(input, "input", dt, "LayerNorm")
        w, b = self._affine()
        out, cache = layernorm_forward(input, w, b, {"eps": self.eps, "normalized_shape": self.normalized_shape})
        self._save(cache, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        dx, dgamma, dbeta = layernorm_backward(grad_out, self._saved(grad_out), need_dx=input_grad)
        self._accumulate(dgamma, dbeta)
        return dx

    def extra_repr(self) -> str:
        affine = f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        return f"{self.normalized_shape}, eps={self.eps}, {affine}"


class GroupNorm(_Norm):
    """Channels split into ``num_groups`` groups, each standardized per sample, as ``torch.nn.GroupNorm``.

    out = weight_c * (x - mean_g) / sqrt(var_g + eps) + bias_c, with mean_g and biased var_g over the
    (C / G) * spatial values of one sample's group g; the same in train and eval. ``weight`` (ones) and
    ``bias`` (zeros) are per channel; ``affine=False`` drops both, the keyword-only ``bias=False`` the bias.

    Shape:
        input, output: (N, C, *);  weight, bias: (C,)
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_groups = check_int(num_groups, "num_groups", low=1)
        self.num_channels = check_int(num_channels, "num_channels", low=1)
        if self.num_channels % self.num_groups:
            raise invalid_value("num_channels", f"a multiple of num_groups={self.num_groups}", num_channels)
        self.eps = check_float(eps, "eps", low=0.0, low_open=True)
        self.affine = check_bool(affine, "affine")
        bias = check_bool(bias, "bias")
        dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
        C, sizes = self.num_channels, {"num_channels": num_channels}
        self.weight = Param(new_array((C,), dt, sizes, 1.0)) if affine else None
        self.bias = Param(new_array((C,), dt, sizes, 0.0)) if affine and bias else None

    def forward(self, input: np.ndarray) -> np.ndarray:
        check_array(input, "input")
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise invalid_shape("input", f"(N, {self.num_channels}, *)", input.shape)
        dt = _dtype_of(self, "weight")
        if dt is not None:
            check_dtype_matches(input, "input", dt, "GroupNorm")
        w, b = self._affine()
        out, cache = spatial_groupnorm_forward(input, w, b, self.num_groups, {"eps": self.eps})
        self._save(cache, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        dx, dgamma, dbeta = spatial_groupnorm_backward(grad_out, self._saved(grad_out), need_dx=input_grad)
        self._accumulate(dgamma, dbeta)
        return dx

    def extra_repr(self) -> str:
        affine = f"affine={self.affine}, bias={self.bias is not None}"
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, {affine}"
