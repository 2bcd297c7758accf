"""``Param``: what may be assigned to its gradient, its casts, and accumulation of inf (found by fuzzing)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from scratchnn import nn


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


BAD_GRADS: list[tuple[Any, type[Exception], str]] = [
    (np.ones(4), ValueError, "Invalid shape for `grad`: expected (2, 3), the param's shape. Received: grad.shape=(4,)"),
    (np.ones((2, 3), np.float32), TypeError,
     "Invalid dtype for `grad`: expected float64, the param's dtype. Received: grad.dtype=float32"),
    ([[0.0] * 3] * 2, TypeError, "Invalid type for `grad`: expected a numpy.ndarray of the param's shape (2, 3) and "
     "dtype float64. Received: grad of type list"),
    (None, TypeError, "Invalid type for `grad`: expected a numpy.ndarray of the param's shape (2, 3) and "
     "dtype float64. Received: grad of type NoneType"),
    (np.broadcast_to(np.ones(3), (2, 3)), ValueError, "Invalid value for `grad`: expected a writeable array "
     "(gradients accumulate into it in place). Received: grad=array(shape=(2, 3), dtype=float64)"),
]  # fmt: skip


@pytest.mark.parametrize("value,exc,text", BAD_GRADS, ids=["shape", "dtype", "list", "None", "read-only"])
def test_grad_of_another_shape_dtype_or_kind_is_refused(value: Any, exc: type[Exception], text: str) -> None:
    """A (4,) gradient on a (2, 3) param used to be taken, and failed later inside an optimizer step."""
    p = nn.Param(np.zeros((2, 3)))
    with pytest.raises(exc, match=msg(text)):
        p.grad = value
    assert p.grad.shape == (2, 3) and not p.grad.any()  # unchanged


def test_grad_of_the_right_shape_and_dtype_is_taken() -> None:
    p = nn.Param(np.zeros((2, 3), np.float32))
    g = np.full((2, 3), 2.0, np.float32)
    p.grad = g
    assert p.grad is g
    p.accumulate_grad(np.ones((2, 3), np.float32))
    np.testing.assert_array_equal(p.grad, 3.0)


def test_astype_takes_float_dtypes_only() -> None:
    p = nn.Param(np.ones(3))
    with pytest.raises(
        TypeError, match=msg("Invalid type for `dtype`: expected float32 or float64. Received: dtype=int32")
    ):
        p.astype(np.int32)
    assert p.dtype == np.float64
    p.astype(np.float32)
    assert p.data.dtype == p.grad.dtype == np.float32


def test_accumulating_inf_of_both_signs_is_nan_without_a_warning() -> None:
    p = nn.Param(np.zeros(2))
    p.accumulate_grad(np.array([np.inf, 1.0]))
    with np.errstate(all="warn"):  # NumPy's defaults: no RuntimeWarning (pytest would make it an error)
        p.accumulate_grad(np.array([-np.inf, 1.0]))
    assert np.isnan(p.grad[0]) and p.grad[1] == 2.0
