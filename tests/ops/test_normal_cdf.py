"""The erf behind exact GELU: Phi(x) against the correctly rounded math.erfc, both dtypes, both tails."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scratchnn.ops.activations import _normal_cdf


def reference(x: np.ndarray) -> np.ndarray:
    return np.array([0.5 * math.erfc(-float(v) / math.sqrt(2)) for v in x])


@pytest.mark.parametrize(
    "dtype,low",
    [
        (np.float64, -37.0),  # Phi(-37) ~ 6e-300, still a normal float64
        (np.float32, -12.5),  # Phi(-12.5) ~ 4e-36, still a normal float32
    ],
)
def test_relative_error_is_within_the_conditioning(dtype: type, low: float) -> None:
    """Relative error below 8 eps (1 + x^2 + 1/Phi(x)), which is what any float formula can promise:
    rounding x / sqrt 2 alone costs eps x^2 in the far tail (Phi's condition number is ~x^2 there), and
    (1 + erf) / 2 for |x| < 2 sqrt 2 costs eps / Phi on the left, as in torch's own formula."""
    x = np.linspace(low, 10.0, 40001).astype(dtype)
    got, want = _normal_cdf(x), reference(x)
    assert got.dtype == np.dtype(dtype)
    x64 = x.astype(np.float64)
    bound = np.finfo(dtype).eps * (1 + x64**2 + 1 / want)
    assert np.max(np.abs(got - want) / want / bound) < 8
    assert np.max(np.abs(got - want)[x > -1] / want[x > -1]) < 20 * np.finfo(dtype).eps  # ~1 ulp in the bulk


def test_scalar_and_extreme_inputs() -> None:
    assert _normal_cdf(np.array(0.0)) == 0.5
    np.testing.assert_array_equal(_normal_cdf(np.array([-1e300, 1e300])), [0.0, 1.0])
    np.testing.assert_array_equal(_normal_cdf(np.array([-3e38, 3e38], dtype=np.float32)), [0.0, 1.0])
