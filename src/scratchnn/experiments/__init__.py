"""The experiments of docs/experiments.md: ``scratchnn experiment run NAME`` (or :func:`run_experiment`).

One folder per experiment (``run.py``, ``report.py``), the machinery in :mod:`.harness`, what several
experiments share in :mod:`.common`; :data:`EXPERIMENTS` lists them by name.
"""

from .harness.registry import EXPERIMENTS
from .harness.runner import config_for, run_experiment

__all__ = ["EXPERIMENTS", "run_experiment", "config_for"]
