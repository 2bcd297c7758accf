"""Pooling modules mirroring ``torch.nn``: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d.

Each is a thin shell around the fast ops in :mod:`scratchnn.ops.pool`. Differs from torch: an
unbatched (C, H, W) input is rejected (add a batch axis) instead of accepted.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import check_bool, check_int
from ..ops._spatial import check_images, check_pool_padding, out_size, pair
from ..ops.pool import (
    adaptive_avg_pool_backward,
    adaptive_avg_pool_forward,
    avg_pool_backward,
    avg_pool_forward,
    max_pool_backward,
    max_pool_forward,
)
from .module import Module


def _not_implemented(cls: str, option: str, value: Any, default: str) -> NotImplementedError:
    return NotImplementedError(
        f"{cls}({option}={value!r}) is not implemented in scratchnn; only {option}={default} is supported"
    )


class _Pool2d(Module):
    """Validates and stores kernel_size, stride (default: kernel_size) and padding (at most half the kernel).

    The attributes keep the values as given, as torch's do (``MaxPool2d(2).stride == 2``); the
    private pairs ``_kernel``, ``_stride``, ``_padding`` feed the ops.
    """

    def __init__(self, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool) -> None:
        super().__init__()
        self._kernel = pair(kernel_size, "kernel_size", low=1)
        self._stride = self._kernel if stride is None else pair(stride, "stride", low=1)
        self._padding = check_pool_padding(padding, self._kernel)
        if check_bool(ceil_mode, "ceil_mode"):
            raise _not_implemented(type(self).__name__, "ceil_mode", ceil_mode, "False")
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = False

    def _check(self, x: np.ndarray) -> None:
        check_images(x, "input")
        out_size(x.shape, self._kernel, self._stride, self._padding, "input")

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """The maximum of each window, as ``torch.nn.MaxPool2d`` (padding with -inf).

    Backward sends each output's gradient to the first maximum of its window in row-major order,
    as torch does on ties. ``dilation``, ``return_indices`` and ``ceil_mode`` other than their
    defaults raise NotImplementedError.

    Shape:
        input: (N, C, H, W);  output: (N, C, Ho, Wo), Ho = (H + 2*padding[0] - kernel_size[0]) // stride[0] + 1
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        if pair(dilation, "dilation", low=1) != (1, 1):
            raise _not_implemented("MaxPool2d", "dilation", dilation, "1")
        if check_bool(return_indices, "return_indices"):
            raise _not_implemented("MaxPool2d", "return_indices", return_indices, "False")
        self.dilation = dilation
        self.return_indices = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._check(x)
        out, cache = max_pool_forward(x, self._kernel, self._stride, self._padding)
        self._save(cache, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        cache = self._saved(grad_out)
        return max_pool_backward(grad_out, cache) if input_grad else None

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, dilation={self.dilation}, ceil_mode={self.ceil_mode}"


class AvgPool2d(_Pool2d):
    """The mean of each window, as ``torch.nn.AvgPool2d`` (zero padding; ``count_include_pad`` says
    whether those zeros count in the divisor, ``divisor_override`` replaces it). ``ceil_mode=True``
    raises NotImplementedError.

    Shape:
        input: (N, C, H, W);  output: (N, C, Ho, Wo), Ho = (H + 2*padding[0] - kernel_size[0]) // stride[0] + 1
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = check_bool(count_include_pad, "count_include_pad")
        self.divisor_override = (
            None if divisor_override is None else check_int(divisor_override, "divisor_override", low=1)
        )

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._check(x)
        out, cache = avg_pool_forward(
            x,
            self._kernel,
            self._stride,
            self._padding,
            count_include_pad=self.count_include_pad,
            divisor_override=self.divisor_override,
        )
        self._save(cache, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        cache = self._saved(grad_out)
        return avg_pool_backward(grad_out, cache) if input_grad else None


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, as ``torch.nn.AdaptiveAvgPool2d``.

    Window i along H spans [floor(i*H/Ho), ceil((i+1)*H/Ho)) (torch's formula); ``output_size`` is an
    int, or a pair whose None entries keep the input's size on that axis.

    Shape:
        input: (N, C, H, W);  output: (N, C, Ho, Wo)
    """

    def __init__(self, output_size: int | tuple[int | None, int | None]) -> None:
        super().__init__()
        if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
            for s in output_size:
                if s is not None:
                    check_int(s, "output_size", low=1)
            self.output_size: Any = tuple(output_size)
        else:
            self.output_size = check_int(output_size, "output_size", low=1)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_images(x, "input")
        out, cache = adaptive_avg_pool_forward(x, self.output_size)
        self._save(cache, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        cache = self._saved(grad_out)
        return adaptive_avg_pool_backward(grad_out, cache) if input_grad else None

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
