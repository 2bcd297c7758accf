"""`scratchnn train char-rnn`, `scratchnn sample` and `scratchnn train sections` on a small lists folder the
tests write: each learns, reports its baselines and writes its run folder."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from scratchnn.cli import main

from .text_lists import write_text_lists


@pytest.fixture(scope="module")
def lists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_text_lists(tmp_path_factory.mktemp("lists"))


@pytest.fixture(scope="module")
def char_run(lists: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("char") / "run"
    argv = ["train", "char-rnn", "--lists-dir", str(lists), "--hidden", "64", "--embedding-dim", "16", "--seq-len"]
    argv += ["32", "--epochs", "3", "--batch-size", "32", "--val-size", "50", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    return out


def test_char_rnn_learns_and_reports_the_ngram_baseline(char_run: Path) -> None:
    results = json.loads((char_run / "results.json").read_text())
    config = json.loads((char_run / "config.json").read_text())["config"]
    uniform = math.log2(config["vocab_size"])
    assert results["val_bpc"] < uniform - 1.5, (results["val_bpc"], uniform)  # it learned the text
    assert results["ngram_val_bpc"] < uniform - 1.5 and 1 <= results["ngram_order"] <= 5
    assert results["sample"].startswith("This package ")
    for name in ("vocab.json", "model.safetensors", "curves.png", "metrics.jsonl"):
        assert (char_run / name).is_file(), name


def test_sample_prints_the_prompt_and_the_drawn_characters(char_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["sample", str(char_run), "--prompt", "The ", "--length", "40", "--temperature", "0"]
    assert main(argv) == 0
    greedy = capsys.readouterr().out.rstrip("\n")
    assert greedy.startswith("The ") and len(greedy) == 44
    assert main(argv) == 0
    assert capsys.readouterr().out.rstrip("\n") == greedy  # temperature 0: the most likely, every time
    assert main([*argv[:-1], "1.5", "--seed", "3"]) == 0
    assert capsys.readouterr().out.rstrip("\n") != greedy


def test_sample_of_a_missing_run_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sample", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("scratchnn: error:") and err.count("\n") == 1


def test_sections_beats_the_majority_class(lists: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = ["train", "sections", "--lists-dir", str(lists), "--level", "word", "--hidden", "32", "--layers", "1"]
    argv += ["--embedding-dim", "16", "--epochs", "12", "--lr", "1e-2", "--batch-size", "32", "--dropout", "0"]
    argv += ["--quiet", "--out", str(out)]
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["classes"] and set(results["classes"]) <= {"libs", "doc", "python", "net"}
    assert results["majority_test_acc"] < 0.5
    assert results["test_accuracy"] >= 0.9  # the synopsis's first words name the section
    assert results["bow_test_acc"] >= 0.8  # early-stopped on 41 validation synopses: not always all of test
    assert (out / "confusion_matrix.png").is_file()
