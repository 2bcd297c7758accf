"""ensure_dataset: the CLI hook that finds or downloads a dataset by name and checks it reads."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from scratchnn.data import DatasetNotFoundError, ensure_dataset

from .fakes import IDX_NAMES, cifar_batches, cifar_bytes, idx_arrays, write_idx_dataset


@pytest.mark.parametrize("name", ["fashion-mnist", "Fashion_MNIST", "mnist"])
def test_returns_the_folder_holding_the_files(tmp_path: Path, rng: np.random.Generator, name: str) -> None:
    folder = "fashion-mnist" if "ashion" in name else "mnist"
    write_idx_dataset(tmp_path / "env" / folder, idx_arrays(rng))
    assert ensure_dataset(name, tmp_path / "env") == tmp_path / "env" / folder


def test_cifar_folder(tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch) -> None:
    batch_dir = tmp_path / "env" / "cifar-10" / "cifar-10-batches-py"
    batch_dir.mkdir(parents=True)
    for name, blob in cifar_bytes(cifar_batches(rng)).items():
        (batch_dir / name).write_bytes(blob)
    monkeypatch.setenv("SCRATCHNN_DATA", str(tmp_path / "env"))
    assert ensure_dataset("cifar10") == batch_dir


def test_reports_corruption(tmp_path: Path, rng: np.random.Generator) -> None:
    arrays = idx_arrays(rng)
    arrays[IDX_NAMES[1]] = arrays[IDX_NAMES[1]][:3]
    write_idx_dataset(tmp_path, arrays)
    with pytest.raises(ValueError, match=re.escape(str(tmp_path / "train-images-idx3-ubyte.gz")) + " holds 5 images"):
        ensure_dataset("mnist", tmp_path)


def test_missing_without_download(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="(?s)Fashion-MNIST was not found.*download=False.*apt-get install"):
        ensure_dataset("fashion-mnist", download=False)


def test_unknown_name() -> None:
    msg = "Invalid value for `name`: expected one of 'fashion-mnist', 'mnist', 'cifar-10'. Received: name='imagenet'"
    with pytest.raises(ValueError, match=re.escape(msg)):
        ensure_dataset("imagenet")
