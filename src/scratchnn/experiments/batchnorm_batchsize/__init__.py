"""``batchnorm-batchsize``: BatchNorm at batch sizes from 5 to 200, against LayerNorm and no normalization.

``run.py``: the config, the quick overrides and the runs; ``report.py``: the figures and the report.
"""

from .report import LABELS, batch_spread, figures, plot_curves, plot_final, report
from .run import QUICK, Config, final_val_acc, run

__all__ = [
    "Config",
    "QUICK",
    "run",
    "final_val_acc",
    "figures",
    "LABELS",
    "plot_curves",
    "plot_final",
    "report",
    "batch_spread",
]
