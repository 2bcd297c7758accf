"""The quick initialization run shows what the experiment exists to show, with numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scratchnn.analysis.initialization import make_sines, sines_at
from scratchnn.experiments.harness.runner import config_for, run_experiment


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    with np.errstate(all="raise", under="ignore"):  # the suite's setting (module fixtures run outside conftest's)
        return run_experiment("initialization", quick=True, out=tmp_path_factory.mktemp("init") / "run")


def test_matched_schemes_keep_the_signal_and_small_normal_kills_it(quick: tuple[dict, Path]) -> None:
    stats = quick[0]["stats"]
    # Xavier with tanh, He with ReLU: the last hidden layer's std within 10x of the first's
    for nl, scheme in (("tanh", "xavier"), ("relu", "he")):
        std = stats[nl][scheme]["act_std"]
        assert len(std) == 10
        assert 0.1 < std[-1] / std[0] < 10, (nl, scheme, std)
        assert 0.1 < min(std) and max(std) < 10
    # N(0, 0.01^2) shrinks it by more than 100x (with either nonlinearity), and its gradients with it
    for nl in ("tanh", "relu"):
        s = stats[nl]["normal_0.01"]
        assert s["act_std"][-1] < s["act_std"][0] / 100, s["act_std"]
        assert max(s["grad_norm"]) < 1e-3 * min(stats[nl]["he"]["grad_norm"])
    # the mismatches: Xavier loses ~sqrt(2) per ReLU layer; N(0, 1) explodes through ReLUs
    assert stats["relu"]["xavier"]["std_ratio"] < 0.1
    assert stats["relu"]["normal_1"]["std_ratio"] > 1e4
    assert stats["tanh"]["zeros"]["act_std"] == [0.0] * 10 and stats["tanh"]["zeros"]["std_ratio"] == 0.0


def test_training_follows_the_statistics(quick: tuple[dict, Path]) -> None:
    training = quick[0]["training"]
    assert training["relu"]["normal_1"]["diverged_step"] is not None  # reported, not raised
    for nl, scheme in (("tanh", "xavier"), ("relu", "he")):
        assert training[nl][scheme]["diverged_step"] is None
        assert training[nl][scheme]["best_val_acc"] > 0.8
        assert training[nl][scheme]["best_val_acc"] > training[nl]["normal_0.01"]["best_val_acc"] + 0.5
        assert training[nl][scheme]["best_val_acc"] > training[nl]["zeros"]["best_val_acc"] + 0.5


def test_curve_fit_huge_init_diverges_or_has_exploding_gradients(quick: tuple[dict, Path]) -> None:
    runs = quick[0]["curve_fit"]["runs"]
    huge, kaiming, tiny = runs["uniform_3"], runs["kaiming"], runs["uniform_0.03"]
    assert huge["diverged_step"] is not None or huge["grad_norm_total"] >= 100 * kaiming["grad_norm_total"]
    assert huge["grad_norm_total"] >= 100 * kaiming["grad_norm_total"]  # on this seed, both hold
    assert kaiming["diverged_step"] is None
    target_var = quick[0]["curve_fit"]["target_variance"]
    assert kaiming["test_loss"] < 0.2 * target_var  # Kaiming fits; tiny barely moves off the mean
    assert tiny["grad_norm_total"] < 1e-3 * kaiming["grad_norm_total"]
    assert tiny["test_loss"] > 0.5 * target_var


def test_run_folder_and_report(quick: tuple[dict, Path]) -> None:
    results, out = quick
    text = (out / "report.md").read_text()
    for fig in ("init_stats.png", "training.png", "curve_fit.png", "curve_fit_training.png"):
        assert (out / fig).is_file() and f"]({fig})" in text
    assert "## Question" in text and "## Reading" in text
    assert "| nonlinearity | init | std layer 1 | std layer 10 | ratio |" in text
    assert f"diverged at step {results['curve_fit']['runs']['uniform_3']['diverged_step']}" in text
    saved = json.loads((out / "results.json").read_text())
    assert saved["stats"]["relu"]["he"]["act_std"] == pytest.approx(results["stats"]["relu"]["he"]["act_std"])
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 10 + 3


def test_make_sines_and_config_checks() -> None:
    x, y, sines = make_sines(1500, 5, 0.1, np.random.default_rng(0))
    assert x.shape == y.shape == (1500, 1) and x.dtype == np.float32
    assert -1 <= x.min() and x.max() <= 1
    residual = y[:, 0] - sines_at(x[:, 0].astype(np.float64), sines)
    assert residual.std() == pytest.approx(0.1, rel=0.1)  # the noise, nothing else
    with pytest.raises(ValueError, match=r"Invalid value for `schemes`: expected a non-empty selection of zeros"):
        config_for("initialization", overrides={"schemes": "he,lecun"})
    with pytest.raises(ValueError, match=r"Invalid value for `fit_optimizer`"):
        config_for("initialization", overrides={"fit_optimizer": "lbfgs"})
