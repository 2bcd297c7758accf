"""CIFAR-10: batches in a folder or in the tarball, the restricted unpickler, safe extraction, downloads."""

from __future__ import annotations

import io
import os
import pickle
import re
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scratchnn.data import DatasetNotFoundError, cifar, load_cifar10

from .fakes import CIFAR_BATCHES, cifar_batches, cifar_bytes, md5

CACHE = Path("cache", "scratchnn", "cifar-10")


def _write_batches(folder: Path, data: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, blob in data.items():
        (folder / name).write_bytes(blob)


def _write_tar(path: Path, data: dict[str, bytes], extra: dict[str, bytes] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for member, blob in {**{f"cifar-10-batches-py/{n}": b for n, b in data.items()}, **(extra or {})}.items():
            info = tarfile.TarInfo(member)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))


def _check(out: tuple[np.ndarray, ...], batches: dict[str, dict[bytes, Any]]) -> None:
    X_train, y_train, X_test, y_test = out
    assert X_train.shape == (15, 3, 32, 32) and X_test.shape == (3, 3, 32, 32)
    assert X_train.dtype == X_test.dtype == np.float32 and y_train.dtype == y_test.dtype == np.int64
    train_data = np.concatenate([batches[n][b"data"] for n in CIFAR_BATCHES[:5]])
    # row layout: 1024 red, then 1024 green, then 1024 blue values, each a 32x32 image row by row
    np.testing.assert_array_equal(X_train[:, 1, 2, 3] * 255, train_data[:, 1024 + 2 * 32 + 3])
    np.testing.assert_array_equal(X_train.reshape(15, -1) * 255, train_data)
    np.testing.assert_array_equal(X_test.reshape(3, -1) * 255, batches["test_batch"][b"data"])
    np.testing.assert_array_equal(y_train, np.concatenate([batches[n][b"labels"] for n in CIFAR_BATCHES[:5]]))
    np.testing.assert_array_equal(y_test, batches["test_batch"][b"labels"])


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_load_from_batch_folder(tmp_path: Path, rng: np.random.Generator, protocol: int) -> None:
    batches = cifar_batches(rng)
    _write_batches(tmp_path / "cifar-10-batches-py", cifar_bytes(batches, protocol))
    _check(load_cifar10(tmp_path, download=False), batches)


def test_load_from_env_folder_without_subfolder(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = cifar_batches(rng)
    _write_batches(tmp_path / "env" / "cifar-10", cifar_bytes(batches))
    monkeypatch.setenv("SCRATCHNN_DATA", str(tmp_path / "env"))
    _check(load_cifar10(download=False), batches)


def test_tarball_is_read_in_place_and_never_extracted(tmp_path: Path, rng: np.random.Generator) -> None:
    batches = cifar_batches(rng)
    evil = {"../escaped": b"x", "/tmp/absolute-escape": b"x", "cifar-10-batches-py/../../escaped2": b"x"}
    _write_tar(tmp_path / "data" / "cifar-10-python.tar.gz", cifar_bytes(batches), extra=evil)
    _check(load_cifar10(tmp_path / "data", download=False), batches)
    assert sorted(os.listdir(tmp_path / "data")) == ["cifar-10-python.tar.gz"]
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "escaped2").exists()


def test_download_extracts_only_known_names_into_cache(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = cifar_batches(rng)
    data = cifar_bytes(batches)
    tar = tmp_path / "nowhere" / "mirror" / "cifar-10-python.tar.gz"
    _write_tar(tar, data, extra={"../escaped": b"x", "cifar-10-batches-py/../../../escaped2": b"x"})
    monkeypatch.setattr(cifar, "ARCHIVE_MD5", md5(tar.read_bytes()))
    monkeypatch.setattr(cifar, "BATCHES", {name: md5(blob) for name, blob in data.items()})
    _check(load_cifar10(), batches)
    assert sorted(os.listdir(tmp_path / CACHE)) == ["cifar-10-batches-py", "cifar-10-python.tar.gz"]
    assert sorted(os.listdir(tmp_path / CACHE / "cifar-10-batches-py")) == sorted(CIFAR_BATCHES)
    assert not list(tmp_path.rglob("escaped*"))
    tar.unlink()  # served from the cache now
    _check(load_cifar10(download=False), batches)


def test_cache_batches_are_md5_checked(tmp_path: Path, rng: np.random.Generator) -> None:
    _write_batches(tmp_path / CACHE / "cifar-10-batches-py", cifar_bytes(cifar_batches(rng)))
    path = tmp_path / CACHE / "cifar-10-batches-py" / "data_batch_1"
    with pytest.raises(ValueError, match=re.escape(str(path)) + r": md5 is \w+, not the official c99cafc1"):
        load_cifar10(download=False)


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("this must never run",))


@pytest.mark.parametrize(("protocol", "module"), [(2, "__builtin__"), (4, "builtins")])
def test_restricted_unpickler_refuses_arbitrary_callables(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], protocol: int, module: str
) -> None:
    data = cifar_bytes(cifar_batches(rng))
    data["data_batch_3"] = pickle.dumps({b"data": _Evil(), b"labels": [1]}, protocol=protocol)
    _write_batches(tmp_path, data)
    msg = f"{tmp_path / 'data_batch_3'}: not a CIFAR-10 batch (UnpicklingError: refused to load global {module}.print)"
    with pytest.raises(ValueError, match=re.escape(msg)):
        load_cifar10(tmp_path, download=False)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ([1, 2], r"not a CIFAR-10 batch \(a list, expected a dict\)"),
        (
            {b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]},
            r"'data' must be a uint8 array of shape \(N, 3072\); found shape \(2, 100\)",
        ),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, r"2 images but 'labels' has shape \(1,\)"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 12]}, r"labels must be in \[0, 9\]; found 0..12"),
    ],
)
def test_malformed_batch(tmp_path: Path, rng: np.random.Generator, batch: object, message: str) -> None:
    data = cifar_bytes(cifar_batches(rng))
    data["test_batch"] = pickle.dumps(batch, protocol=2)
    _write_batches(tmp_path, data)
    with pytest.raises(ValueError, match=re.escape(str(tmp_path / "test_batch")) + ": " + message):
        load_cifar10(tmp_path, download=False)


def test_truncated_tarball_is_named(tmp_path: Path, rng: np.random.Generator) -> None:
    tar = tmp_path / "cifar-10-python.tar.gz"
    _write_tar(tar, cifar_bytes(cifar_batches(rng)))
    tar.write_bytes(tar.read_bytes()[:-200])
    with pytest.raises(ValueError, match=re.escape(str(tar)) + ": not a readable .tar.gz archive"):
        load_cifar10(tmp_path, download=False)


def test_not_found(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError) as info:
        load_cifar10()
    msg = str(info.value)
    assert f"{tmp_path / CACHE}: no such folder" in msg
    assert "cifar-10-python.tar.gz" in msg and "data_batch_5" in msg and "test_batch" in msg
    assert "Downloading from file://" in msg and "failed" in msg
