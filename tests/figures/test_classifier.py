"""The image classifier's pictures: confusion matrix counts, the filter mosaic, the PNG files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scratchnn.figures.classifier import confusion_matrix, filter_mosaic, plot_confusion_matrix, plot_filters

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_confusion_matrix_counts_truth_by_prediction() -> None:
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 4, 300), rng.integers(0, 4, 300)
    cm = confusion_matrix(y_true, y_pred, 5)
    assert cm.shape == (5, 5) and cm.dtype == np.int64
    for i in range(5):
        for j in range(5):
            assert cm[i, j] == np.sum((y_true == i) & (y_pred == j))
    assert not cm[4].any() and not cm[:, 4].any()
    np.testing.assert_array_equal(confusion_matrix(np.array([0, 1, 1]), np.array([1, 1, 0]), 2), [[0, 1], [1, 1]])


def test_confusion_matrix_rejects_bad_labels() -> None:
    with pytest.raises(ValueError, match=r"Invalid value for `y_pred`: expected class labels in \[0, 3\)"):
        confusion_matrix(np.array([0, 1]), np.array([0, 3]), 3)
    with pytest.raises(ValueError, match=r"Invalid value for `y_true`: expected class labels in \[0, 3\)"):
        confusion_matrix(np.array([0.0, 1.0]), np.array([0, 1]), 3)
    with pytest.raises(ValueError, match=r"Invalid shape for `y_pred`: expected \(2,\) to match y_true"):
        confusion_matrix(np.array([0, 1]), np.array([0, 1, 1]), 3)


def test_filter_mosaic_tiles_each_filter_in_its_own_range() -> None:
    rng = np.random.default_rng(0)
    w = rng.standard_normal((5, 2, 3, 4))
    w[4] = 7.0  # a constant filter must not divide by zero
    m = filter_mosaic(w)
    # cols = ceil(sqrt(10)) = 4, rows = 2: (2*4 - 1, 4*5 - 1) pixels, RGBA
    assert m.shape == (7, 19, 4)
    tile0 = m[0:3, 0:4]
    mean0 = w[0].mean(axis=0)
    expected = (mean0 - mean0.min()) / (mean0.max() - mean0.min())
    for ch in range(3):  # grey: the channel mean, scaled to [0, 1], in R, G and B
        np.testing.assert_allclose(tile0[..., ch], expected, atol=1e-12)
    assert np.all(tile0[..., 3] == 1.0)
    assert np.all(m[3, :, 3] == 0.0) and np.all(m[:, 4, 3] == 0.0)  # transparent gaps
    np.testing.assert_array_equal(m[4:7, 0:4, :3], 0.0)  # filter 4 (row 1, col 0) is constant
    assert np.all(m[4:7, 5:, 3] == 0.0)  # no filters after the fifth


def test_filter_mosaic_draws_three_channels_in_colour() -> None:
    w = np.zeros((1, 3, 2, 2))
    w[0, 0, 0, 0] = 1.0  # only red at the top-left pixel
    m = filter_mosaic(w)
    assert m.shape == (2, 2, 4)
    np.testing.assert_array_equal(m[0, 0], [1.0, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(m[1, 1], [0.0, 0.0, 0.0, 1.0])


def test_plots_write_png_files(tmp_path: Path) -> None:
    cm = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 4]])
    path = plot_confusion_matrix(cm, tmp_path / "cm.png", class_names=["a", "b", "c"])
    assert path.read_bytes()[:8] == PNG_MAGIC
    path = plot_filters(
        np.random.default_rng(0).standard_normal((8, 1, 3, 3)).astype(np.float32), tmp_path / "filters.png"
    )
    assert path.read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(ValueError, match=r"Invalid value for `class_names`: expected 3 names"):
        plot_confusion_matrix(cm, tmp_path / "x.png", class_names=["a"])
    with pytest.raises(ValueError, match=r"Invalid shape for `weights`: expected a 4-D array"):
        plot_filters(np.zeros((3, 3)), tmp_path / "y.png")
