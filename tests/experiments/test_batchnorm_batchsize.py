"""The quick batch-size run: at batch size 5 BatchNorm falls far behind LayerNorm, further than at batch size 50."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scratchnn.experiments.batchnorm_batchsize import final_val_acc
from scratchnn.experiments.harness.runner import config_for, run_experiment


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    with np.errstate(all="raise", under="ignore"):  # the suite's setting (module fixtures run outside conftest's)
        return run_experiment("batchnorm-batchsize", quick=True, out=tmp_path_factory.mktemp("bnbs") / "run")


def test_batchnorm_falls_behind_layernorm_at_batch_size_5_more_than_at_50(quick: tuple[dict, Path]) -> None:
    results = quick[0]
    d5 = final_val_acc(results, "batchnorm", 5) - final_val_acc(results, "layernorm", 5)
    d50 = final_val_acc(results, "batchnorm", 50) - final_val_acc(results, "layernorm", 50)
    assert d5 < -0.15, d5  # five samples' statistics: BatchNorm ends far below LayerNorm
    assert d5 < d50 - 0.05, (d5, d50)  # and further below than with batches of 50
    # at batch size 5 BatchNorm is also behind the unnormalized network, which trains well there
    assert final_val_acc(results, "batchnorm", 5) < final_val_acc(results, "none", 5) - 0.15
    assert final_val_acc(results, "layernorm", 5) > 0.8


def test_every_network_sees_the_same_steps_at_a_batch_size(quick: tuple[dict, Path]) -> None:
    runs = quick[0]["runs"]
    assert len(runs) == 6
    for r in runs:  # 300 samples, 6 epochs: 60 batches of 5 or 6 batches of 50 per epoch
        assert r["steps"] == {5: 360, 50: 36}[r["batch_size"]]
        assert len(r["train_acc"]) == len(r["val_acc"]) == 7
        assert r["final_val_acc"] == pytest.approx(r["val_acc"][-1])
        assert r["diverged"] == 0


def test_run_folder_and_report(quick: tuple[dict, Path]) -> None:
    results, out = quick
    text = (out / "report.md").read_text()
    for fig in ("curves.png", "final.png"):
        assert (out / fig).is_file() and f"]({fig})" in text
    assert "| network | batch size | steps | final train acc | final val acc | best val acc |" in text
    assert "| batch size | BatchNorm - LayerNorm (final val acc) | BatchNorm - none |" in text
    d5 = final_val_acc(results, "batchnorm", 5) - final_val_acc(results, "layernorm", 5)
    assert f"At the smallest batch size, 5, BatchNorm ends {abs(d5):.3f} below LayerNorm" in text
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 6


def test_config_checks() -> None:
    with pytest.raises(ValueError, match=r"Invalid value for `batch_sizes`: expected one or more ints in \[2, num_tr"):
        config_for("batchnorm-batchsize", overrides={"batch_sizes": "1,10"})
    with pytest.raises(ValueError, match=r"Invalid value for `normalizations`: expected a non-empty selection of"):
        config_for("batchnorm-batchsize", overrides={"normalizations": "batchnorm,groupnorm"})
    with pytest.raises(ValueError, match=r"Invalid value for `num_train`: expected a size that leaves no last batch"):
        config_for("batchnorm-batchsize", overrides={"num_train": "1001"})  # 1001 = 200 batches of 5 + 1
    assert config_for("batchnorm-batchsize").batch_sizes == (5, 10, 50, 200)
