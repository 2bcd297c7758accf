"""``momentum``: gradient descent against heavy-ball momentum on least squares, predicted and measured.

``run.py``: the config, the quick overrides and the runs; ``report.py``: the figures and the report.
"""

from .report import figures, plot_curves, plot_rates, plot_regimes, report
from .run import QUICK, Config, measure, run

__all__ = ["Config", "QUICK", "run", "measure", "figures", "plot_rates", "plot_curves", "plot_regimes", "report"]
