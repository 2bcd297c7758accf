"""Argument handling shared by the convolution and pooling ops: int-or-pair sizes and output sizes.

Output size along one axis (torch's floor mode): Ho = (H + 2 * pad - HH) // stride + 1; of a transposed
convolution: Ho = (H - 1) * stride - 2 * pad + HH + output_padding.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .._validate import check_array, invalid_shape, invalid_type, invalid_value
from .normalization import check_param_dict

Pair = tuple[int, int]


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def pair(value: Any, name: str, *, low: int = 0) -> Pair:
    """``value`` as an ``(h, w)`` pair of ints >= ``low``: an int means the same on both axes (torch)."""
    expected = f"an int >= {low} or a pair (h, w) of them"
    if _is_int(value):
        items: tuple[Any, ...] = (value, value)
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_int(v) for v in value):
        items = tuple(value)
    elif isinstance(value, (tuple, list)):
        raise invalid_value(name, expected, value)
    else:
        raise invalid_type(name, expected, value)
    if min(items) < low:
        raise invalid_value(name, expected, value)
    return int(items[0]), int(items[1])


def conv_param_pair(conv_param: Any) -> tuple[Pair, Pair]:
    """(stride, padding) from the course's ``conv_param`` dict ``{'stride': s, 'pad': p}`` (defaults 1 and 0)."""
    if not isinstance(conv_param, dict):
        raise invalid_type("conv_param", "a dict with keys 'stride' and 'pad'", conv_param)
    check_param_dict(conv_param, "conv_param", ("stride", "pad"))  # a misspelt key ('padding') is not ignored
    return pair(conv_param.get("stride", 1), "stride", low=1), pair(conv_param.get("pad", 0), "pad")


def conv_transpose_param(conv_param: Any) -> tuple[Pair, Pair, Pair]:
    """(stride, pad, output_padding) from ``{'stride': s, 'pad': p, 'output_padding': op}`` (defaults 1, 0, 0).

    ``output_padding`` adds rows and columns at the bottom and right of a transposed convolution's output;
    it must be smaller than the stride on each axis (torch's rule with dilation 1), where it picks one of
    the ``stride`` output sizes that a strided convolution maps onto the same input size.
    """
    if not isinstance(conv_param, dict):
        raise invalid_type("conv_param", "a dict with keys 'stride', 'pad' and 'output_padding'", conv_param)
    check_param_dict(conv_param, "conv_param", ("stride", "pad", "output_padding"))
    stride = pair(conv_param.get("stride", 1), "stride", low=1)
    pad = pair(conv_param.get("pad", 0), "pad")
    return stride, pad, check_output_padding(conv_param.get("output_padding", 0), stride)


def check_output_padding(output_padding: Any, stride: Pair) -> Pair:
    """``output_padding`` as a pair of ints in [0, stride) on each axis."""
    op = pair(output_padding, "output_padding")
    if op[0] >= stride[0] or op[1] >= stride[1]:
        raise invalid_value(
            "output_padding", f"an int >= 0 or a pair (h, w) of them, smaller than stride={stride}", output_padding
        )
    return op


def transpose_out_size(
    x_shape: tuple[int, ...], kernel: Pair, stride: Pair, pad: Pair, output_padding: Pair, name: str = "x"
) -> Pair:
    """(Ho, Wo) of a transposed convolution: Ho = (H - 1)*stride - 2*pad + HH + output_padding (torch), >= 1.

    It inverts :func:`out_size`: a convolution with the same kernel, stride and pad maps (Ho, Wo) back to (H, W).
    """
    H, W = x_shape[-2:]
    (kh, kw), (sh, sw), (ph, pw), (oh, ow) = kernel, stride, pad, output_padding
    Ho, Wo = (H - 1) * sh - 2 * ph + kh + oh, (W - 1) * sw - 2 * pw + kw + ow
    if Ho < 1 or Wo < 1:
        raise invalid_shape(
            name,
            f"an output size ((H - 1)*{sh} - 2*{ph} + {kh} + {oh}, (W - 1)*{sw} - 2*{pw} + {kw} + {ow}) "
            f"of at least (1, 1); it would be ({Ho}, {Wo})",
            x_shape,
        )
    return Ho, Wo


def pool_param_args(pool_param: Any) -> tuple[Pair, Pair, Pair]:
    """(kernel, stride, pad) from the course's ``pool_param`` dict ``{'pool_height', 'pool_width', 'stride'}``.

    ``stride`` defaults to the window (non-overlapping), an optional ``'pad'`` to 0.
    """
    expected = "a dict with keys 'pool_height', 'pool_width' and 'stride'"
    if not isinstance(pool_param, dict):
        raise invalid_type("pool_param", expected, pool_param)
    if "pool_height" not in pool_param or "pool_width" not in pool_param:
        raise invalid_value("pool_param", expected, pool_param)
    check_param_dict(pool_param, "pool_param", ("pool_height", "pool_width", "stride", "pad"))
    kernel = pair((pool_param["pool_height"], pool_param["pool_width"]), "pool_height/pool_width", low=1)
    stride = pair(pool_param.get("stride", kernel), "stride", low=1)
    return kernel, stride, check_pool_padding(pool_param.get("pad", 0), kernel, "pad")


def check_pool_padding(padding: Any, kernel: Pair, name: str = "padding") -> Pair:
    """Pooling padding: at most half the window on each axis (torch), so no window is all padding."""
    pad = pair(padding, name)
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise invalid_value(
            name, f"at most half the kernel size {kernel}, i.e. <= {(kernel[0] // 2, kernel[1] // 2)}", padding
        )
    return pad


def check_images(x: Any, name: str = "x") -> np.ndarray:
    """A floating (N, C, H, W) batch of images, H and W not 0; a 3-D array gets a message about the batch axis."""
    check_array(x, name)
    if x.ndim != 4:
        hint = " (a single image needs a batch axis: x[None])" if x.ndim == 3 else ""
        raise invalid_shape(name, f"a 4-D array (N, C, H, W){hint}", x.shape)
    if not (x.shape[2] and x.shape[3]):  # as torch: a window over no pixels would average 0 / 0 (N, C may be 0)
        raise invalid_shape(name, "(N, C, H, W) with H, W >= 1", x.shape)
    return x


def out_size(x_shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair, name: str = "x") -> Pair:
    """(Ho, Wo) of a window sliding over the padded (H, W); the padded size must hold one kernel."""
    H, W = x_shape[-2:]
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    if H + 2 * ph < kh or W + 2 * pw < kw:
        raise invalid_shape(
            name,
            f"a padded size (H + 2*{ph}, W + 2*{pw}) of at least the kernel size ({kh}, {kw}); "
            f"the padded input is ({H + 2 * ph}, {W + 2 * pw})",
            x_shape,
        )
    return (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1


def valid_range(offset: int, stride: int, pad: int, size: int, n_out: int) -> tuple[int, int, int]:
    """For kernel offset ``offset``: the outputs ``o in [lo, hi)`` whose input row ``o*stride + offset - pad``
    lies inside ``[0, size)``, and that first input row (the rest of the window row sits in the padding)."""
    shift = offset - pad
    lo = max(0, -(shift // stride)) if shift < 0 else 0  # ceil(-shift / stride) for negative shifts
    hi = min(n_out, (size - 1 - shift) // stride + 1) if size - 1 - shift >= 0 else 0
    hi = max(hi, lo)
    return lo, hi, lo * stride + shift
