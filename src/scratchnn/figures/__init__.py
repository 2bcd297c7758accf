"""Pictures, all drawn the same way: matplotlib's object API on an Agg canvas (no pyplot, no display, no
global state), matplotlib imported only when a figure is drawn so ``import scratchnn`` stays fast.

- :func:`new_figure`: a figure and a flat list of axes, for every experiment's figures;
- :mod:`.history`: training curves (loss and accuracy against epoch), which the Trainer saves;
- :mod:`.classifier`: an image classifier's confusion matrix and first-layer filters.

Figures that belong to one experiment live in that experiment's ``report.py``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["new_figure"]


def new_figure(ncols: int = 1, *, nrows: int = 1, size: tuple[float, float] = (5.0, 3.8)) -> tuple[Any, Any]:
    """``fig, axes`` on an Agg canvas (matplotlib's object API: no pyplot, no display, no global state).

    ``axes`` is a flat list of ``nrows * ncols`` Axes; ``size`` is the size of one panel in inches.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, [ax for row in axes for ax in row]
