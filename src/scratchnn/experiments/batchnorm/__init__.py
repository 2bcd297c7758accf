"""``batchnorm``: the course's weight-scale sweep: a deep network with and without BatchNorm.

``run.py``: the config, the quick overrides and the runs; ``report.py``: the figures and the report.
"""

from .report import LABELS, figures, good_scales, plot_sweep, report, spread
from .run import QUICK, Config, run, weight_scales

__all__ = [
    "Config",
    "QUICK",
    "run",
    "weight_scales",
    "figures",
    "LABELS",
    "plot_sweep",
    "report",
    "spread",
    "good_scales",
]
