"""``scratchnn train cnn``: every flag documented, bad values are one-line errors, real runs on small data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scratchnn.cli import build_parser, main
from scratchnn.data import FASHION_MNIST_CLASSES

from ..data.fakes import idx_arrays, write_idx_dataset

TRAIN_CNN_FLAGS = [
    "--dataset",
    "--data-root",
    "--channels",
    "--kernel-size",
    "--hidden",
    "--flip",
    "--no-batchnorm",
    "--pool",
    "--dropout",
    "--label-smoothing",
    "--optimizer",
    "--lr",
    "--weight-decay",
    "--schedule",
    "--clip-grad-norm",
    "--epochs",
    "--batch-size",
    "--val-size",
    "--limit",
    "--seed",
    "--out",
    "--resume",
    "--checkpoint-every",
    "--quiet",
]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_train_cnn_help_documents_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "cnn", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    cnn_parser = sub.choices["train"]._actions[-1].choices["cnn"]  # type: ignore[attr-defined]
    flags = [s for a in cnn_parser._actions if a.dest != "help" for s in a.option_strings]
    assert sorted(flags) == sorted(TRAIN_CNN_FLAGS)
    for action in cnn_parser._actions:
        if action.dest != "help":
            assert action.help, f"{action.option_strings} has no help text"
    for flag in TRAIN_CNN_FLAGS:
        assert flag in text


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--channels", "0"], "argument --channels: expected a positive integer, received '0'"),
        (["--dropout", "1"], "argument --dropout: expected a probability in [0, 1), received '1'"),
        (["--lr", "inf"], "argument --lr: expected a positive number, received 'inf'"),
        (["--pool", "min"], "argument --pool: invalid choice: 'min'"),
    ],
)
def test_bad_flag_values_are_one_line_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "cnn", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and err[-1].startswith("scratchnn train cnn: error:")  # usage, then one error line


def test_bad_flag_value_from_the_command_line_has_no_traceback() -> None:
    cmd = [sys.executable, "-m", "scratchnn", "train", "cnn", "--epochs", "0"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "argument --epochs: expected a positive integer, received '0'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_even_kernel_and_used_run_folder_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["train", "cnn", "--dataset", "synthetic", "--kernel-size", "4", "--quiet", "--out", str(tmp_path / "a")])
        == 2
    )
    err = capsys.readouterr().err
    assert err == (
        "scratchnn: error: Invalid value for `--kernel-size`: expected an odd int (the convolutions keep "
        "the image size). Received: --kernel-size=4\n"
    )
    assert not (tmp_path / "a").exists()
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    assert main(["train", "cnn", "--dataset", "synthetic", "--quiet", "--out", str(taken)]) == 2
    assert capsys.readouterr().err.startswith("scratchnn: error: run folder")
    assert sorted(p.name for p in taken.iterdir()) == ["notes.txt"]


def test_train_cnn_on_synthetic_bars_learns_and_writes_the_run_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "cnn",
            "--dataset",
            "synthetic",
            "--channels",
            "8",
            "16",
            "--epochs",
            "8",
            "--batch-size",
            "32",
            "--lr",
            "3e-3",
            "--val-size",
            "100",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert "test accuracy" in capsys.readouterr().out
    for name in ("config.json", "metrics.jsonl", "results.json", "curves.png", "confusion_matrix.png", "filters.png"):
        assert (out / name).is_file(), name
    for name in ("curves.png", "confusion_matrix.png", "filters.png"):
        assert (out / name).read_bytes()[:8] == PNG_MAGIC, name
    assert any((out / "checkpoints").glob("*.safetensors"))
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["channels"] == [8, 16] and config["num_train"] == 500 and config["input_shape"] == [1, 12, 12]
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 8
    results = json.loads((out / "results.json").read_text())
    cm = np.array(results["confusion_matrix"])
    assert cm.shape == (4, 4) and cm.sum() == 200
    assert results["test_accuracy"] == pytest.approx(np.trace(cm) / 200)
    assert results["class_names"] == ["horizontal", "vertical", "diagonal", "anti-diagonal"]
    # the orientation of a bar anywhere in the image: chance is 0.25
    assert results["test_accuracy"] > 0.8


def test_train_cnn_on_idx_files(tmp_path: Path) -> None:
    root = tmp_path / "fmnist"
    write_idx_dataset(root, idx_arrays(np.random.default_rng(0), n_train=40, n_test=10))
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "cnn",
            "--data-root",
            str(root),
            "--channels",
            "4",
            "--hidden",
            "8",
            "--epochs",
            "2",
            "--val-size",
            "8",
            "--flip",
            "--no-batchnorm",
            "--pool",
            "avg",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["steps"] == 2 * 1  # 32 training samples, batch 128: one step per epoch
    assert results["class_names"] == list(FASHION_MNIST_CLASSES)
    assert np.array(results["confusion_matrix"]).shape == (10, 10) and np.sum(results["confusion_matrix"]) == 10
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["num_train"] == 32 and config["num_val"] == 8 and config["num_test"] == 10
    assert config["input_shape"] == [1, 28, 28]
    assert config["parameters"] == (4 * 9 + 4) + (4 * 14 * 14 * 8 + 8) + (8 * 10 + 10)  # conv, hidden, output
    assert 0 <= config["input_mean"] <= 1 and config["input_std"] > 0
    assert (out / "filters.png").read_bytes()[:8] == PNG_MAGIC
