"""The quick momentum run: measured rates match the predicted spectral radius; above the bound diverges."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scratchnn.analysis.least_squares import make_least_squares
from scratchnn.analysis.momentum import stability_bound
from scratchnn.experiments import momentum
from scratchnn.experiments.harness.runner import config_for, run_experiment


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    with np.errstate(all="raise", under="ignore"):  # the suite's setting (module fixtures run outside conftest's)
        return run_experiment("momentum", quick=True, out=tmp_path_factory.mktemp("momentum") / "run")


def test_measured_rate_within_10_percent_of_the_spectral_radius(quick: tuple[dict, Path]) -> None:
    results = quick[0]
    stable = [r for r in results["grid"] if r["predicted"] < 1]
    assert len(stable) == 9
    for r in stable:
        assert abs(r["measured"] - r["predicted"]) <= 0.10 * r["predicted"], r
        assert r["converged"] and r["diverged_step"] is None
    # the grid covers gradient descent and the complex regime (rate sqrt(beta), whatever lr)
    assert any(r["beta"] == 0 for r in stable)
    complex_rows = [r for r in stable if r["regime"] == "complex"]
    assert complex_rows
    for r in complex_rows:
        assert r["predicted"] == pytest.approx(np.sqrt(r["beta"]), rel=1e-9)
    assert results["max_rel_error"] < 0.10


def test_above_the_stability_bound_diverges(quick: tuple[dict, Path]) -> None:
    unstable = [r for r in quick[0]["grid"] if r["lr_frac"] > 1]
    assert len(unstable) == 3
    for r in unstable:
        assert r["predicted"] > 1 and r["diverged_step"] is not None
        assert abs(r["measured"] - r["predicted"]) <= 0.10 * r["predicted"]  # it grows at the predicted rate
    assert quick[0]["unstable_all_diverged"] and quick[0]["stable_all_converged"]


def test_tuned_momentum_beats_tuned_gradient_descent(quick: tuple[dict, Path]) -> None:
    gd, hb = quick[0]["optimal"]["gd"], quick[0]["optimal"]["heavy_ball"]
    kappa = quick[0]["kappa"]
    assert gd["measured"] == pytest.approx((kappa - 1) / (kappa + 1), rel=0.01)
    assert hb["measured"] == pytest.approx((kappa**0.5 - 1) / (kappa**0.5 + 1), rel=0.05)
    assert hb["measured"] < gd["measured"]


def test_run_folder_and_report(quick: tuple[dict, Path]) -> None:
    results, out = quick
    text = (out / "report.md").read_text()
    for fig in ("rates.png", "loss_curves.png", "regimes.png"):
        assert (out / fig).is_file() and f"]({fig})" in text
    assert "| beta | lr / bound | lr | regime (slowest) |" in text
    assert f"within {100 * results['max_rel_error']:.2f}% of the predicted spectral radius" in text
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == len(results["grid"]) == 12


def test_measure_a_single_setting() -> None:
    config = config_for("momentum", quick=True)
    problem = make_least_squares(60, 20, rng=np.random.default_rng(5))
    row = momentum.measure(problem, 0.5 * stability_bound(0.7, problem.lams[-1]), 0.7, config)
    assert row["lr_frac"] == pytest.approx(0.5)
    assert sum(row["regime_counts"].values()) == 20
    assert row["measured"] == pytest.approx(row["predicted"], rel=0.01)


def test_config_checks() -> None:
    with pytest.raises(
        ValueError, match=r"Invalid value for `betas`: expected one or more momentum values in \[0, 1\)"
    ):
        config_for("momentum", overrides={"betas": "0.5,1.0"})
    with pytest.raises(ValueError, match=r"Invalid value for `d`"):
        config_for("momentum", overrides={"n": "50", "d": "50"})
