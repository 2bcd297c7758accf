"""Gradient-check rows of the spatial area: convolution, transposed convolution and pooling ops, Conv2d,
ConvTranspose2d and the pooling modules, ``ThreeLayerConvNet`` and ``ConvNet`` (ops/conv.py, conv_naive.py,
conv_transpose.py, conv_transpose_naive.py, pool.py, pool_naive.py).

A finite difference across a kink (a ReLU input at 0, two maxima of a pool window swapping) measures
the wrong slope, so the convnet fixture draws models and inputs until every kink is at least ``MARGIN`` away.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ... import nn, ops
from ...models import ConvNet, ThreeLayerConvNet
from ...ops.conv import conv_forward
from .base import F64, ModuleRow, OpRow, distinct, randn

MARGIN = 1e-3


def conv_inputs(rng: np.random.Generator, x: tuple[int, ...], w: tuple[int, ...]) -> dict[str, np.ndarray]:
    return {"x": rng.standard_normal(x), "w": rng.standard_normal(w), "b": rng.standard_normal(w[0])}


def conv_transpose_inputs(rng: np.random.Generator, x: tuple[int, ...], w: tuple[int, ...]) -> dict[str, np.ndarray]:
    """x (N, C, H, W), w (C, F, HH, WW) in torch's layout, b (F,): one bias per output channel."""
    return {"x": rng.standard_normal(x), "w": rng.standard_normal(w), "b": rng.standard_normal(w[1])}


