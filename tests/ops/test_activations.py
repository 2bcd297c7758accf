"""Activations at the edges of the floats: +-inf and values whose intermediate results overflow.

Values are checked against torch in tests/nn/twins/ and gradients in the gradient-check rows; here the
inputs that once raised NumPy floating-point errors (found by tests/fuzz/test_ops.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from scratchnn import ops


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_takes_inf_and_huge_values_as_torch(approximate: str) -> None:
    """gelu(inf) = inf and gelu(-inf) = NaN (x * Phi(x) = -inf * 0, torch's value too); gradients at +-inf are
    NaN in torch as here. A float32 input whose cube overflows saturates: gelu(x) = x, gelu(-x) = 0."""
    x = np.array([np.inf, -np.inf, 1.0], np.float64)
    out, cache = ops.gelu_forward(x, approximate)
    assert out[0] == np.inf and np.isnan(out[1]) and np.isfinite(out[2])
    assert np.isnan(ops.gelu_backward(np.ones(3), cache)[:2]).all()
    big = np.array([1e15, -1e15, 3e38], np.float32)
    out, cache = ops.gelu_forward(big, approximate)
    assert out.dtype == np.float32 and out.tolist() == [big[0], 0.0, big[2]]
    ops.gelu_backward(np.ones(3, np.float32), cache)  # no NumPy error (conftest raises on overflow)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_of_inf_is_nan_and_huge_differences_saturate(dtype: Any) -> None:
    """A slice holding +inf is NaN (inf - inf), as in torch; -inf is a zero probability; x - max(x) that
    overflows to -inf gives a zero probability, with no NumPy overflow error."""
    x = np.array([[np.inf, 1.0, 0.0], [-np.inf, 1.0, 1.0], [3e38, -3e38, 0.0]], dtype)
    out, cache = ops.softmax_forward(x)
    assert np.isnan(out[0]).all()
    np.testing.assert_array_equal(out[1:], np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]], dtype))
    assert ops.softmax_backward(np.ones_like(out), cache).dtype == dtype
