"""The sweep runner's checks: folders holding another task, bad arguments, the kwargs digest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scratchnn.experiments.harness import Task, run_sweep
from scratchnn.experiments.harness.digest import kwargs_digest

from .sweep_tasks import blas_threads, square


def test_a_folder_holding_another_task_is_never_overwritten(tmp_path: Path) -> None:
    run_sweep([Task("a", square, {"x": 2})], tmp_path, progress=False)
    before = (tmp_path / "a" / "results.json").read_bytes()
    with pytest.raises(ValueError, match=f"run folder {tmp_path / 'a'} holds a different task"):
        run_sweep([Task("a", square, {"x": 3})], tmp_path, progress=False)
    with pytest.raises(ValueError, match="holds a different task"):
        run_sweep([Task("a", blas_threads)], tmp_path, progress=False)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "results.json").write_text("{}")
    with pytest.raises(ValueError, match="holds a results.json but no task.json"):
        run_sweep([Task("c", square, {"x": 1}), Task("b", square, {"x": 1})], tmp_path, progress=False)
    assert (tmp_path / "a" / "results.json").read_bytes() == before
    assert not (tmp_path / "c").exists()  # every folder is checked before anything runs


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"backend": "gpu"}, "Invalid value for `backend`: expected one of 'serial', 'processes', 'ray'. "),
        (
            {"backend": "processes", "workers": 0},
            "Invalid value for `workers`: expected an int >= 1. Received: workers=0",
        ),
        ({"workers": 2}, "Invalid value for `workers`: expected None or 1 with backend='serial'"),
        ({"threads": 0}, "Invalid value for `threads`: expected an int >= 1. Received: threads=0"),
        ({"retries": -1}, "Invalid value for `retries`: expected an int >= 0. Received: retries=-1"),
        ({"ray_address": "auto"}, "Invalid value for `ray_address`"),
    ],
)
def test_bad_arguments_are_named(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_sweep([Task("a", square, {"x": 1})], tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_bad_tasks_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="expected unique keys .* Received: the key 'a' 2 times"):
        run_sweep([Task("a", square, {"x": 1}), Task("a", square, {"x": 2})], tmp_path, progress=False)
    for key in ["a/b", ".hidden", "", "."]:
        with pytest.raises(ValueError, match="Invalid value for `key`: expected a plain file name"):
            Task(key, square)
    with pytest.raises(ValueError, match="Invalid value for `fn`: expected a module-level function"):
        Task("a", lambda: {})
    with pytest.raises(TypeError, match=r"Invalid type for `kwargs\['x'\]\[1\]`"):
        run_sweep([Task("a", square, {"x": [1, object()]})], tmp_path, progress=False)
    with pytest.raises(TypeError, match=r"Invalid type for `tasks\[0\]`: expected a Task"):
        run_sweep([square], tmp_path, progress=False)  # type: ignore[list-item]


def test_kwargs_digest_is_canonical() -> None:
    a = np.arange(6.0).reshape(2, 3)
    assert kwargs_digest({"x": 1, "y": a}) == kwargs_digest({"y": a.copy(), "x": 1})  # key order, identity
    assert kwargs_digest({"y": a}) == kwargs_digest({"y": np.asfortranarray(a)})  # memory layout
    different = [{"y": a.astype(np.float32)}, {"y": a.reshape(3, 2)}, {"y": a + 1e-12}, {"y": a.tolist()}]
    assert len({kwargs_digest(k) for k in [{"y": a}, *different]}) == 5
    assert kwargs_digest({"x": 0.1}) != kwargs_digest({"x": float(np.nextafter(0.1, 1.0))})  # exact floats
    assert kwargs_digest({"x": [1, 2]}) != kwargs_digest({"x": (1, 2)})
    assert kwargs_digest({"x": 1}) != kwargs_digest({"x": 1.0}) != kwargs_digest({"x": True})


def test_the_array_digest_cache_changes_no_digest() -> None:
    data = {"X": np.arange(12.0).reshape(3, 4), "y": np.arange(3)}
    kwargs = [{"data": data, "seed": seed} for seed in range(3)] + [{"data": {"X": data["X"].T, "y": data["y"]}}]
    cache: dict[int, bytes] = {}
    assert [kwargs_digest(k, cache) for k in kwargs] == [kwargs_digest(k) for k in kwargs]
    assert len(cache) == 3  # X, y and X's transpose (a new array object), each hashed once
