"""The quick dropout run: dropout narrows the gap between training and validation accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scratchnn.experiments.dropout import by_p, first_epoch_at
from scratchnn.experiments.harness.runner import config_for, run_experiment


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    with np.errstate(all="raise", under="ignore"):  # the suite's setting (module fixtures run outside conftest's)
        return run_experiment("dropout", quick=True, out=tmp_path_factory.mktemp("dropout") / "run")


def test_dropout_half_gives_a_smaller_final_gap_than_no_dropout(quick: tuple[dict, Path]) -> None:
    results = quick[0]
    p0, p5, p75 = by_p(results, 0.0), by_p(results, 0.5), by_p(results, 0.75)
    assert p5["final_gap"] < p0["final_gap"] - 0.03, (p5["final_gap"], p0["final_gap"])
    assert p75["final_gap"] < p0["final_gap"] - 0.03
    # without dropout the 200 training samples are memorized; dropout holds the training accuracy down
    assert p0["final_train_acc"] >= 0.99
    assert p75["final_train_acc"] < p0["final_train_acc"] - 0.03
    assert p0["final_val_acc"] < 0.8  # the blobs overlap: memorizing them does not generalize


def test_curves_are_means_over_the_repeats(quick: tuple[dict, Path]) -> None:
    results = quick[0]
    config = config_for("dropout", quick=True)
    assert [r["p"] for r in results["runs"]] == list(config.ps) == [0.0, 0.25, 0.5, 0.75]
    for r in results["runs"]:
        assert len(r["final_gaps"]) == config.repeats == 2
        assert r["final_gap"] == pytest.approx(np.mean(r["final_gaps"]))
        assert len(r["train_acc"]) == config.num_epochs + 1
        assert r["gap"][-1] == pytest.approx(r["final_train_acc"] - r["final_val_acc"])
        assert r["final_train_acc"] == pytest.approx(np.mean(r["repeats"]["final_train_acc"]))


def test_run_folder_and_report(quick: tuple[dict, Path]) -> None:
    results, out = quick
    text = (out / "report.md").read_text()
    assert (out / "curves.png").is_file() and "](curves.png)" in text
    assert "| p (drop probability) | final train acc | final val acc | final gap (train - val) mean ± std |" in text
    p0 = by_p(results, 0.0)
    assert f"{p0['final_gap']:.3f} at p = 0 to {by_p(results, 0.75)['final_gap']:.3f} at p = 0.75" in text
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 8 and {r["repeat"] for r in rows} == {0, 1}


def test_first_epoch_at_and_config_checks() -> None:
    assert first_epoch_at([0.2, 0.5, 0.96, 0.99], 0.95) == 2
    assert first_epoch_at([0.2, 0.5], 0.95) is None
    with pytest.raises(ValueError, match=r"Invalid value for `ps`: expected distinct drop probabilities in \[0, 1\)"):
        config_for("dropout", overrides={"ps": "0,1"})
    with pytest.raises(ValueError, match=r"Invalid value for `ps`"):
        config_for("dropout", overrides={"ps": "0.5,0.5"})


def test_two_worker_processes_give_the_serial_results(quick: tuple[dict, Path], tmp_path: Path) -> None:
    """Every repeat is a run of the sweep: spread over 2 worker processes, the experiment's numbers are the same."""
    results, out = quick
    procs, procs_out = run_experiment("dropout", quick=True, backend="processes", workers=2, out=tmp_path / "procs")
    procs.pop("runtime_s")
    assert procs == {k: v for k, v in results.items() if k != "runtime_s"}
    runs = sorted(p.name for p in (out / "runs").iterdir())
    assert runs == sorted(p.name for p in (procs_out / "runs").iterdir()) and len(runs) == 4 * 2  # 4 p x 2 repeats
