"""Fuzz specs of the convolution, transposed convolution and pooling ops: images, windows, and their output sizes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .calls import Call, Draw, Path


def _images(d: Draw, max_side: int = 5) -> np.ndarray:
    return d.x((d.int(0, 2), d.int(1, 2), d.int(1, max_side), d.int(1, max_side)))


def _window(d: Draw, H: int, W: int) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]:
    """kernel, stride, pad (at most half the kernel) and the output size, for an (H, W) input."""
    kh, kw = d.int(1, 3), d.int(1, 3)
    ph, pw = d.int(0, kh // 2), d.int(0, kw // 2)
    kh, kw = min(kh, H + 2 * ph), min(kw, W + 2 * pw)
    ph, pw = min(ph, kh // 2), min(pw, kw // 2)
    sh, sw = d.int(1, 3), d.int(1, 3)
    return (kh, kw), (sh, sw), (ph, pw), ((H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1)


def _pair(d: Draw, v: tuple[int, int]) -> Any:
    return v[0] if v[0] == v[1] and d.pick([True, False]) else d.pick([v, list(v)])


def conv(kind: str) -> Callable[[Draw], Call]:
    def make(d: Draw) -> Call:
        x = _images(d)
        N, C, H, W = x.shape
        F = d.int(1, 3)
        stride, pad = (d.int(1, 3), d.int(1, 3)), (d.int(0, 2), d.int(0, 2))
        kh, kw = min(d.int(1, 3), H + 2 * pad[0]), min(d.int(1, 3), W + 2 * pad[1])
        Ho, Wo = (H + 2 * pad[0] - kh) // stride[0] + 1, (W + 2 * pad[1] - kw) // stride[1] + 1
        w, b = d.p((F, C, kh, kw)), d.pick([None, d.p((F,))])
        floats: tuple[Path, ...] = (("args", "x"), ("args", "w")) + ((("args", "b"),) if b is not None else ())
        args: dict[str, Any] = {"x": x, "w": w, "b": b}
        if kind == "plain":
            args.update(stride=_pair(d, stride), padding=_pair(d, pad))
        else:
            args["conv_param"] = {"stride": _pair(d, stride), "pad": _pair(d, pad)}
        return Call(args, {}, (N, F, Ho, Wo), ("x", "w", "b"), floats)

    return make


def transpose_geometry(d: Draw, H: int, W: int) -> tuple[tuple[int, int], ...]:
    """kernel, stride, pad, output_padding (< stride) and the output size of a transposed conv of an (H, W) input;
    the pad is cut to leave an output of at least one pixel."""
    (kh, kw), (sh, sw) = (d.int(1, 3), d.int(1, 3)), (d.int(1, 3), d.int(1, 3))
    oh, ow = d.int(0, sh - 1), d.int(0, sw - 1)
    ph, pw = min(d.int(0, 2), ((H - 1) * sh + kh + oh - 1) // 2), min(d.int(0, 2), ((W - 1) * sw + kw + ow - 1) // 2)
    Ho, Wo = (H - 1) * sh - 2 * ph + kh + oh, (W - 1) * sw - 2 * pw + kw + ow
    return (kh, kw), (sh, sw), (ph, pw), (oh, ow), (Ho, Wo)


def conv_transpose(d: Draw) -> Call:
    x = _images(d)
    N, C, H, W = x.shape
    F = d.int(1, 3)
    (kh, kw), stride, pad, output_padding, (Ho, Wo) = transpose_geometry(d, H, W)
    w, b = d.p((C, F, kh, kw)), d.pick([None, d.p((F,))])  # torch's layout: (C_in, C_out, kh, kw)
    floats: tuple[Path, ...] = (("args", "x"), ("args", "w")) + ((("args", "b"),) if b is not None else ())
    param: dict[str, Any] = {"stride": _pair(d, stride), "pad": _pair(d, pad)}
    if output_padding != (0, 0) or d.pick([True, False]):
        param["output_padding"] = _pair(d, output_padding)
    return Call({"x": x, "w": w, "b": b, "conv_param": param}, {}, (N, F, Ho, Wo), ("x", "w", "b"), floats)


def pool(kind: str) -> Callable[[Draw], Call]:
    def make(d: Draw) -> Call:
        x = _images(d, 6)
        N, C, H, W = x.shape
        (kh, kw), (sh, sw), (ph, pw), (Ho, Wo) = _window(d, H, W)
        kwargs: dict[str, Any] = {}
        if kind == "dict":
            param: dict[str, Any] = {"pool_height": kh, "pool_width": kw, "stride": _pair(d, (sh, sw))}
            if (ph, pw) != (0, 0) or d.pick([True, False]):
                param["pad"] = _pair(d, (ph, pw))
            args: dict[str, Any] = {"x": x, "pool_param": param}
        else:
            args = {
                "x": x,
                "kernel_size": _pair(d, (kh, kw)),
                "stride": _pair(d, (sh, sw)),
                "padding": _pair(d, (ph, pw)),
            }
            if kind == "avg":
                kwargs = {"count_include_pad": d.pick([True, False]), "divisor_override": d.pick([None, d.int(1, 9)])}
        return Call(args, kwargs, (N, C, Ho, Wo))

    return make


def adaptive(d: Draw) -> Call:
    x = _images(d, 6)
    N, C, H, W = x.shape
    Ho, Wo = d.int(1, 7), d.int(1, 7)
    size = d.pick([(Ho, Wo), [Ho, Wo], (None, Wo), (Ho, None)] + ([Ho] if Ho == Wo else []))
    if isinstance(size, int):
        return Call({"x": x, "output_size": size}, {}, (N, C, Ho, Wo))
    Ho, Wo = H if size[0] is None else Ho, W if size[1] is None else Wo
    return Call({"x": x, "output_size": size}, {}, (N, C, Ho, Wo))
