"""Where a sweep's runs execute: in this process, in local worker processes, or on a Ray cluster.

Each backend is one function ``run_<name>(jobs, *, threads, retries, done, ...)`` that runs every
job (up to ``1 + retries`` attempts each) and calls ``done(job, text)`` once per job, in the
calling process: ``text`` is the run's results as JSON text (``results.json`` has been written),
or ``None`` when every attempt failed (``error.txt`` has been written). The helpers below are the
one way a run executes and its files are written, so every backend produces the same bytes.
"""

from __future__ import annotations

import importlib
import json
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from ...._config import canonical_state
from ....train.run_dir import to_jsonable

__all__ = ["RESULTS", "ERROR", "Job", "Done", "fn_name", "execute", "write_atomic", "cpu_count"]

RESULTS = "results.json"
ERROR = "error.txt"


@dataclass(frozen=True)
class Job:
    """One run to execute: its place in the sweep, its task's key, function and arguments, its folder (which exists)."""

    index: int
    key: str
    fn: Callable[..., Mapping[str, Any]]
    kwargs: Mapping[str, Any]
    run_dir: Path


Done = Callable[[Job, str | None], None]


def execute(fn_name: tuple[str, str], kwargs: Mapping[str, Any], threads: int) -> str:
    """Run the function ``(module, qualname)`` on ``kwargs`` under a BLAS thread limit; return its
    results as JSON text (non-finite floats kept).

    Workers get the function by name and import it here, so that a function they cannot import is
    a traceback in ``error.txt`` like any other error. Raises whatever importing or running it
    raises, and ``TypeError`` when it returns something other than a mapping.

    The function runs from scratchnn's canonical global state (default generator seeded with 0,
    default dtype float32; :func:`scratchnn._config.canonical_state`) and the caller's is restored
    afterwards: a worker runs many runs one after another, and a run's results must not depend on
    which ran before it in the same process, nor, serially, on the caller's state.
    """
    module, qualname = fn_name
    fn: Any = importlib.import_module(module)
    for name in qualname.split("."):
        fn = getattr(fn, name)
    # the same limit in every backend: results must not depend on where a run executed, and
    # N single-threaded workers on N cores must not oversubscribe them
    with threadpool_limits(limits=threads, user_api="blas"), canonical_state():
        results = fn(**kwargs)
    if not isinstance(results, Mapping):
        raise TypeError(
            f"Invalid type for the results of {fn.__module__}.{fn.__qualname__}: expected a mapping "
            f"(str -> JSON-able value). Received: results of type {type(results).__name__}"
        )
    # Infinity and NaN are kept (JSON's common extension, which Python reads back): a run's results are exact,
    # and an experiment sees a diverged run's inf loss as inf whichever backend ran it
    return json.dumps(to_jsonable(dict(results)), indent=2, allow_nan=True) + "\n"


def fn_name(fn: Callable[..., Any]) -> tuple[str, str]:
    """``(module, qualname)``: how a task's function travels to a worker."""
    return fn.__module__, fn.__qualname__


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``: readers see all or nothing."""
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    # os.open with 0o666, not tempfile.mkstemp: the umask decides the mode, as for any other file (mkstemp's is 0o600)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())  # a completed run survives a machine crash, not just a process crash
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def cpu_count() -> int:
    """The cores this process may use (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