def _kink_gap(model: ThreeLayerConvNet, X: np.ndarray) -> float:
    """Smallest distance to a kink: conv outputs and hidden pre-activations from 0, the top two values of
    each 2x2 pool window with a positive maximum (an all-zero window stays zero under a small change)."""
    p = model.params
    a, _ = conv_forward(X, p["W1"], p["b1"], 1, model.pad)  # (N, F, H, W)
    r = np.maximum(a, 0)
    N, F, H, W = r.shape
    windows = r[:, :, : H // 2 * 2, : W // 2 * 2].reshape(N, F, H // 2, 2, W // 2, 2)
    windows = windows.transpose(0, 1, 2, 4, 3, 5).reshape(N, F, H // 2, W // 2, 4)  # the 4 values of each window
    top2 = np.sort(windows, axis=-1)[..., -2:]  # (N, F, H/2, W/2, 2)
    positive = top2[..., 1] > 0
    pool_gap = float((top2[..., 1] - top2[..., 0])[positive].min()) if positive.any() else np.inf
    hidden = top2[..., 1].reshape(N, -1) @ p["W2"] + p["b2"]  # (N, F*H/2*W/2) @ (., hidden) -> (N, hidden)
    return min(float(np.abs(a).min()), pool_gap, float(np.abs(hidden).min()))


def three_layer_convnet(rng: np.random.Generator) -> tuple[ThreeLayerConvNet, tuple[np.ndarray, ...]]:
    """A small float64 ThreeLayerConvNet (random biases) and an input with every kink at least MARGIN away."""
    while True:
        model = ThreeLayerConvNet(
            input_dim=(2, 5, 6),
            num_filters=3,
            filter_size=3,
            hidden_dim=5,
            num_classes=4,
            weight_scale=0.3,
            dtype=np.float64,
            seed=int(rng.integers(2**31)),
        )
        for name in ("b1", "b2", "b3"):
            model.params[name] = 0.1 * rng.standard_normal(model.params[name].shape)
        X = rng.standard_normal((2, 2, 5, 6))
        if _kink_gap(model, X) > MARGIN:
            return model, (X,)


OP_ROWS = [
    OpRow("conv_naive", ops.conv_forward_naive, ops.conv_backward_naive,
          partial(conv_inputs, x=(2, 3, 5, 4), w=(2, 3, 3, 2)), {"conv_param": {"stride": (2, 1), "pad": 1}}),
    OpRow("conv", ops.conv_forward, ops.conv_backward, partial(conv_inputs, x=(2, 2, 4, 5), w=(3, 2, 2, 3)),
          {"stride": 1, "padding": (1, 2)}),
    OpRow("conv-no_bias-stride3", ops.conv_forward, ops.conv_backward,
          lambda r: {"x": r.standard_normal((1, 2, 7, 6)), "w": r.standard_normal((2, 2, 3, 3))},
          {"b": None, "stride": 3, "padding": 2}),
    OpRow("conv_fast", ops.conv_forward_fast, ops.conv_backward_fast,
          partial(conv_inputs, x=(2, 2, 5, 5), w=(2, 2, 3, 3)), {"conv_param": {"stride": 2, "pad": 0}}),
    OpRow("conv_transpose_naive", ops.conv_transpose_forward_naive, ops.conv_transpose_backward_naive,
          partial(conv_transpose_inputs, x=(2, 3, 3, 2), w=(3, 2, 3, 2)),
          {"conv_param": {"stride": (2, 1), "pad": 1, "output_padding": (1, 0)}}),
    OpRow("conv_transpose", ops.conv_transpose_forward, ops.conv_transpose_backward,
          partial(conv_transpose_inputs, x=(2, 2, 3, 4), w=(2, 3, 2, 3)),
          {"conv_param": {"stride": 2, "pad": (0, 1), "output_padding": 1}}),
    # stride 3 > kernel 2: windows that do not overlap, col2im's write path; pad 2 crops whole kernel rows
    OpRow("conv_transpose-no_bias-stride3", ops.conv_transpose_forward, ops.conv_transpose_backward,
          lambda r: {"x": r.standard_normal((1, 2, 4, 3)), "w": r.standard_normal((2, 2, 2, 2))},
          {"b": None, "conv_param": {"stride": 3, "pad": 2, "output_padding": (2, 1)}}),
    OpRow("max_pool_naive", ops.max_pool_forward_naive, ops.max_pool_backward_naive,
          lambda r: {"x": distinct(r, 2, 2, 5, 4)}, {"pool_param": {"pool_height": 2, "pool_width": 2, "stride": 1}}),
    OpRow("max_pool-overlap_pad", ops.max_pool_forward, ops.max_pool_backward, lambda r: {"x": distinct(r, 2, 2, 5, 6)},
          {"kernel_size": 3, "stride": 2, "padding": 1}),
    OpRow("max_pool_fast-tiles", ops.max_pool_forward_fast, ops.max_pool_backward_fast,
          lambda r: {"x": distinct(r, 2, 2, 4, 6)},
          {"pool_param": {"pool_height": 2, "pool_width": 3, "stride": (2, 3)}}),
    OpRow("avg_pool_naive", ops.avg_pool_forward_naive, ops.avg_pool_backward_naive,
          lambda r: {"x": r.standard_normal((2, 2, 5, 4))},
          {"pool_param": {"pool_height": 3, "pool_width": 2, "stride": 1, "pad": 1}}),
    OpRow("avg_pool-exclude_pad", ops.avg_pool_forward, ops.avg_pool_backward,
          lambda r: {"x": r.standard_normal((2, 2, 5, 4))},
          {"kernel_size": (3, 2), "stride": (2, 1), "padding": 1, "count_include_pad": False}),
    OpRow("adaptive_avg_pool", ops.adaptive_avg_pool_forward, ops.adaptive_avg_pool_backward,
          lambda r: {"x": r.standard_normal((2, 2, 5, 7))}, {"output_size": (3, 4)}),
    OpRow("adaptive_avg_pool-even", ops.adaptive_avg_pool_forward, ops.adaptive_avg_pool_backward,
          lambda r: {"x": r.standard_normal((2, 2, 6, 4))}, {"output_size": (3, 1)}),
]  # fmt: skip

MODULE_ROWS = [
    ModuleRow("Conv2d", lambda r: (nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=1, dtype=F64, rng=r),
                                   randn(r, 2, 2, 5, 4))),
    ModuleRow("Conv2d-same-no_bias",
              lambda r: (nn.Conv2d(2, 2, 3, padding="same", bias=False, dtype=F64, rng=r), randn(r, 1, 2, 4, 5))),
    ModuleRow("ConvTranspose2d",
              lambda r: (nn.ConvTranspose2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 0), output_padding=(1, 0),
                                            dtype=F64, rng=r), randn(r, 2, 2, 3, 4))),
    ModuleRow("ConvTranspose2d-no_bias",
              lambda r: (nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, bias=False, dtype=F64, rng=r),
                         randn(r, 1, 3, 3, 2))),
    ModuleRow("MaxPool2d", lambda r: (nn.MaxPool2d(3, 2, 1), (distinct(r, 2, 2, 5, 6),))),
    ModuleRow("AvgPool2d", lambda r: (nn.AvgPool2d(2, 1, 1, count_include_pad=False), randn(r, 2, 2, 4, 3))),
    ModuleRow("AdaptiveAvgPool2d", lambda r: (nn.AdaptiveAvgPool2d((3, 2)), randn(r, 2, 2, 5, 4))),
    ModuleRow("ThreeLayerConvNet", three_layer_convnet),  # kinks kept away: three_layer_convnet above
    # eval mode: BatchNorm is then a fixed affine map and dropout the identity, so the check is deterministic
    ModuleRow("ConvNet-eval", lambda r: (ConvNet(1, 3, channels=(2,), input_size=(6, 6), rng=r).eval(),
                                         randn(r, 2, 1, 6, 6))),
]  # fmt: skip
