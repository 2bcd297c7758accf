"""Machinery shared by experiments: the sweep runner (independent runs, serially, on local processes or on Ray)."""

from .sweep import SweepError, Task, run_sweep

__all__ = ["Task", "SweepError", "run_sweep"]
