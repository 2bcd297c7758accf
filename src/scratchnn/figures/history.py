"""Training curves: loss and accuracy against epoch, saved as a PNG.

matplotlib is imported inside the functions (so ``import scratchnn`` stays fast), and figures are
drawn with its object API on an Agg canvas: no pyplot, no global backend switch, no display needed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..serialization.files import writing

__all__ = ["plot_history"]


def _series(history: Sequence[Mapping[str, Any]], key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for entry in history:
        if not entry.get("partial") and isinstance(entry.get(key), (int, float)):
            xs.append(float(entry["epoch"]))
            ys.append(float(entry[key]))
    return xs, ys


def plot_history(
    history: Sequence[Mapping[str, Any]], path: str | os.PathLike[str], *, title: str | None = None
) -> Path:
    """Draw train/val loss and (when logged) train/val accuracy per epoch into ``path`` (a PNG).

    Partial epochs (a run stopped mid-epoch) are left out. Returns the path written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = [("loss", "train_loss", "val_loss")]
    if any(_series(history, k)[0] for k in ("train_acc", "val_acc")):
        panels.append(("accuracy", "train_acc", "val_acc"))
    fig = Figure(figsize=(5.0 * len(panels), 3.8), layout="constrained")
    FigureCanvasAgg(fig)
    for i, (label, train_key, val_key) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        for key, style in ((train_key, "o-"), (val_key, "s--")):
            xs, ys = _series(history, key)
            if xs:
                ax.plot(xs, ys, style, markersize=3, label=key.split("_")[0])
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    if title:
        fig.suptitle(title)
    out = Path(path)
    with writing(out):
        fig.savefig(out, dpi=100)
    return out
