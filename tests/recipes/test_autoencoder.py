"""`scratchnn train autoencoder` (scratchnn/recipes/autoencoder.py): each kind end to end on the synthetic bars
(run folder, results.json, reconstructions.png), its flags' errors, and --resume of a stopped run."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import numpy as np
import pytest

from scratchnn.cli import build_parser, main
from scratchnn.figures.reconstructions import PIXELS_PER_CELL, TITLE_PIXELS

from .interrupt import assert_same_checkpoints, ctrl_c_after_each_epoch

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TIMINGS = ("train_seconds", "train_cpu_seconds", "seconds_per_epoch")
SMALL = ["train", "autoencoder", "--dataset", "synthetic", "--hidden", "64", "16", "--code-size", "16",
         "--channels", "8", "16", "--batch-size", "32", "--lr", "3e-3", "--val-size", "100",
         "--probe-labels", "all", "--probe-epochs", "200", "--quiet"]  # fmt: skip


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk, first after the signature
    return width, height


@pytest.mark.parametrize(
    "kind,extra,rows",
    [("vanilla", [], 2), ("denoising", ["--noise-std", "0.3"], 3), ("masked", ["--loss-on", "masked"], 3),
     ("conv", [], 2)],
)  # fmt: skip
def test_each_kind_trains_probes_and_writes_its_run_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, extra: list[str], rows: int
) -> None:
    out = tmp_path / "run"
    assert main([*SMALL, "--kind", kind, "--epochs", "20", *extra, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "test reconstruction loss" in printed and "raw pixels" in printed
    for name in ("config.json", "metrics.jsonl", "results.json", "curves.png", "reconstructions.png"):
        assert (out / name).is_file(), name
    assert any((out / "checkpoints").glob("*.safetensors"))
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["kind"] == kind and config["num_train"] == 500 and config["num_test"] == 200
    assert config["input_shape"] == ([1, 12, 12] if kind == "conv" else [144])
    assert config["code_size"] == 16
    history = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(history) == 20 and all(math.isfinite(h["val_loss"]) for h in history)
    assert history[-1]["train_loss"] < history[0]["train_loss"]  # it learns to reconstruct
    results = json.loads((out / "results.json").read_text())
    assert results["kind"] == kind and results["epochs"] == 20 and results["steps"] == 20 * 16
    assert results["best_val_loss"] == pytest.approx(min(h["val_loss"] for h in history))
    # the bars are standardized pixels: predicting 0 everywhere costs about the 144 pixels' unit variance
    assert 0 < results["test_loss"] < 144
    assert results["probe_labels"] == 500 and results["probe_epochs"] == 200
    for key in ("probe_accuracy", "pixel_probe_accuracy", "probe_train_accuracy", "pixel_probe_train_accuracy"):
        assert 0 <= results[key] <= 1, key
        assert results[key] * 200 == pytest.approx(round(results[key] * 200)) or "train" in key  # of 200 images
    assert results["probe_accuracy"] > 0.3  # chance is 0.25 (4 orientations, 200 test images: sd 0.03)
    assert _png_size(out / "reconstructions.png") == (8 * PIXELS_PER_CELL, rows * PIXELS_PER_CELL + TITLE_PIXELS)


def test_probe_labels_count_the_first_training_examples(tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = [*SMALL, "--epochs", "1", "--probe-epochs", "2", "--probe-labels", "40", "--out", str(out)]
    assert main(argv) == 0
    assert json.loads((out / "results.json").read_text())["probe_labels"] == 40
    out2 = tmp_path / "run2"  # more labels than training examples: all of them
    assert main([*argv[:-2], "--probe-labels", "9999", "--out", str(out2)]) == 0
    assert json.loads((out2 / "results.json").read_text())["probe_labels"] == 500
    out3 = tmp_path / "run3"  # no validation split: no best validation loss, and valid JSON
    assert main([*argv[:-2], "--val-size", "0", "--out", str(out3)]) == 0
    results = json.loads((out3 / "results.json").read_text())
    assert results["best_val_loss"] is None and results["probe_labels"] == 40 and math.isfinite(results["test_loss"])


def test_help_documents_every_autoencoder_flag(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "autoencoder", "--help"])
    text = capsys.readouterr().out
    for flag in ("--kind", "--hidden", "--code-size", "--channels", "--noise-std", "--mask-ratio", "--loss-on",
                 "--probe-labels", "--probe-epochs", "--resume"):  # fmt: skip
        assert flag in text, flag


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--mask-ratio", "1.0"], "argument --mask-ratio: expected a probability in [0, 1), received '1.0'"),
        (["--noise-std", "-0.5"], "argument --noise-std: expected a non-negative number, received '-0.5'"),
        (["--probe-labels", "0"], "argument --probe-labels: expected a positive integer or 'all', received '0'"),
        (["--probe-labels", "some"], "argument --probe-labels: expected a positive integer or 'all', received 'some'"),
        (["--kind", "sparse"], "argument --kind: invalid choice: 'sparse'"),
        (["--loss-on", "none"], "argument --loss-on: invalid choice: 'none'"),
    ],
)
def test_bad_flag_values_are_one_line_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "autoencoder", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and err[-1].startswith("scratchnn train autoencoder: error:")


def test_masking_nothing_with_the_masked_only_loss_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*SMALL, "--kind", "masked", "--mask-ratio", "0", "--loss-on", "masked", "--out", str(tmp_path / "a")]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        "scratchnn: error: Invalid value for `--mask-ratio`: expected a float in (0, 1) with --loss-on masked "
        "(0 masks nothing). Received: --mask-ratio=0.0\n"
    )


@pytest.mark.parametrize(
    "kind,flags",
    [("conv", ["--noise-std", "0.3"]), ("conv", ["--mask-ratio", "0.5"]), ("conv", ["--loss-on", "masked"]),
     ("vanilla", ["--noise-std", "0.5"]), ("denoising", ["--mask-ratio", "0.75"]), ("masked", ["--noise-std", "0.1"])],
)  # fmt: skip
def test_a_corruption_flag_the_kind_ignores_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, flags: list[str]
) -> None:
    """The conv kind trains on clean inputs: --noise-std or --mask-ratio would be recorded but never applied."""
    out = tmp_path / "a"
    assert main([*SMALL, "--kind", kind, *flags, "--out", str(out)]) == 2
    flag, value = flags
    owner = "denoising" if flag == "--noise-std" else "masked"
    assert capsys.readouterr().err == (
        f"scratchnn: error: Invalid value for `{flag}`: expected no {flag} with --kind {kind} (it applies to "
        f"--kind {owner} only; the {kind} kind ignores it). Received: {flag}={value}\n"
    )
    assert not out.exists()  # refused before the run folder is made


@pytest.mark.parametrize(
    "kind,recorded",
    [("conv", (None, None, None)), ("vanilla", (None, None, None)), ("denoising", (0.5, None, None)),
     ("masked", (None, 0.75, "all"))],
)  # fmt: skip
def test_config_records_the_corruption_the_kind_uses(
    tmp_path: Path, kind: str, recorded: tuple[float | None, float | None, str | None]
) -> None:
    out = tmp_path / "run"
    assert main([*SMALL, "--kind", kind, "--epochs", "1", "--probe-epochs", "1", "--out", str(out)]) == 0
    config = json.loads((out / "config.json").read_text())["config"]
    assert (config["noise_std"], config["mask_ratio"], config["loss_on"]) == recorded


@pytest.mark.parametrize("kind", ["masked", "conv"])
def test_a_stopped_run_resumes_to_the_uninterrupted_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    argv = [*SMALL, "--kind", kind, "--epochs", "3", "--probe-epochs", "5"]
    if kind == "masked":
        argv += ["--loss-on", "masked"]  # the course path (model.loss) and a fresh mask per step
    straight, run = tmp_path / "straight", tmp_path / "run"
    assert main([*argv, "--out", str(straight)]) == 0

    ctrl_c_after_each_epoch(monkeypatch)
    assert main([*argv, "--out", str(run)]) == 130  # stopped after its first epoch
    monkeypatch.undo()
    assert not (run / "results.json").exists()
    assert main(["train", "autoencoder", "--resume", str(run)]) == 0
    assert_same_checkpoints(straight, run)
    results = [json.loads((r / "results.json").read_text()) for r in (straight, run)]
    assert {k: v for k, v in results[1].items() if k not in TIMINGS} == {
        k: v for k, v in results[0].items() if k not in TIMINGS
    }
    assert np.isfinite(results[1]["test_loss"])


def test_a_run_that_recorded_every_default_still_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Conv runs started before the corruption check recorded noise_std 0.5 and mask_ratio 0.75: --resume works."""
    run = tmp_path / "run"

    ctrl_c_after_each_epoch(monkeypatch)
    argv = [*SMALL, "--kind", "conv", "--epochs", "2", "--probe-epochs", "1", "--out", str(run)]
    assert main(argv) == 130
    monkeypatch.undo()
    saved = json.loads((run / "config.json").read_text())
    saved["config"] |= {"noise_std": 0.5, "mask_ratio": 0.75, "loss_on": "all"}  # what the old defaults wrote
    (run / "config.json").write_text(json.dumps(saved))
    assert main(["train", "autoencoder", "--resume", str(run)]) == 0
    assert json.loads((run / "results.json").read_text())["epochs"] == 2
