"""THE gradient-check tables: one row per op and one per module, for the test suite and `scratchnn gradcheck`.

An op row names an ops pair (or a loss) and makes its inputs; a module row builds a module (float64)
and its inputs. ``check_op`` / ``check_module`` draw a random (not all-ones) upstream gradient:
``dout`` for ops and modules, ``dloss`` for losses (a scalar for 'mean'/'sum', an array for 'none').
Inputs are kept away from kinks: ReLU/LeakyReLU away from 0, hinge margins away from 0.
A new op or module is one new row here (STYLE.md #9); :mod:`scratchnn.gradcheck_table` runs them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from . import nn, ops
from ._gradcheck_cnn import three_layer_convnet
from ._gradcheck_norm import FixedMaskDropout, bn_test_param, fc_norm_net, norm_inputs, norm_module, norm_x
from .models import ConvNet, FullyConnectedNet

TOL = 1e-7  # worst relative error allowed, unless a row says why it needs more
# Central-difference step: the error is ~h^2 |f'''| / 6 (truncation) + eps |f| / h (rounding); h = 1e-5
# balances the two for O(1) values. At 1e-6 the rounding noise (~1e-10) reaches 1e-7 relative on the
# small gradient entries (~1e-4) that class weights with label smoothing produce.
H = 1e-5
F64 = np.float64


@dataclass
class OpRow:
    id: str
    forward: Callable[..., Any]
    backward: Callable[..., Any] | None
    make: Callable[[np.random.Generator], dict[str, np.ndarray]]  # seeded rng -> the forward's arrays
    kwargs: dict[str, Any] = field(default_factory=dict)
    loss: bool = False
    tol: float = TOL


@dataclass
class ModuleRow:
    id: str
    make: Callable[[np.random.Generator], tuple[nn.Module, tuple[np.ndarray, ...]]]  # rng -> (module, inputs)
    tol: float = TOL


def away_from_zero(x: np.ndarray, gap: float = 0.05) -> np.ndarray:
    """Push values out of (-gap, gap), so no finite difference step crosses a kink at 0."""
    return np.where(x >= 0, x + gap, x - gap)


def gelu_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Values in [-4, 4] including both erf tails (|x| > 2 sqrt 2, the continued fraction), away from
    GELU's minimum near -0.752 where the gradient crosses 0 (a relative error there is meaningless)."""
    x = rng.uniform(-4, 4, (4, 5))
    x[0, :2] = -3.5, 3.2
    return {"x": np.where(np.abs(x + 0.752) < 0.05, x + 0.1, x)}


def affine_relu_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    x, w, b = rng.standard_normal((4, 2, 3)), rng.standard_normal((6, 5)), rng.standard_normal(5)
    pre = x.reshape(4, -1) @ w + b
    if np.abs(pre).min() <= 1e-3:
        raise RuntimeError("pre-activation too close to the ReLU kink")
    return {"x": x, "w": w, "b": b}


def hinge_scores(rng: np.random.Generator, n: int, c: int, margin: float) -> dict[str, np.ndarray]:
    """Scores and labels with every margin + x_j - x_y at least 0.02 away from the hinge at 0."""
    while True:
        x, y = rng.standard_normal((n, c)), rng.integers(0, c, n)
        z = margin + x - x[np.arange(n), y][:, None]
        z[np.arange(n), y] = 1.0
        if np.abs(z).min() > 0.02 and (z > 0).sum() > n:  # some active and some inactive margins
            return {"x": x, "y": y}


def class_inputs(rng: np.random.Generator, ignore: int | None) -> dict[str, np.ndarray]:
    x, y = 2 * rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    if ignore is not None:
        y[[1, 3]] = ignore  # two ignored samples
    return {"x": x, "y": y}


def pair_inputs(rng: np.random.Generator, soft_targets: bool) -> dict[str, np.ndarray]:
    x = 3 * rng.standard_normal((4, 3))
    y = rng.uniform(0, 1, (4, 3)) if soft_targets else rng.standard_normal((4, 3))
    return {"x": x, "y": y}


