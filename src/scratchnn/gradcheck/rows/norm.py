"""Gradient-check rows of normalization and dropout: BatchNorm (closed and graph forms), LayerNorm, GroupNorm,
dropout; their modules and the normalized FullyConnectedNets (ops/batchnorm.py, layernorm.py, groupnorm.py, dropout.py).

Affine parameters are random (not the ones/zeros init, under which a wrong dgamma could hide), running
statistics are random with positive variances, and dropout's mask is fixed by a seed, so every row
is deterministic and has a gradient to check.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from ... import nn, ops
from ...models import FullyConnectedNet
from .base import F64, ModuleRow, OpRow, randn


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


OP_ROWS = [
    OpRow("batchnorm-train", ops.batchnorm_forward, ops.batchnorm_backward_alt,
          partial(norm_inputs, shape=(6, 4), param_shape=(4,)), {"bn_param": {"mode": "train"}}),
    OpRow("batchnorm-train-graph_form", ops.batchnorm_forward, ops.batchnorm_backward,
          partial(norm_inputs, shape=(6, 4), param_shape=(4,)), {"bn_param": {"mode": "train"}}),
    OpRow("batchnorm-test", ops.batchnorm_forward, ops.batchnorm_backward_alt,
          partial(norm_inputs, shape=(6, 4), param_shape=(4,)), {"bn_param": bn_test_param(4)}),
    OpRow("batchnorm-test-graph_form", ops.batchnorm_forward, ops.batchnorm_backward,
          partial(norm_inputs, shape=(6, 4), param_shape=(4,)), {"bn_param": bn_test_param(4)}),
    OpRow("batchnorm-3d-train", ops.batchnorm_forward, ops.batchnorm_backward_alt,
          partial(norm_inputs, shape=(4, 3, 5), param_shape=(3,)), {"bn_param": {"mode": "train", "momentum": None}}),
    OpRow("batchnorm-no_affine", ops.batchnorm_forward, ops.batchnorm_backward_alt, partial(norm_x, shape=(6, 4)),
          {"gamma": None, "beta": None, "bn_param": {"mode": "train"}}),
    OpRow("batchnorm-untracked-test", ops.batchnorm_forward, ops.batchnorm_backward_alt,
          partial(norm_inputs, shape=(6, 4), param_shape=(4,)),
          {"bn_param": {"mode": "test", "track_running_stats": False}}),
    OpRow("spatial_batchnorm-train", ops.spatial_batchnorm_forward, ops.spatial_batchnorm_backward,
          partial(norm_inputs, shape=(3, 4, 3, 2), param_shape=(4,)), {"bn_param": {"mode": "train"}}),
    OpRow("spatial_batchnorm-test", ops.spatial_batchnorm_forward, ops.spatial_batchnorm_backward,
          partial(norm_inputs, shape=(3, 4, 3, 2), param_shape=(4,)), {"bn_param": bn_test_param(4)}),
    OpRow("layernorm", ops.layernorm_forward, ops.layernorm_backward,
          partial(norm_inputs, shape=(4, 5), param_shape=(5,)), {"ln_param": {}}),
    OpRow("layernorm-normalized_shape_2d", ops.layernorm_forward, ops.layernorm_backward,
          partial(norm_inputs, shape=(2, 3, 4), param_shape=(3, 4)), {"ln_param": {"eps": 1e-3}}),
    OpRow("layernorm-no_affine", ops.layernorm_forward, ops.layernorm_backward, partial(norm_x, shape=(2, 3, 4)),
          {"gamma": None, "beta": None, "ln_param": {"normalized_shape": (3, 4)}}),
    OpRow("spatial_groupnorm-G3", ops.spatial_groupnorm_forward, ops.spatial_groupnorm_backward,
          partial(norm_inputs, shape=(2, 6, 3, 2), param_shape=(6,)), {"G": 3, "gn_param": {}}),
    OpRow("spatial_groupnorm-G1-course_param_shape", ops.spatial_groupnorm_forward, ops.spatial_groupnorm_backward,
          partial(norm_inputs, shape=(2, 6, 3, 2), param_shape=(1, 6, 1, 1)), {"G": 1, "gn_param": {}}),
    OpRow("spatial_groupnorm-G6_instance", ops.spatial_groupnorm_forward, ops.spatial_groupnorm_backward,
          partial(norm_inputs, shape=(2, 6, 3, 2), param_shape=(6,)), {"G": 6, "gn_param": {"eps": 1e-3}}),
    OpRow("dropout-train-seeded_mask", ops.dropout_forward, ops.dropout_backward,
          lambda r: {"x": r.standard_normal((4, 5))}, {"dropout_param": {"p": 0.4, "mode": "train", "seed": 0}}),
    OpRow("dropout-test", ops.dropout_forward, ops.dropout_backward,
          lambda r: {"x": r.standard_normal((4, 5))}, {"dropout_param": {"p": 0.4, "mode": "test"}}),
]  # fmt: skip

MODULE_ROWS = [
    ModuleRow("BatchNorm1d", lambda r: norm_module(r, nn.BatchNorm1d(4), (6, 4))),
    ModuleRow("BatchNorm1d-3d", lambda r: norm_module(r, nn.BatchNorm1d(3), (4, 3, 5))),
    ModuleRow("BatchNorm1d-eval", lambda r: norm_module(r, nn.BatchNorm1d(4), (6, 4), train=False)),
    ModuleRow("BatchNorm1d-momentum_None-bias_False",
              lambda r: norm_module(r, nn.BatchNorm1d(4, momentum=None, bias=False), (6, 4))),
    ModuleRow("BatchNorm1d-affine_False", lambda r: norm_module(r, nn.BatchNorm1d(4, affine=False), (6, 4))),
    ModuleRow("BatchNorm1d-untracked-eval",
              lambda r: norm_module(r, nn.BatchNorm1d(4, track_running_stats=False), (6, 4), train=False)),
    ModuleRow("BatchNorm2d", lambda r: norm_module(r, nn.BatchNorm2d(3), (2, 3, 3, 4))),
    ModuleRow("BatchNorm2d-eval", lambda r: norm_module(r, nn.BatchNorm2d(3), (2, 3, 3, 4), train=False)),
    ModuleRow("LayerNorm", lambda r: norm_module(r, nn.LayerNorm(5), (4, 5))),
    ModuleRow("LayerNorm-2d_shape-bias_False", lambda r: norm_module(r, nn.LayerNorm((3, 4), bias=False), (2, 3, 4))),
    ModuleRow("LayerNorm-elementwise_affine_False",
              lambda r: norm_module(r, nn.LayerNorm(5, elementwise_affine=False), (4, 5))),
    ModuleRow("GroupNorm", lambda r: norm_module(r, nn.GroupNorm(2, 4), (2, 4, 3, 3))),
    ModuleRow("GroupNorm-1_group-3d", lambda r: norm_module(r, nn.GroupNorm(1, 3), (2, 3, 5))),
    ModuleRow("GroupNorm-instance-affine_False",
              lambda r: norm_module(r, nn.GroupNorm(4, 4, affine=False), (2, 4, 3, 2))),
    ModuleRow("Dropout-eval", lambda r: (nn.Dropout(0.3).eval(), randn(r, 4, 5))),
    ModuleRow("Dropout-fixed_mask", lambda r: (FixedMaskDropout(0.3), randn(r, 4, 5))),
    ModuleRow("FullyConnectedNet-batchnorm-eval", lambda r: fc_norm_net(r, "batchnorm", 0.0, train=False)),
    ModuleRow("FullyConnectedNet-layernorm-dropout", lambda r: fc_norm_net(r, "layernorm", 0.3)),
    ModuleRow("FullyConnectedNet-dropout", lambda r: fc_norm_net(r, None, 0.25)),
]  # fmt: skip
