"""`scratchnn train mlp` (scratchnn/recipes/mlp.py): every flag documented, one-line errors for bad flag
values, a run on spirals and one on IDX files that learn and write their run folders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scratchnn.cli import build_parser, main

from ..data.fakes import idx_arrays, write_idx_dataset

TRAIN_MLP_FLAGS = [
    "--dataset",
    "--data-root",
    "--hidden",
    "--optimizer",
    "--lr",
    "--weight-decay",
    "--schedule",
    "--clip-grad-norm",
    "--epochs",
    "--batch-size",
    "--weight-init",
    "--weight-scale",
    "--val-size",
    "--limit",
    "--seed",
    "--out",
    "--resume",
    "--checkpoint-every",
    "--quiet",
]


def test_train_mlp_help_documents_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "mlp", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    mlp_parser = sub.choices["train"]._actions[-1].choices["mlp"]  # type: ignore[attr-defined]
    for action in mlp_parser._actions:
        if action.dest != "help":
            assert action.help, f"{action.option_strings} has no help text"
    for flag in TRAIN_MLP_FLAGS:
        assert flag in text


@pytest.mark.parametrize(
    "argv,message",
    [
        (["train", "mlp", "--lr", "-1"], "argument --lr: expected a positive number, received '-1'"),
        (["train", "mlp", "--epochs", "ten"], "argument --epochs: expected a positive integer, received 'ten'"),
        (["train", "mlp", "--hidden", "0"], "argument --hidden: expected a positive integer, received '0'"),
        (["train", "mlp", "--optimizer", "lbfgs"], "argument --optimizer: invalid choice: 'lbfgs'"),
        (["train", "mlp", "--weight-decay", "nan"], "argument --weight-decay: expected a non-negative number"),
    ],
)
def test_bad_flag_values_are_one_line_errors(argv: list[str], message: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "scratchnn", *argv], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("scratchnn")  # usage line, then one error line


def test_train_mlp_on_spirals_learns_and_writes_the_run_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "mlp",
            "--dataset",
            "spirals",
            "--hidden",
            "64",
            "64",
            "--lr",
            "1e-2",
            "--epochs",
            "25",
            "--batch-size",
            "32",
            "--val-size",
            "100",
            "--weight-decay",
            "0",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert "test accuracy" in capsys.readouterr().out
    for name in ("config.json", "metrics.jsonl", "results.json", "curves.png"):
        assert (out / name).is_file(), name
    assert any((out / "checkpoints").glob("*.safetensors"))
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["hidden"] == [64, 64] and config["optimizer"] == "adamw"
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 25
    results = json.loads((out / "results.json").read_text())
    # three interleaved spirals are not linearly separable (a linear model gets ~0.5); the MLP must bend
    assert results["test_accuracy"] > 0.9


def test_train_mlp_on_idx_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "fmnist"
    write_idx_dataset(root, idx_arrays(np.random.default_rng(0), n_train=40, n_test=10))
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "mlp",
            "--data-root",
            str(root),
            "--hidden",
            "16",
            "--epochs",
            "2",
            "--val-size",
            "8",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["steps"] == 2 * 1  # 32 training samples, batch 128: one step per epoch
    assert 0.0 <= results["test_accuracy"] <= 1.0
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["num_train"] == 32 and config["num_val"] == 8 and config["num_test"] == 10
