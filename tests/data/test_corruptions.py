"""GaussianNoise and FeatureMask: statistics with seeds, copies not views, determinism, bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn.data import FeatureMask, GaussianNoise


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_noise_has_the_requested_std_and_zero_mean(dtype: type) -> None:
    x = np.random.default_rng(0).standard_normal((400, 250)).astype(dtype)
    noisy = GaussianNoise(0.3)(x, np.random.default_rng(1))
    noise = (noisy - x).astype(np.float64)
    n = noise.size  # 100,000 draws: the sample std is within 4 standard errors (std / sqrt(2n)) of 0.3
    assert abs(noise.std() - 0.3) < 4 * 0.3 / np.sqrt(2 * n)
    assert abs(noise.mean()) < 4 * 0.3 / np.sqrt(n)
    assert noisy.dtype == dtype and noisy.shape == x.shape


@pytest.mark.parametrize("ratio", [0.1, 0.5, 0.75])
def test_mask_zeroes_the_requested_fraction(ratio: float) -> None:
    x = np.random.default_rng(0).uniform(1, 2, (200, 300))  # no zeros of its own
    out, mask = FeatureMask(ratio)(x, np.random.default_rng(2))
    n = x.size  # the zeroed count is Binomial(n, ratio): within 4 standard deviations of n * ratio
    assert abs(mask.sum() - n * ratio) < 4 * np.sqrt(n * ratio * (1 - ratio))
    assert mask.dtype == bool and mask.shape == x.shape
    np.testing.assert_array_equal(out == 0, mask)  # True marks exactly the zeroed elements
    np.testing.assert_array_equal(out[~mask], x[~mask])  # the rest is kept as it was, not rescaled
    per_feature = mask.mean(axis=0)  # each feature is masked independently, at the same rate
    assert np.all(np.abs(per_feature - ratio) < 4 * np.sqrt(ratio * (1 - ratio) / 200))


def test_corruptions_return_copies_and_never_touch_the_input() -> None:
    x = np.random.default_rng(0).standard_normal((3, 4))
    x.flags.writeable = False  # any write would raise
    for out in (GaussianNoise(0.0)(x), GaussianNoise(1.0)(x), *FeatureMask(0.0)(x)[:1], *FeatureMask(0.5)(x)[:1]):
        assert not np.shares_memory(out, x)
    np.testing.assert_array_equal(GaussianNoise(0.0)(x), x)
    out, mask = FeatureMask(0.0)(x)
    np.testing.assert_array_equal(out, x)
    assert not mask.any()


def test_same_seed_same_corruption_and_one_mask_for_both_dtypes() -> None:
    x = np.random.default_rng(0).standard_normal((5, 6))
    np.testing.assert_array_equal(GaussianNoise(0.5)(x, np.random.default_rng(3)),
                                  GaussianNoise(0.5)(x, np.random.default_rng(3)))  # fmt: skip
    a = FeatureMask(0.5)(x, np.random.default_rng(3))[1]
    b = FeatureMask(0.5)(x.astype(np.float32), np.random.default_rng(3))[1]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, FeatureMask(0.5)(x, np.random.default_rng(4))[1])


def test_masking_zeroes_nan_and_noise_keeps_any_shape() -> None:
    x = np.full((2, 3), np.nan)
    out, mask = FeatureMask(0.5)(x, np.random.default_rng(0))
    assert np.all(out[mask] == 0) and np.all(np.isnan(out[~mask]))
    assert GaussianNoise(1.0)(np.zeros((2, 0, 3)), np.random.default_rng(0)).shape == (2, 0, 3)
    assert GaussianNoise(1.0)(np.array(1.5), np.random.default_rng(0)).shape == ()


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: GaussianNoise(-1.0), ValueError, r"^Invalid value for `std`: expected a float in \[0, inf\)\."),
        (lambda: GaussianNoise(float("nan")), ValueError, r"^Invalid value for `std`"),
        (lambda: GaussianNoise(None), TypeError, r"^Invalid type for `std`"),  # type: ignore[arg-type]
        (lambda: FeatureMask(1.0), ValueError,
         r"^Invalid value for `mask_ratio`: expected a float in \[0, 1\)\. Received: mask_ratio=1\.0$"),
        (lambda: FeatureMask(-0.1), ValueError, r"^Invalid value for `mask_ratio`"),
        (lambda: GaussianNoise(1.0)(np.zeros(3, int)), TypeError, r"^Invalid type for `x`: expected a floating"),
        (lambda: FeatureMask(0.5)([1.0, 2.0]), TypeError, r"^Invalid type for `x`: expected a numpy.ndarray"),
        (lambda: FeatureMask(0.5)(np.zeros(3), rng=0), TypeError, r"^Invalid type for `rng`"),  # type: ignore[arg-type]
    ],
)  # fmt: skip
def test_bad_arguments(make: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        make()  # type: ignore[operator]


def test_repr() -> None:
    assert repr(GaussianNoise(0.5)) == "GaussianNoise(std=0.5)"
    assert repr(FeatureMask(0.75)) == "FeatureMask(mask_ratio=0.75)"
