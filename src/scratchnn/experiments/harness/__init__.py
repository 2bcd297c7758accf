"""The experiment machinery: run folders and reports (:mod:`.runner`), what ``run`` gets (:mod:`.context`),
the report format (:mod:`.report`), ``--set`` parsing (:mod:`.overrides`), the registry, the command
line, and the sweep runner (:mod:`.sweep`: independent runs, serially, on local processes or on Ray).
Experiments import only :mod:`.context` and :mod:`.report`; the runner and the registry import the
experiments, never the reverse.
"""

from .sweep import SweepError, Task, run_sweep

__all__ = ["Task", "SweepError", "run_sweep"]
