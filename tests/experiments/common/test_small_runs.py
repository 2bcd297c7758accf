"""The pieces the normalization and dropout experiments share: data subsets, one Solver run, averaging."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scratchnn.data import make_blobs
from scratchnn.experiments.common.small_runs import average_runs, load_small_data, train_run
from scratchnn.models import FullyConnectedNet


def test_blobs_and_the_centred_subsets() -> None:
    X, y, centres = make_blobs(4000, 16, 0.5, rng=np.random.default_rng(0))
    assert X.shape == (4000, 16) and X.dtype == np.float32 and y.dtype == np.int64 and centres.shape == (10, 16)
    assert set(np.unique(y)) == set(range(10))
    assert np.std(X - centres[y]) == pytest.approx(0.5, rel=0.02)  # the noise, nothing else
    data = load_small_data("synthetic", 300, 200, np.random.default_rng(1), synthetic_dim=16, synthetic_noise=0.5)
    assert data["X_train"].shape == (300, 16) and data["X_val"].shape == (200, 16) and data["y_val"].shape == (200,)
    assert np.abs(data["X_train"].mean(axis=0)).max() < 1e-5  # centred on the training mean
    assert np.abs(data["X_val"].mean(axis=0)).max() > 1e-3  # ... not on the validation one
    with pytest.raises(ValueError, match=r"Invalid value for `dataset`: expected one of fashion-mnist, synthetic"):
        load_small_data("cifar", 10, 10, np.random.default_rng(0))


def test_train_run_reports_a_diverging_run_instead_of_raising() -> None:
    data = load_small_data("synthetic", 100, 50, np.random.default_rng(0))
    model = FullyConnectedNet([64] * 7, input_dim=64, weight_scale=1.0, rng=np.random.default_rng(0))
    r = train_run(model, data, lr=1e4, batch_size=50, num_epochs=5, rng=np.random.default_rng(1))
    assert r["diverged_step"] is not None and 1 <= r["diverged_step"] <= 10
    assert r["final_train_loss"] == math.inf and r["final_val_acc"] == 0.0
    assert r["steps"] == r["diverged_step"] - 1


def test_train_run_histories() -> None:
    data = load_small_data("synthetic", 100, 50, np.random.default_rng(0), synthetic_noise=0.5)
    model = FullyConnectedNet([32], input_dim=64, weight_init="he", rng=np.random.default_rng(0))
    r = train_run(model, data, lr=1e-2, batch_size=20, num_epochs=4, rng=np.random.default_rng(1), loss_window=5)
    assert r["diverged_step"] is None and r["steps"] == 20
    assert len(r["train_acc"]) == len(r["val_acc"]) == 5  # after step 1 and after each epoch
    assert r["best_val_acc"] == max(r["val_acc"]) and r["final_train_acc"] == r["train_acc"][-1]
    assert r["final_train_acc"] > 0.9  # well-separated blobs are learnt in 20 steps
    assert 0 < r["final_train_loss"] < 1


def _run(val: list[float], loss: float = 1.0, diverged: int | None = None) -> dict:
    return {
        "train_acc": [v + 0.1 for v in val],
        "val_acc": val,
        "best_val_acc": max(val),
        "best_train_acc": max(val) + 0.1,
        "final_val_acc": val[-1],
        "final_train_acc": val[-1] + 0.1,
        "final_train_loss": loss,
        "diverged_step": diverged,
        "steps": 10,
    }


def test_average_runs() -> None:
    mean = average_runs([_run([0.2, 0.4, 0.6], loss=1.0), _run([0.4, 0.6, 0.4], loss=3.0)])
    assert mean["val_acc"] == pytest.approx([0.3, 0.5, 0.5]) and mean["train_acc"] == pytest.approx([0.4, 0.6, 0.6])
    assert mean["best_val_acc"] == pytest.approx(0.6) and mean["final_val_acc"] == pytest.approx(0.5)
    assert mean["final_val_acc_std"] == pytest.approx(0.1) and mean["final_train_loss"] == pytest.approx(2.0)
    assert mean["diverged"] == 0 and mean["diverged_step"] is None
    assert mean["repeats"]["final_val_acc"] == [0.6, 0.4]
    # a diverged repeat: the loss is inf, the curves stop where it stopped
    mean = average_runs([_run([0.2, 0.4, 0.6]), _run([0.1, 0.1], loss=math.inf, diverged=7)])
    assert mean["final_train_loss"] == math.inf and mean["diverged"] == 1 and mean["diverged_step"] == 7
    assert mean["val_acc"] == pytest.approx([0.15, 0.25])
