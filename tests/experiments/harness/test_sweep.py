"""The sweep runner: the same results serially, on worker processes and on Ray; resume; failures."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

import pytest

from scratchnn.experiments.harness import SweepError, Task, run_sweep
from scratchnn.experiments.harness.digest import kwargs_digest

from .sweep_tasks import (
    always_fails,
    blas_threads,
    counts,
    crash_once,
    interrupt_once,
    interrupted_tasks,
    not_a_number,
    reference_tasks,
    square,
)

REPO = Path(__file__).resolve().parents[3]


def run_files(out: Path, name: str = "results.json") -> dict[str, bytes]:
    """Each run folder's ``name`` file, as bytes."""
    return {p.parent.name: p.read_bytes() for p in sorted(out.glob(f"*/{name}"))}


def driver_script(name: str) -> str:
    """``python -c`` code calling ``sweep_tasks.<name>(*argv)``: the task functions keep their module name."""
    return f"import sys; from tests.experiments.harness.sweep_tasks import {name}; sys.exit({name}(*sys.argv[1:]))"


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], Path]:
    out = tmp_path_factory.mktemp("serial")
    return run_sweep(reference_tasks(), out, progress=False), out


def test_serial_run_writes_task_and_results_json(serial_run: tuple[list[dict[str, Any]], Path]) -> None:
    results, out = serial_run
    tasks = reference_tasks()
    assert sorted(p.name for p in out.iterdir()) == sorted(t.key for t in tasks)
    for task, result in zip(tasks, results):
        assert sorted(p.name for p in (out / task.key).iterdir()) == ["results.json", "task.json"]
        assert json.loads((out / task.key / "task.json").read_text()) == {
            "key": task.key,
            "fn": "tests.experiments.harness.sweep_tasks:fit_mlp",
            "kwargs_sha256": kwargs_digest(task.kwargs),
        }
        # what run_sweep returns is exactly what results.json holds: numpy made Python, infinities kept
        assert result == json.loads((out / task.key / "results.json").read_text())
        assert result["seed"] == task.kwargs["seed"] and result["diverged_loss"] == math.inf
        assert type(result["final_loss"]) is float and len(result["w2_head"]) == 4
        assert result["losses"][-1] < result["losses"][0]
    umask = os.umask(0)
    os.umask(umask)
    assert (out / tasks[0].key / "results.json").stat().st_mode & 0o777 == 0o666 & ~umask  # like any other file


def test_two_worker_processes_give_the_serial_results_bit_for_bit(
    serial_run: tuple[list[dict[str, Any]], Path], tmp_path: Path
) -> None:
    results, out = serial_run
    assert run_sweep(reference_tasks(), tmp_path, backend="processes", workers=2, progress=False) == results
    assert run_files(tmp_path) == run_files(out)
    assert run_files(tmp_path, "task.json") == run_files(out, "task.json")


@pytest.mark.parametrize("backend", ["serial", "processes"])
@pytest.mark.parametrize("threads", [1, 2])
def test_every_run_executes_under_the_blas_thread_limit(backend: str, threads: int, tmp_path: Path) -> None:
    (result,) = run_sweep([Task("t", blas_threads)], tmp_path, backend=backend, threads=threads, progress=False)
    assert result["threads"] and set(result["threads"]) == {threads}