def distinct(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Values 0.1 apart in random order: no two entries of a pooling window tie (max pooling's kink)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) - n / 2).reshape(shape) * 0.1


def conv_inputs(rng: np.random.Generator, x: tuple[int, ...], w: tuple[int, ...]) -> dict[str, np.ndarray]:
    return {"x": rng.standard_normal(x), "w": rng.standard_normal(w), "b": rng.standard_normal(w[0])}


WEIGHT4 = np.array([0.5, 2.0, 1.0, 0.25])  # class weights for 4 classes
BCE_WEIGHT_FULL = np.linspace(0.5, 2.0, 12).reshape(4, 3)  # one weight per element of a (4, 3) input
BCE_WEIGHT_ROW = np.array([[0.5], [2.0], [1.0], [3.0]])  # one per sample, broadcast over the 3 outputs
POS_WEIGHT3 = np.array([0.3, 1.0, 4.0])

OP_ROWS = [
    OpRow("affine", ops.affine_forward, ops.affine_backward,
          lambda r: {"x": r.standard_normal((4, 2, 3)), "w": r.standard_normal((6, 5)), "b": r.standard_normal(5)}),
    OpRow("affine_relu", ops.affine_relu_forward, ops.affine_relu_backward, affine_relu_inputs),
    # convolution and pooling (ops/conv.py, conv_naive.py, pool.py, pool_naive.py)
    OpRow("conv_naive", ops.conv_forward_naive, ops.conv_backward_naive,
          partial(conv_inputs, x=(2, 3, 5, 4), w=(2, 3, 3, 2)), {"conv_param": {"stride": (2, 1), "pad": 1}}),
    OpRow("conv", ops.conv_forward, ops.conv_backward, partial(conv_inputs, x=(2, 2, 4, 5), w=(3, 2, 2, 3)),
          {"stride": 1, "padding": (1, 2)}),
    OpRow("conv-no_bias-stride3", ops.conv_forward, ops.conv_backward,
          lambda r: {"x": r.standard_normal((1, 2, 7, 6)), "w": r.standard_normal((2, 2, 3, 3))},
          {"b": None, "stride": 3, "padding": 2}),
    OpRow("conv_fast", ops.conv_forward_fast, ops.conv_backward_fast,
          partial(conv_inputs, x=(2, 2, 5, 5), w=(2, 2, 3, 3)), {"conv_param": {"stride": 2, "pad": 0}}),
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
    OpRow("relu", ops.relu_forward, ops.relu_backward, lambda r: {"x": away_from_zero(r.standard_normal((3, 5)))}),
    OpRow("leaky_relu", ops.leaky_relu_forward, ops.leaky_relu_backward,
          lambda r: {"x": away_from_zero(r.standard_normal((3, 5)))}),
    OpRow("leaky_relu_slope0.2", ops.leaky_relu_forward, ops.leaky_relu_backward,
          lambda r: {"x": away_from_zero(r.standard_normal((3, 5)))}, {"negative_slope": 0.2}),
    OpRow("sigmoid", ops.sigmoid_forward, ops.sigmoid_backward, lambda r: {"x": 3 * r.standard_normal((3, 5))}),
    OpRow("tanh", ops.tanh_forward, ops.tanh_backward, lambda r: {"x": r.standard_normal((3, 5))}),
    OpRow("gelu", ops.gelu_forward, ops.gelu_backward, gelu_inputs),
    OpRow("gelu_tanh", ops.gelu_forward, ops.gelu_backward, gelu_inputs, {"approximate": "tanh"}),
    OpRow("softmax", ops.softmax_forward, ops.softmax_backward, lambda r: {"x": r.standard_normal((3, 5))}),
    OpRow("softmax_axis0", ops.softmax_forward, ops.softmax_backward, lambda r: {"x": r.standard_normal((3, 5))},
          {"axis": 0}),
    OpRow("softmax_3d_axis1", ops.softmax_forward, ops.softmax_backward,
          lambda r: {"x": r.standard_normal((2, 3, 4))}, {"axis": 1}),
    OpRow("svm_loss", ops.svm_loss, None, lambda r: hinge_scores(r, 5, 4, 1.0), loss=True),
    *[
        OpRow(f"softmax_loss-{red}-w{w is not None}-ignore{ign}-ls{ls}", ops.softmax_loss, None,
              partial(class_inputs, ignore=ign),
              {"weight": w, "ignore_index": -100 if ign is None else ign, "reduction": red, "label_smoothing": ls},
              loss=True)
        for red, w, ign, ls in itertools.product(("mean", "sum", "none"), (None, WEIGHT4), (None, 2), (0.0, 0.2))
    ],
    *[
        OpRow(f"multi_margin_loss-{red}-p{p}-margin{m}-w{w is not None}", ops.multi_margin_loss, None,
              partial(hinge_scores, n=5, c=4, margin=m), {"p": p, "margin": m, "weight": w, "reduction": red},
              loss=True)
        for red, p, m, w in itertools.product(("mean", "sum", "none"), (1, 2), (1.0, 0.5), (None, WEIGHT4))
    ],
    *[
        OpRow(f"mse_loss-{red}", ops.mse_loss, None, lambda r: pair_inputs(r, False), {"reduction": red}, loss=True)
        for red in ("mean", "sum", "none")
    ],
    *[
        OpRow(f"bce_with_logits_loss-{red}-w{wn}-pw{pw is not None}", ops.bce_with_logits_loss, None,
              lambda r: pair_inputs(r, True), {"weight": w, "pos_weight": pw, "reduction": red}, loss=True)
        for red, (wn, w), pw in itertools.product(
            ("mean", "sum", "none"),
            (("none", None), ("full", BCE_WEIGHT_FULL), ("row", BCE_WEIGHT_ROW)),
            (None, POS_WEIGHT3),
        )
    ],
    # normalization and dropout (inputs: _gradcheck_norm.py); BatchNorm's closed form and graph form both
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


# ---------------------------------------------------------------- modules
def relu_mlp(rng: np.random.Generator) -> tuple[nn.Module, tuple[np.ndarray, ...]]:
    """Sequential(Linear, ReLU, Linear) and an input whose hidden pre-activations avoid the kink at 0."""
    while True:
        first = nn.Linear(5, 6, dtype=F64, rng=rng)
        net = nn.Sequential(first, nn.ReLU(), nn.Linear(6, 3, dtype=F64, rng=rng))
        x = rng.standard_normal((4, 5))
        if np.abs(first(x)).min() > 1e-3:  # the ReLU's input
            return net, (x,)


def fc_net(rng: np.random.Generator) -> tuple[nn.Module, tuple[np.ndarray, ...]]:
    """A two-hidden-layer FullyConnectedNet (random biases) and an input with every ReLU input away from 0."""
    while True:
        model = FullyConnectedNet(
            [6, 5], input_dim=6, num_classes=3, weight_init="he", dtype=F64, seed=int(rng.integers(2**31))
        )
        for i in (1, 2, 3):
            model.params[f"b{i}"] = 0.5 * rng.standard_normal(model.params[f"b{i}"].shape)
        X = rng.standard_normal((4, 2, 3))
        h, gap = X.reshape(4, -1), np.inf  # (N, 2, 3) -> (N, 6)
        for i in (1, 2):
            pre = h @ model.params[f"W{i}"] + model.params[f"b{i}"]  # (N, D) @ (D, H_i) -> (N, H_i)
            gap, h = min(gap, float(np.abs(pre).min())), np.maximum(pre, 0)
        if gap > 1e-3:
            return model, (X,)


def _args(inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    return tuple(inputs.values())


def _randn(r: np.random.Generator, *shape: int) -> tuple[np.ndarray, ...]:
    return (r.standard_normal(shape),)


def _spatial_classes(r: np.random.Generator, ignore: int | None) -> tuple[np.ndarray, ...]:
    # unit-scale scores: a saturated softmax leaves gradient entries ~1e-5 whose relative error is rounding noise
    x, y = r.standard_normal((2, 4, 3)), r.integers(0, 4, (2, 3))  # (N, C, d_1) scores, (N, d_1) labels
    if ignore is not None:
        y[0, 1] = ignore
    return x, y


def _unbatched_hinge(r: np.random.Generator) -> tuple[np.ndarray, ...]:
    xy = hinge_scores(r, 1, 4, 1.0)
    return xy["x"][0], xy["y"][0:1].reshape(())  # (1, C) -> (C,), (1,) -> ()


MODULE_ROWS = [
    ModuleRow("Linear", lambda r: (nn.Linear(5, 3, dtype=F64, rng=r), _randn(r, 4, 5))),
    ModuleRow("Linear-3d_input", lambda r: (nn.Linear(5, 3, dtype=F64, rng=r), _randn(r, 2, 3, 5))),
    ModuleRow("Linear-no_bias", lambda r: (nn.Linear(5, 3, bias=False, dtype=F64, rng=r), _randn(r, 4, 5))),
    ModuleRow("Conv2d", lambda r: (nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=1, dtype=F64, rng=r),
                                   _randn(r, 2, 2, 5, 4))),
    ModuleRow("Conv2d-same-no_bias",
              lambda r: (nn.Conv2d(2, 2, 3, padding="same", bias=False, dtype=F64, rng=r), _randn(r, 1, 2, 4, 5))),
    ModuleRow("MaxPool2d", lambda r: (nn.MaxPool2d(3, 2, 1), (distinct(r, 2, 2, 5, 6),))),
    ModuleRow("AvgPool2d", lambda r: (nn.AvgPool2d(2, 1, 1, count_include_pad=False), _randn(r, 2, 2, 4, 3))),
    ModuleRow("AdaptiveAvgPool2d", lambda r: (nn.AdaptiveAvgPool2d((3, 2)), _randn(r, 2, 2, 5, 4))),
    ModuleRow("ReLU", lambda r: (nn.ReLU(), (away_from_zero(r.standard_normal((3, 5))),))),
    ModuleRow("LeakyReLU", lambda r: (nn.LeakyReLU(), (away_from_zero(r.standard_normal((3, 5))),))),
    ModuleRow("LeakyReLU-slope0.2", lambda r: (nn.LeakyReLU(0.2), (away_from_zero(r.standard_normal((3, 5))),))),
    ModuleRow("Sigmoid", lambda r: (nn.Sigmoid(), (3 * r.standard_normal((3, 5)),))),
    ModuleRow("Tanh", lambda r: (nn.Tanh(), _randn(r, 3, 5))),
    ModuleRow("GELU", lambda r: (nn.GELU(), _args(gelu_inputs(r)))),
    ModuleRow("GELU-tanh", lambda r: (nn.GELU(approximate="tanh"), _args(gelu_inputs(r)))),
    ModuleRow("Softmax-dim1", lambda r: (nn.Softmax(dim=1), _randn(r, 3, 5))),
    ModuleRow("Softmax-3d_dim-1", lambda r: (nn.Softmax(dim=-1), _randn(r, 2, 3, 4))),
    ModuleRow("Flatten", lambda r: (nn.Flatten(), _randn(r, 2, 3, 4))),
    ModuleRow("Flatten-0_1", lambda r: (nn.Flatten(0, 1), _randn(r, 2, 3, 4))),
    ModuleRow("Identity", lambda r: (nn.Identity(), _randn(r, 3, 4))),
    ModuleRow("Sequential-Linear-ReLU-Linear", relu_mlp),
    ModuleRow("FullyConnectedNet", fc_net),
    ModuleRow("ThreeLayerConvNet", three_layer_convnet),  # kinks kept away: _gradcheck_cnn.py
    # eval mode: BatchNorm is then a fixed affine map and dropout the identity, so the check is deterministic
    ModuleRow("ConvNet-eval", lambda r: (ConvNet(1, 3, channels=(2,), input_size=(6, 6), rng=r).eval(),
                                         _randn(r, 2, 1, 6, 6))),
    # losses: (input, target); check_module differentiates the input only (the target is input1, never checked)
    ModuleRow("CrossEntropyLoss", lambda r: (nn.CrossEntropyLoss(), _args(class_inputs(r, None)))),
    ModuleRow("CrossEntropyLoss-sum-weight-ignore-ls0.2",
              lambda r: (nn.CrossEntropyLoss(WEIGHT4, ignore_index=2, reduction="sum", label_smoothing=0.2),
                         _args(class_inputs(r, 2)))),
    ModuleRow("CrossEntropyLoss-none-3d_input-ignore",
              lambda r: (nn.CrossEntropyLoss(ignore_index=1, reduction="none"), _spatial_classes(r, 1))),
    ModuleRow("CrossEntropyLoss-mean-3d_input-weight-ls0.1",
              lambda r: (nn.CrossEntropyLoss(WEIGHT4, label_smoothing=0.1), _spatial_classes(r, None))),
    ModuleRow("MultiMarginLoss", lambda r: (nn.MultiMarginLoss(), _args(hinge_scores(r, 5, 4, 1.0)))),
    ModuleRow("MultiMarginLoss-p2-margin0.5-weight-none",
              lambda r: (nn.MultiMarginLoss(p=2, margin=0.5, weight=WEIGHT4, reduction="none"),
                         _args(hinge_scores(r, 5, 4, 0.5)))),
    ModuleRow("MultiMarginLoss-unbatched-sum",
              lambda r: (nn.MultiMarginLoss(reduction="sum"), _unbatched_hinge(r))),
    ModuleRow("MSELoss", lambda r: (nn.MSELoss(), _args(pair_inputs(r, False)))),
    ModuleRow("MSELoss-sum", lambda r: (nn.MSELoss(reduction="sum"), _args(pair_inputs(r, False)))),
    ModuleRow("MSELoss-none", lambda r: (nn.MSELoss(reduction="none"), _args(pair_inputs(r, False)))),
    ModuleRow("BCEWithLogitsLoss", lambda r: (nn.BCEWithLogitsLoss(), _args(pair_inputs(r, True)))),
    ModuleRow("BCEWithLogitsLoss-sum-weight-pos_weight",
              lambda r: (nn.BCEWithLogitsLoss(BCE_WEIGHT_ROW, reduction="sum", pos_weight=POS_WEIGHT3),
                         _args(pair_inputs(r, True)))),
    ModuleRow("BCEWithLogitsLoss-none-pos_weight",
              lambda r: (nn.BCEWithLogitsLoss(reduction="none", pos_weight=POS_WEIGHT3), _args(pair_inputs(r, True)))),
    # normalization and dropout (random affine parameters and running statistics: _gradcheck_norm.py)
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
    ModuleRow("Dropout-eval", lambda r: (nn.Dropout(0.3).eval(), _randn(r, 4, 5))),
    ModuleRow("Dropout-fixed_mask", lambda r: (FixedMaskDropout(0.3), _randn(r, 4, 5))),
    ModuleRow("FullyConnectedNet-batchnorm-eval", lambda r: fc_norm_net(r, "batchnorm", 0.0, train=False)),
    ModuleRow("FullyConnectedNet-layernorm-dropout", lambda r: fc_norm_net(r, "layernorm", 0.3)),
    ModuleRow("FullyConnectedNet-dropout", lambda r: fc_norm_net(r, None, 0.25)),
]  # fmt: skip
