"""``autoencoder-bottleneck``: the course project's grid of linear autoencoders, probed per epoch.

``run.py``: the config, the quick overrides and the tasks; ``report.py``: the figures and the report.
"""

from .report import PUBLISHED, curves, figures, final_probe, report
from .run import KINDS, QUICK, Config, reference_task, run, train_task

__all__ = ["Config", "QUICK", "KINDS", "run", "train_task", "reference_task", "figures", "report", "PUBLISHED"]
__all__ += ["curves", "final_probe"]
