"""Run folders, report.md, the registry and the ``scratchnn experiment`` command, on the toy experiment."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from scratchnn.cli import main
from scratchnn.experiments.harness import registry
from scratchnn.experiments.harness.registry import EXPERIMENTS, ExperimentInfo, load_experiment
from scratchnn.experiments.harness.runner import config_for, run_experiment


@pytest.fixture(autouse=True)
def _toy_registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(EXPERIMENTS, "toy", ExperimentInfo("tests.experiments.toy", "A toy experiment", "~0 s", "~0 s"))
    yield


def test_run_writes_config_results_metrics_figures_and_report(tmp_path: Path) -> None:
    out = tmp_path / "run"
    results, out_dir = run_experiment("toy", seed=3, overrides={"steps": "4", "dims": "5,6"}, out=out)
    assert out_dir == out
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json",
        "metrics.jsonl",
        "report.md",
        "results.json",
        "values.png",
    ]
    config = json.loads((out / "config.json").read_text())
    assert config["experiment"] == "toy" and config["seed"] == 3 and config["quick"] is False
    assert config["config"]["steps"] == 4 and config["config"]["dims"] == [5, 6]
    assert config["overrides"] == {"steps": "4", "dims": "5,6"}
    saved = json.loads((out / "results.json").read_text())  # strict JSON: NaN written as null
    assert saved["nan"] is None and len(saved["values"]) == 4 and saved["runtime_s"] >= 0
    assert saved["values"] == pytest.approx(list(results["values"]))
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert (out / "values.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    text = (out / "report.md").read_text()
    for heading in ("# Toy", "## Question", "## Setup", "## Results", "## Reading"):
        assert heading in text
    assert "| step | value |" in text and "|---|---|" in text
    assert text.count("\n| ") == 1 + 4  # header and one row per step
    assert "![the values](values.png)" in text
    assert f"The values sum to {results['total']:.3f}." in text
    assert "scratchnn experiment run toy --seed 3 --set steps=4 --set dims=5,6" in text
    assert "Quick version" not in text


def test_seed_reproduces_a_run_and_another_seed_does_not(tmp_path: Path) -> None:
    a, _ = run_experiment("toy", seed=5, out=tmp_path / "a")
    b, _ = run_experiment("toy", seed=5, out=tmp_path / "b")
    c, _ = run_experiment("toy", seed=6, out=tmp_path / "c")
    assert list(a["values"]) == list(b["values"])
    assert list(a["values"]) != list(c["values"])


def test_quick_applies_quick_then_the_overrides(tmp_path: Path) -> None:
    assert config_for("toy", quick=True).steps == 2
    assert config_for("toy", quick=True, overrides={"steps": "7"}).steps == 7
    results, out = run_experiment("toy", quick=True, out=tmp_path / "q")
    assert len(results["values"]) == 2
    assert "Quick version" in (out / "report.md").read_text()


def test_an_existing_non_empty_out_folder_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="already exists and is not empty; a run folder is never reused"):
        run_experiment("toy", out=out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    run_experiment("toy", out=tmp_path / "empty")  # an empty folder, or a new one, is fine
    with pytest.raises(FileExistsError):
        run_experiment("toy", out=tmp_path / "empty")


def test_bad_settings_fail_before_the_folder_is_created(tmp_path: Path) -> None:
    out = tmp_path / "never"
    with pytest.raises(ValueError, match=r"Invalid value for `lr`: expected a float\. Received: lr='x'"):
        run_experiment("toy", overrides={"lr": "x"}, out=out)
    with pytest.raises(ValueError, match=r"Invalid value for `--set`: expected a key of the toy config"):
        run_experiment("toy", overrides={"nope": "1"}, out=out)
    with pytest.raises(
        ValueError,
        match=r"Invalid value for `name`: expected an experiment name: .*toy.*"
        r"Received: name='toys'",
    ):
        run_experiment("toys", out=out)
    with pytest.raises(ValueError, match=r"Invalid value for `seed`: expected a non-negative int"):
        run_experiment("toy", seed=-1, out=out)
    assert not out.exists()


def test_a_report_naming_a_figure_the_run_did_not_save_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_experiment("toy")
    original = module.report

    def bad_report(config: object, results: dict[str, object]) -> object:
        return dataclasses.replace(original(config, results), figures=[("missing.png", "absent")])

    monkeypatch.setattr(module, "report", bad_report)
    with pytest.raises(FileNotFoundError, match=r"names figures the run did not save: \['missing.png'\]"):
        run_experiment("toy", out=tmp_path / "r")


def test_every_registered_experiment_follows_the_contract() -> None:
    for name in registry.EXPERIMENTS:
        module = load_experiment(name)
        assert dataclasses.is_dataclass(module.Config) and module.Config.__dataclass_params__.frozen, name
        assert all(
            f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            for f in dataclasses.fields(module.Config)
        ), f"{name}: every Config field needs a default"
        fields = {f.name for f in dataclasses.fields(module.Config)}
        assert set(module.QUICK) <= fields, f"{name}: QUICK sets unknown fields {set(module.QUICK) - fields}"
        config_for(name, quick=True)
        assert callable(module.run) and callable(module.report)


def test_cli_list_shows_every_experiment_with_title_and_runtimes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["experiment", "list"]) == 0
    out = capsys.readouterr().out
    for name, info in EXPERIMENTS.items():
        line = next(line for line in out.splitlines() if line.startswith(name + " "))
        assert info.title in line and info.quick_runtime in line and info.full_runtime in line


def test_cli_run_writes_the_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    code = main(
        ["experiment", "run", "toy", "--quick", "--seed", "2", "--set", "lr=0.1", "--set", "mode=b", "--out", str(out)]
    )
    assert code == 0
    assert json.loads((out / "config.json").read_text())["config"]["mode"] == "b"
    printed = capsys.readouterr().out
    assert "Toy: sum" in printed and str(out / "report.md") in printed


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--set", "steps=abc"], "Invalid value for `steps`: expected an int. Received: steps='abc'"),
        (["--set", "wat=1"], "Invalid value for `--set`: expected a key of the toy config"),
        (["--set", "steps"], "Invalid value for `--set`: expected key=value. Received: --set='steps'"),
    ],
)
def test_cli_bad_set_is_a_one_line_error(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["experiment", "run", "toy", *argv, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("scratchnn: error: " + message)
    assert err.count("\n") == 1
    assert not (tmp_path / "x").exists()
