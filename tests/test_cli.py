"""The `scratchnn` command (scratchnn/cli.py): library errors become one-line messages; `scratchnn data`.

Each recipe's own flags are tested in tests/recipes/, the experiments' in tests/experiments/."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scratchnn.cli import main

from .data.debian_fakes import write_fake_lists
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


def test_data_debian_builds_the_cache_and_prints_the_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    lists = write_fake_lists(tmp_path / "lists", "lz4")
    assert main(["data", "debian", "--lists-dir", str(lists)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("records: 8 (7 with a long description), parsed and cached in ")
    (cache_file,) = (tmp_path / "cache" / "scratchnn" / "debian").iterdir()
    assert out[1] == f"cache: {cache_file}"
    assert sum(int(line.split()[1]) for line in out if line.startswith(("train:", "val:", "test:"))) == 8
    assert main(["data", "debian", "--lists-dir", str(lists)]) == 0
    assert "read from the cache in" in capsys.readouterr().out


def test_data_debian_without_lists_says_how_to_get_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "debian", "--lists-dir", str(tmp_path), "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("scratchnn: error: No English package descriptions found") and err.count("\n") == 1
    assert "apt-get -o Acquire::Languages=en update" in err
    assert main(["data", "debian", "--root", str(tmp_path)]) == 2
    assert "--root is for the image datasets" in capsys.readouterr().err
    assert main(["data", "mnist", "--path", "x"]) == 2
    assert "--path, --lists-dir and --no-cache are for debian only" in capsys.readouterr().err
