"""`scratchnn train summarizer` and `scratchnn summarize` on a small JSON lines file the test writes: the model
learns to pull the summary out of the document, the run folder holds what `summarize` needs, the report
compares greedy and beam summaries with the lead and first-sentence baselines, and resume is exact."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scratchnn.cli import main
from scratchnn.serialization import load
from scratchnn.train.checkpoint import read_checkpoint

from ..train.helpers import assert_tree_equal
from .interrupt import assert_same_checkpoints, ctrl_c_after_each_epoch

WORDS = "red green blue fast small tiny quick simple secure modern".split()
THINGS = "images audio files mail maps fonts notes music video charts".split()
NAMES = "alpha beta gamma delta omega sigma kappa theta zeta lambda".split()


def write_pairs(path: Path, n: int, seed: int = 0) -> Path:
    """Documents whose summary is a phrase in their second sentence ('<word> tool for <thing>')."""
    rng = np.random.default_rng(seed)
    with path.open("w") as f:
        for _ in range(n):
            name, word, thing = rng.choice(NAMES), rng.choice(WORDS), rng.choice(THINGS)
            doc = f"The {name} package is here. It is a {word} tool for {thing}. It has docs and tests."
            f.write(json.dumps({"document": doc, "summary": f"{word} tool for {thing}", "id": name}) + "\n")
    return path


SMALL = ["--vocab-size", "300", "--source-len", "24", "--target-len", "8", "--d-model", "32", "--nhead", "2",
         "--layers", "1", "--dim-feedforward", "64", "--dropout", "0.0", "--batch-size", "16", "--lr", "3e-3",
         "--warmup-steps", "20", "--eval-docs", "20", "--beam-size", "3", "--quiet"]  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("summ")
    data = write_pairs(tmp / "pairs.jsonl", 400)
    out = tmp / "run"
    assert main(["train", "summarizer", "--data", str(data), *SMALL, "--epochs", "20", "--out", str(out)]) == 0
    return out


def test_the_model_learns_the_phrase_and_beats_the_baselines(run: Path) -> None:
    results = json.loads((run / "results.json").read_text())
    test = results["test"]
    assert set(test) == {"greedy", "beam 3", f"lead-{results['lead_k']}", "first sentence"}
    for name in ("greedy", "beam 3"):
        for key in ("rouge1", "rouge2", "rougeL"):
            assert test[name][key] > 70, (name, test[name])  # mostly the phrase, word for word
            assert test[name][key] > max(test[b][key] for b in test if b not in ("greedy", "beam 3")) + 20
    assert [e["epoch"] for e in results["history"]] == list(range(1, 21))
    assert results["history"][-1]["val_rouge1"] > results["history"][0]["val_rouge1"]


def test_the_kept_weights_are_the_epoch_with_the_best_validation_rouge(run: Path) -> None:
    results = json.loads((run / "results.json").read_text())
    history = results["history"]
    for e in history:
        assert e["val_rouge"] == pytest.approx((e["val_rouge1"] + e["val_rouge2"] + e["val_rougeL"]) / 3)
    scores = [e["val_rouge"] for e in history]
    assert results["best_epoch"] == 1 + scores.index(max(scores))  # the first of equal bests, as EarlyStopping
    best = read_checkpoint(run / "checkpoints" / "best.safetensors")
    assert best["trainer"]["epoch"] == results["best_epoch"]
    # the checkpoint holds the Trainer's view of the model (recipes.summarizer_data.TeacherForced): "model." names
    assert_tree_equal({f"model.{k}": v for k, v in load(run / "model.safetensors").items()}, best["model"])
    for name in ("tokenizer.json", "model.safetensors", "curves.png", "metrics.jsonl", "examples.md"):
        assert (run / name).is_file(), name
    assert (run / "examples.md").read_text().count("- **reference**") == 10


def test_summarize_prints_one_summary_per_text(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = "The zeta package is here. It is a secure tool for mail. It has docs and tests."
    assert main(["summarize", "--checkpoint", str(run), doc, doc.replace("mail", "fonts")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(line.startswith("secure tool") for line in lines), lines  # read from the text


def test_summarize_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summarize", "--checkpoint", str(tmp_path), "some text"]) != 0
    err = capsys.readouterr().err
    assert err.startswith("scratchnn: error:") and "model.safetensors" in err and err.count("\n") == 1


def test_data_needs_one_or_three_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write_pairs(tmp_path / "p.jsonl", 10)
    assert main(["train", "summarizer", "--data", str(f), str(f), *SMALL, "--out", str(tmp_path / "r")]) != 0
    assert "Invalid value for `--data`" in capsys.readouterr().err


TIMINGS = ("train_seconds", "train_cpu_seconds", "seconds_per_epoch")


def test_a_stopped_run_resumes_to_the_uninterrupted_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C after the first of three epochs, then --resume: the same weights, optimizer state, ROUGE history
    and test table as the run that was never stopped (dropout on, so its random stream must resume too)."""
    data = write_pairs(tmp_path / "pairs.jsonl", 120)
    argv = ["train", "summarizer", "--data", str(data), *SMALL, "--dropout", "0.1", "--epochs", "3"]
    straight, run = tmp_path / "straight", tmp_path / "run"
    assert main([*argv, "--out", str(straight)]) == 0

    ctrl_c_after_each_epoch(monkeypatch)
    assert main([*argv, "--out", str(run)]) == 130  # stopped after its first epoch
    monkeypatch.undo()
    assert not (run / "results.json").exists()
    assert main(["train", "summarizer", "--resume", str(run)]) == 0
    assert_same_checkpoints(straight, run)
    results = [json.loads((r / "results.json").read_text()) for r in (straight, run)]
    strip = [{k: v for k, v in r.items() if k not in TIMINGS} for r in results]
    for r in strip:
        for entry in r.get("history", []):
            for k in TIMINGS:
                entry.pop(k, None)
    assert strip[1] == strip[0]
    assert len(results[1]["history"]) == 3
    assert_tree_equal(load(run / "model.safetensors"), load(straight / "model.safetensors"))  # what summarize reads
