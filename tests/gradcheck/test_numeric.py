"""The numerical gradient tools (scratchnn/gradcheck/numeric.py) can fail: wrong gradients are caught."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchnn import ops
from scratchnn.gradcheck import check_op, eval_numerical_gradient, rel_error
from scratchnn.gradcheck.rows import H, away_from_zero
from scratchnn.gradcheck.rows.dense import class_inputs


def test_check_op_catches_wrong_gradients() -> None:
    """A 1% error in dx, or a loss that ignores its upstream gradient, is caught."""
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


def test_eval_numerical_gradient_of_a_quadratic() -> None:
    """f(x) = sum(a * x^2) has gradient 2 a x; central differences are exact on a quadratic up to rounding."""
    rng = np.random.default_rng(1)
    a, x = rng.uniform(0.5, 2.0, (3, 4)), rng.standard_normal((3, 4))
    grad = eval_numerical_gradient(lambda v: float(np.sum(a * v**2)), x, verbose=False, h=1e-5)
    assert rel_error(grad, 2 * a * x) < 1e-8


def test_check_op_gives_index_outputs_no_upstream_gradient() -> None:
    """An op whose outputs include integer or bool arrays (random_masking's mask and ids_restore) gets upstream
    gradients for its floating outputs only, and a wrong backward is still caught."""
    x = {"x": np.random.default_rng(2).standard_normal((2, 6, 3))}
    noise = np.random.default_rng(3).random((2, 6))
    kwargs = {"mask_ratio": 0.5, "noise": noise}
    assert check_op(ops.random_masking_forward, ops.random_masking_backward, x, kwargs, h=H)["x"] < 1e-9

    def zero_first_row(dx_visible: np.ndarray, cache: Any) -> np.ndarray:
        dx = ops.random_masking_backward(dx_visible, cache)
        dx[0] = 0
        return dx

    assert check_op(ops.random_masking_forward, zero_first_row, x, kwargs, h=H)["x"] > 0.5
