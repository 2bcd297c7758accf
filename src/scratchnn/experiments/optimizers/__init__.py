"""``optimizers``: one FullyConnectedNet trained under seven optimizers, each at its best learning rate.

``run.py``: the config, the quick overrides and the runs; ``report.py``: the figures and the report.
"""

from .report import figures, plot_curves, plot_sweep, report
from .run import LABELS, NAMES, QUICK, Config, load_data, run, train_one

__all__ = [
    "NAMES",
    "LABELS",
    "Config",
    "QUICK",
    "run",
    "train_one",
    "load_data",
    "figures",
    "plot_curves",
    "plot_sweep",
    "report",
]
