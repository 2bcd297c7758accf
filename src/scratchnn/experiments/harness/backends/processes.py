"""The processes backend: ``workers`` long-lived local child processes, each running many runs.

Why long-lived workers: a child started for every run (as this backend once did) paid for it on
every run: a fresh process computes a few percent slower until its memory has been faulted in, and
the parent stood blocked while it pickled the run's arguments (the same ~9 MB of data arrays, run
after run) into the new child. A worker now takes one job after another over its own pipe; every run
starts from the same scratchnn global state (:func:`~.execute`), so sharing a process changes no result.
A large array (1 MiB or more) goes to each worker once: the worker keeps it, read-only, for the
sweep's later runs, and their jobs name it by reference (120 jobs sharing 9 MB of data: 3 s less).

Why not ``concurrent.futures.ProcessPoolExecutor``: one worker killed by a signal (the OOM killer,
a segfault in native code, ``os._exit``) breaks the whole pool and every pending future with it.
Here the parent sends each worker one job at a time and waits (``multiprocessing.connection.wait``)
on the busy workers' pipes and on every worker's sentinel, which becomes ready when the process ends,
however it ends. A dead worker costs the one attempt it held, retried like a run that raised, and a
fresh worker takes its place; the other workers and runs go on.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import traceback
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkServerContext, SpawnContext
from pathlib import Path
from typing import Any

import numpy as np

from . import ERROR, RESULTS, Done, Job, execute, fn_name, write_atomic

__all__ = ["run_processes"]

# how long a worker may take to exit (told to stop, or terminated) before it is killed
_GRACE_S = 5.0
# an array at least this large goes to each worker once, then by reference (the worker keeps it)
_SHARED_BYTES = 1 << 20


@dataclass(frozen=True)
class _Shared:
    """Stands, in a job's arguments, for a large array the worker holds: ``key`` is its ``id`` here.

    The parent's arrays stay alive (and unmodified) for the whole sweep, so an id names one array.
    """

    key: int


class _Worker:
    """A child process running jobs sent over its pipe, and the job it holds (None when idle)."""

    def __init__(self, ctx: ForkServerContext | SpawnContext) -> None:
        self.conn, child_conn = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child_conn,), name="sweep-worker")
        self.process.start()
        # the child holds its end now: ours closed, the pipe reads EOF as soon as the child is gone
        child_conn.close()
        self.job: Job | None = None
        self.attempt = 0
        self.held: set[int] = set()  # the ids of the large arrays this worker was sent

    def give(self, job: Job, attempt: int, threads: int) -> None:
        """Send the worker ``job``: it holds that attempt until it reports back or dies."""
        (job.run_dir / ERROR).unlink(missing_ok=True)  # the last attempt's error, if any, is the one kept
        self.job, self.attempt = job, attempt
        new: dict[int, np.ndarray] = {}
        kwargs = _share(dict(job.kwargs), self.held, new)
        try:
            self.conn.send((fn_name(job.fn), kwargs, new, str(job.run_dir), threads))
        except OSError:  # BrokenPipeError and kin: it died (its sentinel tells); the attempt is lost with it,
            return  # so a worker that cannot even start costs attempts, and the sweep ends all the same
        self.held |= new.keys()

    def stop(self, *, terminate: bool) -> None:
        """Tell the worker to stop (it exits once idle), or terminate it (SIGTERM)."""
        if not self.process.is_alive():
            return
        if terminate:
            self.process.terminate()
            return
        try:
            self.conn.send(None)
        except OSError:  # gone meanwhile
            pass

    def reap(self) -> None:
        """Wait for the worker to exit (killed after the grace period); release its pipe and process."""
        self.process.join(_GRACE_S)
        if self.process.is_alive():  # a run that ignores SIGTERM, or a worker stuck on its way out
            self.process.kill()
            self.process.join()
        self.conn.close()
        self.process.close()


def run_processes(jobs: Sequence[Job], *, workers: int, threads: int, retries: int, done: Done) -> None:
    """Run the jobs on up to ``workers`` worker processes, ``1 + retries`` attempts each.

    A worker runs one attempt of one run at a time and writes ``results.json`` itself (atomically)
    before it reports back, so a finished run survives whatever happens to the parent afterwards.
    ``results.json`` decides: an attempt failed when it is missing once the worker reported back
    (the run raised; the worker wrote ``error.txt`` with the traceback) or died (the parent writes
    ``worker died: ...`` to ``error.txt`` after the last attempt, and starts a fresh worker).
    ``KeyboardInterrupt`` (or any error) in the parent terminates the workers and propagates;
    finished runs stay on disk. At the end the workers are told to stop and exit.
    """
    ctx = _context()
    queue = deque((job, 0) for job in jobs)
    pool: list[_Worker] = []
    completed = False  # then the workers are told to stop; on an error or Ctrl-C they are terminated
    try:
        while queue or any(w.job is not None for w in pool):
            busy = sum(w.job is not None for w in pool)
            while len(pool) < min(workers, busy + len(queue)):  # at the start, and after a worker died
                pool.append(_Worker(ctx))
            for worker in pool:
                if worker.job is None and queue:
                    worker.give(*queue.popleft(), threads)
            ready = set(wait([w.conn for w in pool if w.job is not None] + [w.process.sentinel for w in pool]))
            for worker in list(pool):
                dead = worker.process.sentinel in ready
                if worker.job is not None and worker.conn in ready:
                    try:
                        worker.conn.recv()  # the attempt is over: its files are written
                    except (EOFError, OSError):  # it died: the pipe closed before its sentinel was seen
                        dead = True
                    else:
                        _judge(worker.job, worker.attempt, None, retries, queue, done)
                        worker.job = None
                if dead:
                    worker.process.join()
                    if worker.job is not None:
                        _judge(worker.job, worker.attempt, worker.process.exitcode, retries, queue, done)
                        worker.job = None
                    pool.remove(worker)
                    worker.reap()
        completed = True
    finally:
        for worker in pool:
            worker.stop(terminate=not completed)
        for worker in pool:
            worker.reap()


def _judge(
    job: Job, attempt: int, exitcode: int | None, retries: int, queue: deque[tuple[Job, int]], done: Done
) -> None:
    """After an attempt (``exitcode``: None if the worker lives on): done, retried, or failed for good."""
    results = job.run_dir / RESULTS
    # results.json decides, not how the worker ended: one killed right after writing it did finish
    if results.exists():
        done(job, results.read_text())
    elif attempt < retries:
        queue.append((job, attempt + 1))
    else:
        if not (job.run_dir / ERROR).exists():
            write_atomic(job.run_dir / ERROR, _death(exitcode) + "\n")
        done(job, None)


def _context() -> ForkServerContext | SpawnContext:
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        # the server imports scratchnn (numpy and all) and this module once; each worker is then a
        # fork of it and starts in milliseconds, without fork's hazards in a parent that runs
        # threads. Takes effect only if the server has not started yet; '__main__' is the default.
        ctx.set_forkserver_preload(["__main__", "scratchnn", __name__])
        return ctx
    return mp.get_context("spawn")


def _worker_main(conn: Connection) -> None:
    # Ctrl-C reaches the whole process group: the parent alone decides what happens, and terminates us
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    arrays: dict[int, np.ndarray] = {}  # the large arrays of this sweep's jobs, by their id in the parent
    while True:
        try:
            message = conn.recv()
        except EOFError:  # the parent is gone
            return
        if message is None:
            return
        fn, kwargs, new, run_dir, threads = message
        for array in new.values():
            # shared by every later run here, like the caller's own arrays in a serial sweep: an
            # in-place write would reach the next runs, so it is an error (as with Ray's arrays)
            array.flags.writeable = False
        arrays.update(new)
        _run(fn, _unshare(kwargs, arrays), Path(run_dir), threads)
        conn.send(True)


def _share(obj: Any, held: set[int], new: dict[int, np.ndarray]) -> Any:
    """``obj`` with each large array in it (in dicts, lists and tuples) made a :class:`_Shared`
    reference; those not in ``held`` go in ``new``, to be sent along."""
    if isinstance(obj, np.ndarray) and obj.nbytes >= _SHARED_BYTES:
        if id(obj) not in held:
            new[id(obj)] = obj
        return _Shared(id(obj))
    if type(obj) is dict:
        return {k: _share(v, held, new) for k, v in obj.items()}
    if type(obj) in (list, tuple):
        return type(obj)(_share(v, held, new) for v in obj)
    return obj


def _unshare(obj: Any, arrays: dict[int, np.ndarray]) -> Any:
    """The inverse of :func:`_share`, in the worker."""
    if isinstance(obj, _Shared):
        return arrays[obj.key]
    if type(obj) is dict:
        return {k: _unshare(v, arrays) for k, v in obj.items()}
    if type(obj) in (list, tuple):
        return type(obj)(_unshare(v, arrays) for v in obj)
    return obj


def _run(fn: tuple[str, str], kwargs: Mapping[str, Any], folder: Path, threads: int) -> None:
    """One attempt: ``results.json``, or ``error.txt`` with the traceback of whatever it raised."""
    try:
        text = execute(fn, kwargs, threads)
    except BaseException:  # SystemExit and KeyboardInterrupt too: a failed attempt, the worker lives on
        write_atomic(folder / ERROR, traceback.format_exc())
        return
    write_atomic(folder / RESULTS, text)


def _death(exitcode: int | None) -> str:
    """Why a worker ended without results, in words."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "unknown"
        return f"worker died: killed by signal {-exitcode} ({name})"
    if exitcode == 0:
        return "worker died: exited with code 0 without writing results.json (os._exit(0) in the task?)"
    return f"worker died: exit code {exitcode}"
