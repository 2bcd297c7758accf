"""The quick autoencoder-probe run (synthetic blobs): the probe table, the references, the figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scratchnn.experiments.autoencoder_probe import figures, probe_mean
from scratchnn.experiments.harness.runner import config_for, run_experiment


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    with np.errstate(all="raise", under="ignore"):  # the suite's setting (module fixtures run outside conftest's)
        return run_experiment("autoencoder-probe", quick=True, out=tmp_path_factory.mktemp("autoencoder-probe") / "run")


def test_codes_are_probed_and_more_labels_help(quick: tuple[dict, Path]) -> None:
    results = quick[0]
    assert results["label_counts"] == ["20", "all"]
    assert results["kinds"] == ["vanilla", "denoising", "masked", "conv"]
    for who in ("vanilla", "denoising", "masked", "conv", "raw", "pca"):
        # 10 classes: chance is 10%; a trained encoder's 8-dim code separates the blobs
        assert probe_mean(results, who, "all") > 0.85
        assert probe_mean(results, who, "all") > probe_mean(results, who, "20") + 0.2
        assert probe_mean(results, who, "20") > 0.15  # 2 labels a class on average, still above chance
    for kind in ("vanilla", "denoising", "masked", "conv"):
        r = results["runs"][kind][0]
        assert r["val_loss"][-1] < 0.8 * r["val_loss"][0]  # the reconstruction trained


def test_the_figure_data_is_what_each_kind_sees(quick: tuple[dict, Path]) -> None:
    results = quick[0]
    config = config_for("autoencoder-probe", quick=True)
    ex = {k: {w: np.asarray(a) for w, a in results["runs"][k][0]["examples"].items()} for k in results["kinds"]}
    for kind in ("vanilla", "conv"):  # no corruption: the input is the clean image
        np.testing.assert_array_equal(ex[kind]["corrupted"], ex[kind]["original"])
    np.testing.assert_array_equal(ex["conv"]["original"], ex["vanilla"]["original"])  # the same test images
    noise = ex["denoising"]["corrupted"] - ex["denoising"]["original"]
    assert 0.7 * config.noise_std < noise.std() < 1.3 * config.noise_std
    zeroed = (ex["masked"]["corrupted"] == 0) & (ex["masked"]["original"] != 0)
    assert 0.6 < zeroed.mean() < 0.9  # mask_ratio 0.75 of 8 x 64 elements
    for kind in results["kinds"]:
        codes = np.asarray(results["runs"][kind][0]["codes"])
        assert codes.shape == (config.num_scatter, config.hidden_sizes[-1])  # conv too: flat (S, 8) codes
        recon = ex[kind]["reconstruction"]
        assert recon.shape == (config.num_examples, config.synthetic_dim)  # the conv's (E, 1, 8, 8) flattened
        # a trained reconstruction is closer to its own image than to another test image
        mse = ((recon - ex[kind]["original"]) ** 2).mean()
        assert mse < ((recon - np.roll(ex[kind]["original"], 1, axis=0)) ** 2).mean()


def test_report_shows_the_table_and_the_figures(quick: tuple[dict, Path]) -> None:
    results, out = quick
    text = (out / "report.md").read_text()
    assert "| features | 20 labels | all labels |" in text
    for row in ("| vanilla AE |", "| denoising AE |", "| masked AE |", "| PCA-8 |", "| raw pixels |"):
        assert row in text
    conv_row = next(line for line in text.splitlines() if line.startswith("| conv AE |"))
    cells = [float(c) for c in conv_row.strip("|").split("|")[1:]]
    assert cells == [round(100 * probe_mean(results, "conv", n), 1) for n in ("20", "all")]
    assert "Conv2d 1 -> 8 -> 16" in text  # the setup names the conv model
    for name in ("examples", "codes"):
        assert (out / f"{name}.png").is_file() and f"]({name}.png)" in text


def test_the_figures_have_a_conv_panel(quick: tuple[dict, Path]) -> None:
    results = quick[0]
    config = config_for("autoencoder-probe", quick=True)
    figs = figures(config, results)
    titles = [ax.get_title() for ax in figs["codes"].axes if ax.get_title()]
    assert titles == [f"{k}: codes, top-2 PCs" for k in ("vanilla", "denoising", "masked", "conv")]
    labels = [ax.get_ylabel() for ax in figs["examples"].axes if ax.get_ylabel()]
    assert labels[-3:] == ["conv\noriginal", "corrupted", "reconstruction"]
    assert len(labels) == 3 * 4  # a row of each per kind


def test_config_checks() -> None:
    with pytest.raises(ValueError, match="Invalid value for `label_counts`"):
        config_for("autoencoder-probe", overrides={"label_counts": "200,100000"})
    with pytest.raises(ValueError, match="Invalid value for `kinds`"):
        config_for("autoencoder-probe", overrides={"kinds": "sparse"})
    with pytest.raises(ValueError, match="Invalid value for `conv_channels`"):
        config_for("autoencoder-probe", overrides={"conv_channels": "()"})
    # the conv kind sees side x side images: 50 features are no square
    with pytest.raises(ValueError, match="Invalid value for `synthetic_dim`.*Received: synthetic_dim=50"):
        config_for("autoencoder-probe", quick=True, overrides={"synthetic_dim": "50"})
    config = config_for("autoencoder-probe", quick=True, overrides={"synthetic_dim": "50", "kinds": "vanilla"})
    assert config.synthetic_dim == 50  # no conv kind, no square needed


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


def test_the_full_configs_conv_kind_codes_28x28_images_in_32_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The full run's conv model (the recipe's 1 -> 32 -> 64 channels) on Fashion-MNIST-shaped rows, a few images."""
    import importlib

    probe_run = importlib.import_module("scratchnn.experiments.autoencoder_probe.run")
    config = config_for("autoencoder-probe")
    assert "conv" in config.kinds and config.conv_channels == (32, 64) and config.hidden_sizes[-1] == 32
    rng = np.random.default_rng(0)
    X = rng.random((96, 784), dtype=np.float32)  # (N, 28 * 28) rows in [0, 1], as load_data gives them
    y = np.arange(96) % 10
    monkeypatch.setattr(probe_run, "load_data", lambda data: (X[:64], y[:64], X[64:], y[64:]))
    train = {"hidden_sizes": config.hidden_sizes, "conv_channels": config.conv_channels, "noise_std": 0.5,
             "mask_ratio": 0.75, "epochs": 2, "batch_size": 32, "lr": 1e-3, "num_examples": 4,
             "num_scatter": 16}  # fmt: skip
    probe = {"label_counts": [20], "epochs": 2, "lr": 1e-3, "min_steps": 1}
    with np.errstate(all="raise", under="ignore"):
        r = probe_run.train_task({}, "conv", train, probe, seed=0, figures=True)
    assert np.asarray(r["codes"]).shape == (16, 32)  # the probe's features: 32 numbers, as the MLP kinds' codes
    assert {w: np.asarray(a).shape for w, a in r["examples"].items()} == {
        "original": (4, 784), "corrupted": (4, 784), "reconstruction": (4, 784)
    }  # fmt: skip
    assert len(r["val_loss"]) == 2 and set(r["probe"]) == {"20", "all"}
