"""Task functions for the sweep runner's tests: module-level, so worker processes and Ray import them.

Every task may append one line per execution to a ``counter`` file (``O_APPEND`` writes of a few
bytes are atomic across processes), so a test can count how often each run executed.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_info

import scratchnn
from scratchnn import _config as scratchnn_config
from scratchnn.experiments.harness import SweepError, Task, run_sweep


def record(counter: str | None, line: str) -> None:
    """Append ``line`` to the counter file, if any."""
    if counter is None:
        return
    fd = os.open(counter, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def counts(counter: Path) -> dict[str, int]:
    """How many lines each tag has in the counter file."""
    lines = counter.read_text().split() if counter.exists() else []
    return {tag: lines.count(tag) for tag in sorted(set(lines))}


def fit_mlp(
    seed: int, X: np.ndarray, lr: float, hidden: int = 256, steps: int = 40, counter: str | None = None
) -> dict[str, Any]:
    """A two-layer tanh MLP fitted to a random teacher by full-batch gradient descent.

    GEMMs of (N, D) x (D, H) are big enough that BLAS would use several threads if it could.
    Returns floats, lists, numpy scalars and arrays, and non-finite values, to exercise the JSON path.
    """
    rng = np.random.default_rng(seed)
    N, D = X.shape
    y = np.tanh(X @ rng.standard_normal((D, 1)) / np.sqrt(D)) + 0.1 * rng.standard_normal((N, 1))
    W1 = rng.standard_normal((D, hidden)) / np.sqrt(D)
    W2 = rng.standard_normal((hidden, 1)) / np.sqrt(hidden)
    losses = []
    for _ in range(steps):
        h = np.tanh(X @ W1)  # (N, D) @ (D, H) -> (N, H)
        err = h @ W2 - y  # (N, 1)
        losses.append(float(np.mean(err**2)))
        dpred = 2.0 * err / N
        dh = (dpred @ W2.T) * (1.0 - h**2)  # (N, 1) @ (1, H) -> (N, H)
        W2 -= lr * (h.T @ dpred)  # (H, N) @ (N, 1) -> (H, 1)
        W1 -= lr * (X.T @ dh)  # (D, N) @ (N, H) -> (D, H)
    record(counter, f"fit-{seed}-{lr}")
    return {
        "seed": seed,
        "lr": lr,
        "losses": losses,
        "final_loss": np.float64(losses[-1]),
        "w2_head": W2[:4, 0],
        "diverged_loss": float("inf"),  # an overflowing run's loss: kept exact, not made null
    }


def reference_tasks(counter: str | None = None, steps: int = 25) -> list[Task]:
    """A seconds-long grid: 2 learning rates x 3 seeds on one shared data array."""
    X = np.random.default_rng(123).standard_normal((768, 192))
    return [
        Task(f"lr{lr}-seed{seed}", fit_mlp, {"seed": seed, "X": X, "lr": lr, "steps": steps, "counter": counter})
        for lr in (0.05, 0.2)
        for seed in (0, 1, 2)
    ]


def square(x: float, counter: str | None = None) -> dict[str, Any]:
    """A tiny task."""
    record(counter, f"square-{x}")
    return {"x": x, "y": x * x}


def crash_once(marker: str, how: str, counter: str | None = None) -> dict[str, Any]:
    """Kill its own worker on the first attempt (``marker`` does not exist yet), succeed on the next."""
    if not os.path.exists(marker):
        Path(marker).touch()
        if how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        os._exit(3)
    record(counter, f"crash-{how}")
    return {"survived": how}


def always_fails(counter: str | None = None) -> dict[str, Any]:
    """Raise on every attempt (one counter line per attempt)."""
    record(counter, "fails")
    raise ValueError("this task always fails")


def interrupt_once(marker: str, counter: str | None = None) -> dict[str, Any]:
    """Raise ``KeyboardInterrupt`` (a user's Ctrl-C) on the first attempt."""
    if not os.path.exists(marker):
        Path(marker).touch()
        raise KeyboardInterrupt
    record(counter, "interrupt")
    return {"resumed": True}


def sleepy(seconds: float, started: str, counter: str | None = None) -> dict[str, Any]:
    """Touch ``started``, sleep, then count one completed execution."""
    Path(started).touch()
    time.sleep(seconds)
    record(counter, "sleepy")
    return {"slept": seconds}


def interrupted_tasks(scratch: str) -> list[Task]:
    """A quick run and a slow one, for the test that interrupts a processes sweep."""
    counter = os.path.join(scratch, "counter")
    return [
        Task("quick", square, {"x": 2, "counter": counter}),
        Task("slow", sleepy, {"seconds": 2.0, "started": os.path.join(scratch, "started"), "counter": counter}),
    ]


def processes_driver(out: str, scratch: str) -> None:
    """Run :func:`interrupted_tasks` on 2 worker processes (the test sends this process SIGINT)."""
    run_sweep(interrupted_tasks(scratch), out, backend="processes", workers=2, progress=False)


def blas_threads() -> dict[str, Any]:
    """The BLAS thread counts this run sees."""
    return {"threads": [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]}


def ray_driver(out: str, scratch: str) -> int:
    """The Ray side of the Ray test (run in a loopback-only network namespace): the reference grid
    plus a run whose worker is killed once and a run that always fails, on 2 local Ray workers.

    Writes the returned results to ``scratch/returned.json``; exit status 0 when exactly the
    always-failing run failed.
    """
    tasks = reference_tasks() + [
        Task("crash", crash_once, {"marker": os.path.join(scratch, "crash.marker"), "how": "kill"}),
        Task("fails", always_fails),
    ]
    start = time.perf_counter()
    try:
        run_sweep(tasks, out, backend="ray", workers=2, progress=False)
    except SweepError as e:
        Path(scratch, "returned.json").write_text(json.dumps(e.results))
        print(f"ray sweep took {time.perf_counter() - start:.1f} s; failed: {sorted(e.failed)}")
        return 0 if sorted(e.failed) == ["fails"] else 1
    print("ray sweep: expected the 'fails' run to fail", file=sys.stderr)
    return 1


def not_a_number() -> dict[str, Any]:
    """A result NaN must survive the JSON round trip (strict JSON would make it null)."""
    return {"value": float("nan"), "values": np.array([1.0, np.nan, -np.inf])}


def global_state(seconds: float = 0.0) -> dict[str, Any]:
    """A draw from scratchnn's default generator and the default dtype, then both changed: a run after
    this one in the same process sees the same state only if the runner resets it. Sleeps first, so
    that a sweep of these spreads over every worker."""
    time.sleep(seconds)
    seen = {"draw": scratchnn_config.default_rng().random(), "dtype": str(scratchnn.get_default_dtype())}
    scratchnn.manual_seed(12345)
    scratchnn.set_default_dtype(np.float64)
    return seen | {"pid": os.getpid()}


def array_seen(X: np.ndarray, small: np.ndarray, seconds: float = 0.0) -> dict[str, Any]:
    """What a run sees of its array arguments: the object (its id), whether it may write to them."""
    time.sleep(seconds)
    return {"pid": os.getpid(), "id": id(X), "writeable": [X.flags.writeable, small.flags.writeable], "sum": X.sum()}
