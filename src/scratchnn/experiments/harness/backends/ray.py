"""The Ray backend: runs as Ray tasks on a local Ray instance or an existing cluster.

Ray is an optional dependency (``pip install 'scratchnn[ray]'``), imported only here and only
when a sweep uses it. The workers of a cluster must be able to import scratchnn and the task
functions' modules (the same environment, or a ``runtime_env``).
"""

from __future__ import annotations

import os
import traceback
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from . import ERROR, RESULTS, Done, Job, cpu_count, execute, fn_name, write_atomic

__all__ = ["run_ray"]

# a local instance's shared-memory object store: tasks' kwargs (arrays) travel through it and
# Ray spills to disk beyond it; Ray's default (30% of RAM) is far more than a sweep needs
_OBJECT_STORE_BYTES = 256 * 1024**2
# how often the driver wakes from waiting on tasks, so Ctrl-C is handled promptly
_WAIT_S = 1.0


def run_ray(
    jobs: Sequence[Job],
    *,
    workers: int | None,
    threads: int,
    retries: int,
    ray_address: str | None,
    done: Done,
) -> None:
    """Run the jobs as Ray tasks, ``1 + retries`` attempts each; the driver writes every run's files.

    With ``ray_address`` the driver connects to that cluster (``"auto"``: the one ``ray start``
    started here); without it, a new local instance with ``workers`` slots (default: the cores) is
    started and shut down at the end. If Ray is already initialized in this process, that instance
    is used and left running. Each task reserves ``threads`` CPUs. At most ``workers`` runs are in
    flight (no limit on a cluster when ``workers`` is None).

    The remote function returns the run's JSON text or its traceback; Ray's own retries are off
    (``max_retries=0``) so that a crashed worker (``ray.exceptions.RayError``, e.g.
    ``WorkerCrashedError``) counts as one failed attempt here, like a run that raised. The driver,
    not the worker, writes ``results.json`` / ``error.txt``: a cluster's machines share no filesystem.
    """
    # no usage statistics sent (and no prompt about them) unless the user opted in
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    initialized_here = not ray.is_initialized()
    local = initialized_here and ray_address is None
    if initialized_here:
        if local:
            slots = workers or cpu_count()
            # "local" starts a new instance even where RAY_ADDRESS or a `ray start` cluster exists
            ray.init(
                address="local",
                num_cpus=slots * threads,
                include_dashboard=False,
                object_store_memory=_OBJECT_STORE_BYTES,
            )
        else:
            ray.init(address=ray_address)
    # a cluster schedules by the CPUs each task reserves; a local instance has `slots` of them anyway
    limit = workers if workers is not None else (cpu_count() if local else max(len(jobs), 1))
    remote = ray.remote(_remote_main).options(num_cpus=threads, max_retries=0)
    queue = deque((job, 0) for job in jobs)
    in_flight: dict[Any, tuple[Job, int]] = {}  # ObjectRef -> (job, attempt)
    kwargs_refs: dict[int, Any] = {}  # job index -> its kwargs in the object store, shared by its attempts
    try:
        while queue or in_flight:
            while queue and len(in_flight) < limit:
                job, attempt = queue.popleft()
                if job.index not in kwargs_refs:
                    kwargs_refs[job.index] = ray.put(dict(job.kwargs))
                ref = remote.remote(fn_name(job.fn), kwargs_refs[job.index], threads)
                in_flight[ref] = (job, attempt)
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=_WAIT_S)
            for ref in ready:
                job, attempt = in_flight.pop(ref)
                try:
                    ok, text = ray.get(ref)
                except ray.exceptions.RayError as e:  # the task never returned: its worker crashed, or Ray failed
                    what = "worker died" if isinstance(e, ray.exceptions.WorkerCrashedError) else "Ray failed the run"
                    ok, text = False, f"{what}: {type(e).__name__}: {e}\n"
                if ok:
                    kwargs_refs.pop(job.index, None)
                    write_atomic(job.run_dir / RESULTS, text)
                    done(job, text)
                elif attempt < retries:
                    queue.append((job, attempt + 1))
                else:
                    kwargs_refs.pop(job.index, None)
                    write_atomic(job.run_dir / ERROR, text)
                    done(job, None)
    finally:
        for ref in in_flight:  # on Ctrl-C or an error in the driver: stop what still runs
            try:
                ray.cancel(ref, force=True)
            except Exception:  # already finished or its worker gone: nothing left to stop
                pass
        if initialized_here:
            # stops the local instance started above; for a cluster, only disconnects this driver
            ray.shutdown()


def _remote_main(fn: tuple[str, str], kwargs: Mapping[str, Any], threads: int) -> tuple[bool, str]:
    """Runs on a Ray worker: ``(True, results JSON text)`` or ``(False, traceback)``."""
    try:
        return True, execute(fn, kwargs, threads)
    except (Exception, SystemExit):  # SystemExit too, as in the other backends
        return False, traceback.format_exc()