def _unshare_problem() -> str | None:
    """Why a loopback-only network namespace can't be made here, or None if it can."""
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    probe = subprocess.run(
        ["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True, text=True, timeout=60
    )
    if probe.returncode != 0:
        return f"`unshare -n` failed here: {(probe.stderr or probe.stdout).strip()}"
    return None


@pytest.mark.slow
def test_ray_gives_the_serial_results_bit_for_bit_and_retries_a_killed_worker(
    serial_run: tuple[list[dict[str, Any]], Path], tmp_path: Path
) -> None:
    if importlib.util.find_spec("ray") is None:
        pytest.fail("ray is not installed: `make test` installs the project's [ray] extra")
    problem = _unshare_problem()
    if problem is not None:
        pytest.skip(problem)
    results, out = serial_run
    ray_out, scratch = tmp_path / "ray", tmp_path / "scratch"
    scratch.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    # Ray workers import the task functions from tests/; usage statistics off
    env.update(
        RAY_USAGE_STATS_ENABLED="0", PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    )
    script = driver_script("ray_driver")
    # Ray binds the machine's network address whatever it is told; only loopback traffic is allowed
    # here, so Ray runs in a network namespace that has nothing but lo
    cmd = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', sys.executable, "-c", script]
    # its own Ray temp folder (short: Ray's socket paths must fit in 107 bytes): no session files left
    # behind, no `ray start` cluster of this machine found
    with tempfile.TemporaryDirectory(prefix="ray-") as ray_tmp:
        env["RAY_TMPDIR"] = ray_tmp
        proc = subprocess.run(
            [*cmd, str(ray_out), str(scratch)], cwd=REPO, env=env, capture_output=True, text=True, timeout=420
        )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-6000:]}"
    ray_files = run_files(ray_out)
    assert ray_files.pop("crash") == b'{\n  "survived": "kill"\n}\n'  # its worker was killed, the retry finished
    assert ray_files == run_files(out)
    assert "ValueError: this task always fails" in (ray_out / "fails" / "error.txt").read_text()
    returned = json.loads((scratch / "returned.json").read_text())
    assert returned[: len(results)] == results and returned[-2:] == [{"survived": "kill"}, None]


def test_a_killed_worker_is_retried_and_every_run_completes_exactly_once(tmp_path: Path) -> None:
    counter = str(tmp_path / "counter")
    tasks = [Task(f"sq{x}", square, {"x": x, "counter": counter}) for x in range(4)] + [
        Task("killed", crash_once, {"marker": str(tmp_path / "killed.marker"), "how": "kill", "counter": counter}),
        Task("exited", crash_once, {"marker": str(tmp_path / "exited.marker"), "how": "exit", "counter": counter}),
        Task("fails", always_fails, {"counter": counter}),
    ]
    out = tmp_path / "out"
    with pytest.raises(SweepError) as info:
        run_sweep(tasks, out, backend="processes", workers=2, progress=False)
    assert info.value.failed == {"fails": out / "fails" / "error.txt"}
    assert "fails" in str(info.value) and str(out / "fails" / "error.txt") in str(info.value)
    assert isinstance(info.value, RuntimeError)
    error = (out / "fails" / "error.txt").read_text()
    assert error.startswith("Traceback") and "ValueError: this task always fails" in error
    assert not (out / "fails" / "results.json").exists()
    expected = {f"square-{x}": 1 for x in range(4)} | {"crash-kill": 1, "crash-exit": 1, "fails": 2}
    assert counts(tmp_path / "counter") == expected
    assert info.value.results == [{"x": x, "y": x * x} for x in range(4)] + [
        {"survived": "kill"},
        {"survived": "exit"},
        None,
    ]
    assert not any((out / key / "error.txt").exists() for key in ("killed", "exited", "sq0"))

    # a rerun runs only the failed run again (twice: it is retried again)
    with pytest.raises(SweepError):
        run_sweep(tasks, out, backend="processes", workers=2, progress=False)
    assert counts(tmp_path / "counter") == expected | {"fails": 4}


def test_a_dead_worker_without_retries_is_reported_and_rerun_next_time(tmp_path: Path) -> None:
    tasks = [Task("killed", crash_once, {"marker": str(tmp_path / "marker"), "how": "kill"})]
    with pytest.raises(SweepError, match="1 of 1 runs failed"):
        run_sweep(tasks, tmp_path / "out", backend="processes", retries=0, progress=False)
    error = tmp_path / "out" / "killed" / "error.txt"
    assert error.read_text() == "worker died: killed by signal 9 (SIGKILL)\n"
    assert run_sweep(tasks, tmp_path / "out", backend="processes", retries=0, progress=False) == [{"survived": "kill"}]
    assert not error.exists()


