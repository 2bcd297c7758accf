"""plot_reconstructions: the PNG's size follows the rows and columns; the inputs' shapes are checked."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from scratchnn.figures.reconstructions import PIXELS_PER_CELL, TITLE_PIXELS, plot_reconstructions


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("n,corrupt", [(8, False), (3, True), (1, True)])
def test_one_column_per_image_and_one_row_per_stage(tmp_path: Path, n: int, corrupt: bool) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((n, 1, 6, 5)).astype(np.float32)  # images
    flat = rng.random((n, 30)).astype(np.float32)  # the same count, flattened (an MLP's output)
    path = plot_reconstructions(x, flat, tmp_path / "r.png", image_shape=(6, 5), corrupted=flat if corrupt else None,
                                title="t")  # fmt: skip
    rows = 3 if corrupt else 2
    assert _png_size(path) == (n * PIXELS_PER_CELL, rows * PIXELS_PER_CELL + TITLE_PIXELS)


def test_constant_originals_still_draw(tmp_path: Path) -> None:
    x = np.zeros((2, 16))
    assert _png_size(plot_reconstructions(x, x, tmp_path / "r.png", image_shape=(4, 4))) == (200, 230)


@pytest.mark.parametrize(
    "recon,message",
    [
        (np.zeros((3, 15)), "Invalid shape for `reconstructions`: expected (N, 16), (N, 4, 4) or (N, 1, ...)"),
        (np.zeros((2, 16)), "Invalid shape for `reconstructions`: expected 3 >= 1 images, as many as the originals"),
    ],
)
def test_bad_shapes_are_template_errors(tmp_path: Path, recon: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError) as info:
        plot_reconstructions(np.zeros((3, 16)), recon, tmp_path / "r.png", image_shape=(4, 4))
    assert message in str(info.value)
    assert not (tmp_path / "r.png").exists()
