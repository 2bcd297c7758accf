"""Pictures of an image classifier: its confusion matrix and its first layer's filters, saved as PNGs.

matplotlib is imported inside the drawing functions and used through its object API on an Agg
canvas (no pyplot, no display), as in :mod:`.history`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._validate import check_array, check_int, invalid_shape, invalid_value
from ..serialization.files import writing

__all__ = ["confusion_matrix", "plot_confusion_matrix", "filter_mosaic", "plot_filters"]


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts ``cm[i, j]`` of samples of class i predicted as class j (rows: truth, columns: prediction).

    Shape:
        y_true, y_pred: (N,) ints in [0, num_classes);  cm: (num_classes, num_classes) int64
    """
    K = check_int(num_classes, "num_classes", low=1)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1 or y_pred.shape != y_true.shape:
        raise invalid_shape("y_pred", f"({len(y_true)},) to match y_true", y_pred.shape)
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.dtype.kind not in "iu" or (y.size and (y.min() < 0 or y.max() >= K)):
            raise invalid_value(name, f"class labels in [0, {K})", y)
    flat = np.bincount(y_true * K + y_pred, minlength=K * K)  # (N,) -> (K*K,)
    return flat.reshape(K, K).astype(np.int64)  # (K*K,) -> (K, K)


def plot_confusion_matrix(
    cm: np.ndarray,
    path: str | os.PathLike[str],
    *,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """Draw ``cm`` (rows: true class, columns: predicted) into ``path``: colour is the row fraction,
    the text the count. Returns the path written.

    Shape:
        cm: (K, K);  class_names: K names (default: 0 .. K-1)
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise invalid_shape("cm", "a square (K, K) matrix", cm.shape)
    K = cm.shape[0]
    names = [str(i) for i in range(K)] if class_names is None else [str(n) for n in class_names]
    if len(names) != K:
        raise invalid_value("class_names", f"{K} names, one per row of cm", class_names)
    totals = cm.sum(axis=1, keepdims=True)  # (K, K) -> (K, 1)
    frac = cm / np.maximum(totals, 1)  # each row sums to 1 (an empty row stays 0)
    side = max(4.0, 0.55 * K + 2.0)
    fig = Figure(figsize=(side + 1.0, side), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(frac, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true class")
    for i in range(K):
        for j in range(K):
            if cm[i, j]:
                ax.text(
                    j,
                    i,
                    str(int(cm[i, j])),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if frac[i, j] > 0.5 else "black",
                )
    ax.set_xticks(range(K), names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(K), names, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    correct = int(np.trace(cm))
    total = int(cm.sum())
    ax.set_title(title or f"confusion matrix: {correct}/{total} correct ({correct / max(total, 1):.2%})")
    out = Path(path)
    with writing(out):
        fig.savefig(out, dpi=100)
    return out


def filter_mosaic(weights: np.ndarray) -> np.ndarray:
    """Filters tiled into one RGBA image with one transparent pixel between tiles, each scaled to its own range.

    Filters over 3 input channels become colour tiles (channels as RGB); others grey tiles, the mean
    over their channels. Each tile spans [0, 1] (its min is black, its max white; mid-grey is not zero).

    Shape:
        weights: (F, C, HH, WW);  mosaic: (rows*(HH+1) - 1, cols*(WW+1) - 1, 4) in [0, 1],
        cols = min(F, ceil(sqrt(2F))), rows = ceil(F / cols) (about twice as wide as high)
    """
    check_array(weights, "weights", ndim=4)
    F, C, HH, WW = weights.shape
    w = weights.astype(np.float64)
    if C == 3:
        w = w.transpose(0, 2, 3, 1)  # (F, 3, HH, WW) -> (F, HH, WW, 3)
    else:
        w = np.repeat(w.mean(axis=1)[..., None], 3, axis=-1)  # (F, C, HH, WW) -> (F, HH, WW) -> (F, HH, WW, 3)
    flat = w.reshape(F, -1)  # (F, HH*WW*3)
    lo, hi = flat.min(axis=1), flat.max(axis=1)  # (F,)
    span = np.where(hi > lo, hi - lo, 1.0)
    w = (w - lo[:, None, None, None]) / span[:, None, None, None]
    cols = min(F, math.ceil(math.sqrt(2 * F)))
    rows = math.ceil(F / cols)
    mosaic = np.zeros((rows * (HH + 1) - 1, cols * (WW + 1) - 1, 4))  # alpha 0: the gaps show the background
    for f in range(F):
        r, c = divmod(f, cols)
        tile = mosaic[r * (HH + 1) : r * (HH + 1) + HH, c * (WW + 1) : c * (WW + 1) + WW]  # (HH, WW, 4)
        tile[..., :3] = w[f]
        tile[..., 3] = 1.0
    return mosaic


def plot_filters(weights: np.ndarray, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
    """Draw convolution filters as a grid of small images (see :func:`filter_mosaic`) into ``path``.

    Returns the path written.

    Shape:
        weights: (F, C, HH, WW), e.g. ``Conv2d.weight`` or the course's ``W1``
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    mosaic = filter_mosaic(weights)
    F, C, HH, WW = weights.shape
    height, width = mosaic.shape[:2]
    scale = 4.0 / max(height, width)  # the longer side 4 inches
    fig = Figure(figsize=(width * scale + 0.4, height * scale + 0.6))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.05, 0.02, 0.9, 0.86))
    ax.imshow(mosaic, interpolation="nearest")
    ax.set_facecolor("#5b7fb0")  # the gaps between the filters
    ax.set_xticks([])
    ax.set_yticks([])
    fig.suptitle(title or f"first-layer filters ({F} x {C} x {HH} x {WW})", fontsize=10)
    out = Path(path)
    with writing(out):
        fig.savefig(out, dpi=100)
    return out
