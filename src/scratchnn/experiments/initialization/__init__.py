"""``initialization``: what the scale of the initial weights does to signal, gradients and training.

``run.py``: the config, the quick overrides and the runs; ``figures.py``: the figures;
``report.py``: the report.
"""

from .figures import figures, plot_curve_fit, plot_fit_training, plot_init_stats, plot_training
from .report import LABELS, report
from .run import QUICK, Config, load_data, run

__all__ = [
    "Config",
    "QUICK",
    "run",
    "load_data",
    "figures",
    "LABELS",
    "plot_init_stats",
    "plot_training",
    "plot_curve_fit",
    "plot_fit_training",
    "report",
]
