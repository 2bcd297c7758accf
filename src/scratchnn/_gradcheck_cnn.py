"""Gradient-check fixtures for the convolutional models (rows of ``gradcheck_specs.MODULE_ROWS``).

A finite difference across a kink (a ReLU input at 0, two maxima of a pool window swapping) measures
the wrong slope, so the fixtures draw models and inputs until every kink is at least ``MARGIN`` away.
"""

from __future__ import annotations

import numpy as np

from .models import ThreeLayerConvNet
from .ops.conv import conv_forward

MARGIN = 1e-3


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
