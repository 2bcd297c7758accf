"""`scratchnn train mae` (scratchnn/recipes/mae.py) end to end on the synthetic bars (run folder, results.json,
reconstructions.png, fine-tuning), its data plumbing (the course code swapped its train and test loaders),
its flags' errors, and --resume of a run stopped in pretraining or after it."""

from __future__ import annotations

import json
import math
import struct
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scratchnn.cli import build_parser, main
from scratchnn.data.synthetic import BAR_CLASSES, make_bars
from scratchnn.figures.reconstructions import PIXELS_PER_CELL, TITLE_PIXELS
from scratchnn.recipes import mae as recipe
from scratchnn.train import Trainer

from .interrupt import assert_same_checkpoints, ctrl_c_after_each_epoch

TIMINGS = ("train_seconds", "train_cpu_seconds", "seconds_per_epoch")
SMALL = ["train", "mae", "--dataset", "synthetic", "--embed-dim", "32", "--depth", "2", "--decoder-embed-dim", "32",
         "--decoder-depth", "1", "--batch-size", "32", "--lr", "3e-3", "--finetune-lr", "2e-3", "--val-size", "100",
         "--probe-epochs", "5", "--quiet"]  # fmt: skip


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_pretrains_probes_finetunes_and_writes_its_run_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main([*SMALL, "--epochs", "10", "--finetune-epochs", "15", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "linear probe on the CLS code" in printed and "fine-tuned test accuracy" in printed
    for name in ("config.json", "metrics.jsonl", "curves.png", "reconstructions.png", "confusion_matrix.png",
                 "results.json", "finetune/metrics.jsonl", "finetune/curves.png"):  # fmt: skip
        assert (out / name).is_file(), name
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["command"] == "train mae" and config["num_train"] == 500 and config["num_test"] == 200
    assert config["patch_size_used"] == 3 and config["num_patches"] == 16  # a quarter of the 12x12 bars' side
    history = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(history) == 10 and all(math.isfinite(h["val_loss"]) for h in history)
    assert history[-1]["train_loss"] < 0.9 * history[0]["train_loss"]  # it learns to fill in masked patches
    lrs = [h["lr"] for h in history]  # at each epoch's end: the peak after the warmup epoch, then the cosine decay
    assert lrs[0] == pytest.approx(3e-3) and all(a > b for a, b in zip(lrs, lrs[1:])) and lrs[-1] == 0
    results = json.loads((out / "results.json").read_text())
    assert results["epochs"] == 10 and results["steps"] == 10 * 16 and results["code_size"] == 32
    # standardized pixels: predicting the mean costs about 1 per value; the model does better
    assert 0 < results["test_masked_loss"] < 1
    for probes in (results["probe"], results["pixel_probe"]):
        assert [probes[k]["labels"] for k in ("200", "all")] == [200, 500]
        for k in ("200", "all"):
            acc = probes[k]["test_accuracy"]
            assert 0 <= acc <= 1 and acc * 200 == pytest.approx(round(acc * 200))  # of the 200 test images
    finetune = results["finetune"]
    assert finetune["epochs"] == 15 and finetune["steps"] == 15 * 16
    assert finetune["test_accuracy"] > 0.5  # chance is 0.25 (4 orientations); it reaches about 0.9
    assert finetune["best_val_acc"] == max(
        json.loads(line)["val_acc"] for line in (out / "finetune" / "metrics.jsonl").read_text().splitlines()
    )
    assert _png_size(out / "reconstructions.png") == (8 * PIXELS_PER_CELL, 3 * PIXELS_PER_CELL + TITLE_PIXELS)


def _tagged(n: int, tag: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Bars whose pixel (0, 0) says the split (``tag``) and pixel (0, 1) the image's index / 1000."""
    X, y = make_bars(n, rng=np.random.default_rng(seed))
    X[:, 0, 0, 0] = tag
    X[:, 0, 0, 1] = np.arange(n) / 1000
    return X, y


def test_train_and_test_data_are_not_swapped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretraining, validation, the probes' training features and fine-tuning see training images only, with
    their own labels; the test loss, the figure, the probes' scores and the fine-tuned accuracy test images."""
    X_tr, y_tr = _tagged(300, 5.0, 1)
    X_te, y_te = _tagged(120, -5.0, 2)
    monkeypatch.setattr(recipe, "load_images", lambda *a: (X_tr, y_tr, X_te, y_te, BAR_CLASSES))
    fits: list[tuple[np.ndarray, ...]] = []
    predicted: list[np.ndarray] = []
    encoded: list[np.ndarray] = []
    shown: list[np.ndarray] = []
    fit, predict = Trainer.fit, Trainer.predict
    monkeypatch.setattr(Trainer, "fit", lambda self, *data: fits.append(data) or fit(self, *data))
    monkeypatch.setattr(Trainer, "predict", lambda self, X, *a: predicted.append(X) or predict(self, X, *a))
    lp = sys.modules["scratchnn.analysis.linear_probe"]  # the package's linear_probe is the function
    figs = sys.modules["scratchnn.figures.reconstructions"]

    encode, plot = lp.encode_batched, figs.plot_reconstructions
    monkeypatch.setattr(lp, "encode_batched", lambda fn, X, *a: encoded.append(X) or encode(fn, X, *a))
    monkeypatch.setattr(figs, "plot_reconstructions", lambda o, *a, **k: shown.append(o) or plot(o, *a, **k))
    assert (
        main([*SMALL, "--val-size", "50", "--epochs", "1", "--finetune-epochs", "1", "--out", str(tmp_path / "r")]) == 0
    )

    def ids(X: np.ndarray, tag: float) -> np.ndarray:
        assert (X[:, 0, 0, 0] == tag).all()  # every image of the split ``tag``
        return np.rint(X[:, 0, 0, 1] * 1000).astype(int)

    (pre_X, pre_y, pre_Xv, pre_yv), (ft_X, ft_y, ft_Xv, ft_yv) = fits
    train_ids, val_ids = ids(pre_X, 5.0), ids(pre_Xv, 5.0)
    assert len(train_ids) == 250 and len(val_ids) == 50 and not set(train_ids) & set(val_ids)
    assert pre_y is pre_X and pre_yv is pre_Xv  # pretraining: the images are their own targets
    np.testing.assert_array_equal(ids(ft_X, 5.0), train_ids)  # fine-tuning: the same training split...
    np.testing.assert_array_equal(ft_y, y_tr[train_ids])  # ...with its own labels
    np.testing.assert_array_equal(ids(ft_Xv, 5.0), val_ids)
    np.testing.assert_array_equal(ft_yv, y_tr[val_ids])
    np.testing.assert_array_equal(ids(encoded[0], 5.0), train_ids)  # the probes train on training codes
    np.testing.assert_array_equal(ids(encoded[1], -5.0), np.arange(120))  # and are scored on the test codes
    np.testing.assert_array_equal(ids(predicted[-1], -5.0), np.arange(120))  # the fine-tuned model's score
    np.testing.assert_array_equal(ids(shown[0], -5.0), np.arange(8))  # the figure shows test images
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert results["probe"]["all"]["labels"] == 250
    assert results["finetune"]["test_accuracy"] * 120 == pytest.approx(
        round(results["finetune"]["test_accuracy"] * 120)
    )


def test_finetune_epochs_0_skips_fine_tuning(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main([*SMALL, "--epochs", "1", "--finetune-epochs", "0", "--val-size", "0", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["finetune"] is None and results["final_val_loss"] is None
    assert not (out / "finetune").exists() and not (out / "confusion_matrix.png").exists()


def test_help_documents_every_mae_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "mae", "--help"])
    text = capsys.readouterr().out
    for flag in ("--patch-size", "--embed-dim", "--depth", "--num-heads", "--decoder-embed-dim", "--decoder-depth",
                 "--decoder-num-heads", "--mlp-ratio", "--mask-ratio", "--norm-pix-loss", "--warmup-epochs",
                 "--probe-epochs", "--finetune-epochs", "--finetune-lr", "--resume"):  # fmt: skip
        assert flag in text, flag


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--mask-ratio", "0"], "argument --mask-ratio: expected a number in (0, 1), received '0'"),
        (["--mask-ratio", "1"], "argument --mask-ratio: expected a number in (0, 1), received '1'"),
        (["--patch-size", "0"], "argument --patch-size: expected a positive integer, received '0'"),
        (["--finetune-epochs", "-1"], "argument --finetune-epochs: expected a non-negative integer, received '-1'"),
    ],
)
def test_bad_flag_values_are_one_line_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "mae", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and err[-1].startswith("scratchnn train mae: error:")


def test_a_patch_size_that_does_not_divide_the_images_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*SMALL, "--patch-size", "5", "--out", str(tmp_path / "a")]) == 2
    assert capsys.readouterr().err == (
        "scratchnn: error: Invalid value for `--patch-size`: expected a divisor of the 12x12 images' sides. "
        "Received: --patch-size=5\n"
    )


