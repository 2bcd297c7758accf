"""The quick optimizers run: Adam and momentum beat plain SGD at the same step budget, each at its best lr."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scratchnn.experiments import optimizers
from scratchnn.experiments.harness.runner import config_for, run_experiment
from scratchnn.experiments.optimizers.run import _select


def test_quick_run_adam_and_momentum_reach_a_lower_training_loss_than_sgd(tmp_path: Path) -> None:
    results, out = run_experiment("optimizers", quick=True, out=tmp_path / "opt")
    best = results["best"]
    assert set(best) == set(optimizers.NAMES)
    sweep_sgd = [r for r in results["sweep"] if r["optimizer"] == "sgd"]
    # the stronger claim: below SGD's lowest loss anywhere in its sweep, not only below its chosen run
    sgd_lowest = min(r["final_train_loss"] for r in sweep_sgd)
    for name in ("adam", "momentum"):
        assert best[name]["final_train_loss"] < 0.75 * sgd_lowest, (name, best[name]["final_train_loss"], sgd_lowest)
    config = config_for("optimizers", quick=True)
    for r in best.values():  # the same step budget for everyone
        assert len(r["loss"]) == config.steps and not r["diverged"]
    text = (out / "report.md").read_text()
    assert "| optimizer | best lr | best val acc | steps to 80% | final train loss | diverged lrs |" in text
    assert "![" in text and (out / "curves.png").is_file() and (out / "sweep.png").is_file()
    assert f"{best['adam']['final_train_loss']:.4f} against {best['sgd']['final_train_loss']:.4f}" in text
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == sum(len(config.lrs(n)) for n in config.optimizers)


def test_a_diverging_rate_is_reported_with_its_step_not_raised() -> None:
    config = config_for("optimizers", quick=True, overrides={"steps": "20", "eval_every": "10"})
    data = optimizers.load_data(config, np.random.default_rng(0))
    r = optimizers.train_one("sgd", 1e3, config, data, seed=0)
    assert r["diverged"] and 1 <= r["diverged_at"] <= 20
    assert r["final_train_loss"] == float("inf")
    assert len(r["loss"]) <= r["diverged_at"]


def test_the_chosen_rate_has_the_best_validation_accuracy_of_its_sweep() -> None:
    runs = [
        {"diverged": False, "best_val_acc": 0.7, "final_train_loss": 0.5, "lr": 1},
        {"diverged": False, "best_val_acc": 0.8, "final_train_loss": 0.9, "lr": 2},
        {"diverged": True, "best_val_acc": 0.9, "final_train_loss": float("inf"), "lr": 3},
    ]
    assert _select(runs)["lr"] == 2


def test_config_checks() -> None:
    with pytest.raises(ValueError, match=r"Invalid value for `optimizers`: expected a non-empty selection of sgd"):
        config_for("optimizers", overrides={"optimizers": "sgd,lbfgs"})
    with pytest.raises(ValueError, match=r"Invalid value for `lrs_adam`: expected one or more positive learning"):
        config_for("optimizers", overrides={"lrs_adam": "0.1,-1"})
