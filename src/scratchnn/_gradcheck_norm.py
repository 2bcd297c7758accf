"""Inputs and modules for the normalization and dropout rows of the gradient-check tables (gradcheck_specs.py).

Affine parameters are random (not the ones/zeros init, under which a wrong dgamma could hide), running
statistics are random with positive variances, and dropout's mask is fixed by a seed, so every row
is deterministic and has a gradient to check.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import nn
from .models import FullyConnectedNet

F64 = np.float64


def norm_inputs(r: np.random.Generator, shape: tuple[int, ...], param_shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """x (shifted and scaled, so the statistics matter), gamma around 1, beta."""
    x = 2 * r.standard_normal(shape) + 0.5
    return {"x": x, "gamma": 1 + 0.5 * r.standard_normal(param_shape), "beta": r.standard_normal(param_shape)}


def norm_x(r: np.random.Generator, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """x alone, for a normalization without affine parameters."""
    return {"x": 2 * r.standard_normal(shape) + 0.5}


def bn_test_param(C: int) -> dict[str, Any]:
    """A test-mode bn_param with fixed random running statistics (positive variances)."""
    r = np.random.default_rng(7)
    return {"mode": "test", "running_mean": r.standard_normal(C), "running_var": r.uniform(0.5, 2.0, C)}


def randomize(module: nn.Module, r: np.random.Generator) -> nn.Module:
    """Random weight (around 1), bias and running statistics for a normalization module, in place."""
    for name, p in module.named_parameters():
        p.data[...] = (1 + 0.5 * r.standard_normal(p.shape)) if name.endswith("weight") else r.standard_normal(p.shape)
    for name, b in module.named_buffers():
        if "running_mean" in name:
            b[...] = r.standard_normal(b.shape)
        elif "running_var" in name:
            b[...] = r.uniform(0.5, 2.0, b.shape)
    return module


def norm_module(
    r: np.random.Generator, module: nn.Module, shape: tuple[int, ...], train: bool = True
) -> tuple[nn.Module, tuple[np.ndarray, ...]]:
    """A float64 normalization module with random parameters and statistics, in the given mode, and its input."""
    randomize(module.double(), r).train(train)
    return module, (2 * r.standard_normal(shape) + 0.5,)


class FixedMaskDropout(nn.Dropout):
    """Dropout whose generator is rewound before every forward: the same mask on every call, a fixed function."""

    def forward(self, input: np.ndarray) -> np.ndarray:
        self.rng = np.random.default_rng(0)
        return super().forward(input)


def fc_norm_net(
    r: np.random.Generator, normalization: str | None, dropout: float, train: bool = True
) -> tuple[nn.Module, tuple[np.ndarray, ...]]:
    """A FullyConnectedNet with random gammas, betas, biases (and running statistics), in train mode (batch
    statistics; a seed fixes the dropout masks) or eval mode, and an input whose every ReLU input is away from
    the kink at 0. (Train-mode BatchNorm cancels the bias before it, whose zero gradient has no relative error
    to check: the model tests cover that case.)"""
    while True:
        model = FullyConnectedNet(
            [6, 5], input_dim=6, num_classes=3, dropout=dropout, normalization=normalization,
            weight_init="he", dtype=F64, seed=int(r.integers(2**31)),
        )  # fmt: skip
        for name in model.params:
            value = r.standard_normal(model.params[name].shape)
            if name.startswith("gamma"):
                model.params[name] = 1 + 0.5 * value
            elif name.startswith(("b", "beta")):
                model.params[name] = 0.5 * value
        randomize(model, r).train(train)
        X = r.standard_normal((5, 2, 3))
        model(X)
        relu_inputs = [layer[2] for layer in model._saved()[:-1]]  # (fc, norm, relu, dropout) caches
        if min(float(np.abs(a).min()) for a in relu_inputs) > 1e-3:
            return model, (X,)
