"""The sweep runner: independent runs -> one folder each, serially, on local processes or on Ray.

A run is a :class:`Task`: a module-level function, its keyword arguments (JSON-able values and
numpy arrays) and a key that names its folder. :func:`run_sweep` gives each run the folder
``out_dir/<key>/`` holding

- ``task.json``: the key, the function as ``module:qualname`` and ``kwargs_sha256``, a digest of
  the arguments (canonical: dict keys sorted, floats exact, arrays by dtype, shape and the SHA-256
  of their bytes);
- ``results.json``: what the function returned, as JSON (numpy values made Python ones; NaN and
  infinities kept as JSON's common ``NaN``/``Infinity``, which Python reads back exactly), written
  atomically once the run finished;
- ``error.txt``, instead, when every attempt failed: the last traceback, or ``worker died: ...``.

Results always make the round trip through that JSON text, in every backend, so a sweep returns
the same results whichever backend ran it, and the same as reading the folders back. A run
executes under a BLAS thread limit (``threads``, default 1) in every backend too.

A task must depend on its arguments only: seeds go in ``kwargs``. Each run starts from the same
scratchnn global state, in every backend: the default generator seeded with 0 and the default dtype
float32 (the caller's are restored after a serial run), so a run's results never depend on what ran
before it in the same process. Other global state of the calling process (``np.errstate``, warning
filters) does not reach workers. A task must not modify its arguments in place: tasks share them
(the same data arrays in every run, serially and within a worker, where arrays of 1 MiB or more are
read-only), and arrays must not change during a sweep (each is hashed once).
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..._validate import check_choice, check_int, invalid_type, invalid_value
from .backends import ERROR, RESULTS, Job, cpu_count, write_atomic
from .digest import kwargs_digest

__all__ = ["Task", "SweepError", "run_sweep"]

BACKENDS = ("serial", "processes", "ray")
TASK = "task.json"


@dataclass(frozen=True)
class Task:
    """One run of a sweep: ``fn(**kwargs)`` -> ``out_dir/<key>/results.json``.

    ``key`` is a plain file name (no path separator, not starting with '.'), unique in its sweep.
    ``fn`` is a module-level function (workers import it by module and name) returning a mapping
    of JSON-able values (numpy numbers and arrays are converted). ``kwargs`` hold JSON-able values
    (str, int, float, bool, None, lists, tuples, dicts with str keys, dataclasses of those) and
    numpy arrays, passed to ``fn`` as they are.
    """

    key: str
    fn: Callable[..., Mapping[str, Any]]
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        expected = "a plain file name (no path separator, not starting with '.')"
        if not isinstance(self.key, str):
            raise invalid_type("key", expected, self.key)
        seps = {os.sep, "/", os.altsep or os.sep, "\0"}
        if not self.key or self.key.startswith(".") or any(s in self.key for s in seps):
            raise invalid_value("key", expected, self.key)
        _check_fn(self.fn)
        if not isinstance(self.kwargs, Mapping):
            raise invalid_type("kwargs", "a mapping of argument names to values", self.kwargs)


class SweepError(RuntimeError):
    """Some runs failed every attempt; the others finished. Rerun the same sweep to retry only those.

    ``failed`` maps each failed key to its ``error.txt``; ``results`` holds every run's results in
    task order, ``None`` for the failed ones.
    """

    def __init__(self, failed: Mapping[str, Path], results: list[dict[str, Any] | None]) -> None:
        self.failed = dict(failed)
        self.results = results
        lines = "\n".join(f"  {key}: {path}" for key, path in self.failed.items())
        super().__init__(
            f"{len(self.failed)} of {len(results)} runs failed (the others finished); see their error files:\n"
            f"{lines}\nRunning the same sweep again retries only these."
        )


def run_sweep(
    tasks: Sequence[Task],
    out_dir: str | os.PathLike[str],
    *,
    backend: str = "serial",
    workers: int | None = None,
    threads: int = 1,
    ray_address: str | None = None,
    progress: bool = True,
    retries: int = 1,
) -> list[dict[str, Any]]:
    """Run every task into ``out_dir/<key>/``; return their results in task order.

    ``backend``: ``"serial"`` (this process), ``"processes"`` (``workers`` local worker processes,
    default one per core, each running run after run) or ``"ray"`` (a new local Ray instance with
    ``workers`` slots, or the cluster at ``ray_address``; needs ``scratchnn[ray]``). ``threads``: BLAS
    threads per run. ``retries``: how many more attempts a run that raised, or whose worker died, gets.
    Each run starts from the same scratchnn global state (see the module docstring).

    Resumable: a task whose folder holds ``results.json`` and a ``task.json`` with the same function
    and digest is not run again (its results are read back); a folder holding a different task is a
    ``ValueError`` before anything runs, so results are never overwritten. Fault tolerant: a failed
    run gets ``error.txt``, the other runs finish, then :class:`SweepError` lists the failures.
    ``KeyboardInterrupt`` stops the sweep; finished runs stay on disk.
    """
    tasks = list(tasks)
    check_choice(backend, "backend", BACKENDS)
    if workers is not None:
        check_int(workers, "workers", low=1)
        if backend == "serial" and workers != 1:
            raise invalid_value("workers", "None or 1 with backend='serial' (use 'processes' or 'ray')", workers)
    check_int(threads, "threads", low=1)
    check_int(retries, "retries", low=0)
    if ray_address is not None and (backend != "ray" or not isinstance(ray_address, str)):
        raise invalid_value("ray_address", "None, or an address string with backend='ray'", ray_address)
    for i, task in enumerate(tasks):
        if not isinstance(task, Task):
            raise invalid_type(f"tasks[{i}]", "a Task", task)
    duplicates = [(key, n) for key, n in Counter(t.key for t in tasks).items() if n > 1]
    if duplicates:
        key, n = duplicates[0]
        raise ValueError(
            f"Invalid value for `tasks`: expected unique keys (a key names a run folder). "
            f"Received: the key {key!r} {n} times"
        )

    out = Path(out_dir)
    # tasks often share their data arrays: each is hashed once (they must not change during the sweep)
    array_digests: dict[int, bytes] = {}
    records = [_record(task, array_digests) for task in tasks]
    # every folder is checked before anything is written or run
    results = [_finished(out / task.key, record) for task, record in zip(tasks, records)]
    out.mkdir(parents=True, exist_ok=True)
    jobs = []
    for i, (task, record) in enumerate(zip(tasks, records)):
        if results[i] is None:
            jobs.append(Job(i, task.key, task.fn, task.kwargs, _prepare(out / task.key, record)))

    failed: dict[int, Path] = {}
    bar = tqdm(
        total=len(tasks),
        initial=len(tasks) - len(jobs),
        desc="sweep",
        unit="run",
        file=sys.stderr,
        disable=not (progress and sys.stderr.isatty()),
    )

    def done(job: Job, text: str | None) -> None:
        if text is None:
            failed[job.index] = job.run_dir / ERROR
            bar.set_postfix(failed=len(failed), refresh=False)
        else:
            results[job.index] = json.loads(text)
        bar.update()

    try:
        if jobs:  # a finished sweep starts no workers (and no Ray)
            _dispatch(
                backend, jobs, workers=workers, threads=threads, retries=retries, ray_address=ray_address, done=done
            )
    finally:
        bar.close()
    if failed:
        raise SweepError({tasks[i].key: failed[i] for i in sorted(failed)}, results)
    return [r for r in results if r is not None]


def _dispatch(
    backend: str,
    jobs: list[Job],
    *,
    workers: int | None,
    threads: int,
    retries: int,
    ray_address: str | None,
    done: Callable[[Job, str | None], None],
) -> None:
    if backend == "serial":
        from .backends.serial import run_serial

        run_serial(jobs, threads=threads, retries=retries, done=done)
    elif backend == "processes":
        from .backends.processes import run_processes

        run_processes(jobs, workers=workers or cpu_count(), threads=threads, retries=retries, done=done)
    else:
        from .backends.ray import run_ray

        run_ray(jobs, workers=workers, threads=threads, retries=retries, ray_address=ray_address, done=done)


def _record(task: Task, array_digests: dict[int, bytes]) -> dict[str, str]:
    """What ``task.json`` holds: enough to recognise the same task when a sweep is run again."""
    fn = f"{task.fn.__module__}:{task.fn.__qualname__}"
    return {"key": task.key, "fn": fn, "kwargs_sha256": kwargs_digest(task.kwargs, array_digests)}


def _finished(run_dir: Path, record: dict[str, str]) -> dict[str, Any] | None:
    """The results of a finished run of this task in ``run_dir``, None if it has to run."""
    task_file, results_file = run_dir / TASK, run_dir / RESULTS
    if not task_file.exists():
        if results_file.exists():
            raise ValueError(
                f"run folder {run_dir} holds a results.json but no {TASK}: it is not a run of this "
                "sweep; nothing was written (use another out_dir or key, or delete the folder)"
            )
        return None
    saved = _read_json(task_file)
    if not isinstance(saved, dict) or any(saved.get(k) != record[k] for k in ("fn", "kwargs_sha256")):
        raise ValueError(
            f"run folder {run_dir} holds a different task (its {TASK}: {saved}; this task: {record}); nothing "
            "was written: use another out_dir or key, or delete the folder to run this task there"
        )
    if not results_file.exists():
        return None
    results = _read_json(results_file)
    if not isinstance(results, dict):
        raise ValueError(f"{results_file} holds a JSON {type(results).__name__}, not the object a run writes")
    return results


def _prepare(run_dir: Path, record: dict[str, str]) -> Path:
    """Make ``run_dir`` ready for a (new) attempt: ``task.json`` written, a past failure's files gone."""
    run_dir.mkdir(exist_ok=True)
    if not (run_dir / TASK).exists():
        write_atomic(run_dir / TASK, json.dumps(record, indent=2) + "\n")
    (run_dir / ERROR).unlink(missing_ok=True)
    for tmp in run_dir.glob(".*.tmp"):  # left by a worker killed while writing
        tmp.unlink()
    return run_dir


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(
            f"{path} is not valid JSON ({e}); nothing was written: delete its run folder to rerun the run"
        ) from e


def _check_fn(fn: Any) -> None:
    # workers (spawned processes, Ray) import the function by module and qualified name, so it must
    # be found there: no lambda, closure, bound method or functools.partial (put arguments in kwargs)
    expected = "a module-level function (found by its module and name; no lambda, closure or partial)"
    if not callable(fn):
        raise invalid_type("fn", expected, fn)
    target: Any = sys.modules.get(getattr(fn, "__module__", None) or "")
    for part in str(getattr(fn, "__qualname__", "<none>")).split("."):
        target = getattr(target, part, None)
    if target is not fn:
        raise invalid_value("fn", expected, fn)
