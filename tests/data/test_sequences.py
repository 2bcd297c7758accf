"""The running-mean task: targets are the exact running means, seeded, in the dtype asked for."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn.data import make_running_mean


def test_targets_are_running_means() -> None:
    x, y = make_running_mean(5, 7, dim=2, dtype=np.float64, rng=np.random.default_rng(0))
    assert x.shape == y.shape == (5, 7, 2)
    for t in range(7):
        np.testing.assert_allclose(y[:, t], x[:, : t + 1].mean(axis=1), rtol=1e-12)
    np.testing.assert_array_equal(y[:, 0], x[:, 0])


def test_seeded_and_float32_by_default() -> None:
    a = make_running_mean(3, 4, rng=np.random.default_rng(1))
    b = make_running_mean(3, 4, rng=np.random.default_rng(1))
    assert a[0].dtype == a[1].dtype == np.float32
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"n": 0}, "Invalid value for `n`"),
        ({"T": 0}, "Invalid value for `T`"),
        ({"dim": -1}, "Invalid value for `dim`"),
    ],
)
def test_bad_sizes_name_the_argument(kwargs: dict[str, int], message: str) -> None:
    args = {"n": 2, "T": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        make_running_mean(args.pop("n"), args.pop("T"), **args)  # type: ignore[arg-type]


def test_integer_dtype_is_refused() -> None:
    with pytest.raises(TypeError, match="Invalid type for `dtype`: expected float32 or float64"):
        make_running_mean(2, 3, dtype=np.int32)
