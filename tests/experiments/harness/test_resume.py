"""An experiment's runs go through the sweep runner: a failed run is reported with the others saved, an
interrupted experiment resumes in its own folder, and the backend never changes the results."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scratchnn.cli import main
from scratchnn.experiments.harness import SweepError
from scratchnn.experiments.harness.registry import EXPERIMENTS, ExperimentInfo
from scratchnn.experiments.harness.runner import resume_experiment, run_experiment


@pytest.fixture(autouse=True)
def _toy_registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    info = ExperimentInfo("tests.experiments.toy_sweep", "A toy sweep", "~0 s", "~0 s")
    monkeypatch.setitem(EXPERIMENTS, "toy-sweep", info)
    yield


def _without_runtime(results: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in results.items() if k != "runtime_s"}


def test_each_run_has_its_folder_and_the_experiment_sees_exact_results(tmp_path: Path) -> None:
    results, out = run_experiment("toy-sweep", out=tmp_path / "run")
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["x0", "x1", "x2", "x3"]
    assert all(sorted(p.name for p in d.iterdir()) == ["results.json", "task.json"] for d in (out / "runs").iterdir())
    assert results["runs"][0]["overflow"] == float("inf")  # a run's inf reaches the experiment as inf
    assert json.loads((out / "results.json").read_text())["runs"][0]["overflow"] is None  # its own file: strict


def test_a_failed_run_is_reported_and_resume_runs_only_what_is_missing(tmp_path: Path) -> None:
    marker, counter = tmp_path / "fail", tmp_path / "counter"
    marker.touch()
    settings = {"fail_key": "x2", "fail_marker": str(marker), "counter": str(counter)}
    out = tmp_path / "run"
    with pytest.raises(SweepError, match="1 of 4 runs failed") as info:
        run_experiment("toy-sweep", seed=7, overrides=settings, out=out)
    assert list(info.value.failed) == ["x2"]
    assert "RuntimeError: run x2 fails" in (out / "runs" / "x2" / "error.txt").read_text()
    assert not (out / "report.md").exists() and not (out / "results.json").exists()
    assert sorted(counter.read_text().split()) == ["x0", "x1", "x3"]  # the others finished, once each

    marker.unlink()  # the cause is fixed
    resumed, _ = resume_experiment(out)
    assert sorted(counter.read_text().split()) == ["x0", "x1", "x2", "x3"]  # only x2 ran again
    clean, _ = run_experiment("toy-sweep", seed=7, overrides=settings | {"counter": ""}, out=tmp_path / "clean")
    assert _without_runtime(resumed)["runs"] == clean["runs"]
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["key"] for r in rows] == ["x0", "x1", "x2", "x3"]  # logged once, in order, after the resume
    assert (out / "report.md").exists()


def test_resume_refuses_a_finished_run_and_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    _, out = run_experiment("toy-sweep", out=tmp_path / "run")
    before = (out / "results.json").read_text()
    with pytest.raises(FileExistsError, match="holds a finished run"):
        resume_experiment(out)
    assert (out / "results.json").read_text() == before
    with pytest.raises(ValueError, match=r"^Invalid value for `run_dir`: expected the folder of an experiment run"):
        resume_experiment(tmp_path / "nothing")


def test_two_worker_processes_give_the_serial_results(tmp_path: Path) -> None:
    serial, _ = run_experiment("toy-sweep", seed=3, out=tmp_path / "serial")
    procs, out = run_experiment("toy-sweep", seed=3, backend="processes", workers=2, out=tmp_path / "procs")
    assert _without_runtime(procs) == _without_runtime(serial)
    for key in ("x0", "x1", "x2", "x3"):
        files = [(tmp_path / run / "runs" / key / "results.json").read_bytes() for run in ("serial", "procs")]
        assert files[0] == files[1]


def test_cli_reports_failed_runs_in_one_message_with_the_resume_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "fail"
    marker.touch()
    out = tmp_path / "run"
    argv = ["experiment", "run", "toy-sweep", "--backend", "serial", "--out", str(out), "--quiet"]
    argv += ["--set", "fail_key=x1", "--set", f"fail_marker={marker}"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("scratchnn: error: 1 of 4 runs failed") and "x1: " in err
    assert f"scratchnn experiment resume {out}" in err and "Traceback" not in err
    marker.unlink()
    assert main(["experiment", "resume", str(out), "--workers", "2", "--quiet"]) == 0
    assert "report:" in capsys.readouterr().out and (out / "report.md").exists()
