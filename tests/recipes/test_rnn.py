"""`scratchnn train rnn`: images read row by row by an RNN, LSTM or GRU, end to end on synthetic bars."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scratchnn.cli import build_parser, main

TRAIN_RNN_FLAGS = ["--dataset", "--data-root", "--cell", "--hidden", "--layers", "--dropout", "--optimizer", "--lr"]
TRAIN_RNN_FLAGS += ["--weight-decay", "--schedule", "--clip-grad-norm", "--epochs", "--batch-size", "--val-size"]
TRAIN_RNN_FLAGS += ["--limit", "--seed", "--out", "--resume", "--checkpoint-every", "--quiet"]


def test_help_documents_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "rnn", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    rnn_parser = sub.choices["train"]._actions[-1].choices["rnn"]  # type: ignore[attr-defined]
    flags = [s for a in rnn_parser._actions if a.dest != "help" for s in a.option_strings]
    assert sorted(flags) == sorted(TRAIN_RNN_FLAGS)
    assert all(a.help for a in rnn_parser._actions)
    assert "default: 1)" in " ".join(text.split())  # --clip-grad-norm's default for recurrent nets


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--cell", "transformer"], "argument --cell: invalid choice: 'transformer'"),
        (["--hidden", "0"], "argument --hidden: expected a positive integer, received '0'"),
        (["--dropout", "1"], "argument --dropout: expected a probability in [0, 1), received '1'"),
    ],
)
def test_bad_flag_values_are_one_line_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "rnn", *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_learns_synthetic_bars_row_by_row_and_writes_the_run_folder(
    cell: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = ["train", "rnn", "--dataset", "synthetic", "--cell", cell, "--hidden", "32", "--epochs", "12"]
    argv += ["--batch-size", "32", "--lr", "1e-2", "--val-size", "100", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    assert "test accuracy" in capsys.readouterr().out
    for name in ("config.json", "metrics.jsonl", "results.json", "curves.png", "confusion_matrix.png"):
        assert (out / name).is_file(), name
    results = json.loads((out / "results.json").read_text())
    assert results["cell"] == cell
    assert results["test_accuracy"] >= 0.75  # 4 orientations (chance 0.25), a few seconds of training
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["input_shape"] == [12, 12] and config["clip_grad_norm"] == 1.0
