"""The processes backend: up to ``workers`` local child processes, one per running run.

Why not ``concurrent.futures.ProcessPoolExecutor``: one worker killed by a signal (the OOM killer,
a segfault in native code, ``os._exit``) breaks the whole pool and every pending future with it.
Here each run gets its own short-lived child; the parent waits on the children's sentinels and
judges each run from the files the child left and its exit code, so a dead child is one failed
attempt of one run, retried like a run that raised.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import sys
import traceback
from collections import deque
from collections.abc import Mapping, Sequence
from multiprocessing.connection import wait
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from . import ERROR, RESULTS, Done, Job, execute, fn_name, write_atomic

__all__ = ["run_processes"]

# how long a terminated child may take to exit before it is killed
_TERMINATE_GRACE_S = 5.0


def run_processes(jobs: Sequence[Job], *, workers: int, threads: int, retries: int, done: Done) -> None:
    """Run the jobs on up to ``workers`` child processes at a time, ``1 + retries`` attempts each.

    A child runs one attempt of one run and writes ``results.json`` itself (atomically) before it
    exits, so a finished run survives whatever happens to the parent afterwards. An attempt failed
    when the child exits without ``results.json``: it raised (the child wrote ``error.txt`` with the
    traceback) or it died (the parent writes ``worker died: ...`` to ``error.txt`` after the last
    attempt). ``KeyboardInterrupt`` (or any error) in the parent terminates the running children and
    propagates; finished runs stay on disk.
    """
    ctx = _context()
    queue = deque((job, 0) for job in jobs)
    running: dict[Any, tuple[BaseProcess, Job, int]] = {}  # sentinel -> (child, job, attempt)
    try:
        while queue or running:
            while queue and len(running) < workers:
                job, attempt = queue.popleft()
                (job.run_dir / ERROR).unlink(missing_ok=True)  # the last attempt's error, if any, is the one kept
                child: BaseProcess = ctx.Process(
                    target=_child_main,
                    args=(fn_name(job.fn), job.kwargs, str(job.run_dir), threads),
                    name=f"sweep-{job.key}",
                )
                child.start()
                running[child.sentinel] = (child, job, attempt)
            for sentinel in wait(list(running)):
                child, job, attempt = running.pop(sentinel)
                child.join()
                exitcode = child.exitcode
                child.close()
                results = job.run_dir / RESULTS
                # results.json decides, not the exit code: a child killed after writing it did finish
                if results.exists():
                    done(job, results.read_text())
                elif attempt < retries:
                    queue.append((job, attempt + 1))
                else:
                    if not (job.run_dir / ERROR).exists():
                        write_atomic(job.run_dir / ERROR, _death(exitcode) + "\n")
                    done(job, None)
    finally:
        for child, _, _ in running.values():
            child.terminate()
        for child, _, _ in running.values():
            child.join(_TERMINATE_GRACE_S)
            if child.is_alive():  # a run that ignores SIGTERM
                child.kill()
                child.join()


def _context() -> ForkServerContext | SpawnContext:
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        # the server imports scratchnn (numpy and all) and this module once; each child is then a
        # fork of it and starts in milliseconds, without fork's hazards in a parent that runs
        # threads. Takes effect only if the server has not started yet; '__main__' is the default.
        ctx.set_forkserver_preload(["__main__", "scratchnn", __name__])
        return ctx
    return mp.get_context("spawn")


def _child_main(fn: tuple[str, str], kwargs: Mapping[str, Any], run_dir: str, threads: int) -> None:
    # Ctrl-C reaches the whole process group: the parent alone decides what happens, and terminates us
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    folder = Path(run_dir)
    try:
        text = execute(fn, kwargs, threads)
    except BaseException:
        write_atomic(folder / ERROR, traceback.format_exc())
        sys.exit(1)
    write_atomic(folder / RESULTS, text)


def _death(exitcode: int | None) -> str:
    """Why a child ended without results, in words."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "unknown"
        return f"worker died: killed by signal {-exitcode} ({name})"
    if exitcode == 0:
        return "worker died: exited with code 0 without writing results.json (os._exit(0) in the task?)"
    return f"worker died: exit code {exitcode}"
