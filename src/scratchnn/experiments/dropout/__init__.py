"""``dropout``: training and validation accuracy over epochs at dropout p in {0, 0.25, 0.5, 0.75}.

``run.py``: the config, the quick overrides and the runs; ``report.py``: the figures and the report.
"""

from .report import figures, plot_curves, report
from .run import QUICK, Config, by_p, first_epoch_at, run

__all__ = ["Config", "QUICK", "run", "by_p", "first_epoch_at", "figures", "plot_curves", "report"]
