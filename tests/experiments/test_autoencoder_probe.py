"""The quick autoencoder-probe run (synthetic blobs): the probe table, the references, the figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scratchnn.experiments.autoencoder_probe import probe_mean
from scratchnn.experiments.harness.runner import config_for, run_experiment


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    with np.errstate(all="raise", under="ignore"):  # the suite's setting (module fixtures run outside conftest's)
        return run_experiment("autoencoder-probe", quick=True, out=tmp_path_factory.mktemp("autoencoder-probe") / "run")


def test_codes_are_probed_and_more_labels_help(quick: tuple[dict, Path]) -> None:
    results = quick[0]
    assert results["label_counts"] == ["20", "all"]
    for who in ("vanilla", "denoising", "masked", "raw", "pca"):
        # 10 classes: chance is 10%; a trained encoder's 8-dim code separates the blobs
        assert probe_mean(results, who, "all") > 0.85
        assert probe_mean(results, who, "all") > probe_mean(results, who, "20") + 0.2
    for kind in ("vanilla", "denoising", "masked"):
        r = results["runs"][kind][0]
        assert r["val_loss"][-1] < 0.8 * r["val_loss"][0]  # the reconstruction trained


def test_the_figure_data_is_what_each_kind_sees(quick: tuple[dict, Path]) -> None:
    results = quick[0]
    config = config_for("autoencoder-probe", quick=True)
    ex = {k: {w: np.asarray(a) for w, a in results["runs"][k][0]["examples"].items()} for k in results["kinds"]}
    np.testing.assert_array_equal(ex["vanilla"]["corrupted"], ex["vanilla"]["original"])
    noise = ex["denoising"]["corrupted"] - ex["denoising"]["original"]
    assert 0.7 * config.noise_std < noise.std() < 1.3 * config.noise_std
    zeroed = (ex["masked"]["corrupted"] == 0) & (ex["masked"]["original"] != 0)
    assert 0.6 < zeroed.mean() < 0.9  # mask_ratio 0.75 of 8 x 64 elements
    codes = np.asarray(results["runs"]["vanilla"][0]["codes"])
    assert codes.shape == (config.num_scatter, config.hidden_sizes[-1])


def test_report_shows_the_table_and_the_figures(quick: tuple[dict, Path]) -> None:
    out = quick[1]
    text = (out / "report.md").read_text()
    assert "| features | 20 labels | all labels |" in text
    for row in ("| vanilla AE |", "| denoising AE |", "| masked AE |", "| PCA-8 |", "| raw pixels |"):
        assert row in text
    for name in ("examples", "codes"):
        assert (out / f"{name}.png").is_file() and f"]({name}.png)" in text


def test_config_checks() -> None:
    with pytest.raises(ValueError, match="Invalid value for `label_counts`"):
        config_for("autoencoder-probe", overrides={"label_counts": "200,100000"})
    with pytest.raises(ValueError, match="Invalid value for `kinds`"):
        config_for("autoencoder-probe", overrides={"kinds": "sparse"})


def test_probes_on_few_labels_run_at_least_min_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """200 labels at batch 128 are 2 steps an epoch: probe_min_steps=500 makes that 250 epochs, not 20."""
    import importlib

    import scratchnn.analysis as analysis

    probe_run = importlib.import_module("scratchnn.experiments.autoencoder_probe.run")

    seen: dict[object, int] = {}

    def fake_probe(encoder: object, train: tuple, test: tuple, *, epochs: int, num_labels: object, **kw: object):
        seen[num_labels] = epochs
        return type("R", (), {"test_accuracy": 0.5})()

    monkeypatch.setattr(analysis, "linear_probe", fake_probe)
    X, y = np.zeros((20_000, 4), np.float32), np.zeros(20_000, np.int64)
    probe = {"label_counts": [200, 1_000], "epochs": 20, "lr": 1e-3, "min_steps": 500}
    probe_run._probes(lambda a: a, (X, y, X[:10], y[:10]), probe, seed=0)
    assert seen == {200: 250, 1_000: 63, None: 20}  # ceil(500 / 2), ceil(500 / 8), 157 steps an epoch already
