"""The image data of ``scratchnn train cnn``: the synthetic bars task and the flip augmentation."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn.experiments.cnn_data import RandomHorizontalFlip, make_bars


def test_make_bars_draws_one_bar_of_the_labelled_orientation() -> None:
    X, y = make_bars(40, size=10, noise=0.0, rng=np.random.default_rng(0))
    assert X.shape == (40, 1, 10, 10) and X.dtype == np.float32 and y.dtype == np.int64
    assert set(y.tolist()) == {0, 1, 2, 3}
    for img, label in zip(X[:, 0], y):
        rows, cols = np.nonzero(img)
        assert len(rows) == 5 and np.all(img[rows, cols] == 1.0)  # length size // 2
        steps = {(int(np.ptp(rows)), int(np.ptp(cols)))}
        assert steps == [{(0, 4)}, {(4, 0)}, {(4, 4)}, {(4, 4)}][label]
        if label >= 2:  # diagonal: row and column grow together; anti-diagonal: in opposite directions
            order = np.argsort(rows)
            assert np.all(np.diff(cols[order]) == (1 if label == 2 else -1))


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
