"""RandomHorizontalFlip (scratchnn/train/augment.py): a fresh random half of the images mirrored each epoch."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn.train import RandomHorizontalFlip


def test_random_horizontal_flip_mirrors_a_fresh_half_in_place_each_epoch() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 2, 3, 4)).astype(np.float32)
    original = X.copy()
    buffer = X  # the loader holds this very array
    flip = RandomHorizontalFlip(X, rng=np.random.default_rng(1))
    masks = []
    for epoch in (1, 2):
        flip.on_epoch_begin(None, epoch)
        assert buffer is X and X.dtype == np.float32
        mirrored = np.all(X == original[..., ::-1], axis=(1, 2, 3))
        kept = np.all(X == original, axis=(1, 2, 3))
        assert np.all(mirrored | kept)  # every image is the original or its mirror image, W reversed
        assert abs(mirrored.mean() - 0.5) < 0.05  # p = 0.5 of 2000: the std of the fraction is 0.011
        masks.append(mirrored)
    assert 0.4 < np.mean(masks[0] == masks[1]) < 0.6  # drawn anew, independently of the last epoch
    before = X.copy()
    RandomHorizontalFlip(X, p=1.0).on_epoch_begin(None, 3)  # p = 1: all of the images it was given, mirrored
    np.testing.assert_array_equal(X, before[..., ::-1])


def test_random_horizontal_flip_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"Invalid value for `p`: expected a float in \[0, 1\]"):
        RandomHorizontalFlip(np.zeros((2, 1, 3, 3)), p=1.5)
    with pytest.raises(ValueError, match=r"Invalid shape for `X`: expected a 4-D array"):
        RandomHorizontalFlip(np.zeros((2, 9)))
