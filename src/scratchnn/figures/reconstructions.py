"""An autoencoder's reconstructions as a picture: a row of originals, optionally the corrupted inputs the model
saw, and the reconstructions, one column per image, saved as a PNG.

matplotlib is imported inside the drawing function and used through its object API on an Agg canvas (no
pyplot, no display), as in :mod:`.history`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .._validate import check_array, invalid_shape
from ..serialization.files import writing

__all__ = ["plot_reconstructions", "PIXELS_PER_CELL", "TITLE_PIXELS"]

PIXELS_PER_CELL = 100  # each image is drawn in a 1-inch cell at 100 dpi
TITLE_PIXELS = 30  # the strip above the rows for the title


def _images(x: np.ndarray, name: str, shape: tuple[int, int]) -> np.ndarray:
    """(N, H, W) grey images from (N, H*W), (N, H, W) or (N, 1, H, W)."""
    check_array(x, name)
    n = x.shape[0] if x.ndim else 0
    if x.ndim == 0 or x.size != n * shape[0] * shape[1]:
        raise invalid_shape(name, f"(N, {shape[0] * shape[1]}), (N, {shape[0]}, {shape[1]}) or (N, 1, ...)", x.shape)
    return x.reshape(n, *shape)  # (N, ...) -> (N, H, W)


def plot_reconstructions(
    originals: np.ndarray,
    reconstructions: np.ndarray,
    path: str | os.PathLike[str],
    *,
    image_shape: tuple[int, int],
    corrupted: np.ndarray | None = None,
    title: str | None = None,
) -> Path:
    """Draw originals / corrupted inputs (if given) / reconstructions as rows of grey images into ``path``.

    The title (``title`` if given) names the rows. Every row shares one grey scale, the originals' range, so
    a reconstruction's contrast is comparable with its original's (values beyond it are clipped). The PNG is
    N * 100 pixels wide and rows * 100 + 30 high. Returns the path written.

    Shape:
        originals, reconstructions, corrupted: (N, H*W), (N, H, W) or (N, 1, H, W), N >= 1 the same
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = [("original", _images(originals, "originals", image_shape))]
    if corrupted is not None:
        rows.append(("input", _images(corrupted, "corrupted", image_shape)))
    rows.append(("output", _images(reconstructions, "reconstructions", image_shape)))
    n = len(rows[0][1])
    names = {"original": "originals", "input": "corrupted", "output": "reconstructions"}  # the arguments
    for label, imgs in rows:
        if len(imgs) != n or n == 0:
            raise invalid_shape(names[label], f"{n} >= 1 images, as many as the originals", imgs.shape)
    lo, hi = float(rows[0][1].min()), float(rows[0][1].max())
    dpi, height = PIXELS_PER_CELL, len(rows) * PIXELS_PER_CELL + TITLE_PIXELS
    fig = Figure(figsize=(n, height / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    top = len(rows) * PIXELS_PER_CELL / height  # the rows' share of the height: the rest is the title's
    for r, (label, imgs) in enumerate(rows):
        for c in range(n):
            ax = fig.add_axes(
                (c / n + 0.02 / n, top * (1 - (r + 1) / len(rows)) + 0.02 / len(rows), 0.96 / n, 0.96 * top / len(rows))
            )
            ax.imshow(imgs[c], cmap="gray", vmin=lo, vmax=hi if hi > lo else lo + 1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
    labels = " / ".join(label for label, _ in rows)  # the rows, top to bottom
    fig.suptitle(f"{title}: {labels}" if title else labels, fontsize=9, y=1 - 0.15 * TITLE_PIXELS / height)
    out = Path(path)
    with writing(out):
        fig.savefig(out, dpi=dpi)
    return out