def _same_results(straight: Path, run: Path) -> None:
    assert_same_checkpoints(straight, run, ("last",))
    results = [json.loads((r / "results.json").read_text()) for r in (straight, run)]
    assert {k: v for k, v in results[1].items() if k not in TIMINGS} | {"finetune": None} == {
        k: v for k, v in results[0].items() if k not in TIMINGS
    } | {"finetune": None}
    a, b = results[0]["finetune"], results[1]["finetune"]
    assert {k: v for k, v in a.items() if k != "train_seconds"} == {k: v for k, v in b.items() if k != "train_seconds"}


def test_a_run_stopped_in_pretraining_resumes_to_the_uninterrupted_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = [*SMALL, "--epochs", "3", "--finetune-epochs", "2"]
    straight, run = tmp_path / "straight", tmp_path / "run"
    assert main([*argv, "--out", str(straight)]) == 0

    ctrl_c_after_each_epoch(monkeypatch)
    assert main([*argv, "--out", str(run)]) == 130  # stopped after its first epoch (masks drawn, rng mid-way)
    monkeypatch.undo()
    assert not (run / "results.json").exists()
    assert main(["train", "mae", "--resume", str(run)]) == 0
    _same_results(straight, run)


def test_a_run_stopped_after_pretraining_redoes_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*SMALL, "--epochs", "2", "--finetune-epochs", "2"]
    straight, run = tmp_path / "straight", tmp_path / "run"
    assert main([*argv, "--out", str(straight)]) == 0
    finetune = recipe._finetune

    def interrupted(*a: Any) -> Any:
        finetune(*a)  # a fine-tuning run folder left behind, as a stop in its last epoch would
        raise KeyboardInterrupt

    monkeypatch.setattr(recipe, "_finetune", interrupted)
    assert main([*argv, "--out", str(run)]) == 130
    monkeypatch.undo()
    assert (run / "finetune" / "metrics.jsonl").is_file() and not (run / "results.json").exists()
    capsys.readouterr()
    assert main(["train", "mae", "--resume", str(run)]) == 0
    _same_results(straight, run)
