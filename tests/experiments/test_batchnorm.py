"""The quick batchnorm sweep: BatchNorm makes the best validation accuracy far less sensitive to the weight scale."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scratchnn.experiments import batchnorm
from scratchnn.experiments.batchnorm import good_scales, spread
from scratchnn.experiments.harness.runner import config_for, run_experiment


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    with np.errstate(all="raise", under="ignore"):  # the suite's setting (module fixtures run outside conftest's)
        return run_experiment("batchnorm", quick=True, out=tmp_path_factory.mktemp("batchnorm") / "run")


def test_batchnorm_halves_the_spread_of_best_validation_accuracy_across_weight_scales(quick: tuple[dict, Path]) -> None:
    runs = quick[0]["runs"]
    s_bn, s_base = spread(runs["batchnorm"]), spread(runs["none"])
    assert s_bn < 0.5 * s_base, (s_bn, s_base)
    # the values behind the spreads: the baseline's signal vanishes at tiny scales (chance), BatchNorm's does not
    assert runs["none"][0]["best_val_acc"] < 0.25
    assert runs["batchnorm"][0]["best_val_acc"] > 0.7
    assert max(r["best_val_acc"] for r in runs["none"]) > 0.9  # the baseline trains at its right scale
    assert len(good_scales(quick[0], "batchnorm")) >= 2 * len(good_scales(quick[0], "none"))


def test_the_sweep_covers_the_log_grid_for_both_networks(quick: tuple[dict, Path]) -> None:
    results = quick[0]
    config = config_for("batchnorm", quick=True)
    scales = np.asarray(results["weight_scales"])
    assert len(scales) == config.num_weight_scales == 10
    assert scales[0] == pytest.approx(1e-4) and scales[-1] == pytest.approx(1.0)
    assert np.allclose(np.diff(np.log10(scales)), 4 / 9)
    for norm in ("none", "batchnorm"):
        runs = results["runs"][norm]
        assert [r["weight_scale"] for r in runs] == pytest.approx(scales.tolist())
        for r in runs:  # 500 samples / 50 per batch * 10 epochs; accuracies after step 1 and each epoch
            assert r["steps"] == 100 and len(r["val_acc"]) == len(r["train_acc"]) == 11
            assert r["best_val_acc"] == pytest.approx(max(r["val_acc"]))
    # the baseline's final loss at the largest scale is higher than BatchNorm's (exploding logits)
    assert results["runs"]["none"][-1]["final_train_loss"] > results["runs"]["batchnorm"][-1]["final_train_loss"]


def test_run_folder_and_report(quick: tuple[dict, Path]) -> None:
    results, out = quick
    text = (out / "report.md").read_text()
    assert (out / "sweep.png").is_file() and "](sweep.png)" in text
    assert "| weight scale | best val acc (baseline) | best val acc (BatchNorm) |" in text
    s_bn, s_base = spread(results["runs"]["batchnorm"]), spread(results["runs"]["none"])
    assert f"spread {s_bn:.3f}" in text and f"spread {s_base:.3f}" in text
    assert f"BatchNorm's spread is {s_bn / s_base:.2f}x the baseline's: the weight scale matters far less" in text
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 20 and {r["normalization"] for r in rows} == {"none", "batchnorm"}
    saved = json.loads((out / "results.json").read_text())
    assert saved["runs"]["batchnorm"][3]["best_val_acc"] == pytest.approx(
        results["runs"]["batchnorm"][3]["best_val_acc"]
    )


def test_weight_scales_and_config_checks() -> None:
    config = config_for("batchnorm")
    assert np.allclose(batchnorm.weight_scales(config), np.logspace(-4, 0, 20))
    assert config.hidden_dims == (50,) * 7  # the course's 8-layer network
    with pytest.raises(ValueError, match=r"Invalid value for `max_weight_scale`: expected a float in \[0.01"):
        config_for("batchnorm", overrides={"min_weight_scale": "0.01", "max_weight_scale": "0.001"})
    with pytest.raises(ValueError, match=r"Invalid value for `hidden_dims`: expected one or more positive ints"):
        config_for("batchnorm", overrides={"hidden_dims": "()"})
    with pytest.raises(ValueError, match=r"Invalid value for `num_train`: expected a size that leaves no last batch"):
        config_for("batchnorm", overrides={"num_train": "1001"})  # 20 batches of 50 and one of 1
