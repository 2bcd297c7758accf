"""The processes backend's long-lived workers: runs share them without seeing each other, and a dead
worker is replaced without disturbing the other runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import scratchnn
from scratchnn import _config
from scratchnn.experiments.harness import Task, run_sweep

from .sweep_tasks import array_seen, counts, crash_once, global_state, square


def without_pid(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "pid"} for r in results]


def test_runs_share_workers_and_each_starts_from_the_same_global_state(tmp_path: Path) -> None:
    # every run changes the seed and the default dtype after drawing: the next run must not notice
    tasks = [Task(f"run{i}", global_state, {"seconds": 0.05}) for i in range(6)]
    caller = scratchnn.manual_seed(7)
    caller.random()
    before = scratchnn.get_rng_state()
    serial = run_sweep(tasks, tmp_path / "serial", progress=False)
    assert _config.default_rng() is caller and scratchnn.get_rng_state() == before  # the caller's generator is back
    assert scratchnn.get_default_dtype() == np.float32
    expected = {"draw": np.random.default_rng(0).random(), "dtype": "float32"}  # manual_seed(0), float32
    assert without_pid(serial) == [expected] * len(tasks)

    procs = run_sweep(tasks, tmp_path / "procs", backend="processes", workers=2, progress=False)
    assert without_pid(procs) == without_pid(serial)
    assert len({r["pid"] for r in procs}) == 2  # six runs, two long-lived workers


def test_a_killed_worker_is_replaced_and_the_other_runs_go_on(tmp_path: Path) -> None:
    counter = str(tmp_path / "counter")
    tasks = [Task("killed", crash_once, {"marker": str(tmp_path / "marker"), "how": "kill", "counter": counter})]
    tasks += [Task(f"run{i}", global_state, {"seconds": 0.2}) for i in range(6)]
    tasks += [Task(f"sq{x}", square, {"x": x, "counter": counter}) for x in range(3)]
    results = run_sweep(tasks, tmp_path / "out", backend="processes", workers=2, progress=False)
    assert results[0] == {"survived": "kill"} and results[7:] == [{"x": x, "y": x * x} for x in range(3)]
    assert counts(tmp_path / "counter") == {"crash-kill": 1, "square-0": 1, "square-1": 1, "square-2": 1}
    # the runs after the kill were spread over the surviving worker and the dead one's replacement
    assert len({r["pid"] for r in results[1:7]}) == 2
    assert without_pid(results[1:7]) == [{"draw": np.random.default_rng(0).random(), "dtype": "float32"}] * 6
    assert not list((tmp_path / "out").glob("*/error.txt"))


def test_a_large_array_goes_to_each_worker_once_and_runs_may_not_write_to_it(tmp_path: Path) -> None:
    X, small = np.random.default_rng(0).standard_normal((512, 512)), np.arange(10.0)  # 2 MiB and 80 bytes
    tasks = [Task(f"run{i}", array_seen, {"X": X, "small": small, "seconds": 0.05}) for i in range(6)]
    results = run_sweep(tasks, tmp_path, backend="processes", workers=2, progress=False)
    by_worker: dict[int, set[int]] = {}
    for r in results:
        by_worker.setdefault(r["pid"], set()).add(r["id"])
    assert len(by_worker) == 2 and all(len(ids) == 1 for ids in by_worker.values())  # one copy per worker
    # the worker's copy is shared by its runs: read-only; a small array is sent afresh with every run
    assert all(r["writeable"] == [False, True] and r["sum"] == X.sum() for r in results)
