"""make_spirals and train_val_split."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn.data import make_bars, make_spirals, train_val_split


def test_spirals_shapes_and_classes() -> None:
    X, y = make_spirals(50, 4, rng=np.random.default_rng(0))
    assert X.shape == (200, 2) and X.dtype == np.float32
    assert y.shape == (200,) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [50, 50, 50, 50])
    np.testing.assert_array_equal(y[:50], 0)  # grouped by class
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius, np.tile(np.linspace(0, 1, 50), 4), atol=1e-6)  # noise moves only the angle


def test_spirals_without_noise_follow_the_formula() -> None:
    X, y = make_spirals(5, 3, noise=0.0)
    # class k, point i: r = i/4, t = 4k + i (since linspace(4k, 4k+4, 5) steps by 1)
    for k in range(3):
        for i in range(5):
            r, t = i / 4, 4 * k + i
            np.testing.assert_allclose(X[5 * k + i], [r * np.sin(t), r * np.cos(t)], atol=1e-6)


def test_spirals_are_reproducible_and_noisy() -> None:
    a, _ = make_spirals(rng=np.random.default_rng(1))
    b, _ = make_spirals(rng=np.random.default_rng(1))
    c, _ = make_spirals(rng=np.random.default_rng(2))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"n_per_class": 0},
            ValueError,
            "Invalid value for `n_per_class`: expected an int >= 1. Received: n_per_class=0",
        ),
        ({"n_classes": 2.5}, TypeError, "Invalid type for `n_classes`"),
        ({"noise": -0.1}, ValueError, r"Invalid value for `noise`: expected a float in \[0, inf\)"),
        # found by fuzzing: an infinite angle noise made every point NaN (and NumPy warned)
        ({"noise": float("inf")}, ValueError, r"^Invalid value for `noise`: expected a float in \[0, inf\)\. "),
    ],
)
def test_spirals_validation(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        make_spirals(**kwargs)


@pytest.mark.parametrize(("val_size", "n_val"), [(0.2, 4), (0.3, 6), (5, 5), (1, 1)])
def test_train_val_split_partitions(val_size: float, n_val: int) -> None:
    X = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.arange(20)
    X_tr, y_tr, X_val, y_val = train_val_split(X, y, val_size, rng=np.random.default_rng(0))
    assert len(X_val) == len(y_val) == n_val and len(X_tr) == len(y_tr) == 20 - n_val
    np.testing.assert_array_equal(np.sort(np.concatenate([y_tr, y_val])), y)  # each sample in exactly one part
    np.testing.assert_array_equal(X_tr[:, 0], 2 * y_tr)  # rows stay with their targets
    np.testing.assert_array_equal(X_val[:, 0], 2 * y_val)
    assert X_tr.dtype == np.float32


def test_train_val_split_shuffles() -> None:
    y = np.arange(100)
    _, y_tr, _, y_val = train_val_split(y, y, 0.5, rng=np.random.default_rng(0))
    assert not np.array_equal(np.sort(y_val), np.arange(50))


@pytest.mark.parametrize(
    ("val_size", "error", "message"),
    [
        (0.0, ValueError, r"Invalid value for `val_size`: expected a float in \(0, 1\)"),
        (1.0, ValueError, r"Invalid value for `val_size`: expected a float in \(0, 1\)"),
        (
            0.01,
            ValueError,
            "Invalid value for `val_size`: expected a fraction giving between 1 and 9 of the 10 samples",
        ),
        (10, ValueError, r"Invalid value for `val_size`: expected an int in \[1, 9\]. Received: val_size=10"),
        ("0.5", TypeError, "Invalid type for `val_size`"),
    ],
)
def test_train_val_split_validation(val_size: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        train_val_split(np.zeros((10, 2)), np.zeros(10), val_size)


def test_train_val_split_length_mismatch() -> None:
    with pytest.raises(ValueError, match=r"Invalid shape for `y`: expected \(10, \*\) to match X's 10 samples"):
        train_val_split(np.zeros((10, 2)), np.zeros(9), 0.2)


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
