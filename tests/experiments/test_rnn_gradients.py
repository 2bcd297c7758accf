"""The quick rnn-gradients run: the exact law on the linear grid, saturation under tanh, the cells' curves,
the running-mean table, and the report's figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scratchnn.experiments.harness.runner import config_for, run_experiment


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    with np.errstate(all="raise", under="ignore"):  # the suite's setting (module fixtures run outside conftest's)
        return run_experiment("rnn-gradients", quick=True, out=tmp_path_factory.mktemp("rnn-gradients") / "run")


def test_the_linear_grid_follows_the_law_and_tanh_never_explodes(quick: tuple[dict, Path]) -> None:
    results = quick[0]
    config = config_for("rnn-gradients", quick=True)
    flows = dict(zip(results["nonlinearities"], results["flows"]))
    z = np.asarray(flows["identity"]["log10_ratio"])  # (weight scales, bias scales)
    expected = (config.T - 1) * np.log10(config.weight_scales)
    for j in range(len(config.bias_scales)):  # with the identity, the bias shifts h but not the Jacobian
        np.testing.assert_allclose(z[:, j], expected, atol=1e-10)
    tanh = np.asarray(flows["tanh"]["log10_ratio"])
    assert (tanh <= z + 1e-9).all()  # |tanh'| <= 1: never more gradient than the linear network
    assert tanh[-1, -1] < tanh[-1, 0]  # a large bias saturates tanh: less gradient at the same weights


def test_cells_and_running_mean_have_every_entry(quick: tuple[dict, Path]) -> None:
    results = quick[0]
    config = config_for("rnn-gradients", quick=True)
    assert set(results["cells"]) == {"rnn", "lstm", "gru"}
    for r in results["cells"].values():
        assert len(r["grad_norm"]) == config.cells_T and np.all(np.asarray(r["grad_norm"]) > 0)
    keys = {(r["cell"], r["loss_on"], r["T"]) for r in results["running_mean"]}
    assert keys == {(c, o, T) for c in config.rm_cells for o in ("all", "last") for T in config.rm_T}
    for r in results["running_mean"]:
        assert 0 < r["mse_last"] < 10 * r["mse_zero_last"]
        assert len(r["train_loss"]) == config.rm_epochs


def test_report_shows_the_table_and_every_figure(quick: tuple[dict, Path]) -> None:
    out = quick[1]
    text = (out / "report.md").read_text()
    for name in ("heatmaps", "curves", "cells", "running_mean"):
        assert (out / f"{name}.png").is_file() and f"]({name}.png)" in text
    assert "| cell | loss on | T = 5 | T = 10 |" in text
    assert "follows the law ||dL/dh_1|| = s^(T-1) ||dL/dh_T||" in text


def test_config_checks() -> None:
    with pytest.raises(ValueError, match="Invalid value for `rm_cells`"):
        config_for("rnn-gradients", overrides={"rm_cells": "rnn,transformer"})
    with pytest.raises(ValueError, match="Invalid value for `nonlinearities`"):
        config_for("rnn-gradients", overrides={"nonlinearities": "sigmoid"})
