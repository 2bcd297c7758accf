"""The quick autoencoder-bottleneck run: the table, bottleneck k beats bottleneck 5, the references, the figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scratchnn.experiments.autoencoder_bottleneck import curves, final_probe
from scratchnn.experiments.harness.runner import config_for, run_experiment


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    with np.errstate(all="raise", under="ignore"):  # the suite's setting (module fixtures run outside conftest's)
        return run_experiment(
            "autoencoder-bottleneck", quick=True, out=tmp_path_factory.mktemp("autoencoder-bottleneck") / "run"
        )


def test_bottleneck_k_beats_5_and_the_raw_probe_is_high(quick: tuple[dict, Path]) -> None:
    results = quick[0]
    config = config_for("autoencoder-bottleneck", quick=True)
    assert results["bottlenecks"] == [5, 20] and config.k == 20
    for kind in ("vanilla", "denoising", "masked"):
        assert final_probe(results, 20, kind) > final_probe(results, 5, kind) + 20  # points
        assert final_probe(results, 20, kind) > 90
    ref = results["references"][0]
    assert ref["raw"] > 0.9 and ref["pca"]["20"] > 0.9  # the label is linear in x and lives in the top-20 subspace
    assert ref["pca"]["5"] < 0.8


def test_linear_autoencoders_approach_the_pca_optimum(quick: tuple[dict, Path]) -> None:
    results = quick[0]
    ref = results["references"][0]
    for b in (5, 20):
        loss = curves(results, b, "vanilla", "val_loss")[0]  # (epochs,)
        assert loss[-1] < loss[0]
        # PCA's projection is the best rank-b reconstruction of the training data: nearly unbeatable on validation
        assert ref["pca_val_loss"][str(b)] * 0.97 < loss[-1] < 1.25 * ref["pca_val_loss"][str(b)]


def test_report_shows_the_table_and_the_figures(quick: tuple[dict, Path]) -> None:
    out = quick[1]
    text = (out / "report.md").read_text()
    assert "| bottleneck | vanilla (measured / published) | denoising (measured / published) |" in text
    assert " / 65.0 |" in text and " / 98.6 |" in text  # the published table beside the measured one
    assert "| raw input |" in text and "| PCA-20 |" in text
    for name in ("val_loss", "probe_acc"):
        assert (out / f"{name}.png").is_file() and f"]({name}.png)" in text


def test_config_checks() -> None:
    with pytest.raises(ValueError, match="Invalid value for `kinds`"):
        config_for("autoencoder-bottleneck", overrides={"kinds": "vanilla,sparse"})
    with pytest.raises(ValueError, match="Invalid value for `k`"):
        config_for("autoencoder-bottleneck", overrides={"k": 200})
