"""The experiment machinery: run folders and reports (:mod:`.runner`), what ``run`` gets (:mod:`.context`),
the report format (:mod:`.report`), ``--set`` parsing (:mod:`.overrides`), the registry and the command
line. Experiments import only :mod:`.context` and :mod:`.report`; the runner and the registry import
the experiments, never the reverse.
"""
