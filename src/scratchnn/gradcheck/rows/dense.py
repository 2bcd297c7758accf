"""Gradient-check rows of the dense area: affine, activations, softmax, the losses, the word embedding and
the temporal layers; Linear, the containers, the activation and loss modules, Embedding, ``FullyConnectedNet``
(ops/affine.py, activations.py, losses.py, embedding.py, temporal.py)."""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np

from ... import nn, ops
from ...models import FullyConnectedNet
from .base import F64, ModuleRow, OpRow, args, away_from_zero, randn


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


WEIGHT4 = np.array([0.5, 2.0, 1.0, 0.25])  # class weights for 4 classes
BCE_WEIGHT_FULL = np.linspace(0.5, 2.0, 12).reshape(4, 3)  # one weight per element of a (4, 3) input
BCE_WEIGHT_ROW = np.array([[0.5], [2.0], [1.0], [3.0]])  # one per sample, broadcast over the 3 outputs
POS_WEIGHT3 = np.array([0.3, 1.0, 4.0])


def embedding_inputs(rng: np.random.Generator, shape: tuple[int, ...], V: int) -> dict[str, np.ndarray]:
    """Ids with repeats (more ids than rows), and a table. Every id of a small V repeated ~10 times takes
    the scatter's reduceat path for long runs as well as its rounds."""
    return {"x": rng.integers(0, V, shape), "W": rng.standard_normal((V, 4))}


def temporal_loss_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Scores, labels and a mask with masked steps in every sequence's tail and one in the middle."""
    x, y = rng.standard_normal((3, 4, 5)), rng.integers(0, 5, (3, 4))
    mask = np.arange(4)[None, :] < np.array([4, 2, 3])[:, None]  # (N, T): lengths 4, 2, 3
    mask[0, 1] = False
    return {"x": x, "y": y, "mask": mask}


