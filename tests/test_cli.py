"""The `scratchnn` command (scratchnn/cli.py): library errors become one-line messages; `scratchnn data`.

Each recipe's own flags are tested in tests/recipes/, the experiments' in tests/experiments/."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scratchnn.cli import main

from .data.fakes import idx_arrays, write_idx_dataset


def test_library_errors_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code = main(["train", "mlp", "--dataset", "spirals", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("scratchnn: error: run folder") and err.count("\n") == 1
    assert (out / "notes.txt").read_text() == "mine" and sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_data_command_prints_the_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "fmnist"
    write_idx_dataset(root, idx_arrays(np.random.default_rng(0)))
    assert main(["data", "fashion-mnist", "--root", str(root), "--no-download"]) == 0
    assert capsys.readouterr().out.strip() == str(root)


def test_data_command_without_data_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "fashion-mnist", "--root", str(tmp_path / "empty"), "--no-download"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("scratchnn: error:") and "train-images-idx3-ubyte" in err
