"""THE op-spec table: every ops pair and loss against float64 central differences.

One row per op and per loss option combination. ``check_op`` draws a random (not all-ones) upstream
gradient: ``dout`` for ops, ``dloss`` for losses (a scalar for 'mean'/'sum', an array for 'none').
Inputs are kept away from kinks: ReLU/LeakyReLU away from 0, hinge margins away from 0.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from scratchnn import ops
from scratchnn.gradcheck import check_op
from scratchnn.ops import activations, affine, losses

TOL = 1e-7  # worst relative error allowed, unless a row says why it needs more
# Central-difference step: the error is ~h^2 |f'''| / 6 (truncation) + eps |f| / h (rounding); h = 1e-5
# balances the two for O(1) values. At 1e-6 the rounding noise (~1e-10) reaches 1e-7 relative on the
# small gradient entries (~1e-4) that class weights with label smoothing produce.
H = 1e-5


@dataclass
class Row:
    id: str
    forward: Callable[..., Any]
    backward: Callable[..., Any] | None
    make: Callable[[np.random.Generator], dict[str, np.ndarray]]  # seeded rng -> the forward's arrays
    kwargs: dict[str, Any] = field(default_factory=dict)
    loss: bool = False
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
    assert np.abs(pre).min() > 1e-3, "pre-activation too close to the ReLU kink"
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

ROWS = [
    Row("affine", ops.affine_forward, ops.affine_backward,
        lambda r: {"x": r.standard_normal((4, 2, 3)), "w": r.standard_normal((6, 5)), "b": r.standard_normal(5)}),
    Row("affine_relu", ops.affine_relu_forward, ops.affine_relu_backward, affine_relu_inputs),
    Row("relu", ops.relu_forward, ops.relu_backward, lambda r: {"x": away_from_zero(r.standard_normal((3, 5)))}),
    Row("leaky_relu", ops.leaky_relu_forward, ops.leaky_relu_backward,
        lambda r: {"x": away_from_zero(r.standard_normal((3, 5)))}),
    Row("leaky_relu_slope0.2", ops.leaky_relu_forward, ops.leaky_relu_backward,
        lambda r: {"x": away_from_zero(r.standard_normal((3, 5)))}, {"negative_slope": 0.2}),
    Row("sigmoid", ops.sigmoid_forward, ops.sigmoid_backward, lambda r: {"x": 3 * r.standard_normal((3, 5))}),
    Row("tanh", ops.tanh_forward, ops.tanh_backward, lambda r: {"x": r.standard_normal((3, 5))}),
    Row("gelu", ops.gelu_forward, ops.gelu_backward, gelu_inputs),
    Row("gelu_tanh", ops.gelu_forward, ops.gelu_backward, gelu_inputs, {"approximate": "tanh"}),
    Row("softmax", ops.softmax_forward, ops.softmax_backward, lambda r: {"x": r.standard_normal((3, 5))}),
    Row("softmax_axis0", ops.softmax_forward, ops.softmax_backward, lambda r: {"x": r.standard_normal((3, 5))},
        {"axis": 0}),
    Row("softmax_3d_axis1", ops.softmax_forward, ops.softmax_backward,
        lambda r: {"x": r.standard_normal((2, 3, 4))}, {"axis": 1}),
    Row("svm_loss", ops.svm_loss, None, lambda r: hinge_scores(r, 5, 4, 1.0), loss=True),
    *[
        Row(f"softmax_loss-{red}-w{w is not None}-ignore{ign}-ls{ls}", ops.softmax_loss, None,
            lambda r, ign=ign: class_inputs(r, ign),
            {"weight": w, "ignore_index": -100 if ign is None else ign, "reduction": red, "label_smoothing": ls},
            loss=True)
        for red, w, ign, ls in itertools.product(("mean", "sum", "none"), (None, WEIGHT4), (None, 2), (0.0, 0.2))
    ],
    *[
        Row(f"multi_margin_loss-{red}-p{p}-margin{m}-w{w is not None}", ops.multi_margin_loss, None,
            lambda r, m=m: hinge_scores(r, 5, 4, m), {"p": p, "margin": m, "weight": w, "reduction": red},
            loss=True)
        for red, p, m, w in itertools.product(("mean", "sum", "none"), (1, 2), (1.0, 0.5), (None, WEIGHT4))
    ],
    *[
        Row(f"mse_loss-{red}", ops.mse_loss, None, lambda r: pair_inputs(r, False), {"reduction": red}, loss=True)
        for red in ("mean", "sum", "none")
    ],
    *[
        Row(f"bce_with_logits_loss-{red}-w{wn}-pw{pw is not None}", ops.bce_with_logits_loss, None,
            lambda r: pair_inputs(r, True), {"weight": w, "pos_weight": pw, "reduction": red}, loss=True)
        for red, (wn, w), pw in itertools.product(
            ("mean", "sum", "none"),
            (("none", None), ("full", BCE_WEIGHT_FULL), ("row", BCE_WEIGHT_ROW)),
            (None, np.array([0.3, 1.0, 4.0])),
        )
    ],
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_gradcheck(row: Row) -> None:
    inputs = row.make(np.random.default_rng(0))
    errors = check_op(row.forward, row.backward, inputs, row.kwargs, loss=row.loss, h=H, rng=np.random.default_rng(1))
    assert errors, "nothing was checked"
    assert max(errors.values()) < row.tol, errors


def test_check_op_catches_wrong_gradients() -> None:
    """The table can fail: a 1% error in dx, or a loss that ignores its upstream gradient, is caught."""
    inputs = class_inputs(np.random.default_rng(0), None)

    def scaled(*args: Any, **kwargs: Any) -> Any:
        loss, dx = ops.softmax_loss(*args, **kwargs)
        return loss, 1.01 * dx

    def drops_dloss(x: np.ndarray, y: np.ndarray, *, dloss: Any = None) -> Any:
        return ops.softmax_loss(x, y)

    assert check_op(scaled, None, inputs, loss=True, h=H)["x"] > 1e-3
    assert check_op(drops_dloss, None, inputs, loss=True, h=H)["x"] > 1e-3
    relu_x = {"x": away_from_zero(np.random.default_rng(0).standard_normal((3, 4)))}
    assert check_op(ops.relu_forward, lambda dout, cache: dout, relu_x, h=H)["x"] > 1e-3


@pytest.mark.parametrize("module", [activations, affine, losses])
def test_table_covers_every_op(module: Any) -> None:
    public = {
        name for name, f in vars(module).items() if callable(f) and getattr(f, "__module__", "") == module.__name__
    }
    public = {name for name in public if not name.startswith("_")}
    covered = {row.forward.__name__ for row in ROWS} | {row.backward.__name__ for row in ROWS if row.backward}
    assert public and public <= covered, f"ops without a gradcheck row: {sorted(public - covered)}"
