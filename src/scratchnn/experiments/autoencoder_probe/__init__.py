"""``autoencoder-probe``: MLP autoencoders' codes under linear probes on few and all labels, against pixels and PCA.

``run.py``: the config, the quick overrides and the tasks; ``report.py``: the figures and the report.
"""

from .report import figures, probe_mean, report
from .run import KINDS, QUICK, Config, reference_task, run, train_task

__all__ = ["Config", "QUICK", "KINDS", "run", "train_task", "reference_task", "figures", "report", "probe_mean"]
