"""The serial backend: every run in this process, one after another."""

from __future__ import annotations

import traceback
from collections.abc import Sequence

from . import ERROR, RESULTS, Done, Job, execute, fn_name, write_atomic

__all__ = ["run_serial"]


def run_serial(jobs: Sequence[Job], *, threads: int, retries: int, done: Done) -> None:
    """Run each job in this process, retrying one that raises up to ``retries`` times.

    A run that raises ``Exception`` or ``SystemExit`` is a failed attempt (its traceback goes to
    ``error.txt`` after the last one). ``KeyboardInterrupt`` stops the sweep at once: runs that
    finished keep their ``results.json``, so rerunning the sweep picks up where it stopped.
    """
    for job in jobs:
        error = ""
        for _ in range(retries + 1):
            try:
                text = execute(fn_name(job.fn), job.kwargs, threads)
            except (Exception, SystemExit):  # SystemExit too: a worker process would report it as a failure
                error = traceback.format_exc()
                continue
            write_atomic(job.run_dir / RESULTS, text)
            done(job, text)
            break
        else:
            write_atomic(job.run_dir / ERROR, error)
            done(job, None)
