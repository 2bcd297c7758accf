"""``ConvTranspose2d``: the adjoint of a 2-D convolution, upsampling (N, C, H, W) batches, as torch's."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .._config import get_default_dtype
from .._validate import (
    check_bool,
    check_dtype_matches,
    check_float_dtype,
    check_int,
    invalid_shape,
    invalid_type,
    invalid_value,
)
from ..ops._spatial import Pair, check_images, check_output_padding, pair, transpose_out_size
from ..ops.conv_transpose import conv_transpose_backward, conv_transpose_forward
from . import init
from .conv import not_implemented
from .module import Module
from .parameter import Param, new_array


class ConvTranspose2d(Module):
    """out[n] = bias + sum_c input[n, c] stamped with weight[c] at stride ``stride``, as ``torch.nn.ConvTranspose2d``.

    The transpose (adjoint) of ``Conv2d`` with the same kernel, stride and padding: it maps a
    convolution's output size back to its input size, the decoder half of a conv autoencoder. Uses
    :func:`scratchnn.ops.conv_transpose_forward` (one GEMM, then col2im). ``padding`` crops that many
    rows and columns from each side of the full output; ``output_padding`` (< stride) adds rows and
    columns at the bottom and right, choosing among the ``stride`` sizes a strided convolution maps onto
    the same input size; ``forward(input, output_size)`` may choose by the size instead, as in torch.
    Default init is torch's: kaiming_uniform_(a=sqrt(5)) for the weight, U(-1/sqrt(fan_in),
    1/sqrt(fan_in)) for the bias, with fan_in = weight.shape[1] * kernel_h * kernel_w = out_channels *
    kernel_h * kernel_w (torch reads the fans of this layout as of Conv2d's). Differs from torch:
    ``dilation`` and ``groups`` raise NotImplementedError, ``output_padding >= stride`` is refused here
    rather than in forward, there is no ``device``, and an unbatched (C, H, W) input is rejected (add a
    batch axis). The input has the parameters' dtype (docs/dtypes.md).

    Shape:
        input: (N, C_in, H, W);  output: (N, C_out, Ho, Wo) with
        Ho = (H - 1)*stride[0] - 2*padding[0] + kernel_size[0] + output_padding[0], Wo likewise
        weight: (C_in, C_out, kernel_size[0], kernel_size[1]);  bias: (C_out,)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        output_padding: int | tuple[int, int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, int] = 1,
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
        self.padding = pair(padding, "padding")
        self.output_padding = check_output_padding(output_padding, self.stride)  # < stride, as torch's kernel needs
        self.groups = check_int(groups, "groups", low=1)
        bias = check_bool(bias, "bias")
        self.dilation = pair(dilation, "dilation", low=1)
        if not (isinstance(padding_mode, str) and padding_mode == "zeros"):  # torch's ValueError too: no other mode
            raise invalid_value(
                "padding_mode", "'zeros', the only mode of a transposed convolution (torch)", padding_mode
            )
        self.padding_mode = padding_mode
        if self.dilation != (1, 1):
            raise not_implemented("dilation", dilation, "1", "ConvTranspose2d")
        if self.groups != 1:
            raise not_implemented("groups", groups, "1", "ConvTranspose2d")
        dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
        sizes = {"in_channels": in_channels, "out_channels": out_channels, "kernel_size": kernel_size}
        self.weight = Param(new_array((in_channels, out_channels, *self.kernel_size), dt, sizes))
        self.bias = Param(new_array((out_channels,), dt, sizes)) if bias else None
        init._torch_default_linear_(self.weight, self.bias, rng=rng)  # fan_in from weight.shape[1]: C_out*kh*kw

    def _output_padding(self, x_shape: tuple[int, ...], output_size: Any) -> Pair:
        """``output_padding``, or the one that gives ``output_size`` ((H_out, W_out) or (N, C_out, H_out, W_out))."""
        if output_size is None:
            return self.output_padding
        expected = "None, or (H_out, W_out) or (N, C_out, H_out, W_out) as ints"
        if not isinstance(output_size, (tuple, list)):
            raise invalid_type("output_size", expected, output_size)
        if len(output_size) not in (2, 4) or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in output_size
        ):
            raise invalid_value("output_size", expected, output_size)
        size = (int(output_size[-2]), int(output_size[-1]))
        # the output sizes that output_padding 0 to stride - 1 give
        geometry = zip(x_shape[2:], self.kernel_size, self.stride, self.padding)
        low = tuple((n - 1) * s - 2 * p + k for n, k, s, p in geometry)
        high = tuple(lo + s - 1 for lo, s in zip(low, self.stride))
        if not all(lo <= v <= hi for v, lo, hi in zip(size, low, high)):
            raise invalid_value(
                "output_size", f"sizes from {low} to {high} for an input of size {tuple(x_shape[2:])}", output_size
            )
        return size[0] - low[0], size[1] - low[1]

    def forward(self, x: np.ndarray, output_size: Any = None) -> np.ndarray:
        check_images(x, "input")
        if x.shape[1] != self.in_channels:
            raise invalid_shape("input", f"(N, {self.in_channels}, H, W) with in_channels={self.in_channels}", x.shape)
        check_dtype_matches(x, "input", self.weight.dtype, "ConvTranspose2d")
        output_padding = self._output_padding(x.shape, output_size)
        transpose_out_size(x.shape, self.kernel_size, self.stride, self.padding, output_padding, "input")
        b = self.bias.data if self.bias is not None else None
        param = {"stride": self.stride, "pad": self.padding, "output_padding": output_padding}
        out, cache = conv_transpose_forward(x, self.weight.data, b, param)
        self._save(cache, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """dx (None with ``input_grad=False``: one GEMM fewer); weight.grad += dw, bias.grad += db."""
        dx, dw, db = conv_transpose_backward(grad_out, self._saved(grad_out), need_dx=input_grad)
        self.weight.accumulate_grad(dw)
        if self.bias is not None and db is not None:
            self.bias.accumulate_grad(db)
        return dx

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.output_padding != (0, 0):
            text += f", output_padding={self.output_padding}"
        return text + ("" if self.bias is not None else ", bias=False")
