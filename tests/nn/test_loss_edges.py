"""The loss modules at the edges (docs/dtypes.md): empty batches, the upstream gradient's dtype and shape,
input dtypes. torch gives NaN for a 'mean' over nothing and 0 for a 'sum'; so does scratchnn, silently."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from scratchnn import nn

R = np.random.default_rng(0)
# name -> (loss with a reduction, input of N = 4, its target); every loss of the contract
LOSSES: dict[str, tuple[Callable[[str], nn.Module], np.ndarray, np.ndarray]] = {
    "CrossEntropyLoss": (
        lambda red: nn.CrossEntropyLoss(reduction=red),
        R.standard_normal((4, 3)),
        R.integers(0, 3, 4),
    ),
    "CrossEntropyLoss-3d": (
        lambda red: nn.CrossEntropyLoss(np.array([1.0, 2.0, 0.5]), reduction=red, label_smoothing=0.1),
        R.standard_normal((4, 3, 2)),
        R.integers(0, 3, (4, 2)),
    ),
    "MultiMarginLoss": (
        lambda red: nn.MultiMarginLoss(p=2, reduction=red),
        R.standard_normal((4, 3)),
        R.integers(0, 3, 4),
    ),
    "MSELoss": (lambda red: nn.MSELoss(reduction=red), R.standard_normal((4, 3)), R.standard_normal((4, 3))),
    "BCEWithLogitsLoss": (
        lambda red: nn.BCEWithLogitsLoss(reduction=red, pos_weight=np.array([1.0, 2.0, 3.0])),
        R.standard_normal((4, 3)),
        R.uniform(0, 1, (4, 3)),
    ),
}


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


def _target(target: np.ndarray, dtype: Any) -> np.ndarray:
    return target.astype(dtype) if target.dtype.kind == "f" else target


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", LOSSES)
def test_empty_batch(name: str, reduction: str, dtype: Any) -> None:
    make, x, target = LOSSES[name]
    crit = make(reduction)
    x0, t0 = x[:0].astype(dtype), _target(target[:0], dtype)
    loss = crit(x0, t0)
    assert np.asarray(loss).dtype == dtype
    if reduction == "mean":
        assert np.isnan(loss)  # 0 / 0, as torch
    elif reduction == "sum":
        assert loss == 0
    else:
        assert loss.shape == t0.shape  # the target's shape: (0,), (0, d_1) or the input's
    dx = crit.backward()
    assert dx.shape == x0.shape and dx.dtype == dtype
    dx = crit.backward(np.ones(np.shape(loss), dtype))
    assert dx.shape == x0.shape


@pytest.mark.parametrize("name", LOSSES)
def test_grad_out_has_the_loss_dtype(name: str) -> None:
    make, x, target = LOSSES[name]
    crit = make("none")
    loss = crit(x.astype(np.float32), _target(target, np.float32))
    dx = crit.backward()
    np.testing.assert_array_equal(crit.backward(2.0), 2 * dx)  # a Python number: read in the loss's dtype
    np.testing.assert_array_equal(crit.backward(2), 2 * dx)
    g = np.full(loss.shape, 2, np.float32)
    np.testing.assert_array_equal(crit.backward(g), 2 * dx)
    for bad in (np.float64, np.float16, np.int64, np.complex64, object):
        text = "Invalid dtype for `grad_out`: expected float32, the loss's dtype. Received: grad_out.dtype="
        with pytest.raises(TypeError, match=msg(text + np.dtype(bad).name)):
            crit.backward(g.astype(bad))
    with pytest.raises(TypeError, match=r"^Invalid dtype for `grad_out`: .* Received: grad_out.dtype=float64$"):
        crit.backward(np.float64(2.0))  # a NumPy scalar is an array for the rule
    for bad_type in (True, "1", [1.0]):
        with pytest.raises(TypeError, match=r"^Invalid type for `grad_out`: expected None, a real number or "):
            crit.backward(bad_type)
    bad_shape = (loss.shape[0] + 1, *loss.shape[1:])
    text = f"Invalid shape for `grad_out`: expected {loss.shape} (the loss's shape) or a scalar. Received: "
    with pytest.raises(ValueError, match=msg(text + f"grad_out.shape={bad_shape}")):
        crit.backward(np.ones(bad_shape, np.float32))


@pytest.mark.parametrize("dtype", [np.float16, np.int64, np.complex128, object])
@pytest.mark.parametrize("name", LOSSES)
def test_input_of_another_dtype_is_a_type_error(name: str, dtype: Any) -> None:
    make, x, target = LOSSES[name]
    with pytest.raises(TypeError, match=r"^Invalid type for `input`: expected a floating numpy.ndarray "):
        make("mean")(x.astype(dtype), target)


@pytest.mark.parametrize("name", ["MSELoss", "BCEWithLogitsLoss"])
def test_a_floating_target_is_cast_to_the_input_dtype(name: str) -> None:
    """Targets are data, not part of the graph: cast, not refused (torch promotes the loss instead)."""
    make, x, target = LOSSES[name]
    crit = make("mean")
    loss = crit(x.astype(np.float32), target.astype(np.float64))
    assert np.asarray(loss).dtype == np.float32
    assert loss == crit(x.astype(np.float32), target.astype(np.float32))
    with pytest.raises(TypeError, match=r"^Invalid type for `target`: expected a floating numpy.ndarray "):
        crit(x.astype(np.float32), target.astype(np.float16))


@pytest.mark.parametrize("loss", [nn.CrossEntropyLoss(np.ones(4)), nn.MultiMarginLoss(weight=np.ones(4))])
def test_scores_with_another_number_of_classes_than_the_weight_name_the_input(loss: nn.Module) -> None:
    """Found by fuzzing: the error named `weight`, a constructor argument, although the input was what changed."""
    text = "Invalid shape for `input`: expected 4 classes along axis 1, one per class weight. "
    text += "Received: input.shape=(2, 3)"
    with pytest.raises(ValueError, match="^" + re.escape(text) + "$"):
        loss(np.zeros((2, 3)), np.zeros(2, np.int64))


@pytest.mark.parametrize(
    "make",
    [
        lambda w: nn.CrossEntropyLoss(w),
        lambda w: nn.MultiMarginLoss(weight=w),
        lambda w: nn.BCEWithLogitsLoss(w),
        lambda w: nn.BCEWithLogitsLoss(pos_weight=w),
    ],
)
def test_non_finite_weights_are_refused_by_the_constructor(make: Callable[[np.ndarray], nn.Module]) -> None:
    """Found by fuzzing: a NaN weight was taken, and the first forward failed naming a constructor argument."""
    with pytest.raises(
        ValueError, match=r"^Invalid value for `(pos_)?weight`: expected finite values \(no NaN or inf\)"
    ):
        make(np.array([1.0, np.nan, 2.0]))


@pytest.mark.parametrize("loss", [nn.MSELoss(reduction="none"), nn.BCEWithLogitsLoss(reduction="none")])
def test_a_0d_input_gets_a_0d_array_gradient(loss: nn.Module) -> None:
    """Found by fuzzing: ``dx * grad_out`` of 0-d arrays is a NumPy scalar, not the array backward promises."""
    loss(np.array(0.3), np.array(0.5))
    for grad_out in (None, 2.0, np.array(2.0)):
        dx = loss.backward(grad_out)
        assert type(dx) is np.ndarray and dx.shape == () and dx.dtype == np.float64


def test_an_inf_upstream_gradient_gives_nan_without_a_warning() -> None:
    """inf times a zero entry of dx is NaN, as in torch; no RuntimeWarning (pytest would make it an error)."""
    loss = nn.MSELoss(reduction="none")
    loss(np.array([1.0, 2.0]), np.array([1.0, 0.0]))  # dx = [0, 4]
    with np.errstate(all="warn"):
        dx = loss.backward(np.array([np.inf, 1.0]))
    assert np.isnan(dx[0]) and dx[1] == 4.0
