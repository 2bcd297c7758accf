"""``rnn-gradients``: vanishing and exploding gradients through time, the course widget as a measured sweep.

``run.py``: the config, the quick overrides and the runs; ``report.py``: the figures and the report;
``model.py``: the running-mean regressor.
"""

from .report import figures, report
from .run import QUICK, Config, run

__all__ = ["Config", "QUICK", "run", "figures", "report"]
