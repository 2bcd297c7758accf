"""``Conv2d``: 2-D cross-correlation over (N, C, H, W) batches, as ``torch.nn.Conv2d``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._config import get_default_dtype
from .._validate import (
    check_bool,
    check_choice,
    check_dtype_matches,
    check_float_dtype,
    check_int,
    invalid_shape,
    invalid_value,
)
from ..ops._spatial import check_images, out_size, pair
from ..ops.conv import conv_backward, conv_forward
from . import init
from .module import Module
from .parameter import Param, new_array


def not_implemented(option: str, value: Any, default: str, cls: str = "Conv2d") -> NotImplementedError:
    """The error for an option torch has and scratchnn does not implement (Conv2d's and ConvTranspose2d's)."""
    return NotImplementedError(
        f"{cls}({option}={value!r}) is not implemented in scratchnn; only {option}={default} is supported"
    )


class Conv2d(Module):
    """out[n, f] = bias[f] + sum_c weight[f, c] (star) input[n, c], with zero padding, as ``torch.nn.Conv2d``.

    Uses :func:`scratchnn.ops.conv_forward` (im2col and one batched GEMM). Default init is torch's:
    kaiming_uniform_(a=sqrt(5)) for the weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias, with
    fan_in = in_channels * kernel_h * kernel_w. ``padding`` may be an int, a pair, ``'valid'`` (0) or
    ``'same'`` (stride 1, odd kernels). Differs from torch: ``dilation``, ``groups``, a
    ``padding_mode`` other than ``'zeros'`` and even kernels with ``'same'`` raise NotImplementedError,
    and an unbatched (C, H, W) input is rejected (add a batch axis) instead of accepted. The input has the
    parameters' dtype (docs/dtypes.md); an empty batch gives an empty output and zero gradients, as in torch.

    Shape:
        input: (N, C_in, H, W);  output: (N, C_out, Ho, Wo) with
        Ho = (H + 2*padding[0] - kernel_size[0]) // stride[0] + 1, Wo likewise
        weight: (C_out, C_in, kernel_size[0], kernel_size[1]);  bias: (C_out,)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", low=1)
        self.out_channels = check_int(out_channels, "out_channels", low=1)
        self.kernel_size = pair(kernel_size, "kernel_size", low=1)
        self.stride = pair(stride, "stride", low=1)
        self.padding: tuple[int, int] | str = self._padding(padding)
        self.dilation = pair(dilation, "dilation", low=1)
        self.groups = check_int(groups, "groups", low=1)
        bias = check_bool(bias, "bias")
        self.padding_mode = check_choice(padding_mode, "padding_mode", ("zeros", "reflect", "replicate", "circular"))
        if self.dilation != (1, 1):
            raise not_implemented("dilation", dilation, "1")
        if self.groups != 1:
            raise not_implemented("groups", groups, "1")
        if padding_mode != "zeros":
            raise not_implemented("padding_mode", padding_mode, "'zeros'")
        dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
        sizes = {"in_channels": in_channels, "out_channels": out_channels, "kernel_size": kernel_size}
        self.weight = Param(new_array((out_channels, in_channels, *self.kernel_size), dt, sizes))
        self.bias = Param(new_array((out_channels,), dt, sizes)) if bias else None
        init._torch_default_linear_(self.weight, self.bias, rng=rng)

    def _padding(self, padding: Any) -> tuple[int, int] | str:
        if not isinstance(padding, str):
            return pair(padding, "padding")
        if padding not in ("valid", "same"):
            raise invalid_value("padding", "an int, a pair (h, w), 'valid' or 'same'", padding)
        if padding == "same" and self.stride != (1, 1):
            raise invalid_value(
                "padding", "an int or a pair with stride != 1 ('same' needs stride=1, as in torch)", padding
            )
        if padding == "same" and (self.kernel_size[0] % 2 == 0 or self.kernel_size[1] % 2 == 0):
            raise NotImplementedError(
                f"Conv2d(padding='same') with the even kernel_size={self.kernel_size} needs asymmetric padding, "
                "which scratchnn does not implement; pad explicitly or use an odd kernel"
            )
        return padding

    @property
    def _pad(self) -> tuple[int, int]:
        """The padding as a pair of ints ('valid' is 0, 'same' is half the odd kernel)."""
        if self.padding == "valid":
            return (0, 0)
        if self.padding == "same":
            return (self.kernel_size[0] // 2, self.kernel_size[1] // 2)
        assert not isinstance(self.padding, str)
        return self.padding

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_images(x, "input")
        if x.shape[1] != self.in_channels:
            raise invalid_shape("input", f"(N, {self.in_channels}, H, W) with in_channels={self.in_channels}", x.shape)
        check_dtype_matches(x, "input", self.weight.dtype, "Conv2d")
        out_size(x.shape, self.kernel_size, self.stride, self._pad, "input")
        previous = self._cache
        workspace = previous[0] if previous is not None else None  # the cols of the last call, no longer needed
        b = self.bias.data if self.bias is not None else None
        out, cache = conv_forward(x, self.weight.data, b, self.stride, self._pad, workspace=workspace)
        self._save(cache, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """dx (None with ``input_grad=False``: no col2im, one GEMM fewer); weight.grad += dw, bias.grad += db."""
        dx, dw, db = conv_backward(grad_out, self._saved(grad_out), need_dx=input_grad)
        self.weight.accumulate_grad(dw)
        if self.bias is not None and db is not None:
            self.bias.accumulate_grad(db)
        return dx

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        return text + ("" if self.bias is not None else ", bias=False")
