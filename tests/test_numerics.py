"""``_numerics.zero_fill``: the byte-level zero fill leaves +0.0 everywhere, whatever the array held."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn._numerics import zero_fill


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided", "0-d", "empty"])
def test_zero_fill_writes_positive_zeros_everywhere(dtype: type, layout: str) -> None:
    base = np.array([np.nan, np.inf, -np.inf, -0.0, 1e-40, -3.5] * 10, dtype=dtype).reshape(6, 10)
    a = {"contiguous": base, "transposed": base.T, "strided": base[:, ::3], "0-d": base[0, 0, None][0:1].reshape(()),
         "empty": base[:0]}[layout]  # fmt: skip
    outside = base.copy()
    zero_fill(a)
    assert a.dtype == dtype and np.all(a == 0) and not np.signbit(a).any()  # +0.0, not -0.0 or NaN
    if layout == "strided":  # the columns the view skips keep their values
        kept = np.ones(base.shape, bool)
        kept[:, ::3] = False
        np.testing.assert_array_equal(base[kept], outside[kept])