@pytest.mark.slow
def test_ctrl_c_stops_the_worker_processes_and_keeps_finished_runs(tmp_path: Path) -> None:
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    scratch.mkdir()
    script = driver_script("processes_driver")
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(out), str(scratch)], cwd=REPO, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not ((scratch / "started").exists() and (out / "quick" / "results.json").exists()):
            assert proc.poll() is None and time.monotonic() < deadline, "the sweep never got going"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)  # to the parent alone: it must stop the children itself
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode != 0 and stderr.rstrip().endswith("KeyboardInterrupt"), stderr
    time.sleep(2.5)  # longer than the slow run would have slept: its worker was terminated
    assert counts(scratch / "counter") == {"square-2": 1}
    assert sorted(run_files(out)) == ["quick"]

    results = run_sweep(interrupted_tasks(str(scratch)), out, backend="processes", workers=2, progress=False)
    assert results == [{"x": 2, "y": 4}, {"slept": 2.0}]
    assert counts(scratch / "counter") == {"square-2": 1, "sleepy": 1}


def test_a_function_the_workers_cannot_import_is_a_traceback_in_error_txt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    phantom = types.ModuleType("phantom_tasks")  # exists in this process only
    exec("def task():\n    return {}", phantom.__dict__)
    monkeypatch.setitem(sys.modules, "phantom_tasks", phantom)
    assert run_sweep([Task("here", phantom.task)], tmp_path / "serial", progress=False) == [{}]
    with pytest.raises(SweepError):
        run_sweep([Task("there", phantom.task)], tmp_path / "procs", backend="processes", progress=False)
    assert "ModuleNotFoundError: No module named 'phantom_tasks'" in (tmp_path / "procs/there/error.txt").read_text()


def test_serial_retries_a_run_that_raises_and_reports_its_traceback(tmp_path: Path) -> None:
    counter = str(tmp_path / "counter")
    tasks = [Task("fails", always_fails, {"counter": counter}), Task("sq", square, {"x": 3.0})]
    with pytest.raises(SweepError) as info:
        run_sweep(tasks, tmp_path / "out", retries=2, progress=False)
    assert info.value.results == [None, {"x": 3.0, "y": 9.0}]
    assert counts(tmp_path / "counter") == {"fails": 3}
    assert "ValueError: this task always fails" in (tmp_path / "out" / "fails" / "error.txt").read_text()


def test_an_interrupted_sweep_resumes_with_only_the_missing_runs(tmp_path: Path) -> None:
    counter = str(tmp_path / "counter")
    sq = [Task(f"sq{x}", square, {"x": x, "counter": counter}) for x in range(4)]
    tasks = sq[:2] + [Task("stop", interrupt_once, {"marker": str(tmp_path / "marker"), "counter": counter})] + sq[2:]
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):  # a Ctrl-C during the third run
        run_sweep(tasks, out, progress=False)
    assert sorted(run_files(out)) == ["sq0", "sq1"]
    assert counts(tmp_path / "counter") == {"square-0": 1, "square-1": 1}

    results = run_sweep(tasks, out, progress=False)
    assert counts(tmp_path / "counter") == {"square-0": 1, "square-1": 1, "square-2": 1, "square-3": 1, "interrupt": 1}
    assert results == [{"x": 0, "y": 0}, {"x": 1, "y": 1}, {"resumed": True}, {"x": 2, "y": 4}, {"x": 3, "y": 9}]

    (out / "sq1" / "results.json").unlink()  # a lost result is recomputed, alone, on any backend
    assert run_sweep(tasks, out, backend="processes", progress=False) == results
    assert counts(tmp_path / "counter")["square-1"] == 2 and sum(counts(tmp_path / "counter").values()) == 6


def test_non_finite_results_survive_the_round_trip(tmp_path: Path) -> None:
    (result,) = run_sweep([Task("nan", not_a_number)], tmp_path, progress=False)
    assert math.isnan(result["value"]) and result["values"][0] == 1.0
    assert math.isnan(result["values"][1]) and result["values"][2] == -math.inf
    assert "NaN" in (tmp_path / "nan" / "results.json").read_text()