OP_ROWS = [
    OpRow("affine", ops.affine_forward, ops.affine_backward,
          lambda r: {"x": r.standard_normal((4, 2, 3)), "w": r.standard_normal((6, 5)), "b": r.standard_normal(5)}),
    OpRow("affine_relu", ops.affine_relu_forward, ops.affine_relu_backward, affine_relu_inputs),
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
    OpRow("word_embedding", ops.word_embedding_forward, ops.word_embedding_backward,
          lambda r: embedding_inputs(r, (4, 3), 7)),
    OpRow("word_embedding-1d_frequent_ids", ops.word_embedding_forward, ops.word_embedding_backward,
          lambda r: embedding_inputs(r, (30,), 3)),
    OpRow("temporal_affine", ops.temporal_affine_forward, ops.temporal_affine_backward,
          lambda r: {"x": r.standard_normal((2, 3, 4)), "w": r.standard_normal((4, 5)), "b": r.standard_normal(5)}),
    OpRow("temporal_softmax_loss", ops.temporal_softmax_loss, None, temporal_loss_inputs, loss=True),
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
    ModuleRow("Linear", lambda r: (nn.Linear(5, 3, dtype=F64, rng=r), randn(r, 4, 5))),
    ModuleRow("Linear-3d_input", lambda r: (nn.Linear(5, 3, dtype=F64, rng=r), randn(r, 2, 3, 5))),
    ModuleRow("Linear-no_bias", lambda r: (nn.Linear(5, 3, bias=False, dtype=F64, rng=r), randn(r, 4, 5))),
    ModuleRow("ReLU", lambda r: (nn.ReLU(), (away_from_zero(r.standard_normal((3, 5))),))),
    ModuleRow("LeakyReLU", lambda r: (nn.LeakyReLU(), (away_from_zero(r.standard_normal((3, 5))),))),
    ModuleRow("LeakyReLU-slope0.2", lambda r: (nn.LeakyReLU(0.2), (away_from_zero(r.standard_normal((3, 5))),))),
    ModuleRow("Sigmoid", lambda r: (nn.Sigmoid(), (3 * r.standard_normal((3, 5)),))),
    ModuleRow("Tanh", lambda r: (nn.Tanh(), randn(r, 3, 5))),
    ModuleRow("GELU", lambda r: (nn.GELU(), args(gelu_inputs(r)))),
    ModuleRow("GELU-tanh", lambda r: (nn.GELU(approximate="tanh"), args(gelu_inputs(r)))),
    ModuleRow("Softmax-dim1", lambda r: (nn.Softmax(dim=1), randn(r, 3, 5))),
    ModuleRow("Softmax-3d_dim-1", lambda r: (nn.Softmax(dim=-1), randn(r, 2, 3, 4))),
    ModuleRow("Flatten", lambda r: (nn.Flatten(), randn(r, 2, 3, 4))),
    ModuleRow("Flatten-0_1", lambda r: (nn.Flatten(0, 1), randn(r, 2, 3, 4))),
    ModuleRow("Identity", lambda r: (nn.Identity(), randn(r, 3, 4))),
    ModuleRow("Sequential-Linear-ReLU-Linear", relu_mlp),
    ModuleRow("FullyConnectedNet", fc_net),
    # integer ids have no gradient: the table's rows (all of them) are checked; padding_idx is no derivative
    ModuleRow("Embedding", lambda r: (nn.Embedding(7, 4, dtype=F64, rng=r), (r.integers(0, 7, (4, 3)),))),
    ModuleRow("Embedding-1d_frequent_ids", lambda r: (nn.Embedding(3, 4, dtype=F64, rng=r), (r.integers(0, 3, 30),))),
    # losses: (input, target); check_module differentiates the input only (the target is input1, never checked)
    ModuleRow("CrossEntropyLoss", lambda r: (nn.CrossEntropyLoss(), args(class_inputs(r, None)))),
    ModuleRow("CrossEntropyLoss-sum-weight-ignore-ls0.2",
              lambda r: (nn.CrossEntropyLoss(WEIGHT4, ignore_index=2, reduction="sum", label_smoothing=0.2),
                         args(class_inputs(r, 2)))),
    ModuleRow("CrossEntropyLoss-none-3d_input-ignore",
              lambda r: (nn.CrossEntropyLoss(ignore_index=1, reduction="none"), _spatial_classes(r, 1))),
    ModuleRow("CrossEntropyLoss-mean-3d_input-weight-ls0.1",
              lambda r: (nn.CrossEntropyLoss(WEIGHT4, label_smoothing=0.1), _spatial_classes(r, None))),
    ModuleRow("MultiMarginLoss", lambda r: (nn.MultiMarginLoss(), args(hinge_scores(r, 5, 4, 1.0)))),
    ModuleRow("MultiMarginLoss-p2-margin0.5-weight-none",
              lambda r: (nn.MultiMarginLoss(p=2, margin=0.5, weight=WEIGHT4, reduction="none"),
                         args(hinge_scores(r, 5, 4, 0.5)))),
    ModuleRow("MultiMarginLoss-unbatched-sum",
              lambda r: (nn.MultiMarginLoss(reduction="sum"), _unbatched_hinge(r))),
    ModuleRow("MSELoss", lambda r: (nn.MSELoss(), args(pair_inputs(r, False)))),
    ModuleRow("MSELoss-sum", lambda r: (nn.MSELoss(reduction="sum"), args(pair_inputs(r, False)))),
    ModuleRow("MSELoss-none", lambda r: (nn.MSELoss(reduction="none"), args(pair_inputs(r, False)))),
    ModuleRow("BCEWithLogitsLoss", lambda r: (nn.BCEWithLogitsLoss(), args(pair_inputs(r, True)))),
    ModuleRow("BCEWithLogitsLoss-sum-weight-pos_weight",
              lambda r: (nn.BCEWithLogitsLoss(BCE_WEIGHT_ROW, reduction="sum", pos_weight=POS_WEIGHT3),
                         args(pair_inputs(r, True)))),
    ModuleRow("BCEWithLogitsLoss-none-pos_weight",
              lambda r: (nn.BCEWithLogitsLoss(reduction="none", pos_weight=POS_WEIGHT3), args(pair_inputs(r, True)))),
]  # fmt: skip
