"""Tiny stand-ins for the real dataset files, written byte by byte from the format specs."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import pickle
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scratchnn.data import mnist

IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
CIFAR_BATCHES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch")


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def idx_bytes(arr: np.ndarray, type_code: int = 0x08) -> bytes:
    """IDX encoding: 0x00 0x00 <type> <ndim>, big-endian uint32 sizes, then the raw elements."""
    header = bytes([0, 0, type_code, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
    return header + arr.tobytes()


def write_file(path: Path, data: bytes, gz: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def idx_arrays(rng: np.random.Generator, n_train: int = 5, n_test: int = 3) -> dict[str, np.ndarray]:
    """uint8 images (N, 28, 28) and labels (N,), keyed by IDX file name; pixel 0 of image 0 is 255, pixel 1 is 51."""
    arrays = {
        IDX_NAMES[0]: rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        IDX_NAMES[1]: rng.integers(0, 10, size=n_train, dtype=np.uint8),
        IDX_NAMES[2]: rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        IDX_NAMES[3]: rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }
    arrays[IDX_NAMES[0]][0, 0, :2] = (255, 51)
    return arrays


def write_idx_dataset(folder: Path, arrays: dict[str, np.ndarray], gz: bool | tuple[bool, ...] = True) -> None:
    gzs = gz if isinstance(gz, tuple) else (gz,) * 4
    for name, g in zip(IDX_NAMES, gzs):
        write_file(folder / name, idx_bytes(arrays[name]), g)


def use_md5s_of(monkeypatch: pytest.MonkeyPatch, key: str, arrays: dict[str, np.ndarray]) -> None:
    """Make the official-md5 table of ``key`` describe these tiny files (content md5 and .gz md5)."""
    spec = mnist.SPECS[key]
    fields = dict(zip(("train_images", "train_labels", "test_images", "test_labels"), IDX_NAMES))
    changes = {}
    for field, name in fields.items():
        raw = idx_bytes(arrays[name])
        changes[field] = dataclasses.replace(
            getattr(spec, field), raw_md5=md5(raw), gz_md5=md5(gzip.compress(raw, mtime=0))
        )
    monkeypatch.setitem(mnist.SPECS, key, dataclasses.replace(spec, **changes))


def cifar_batches(rng: np.random.Generator, n: int = 3) -> dict[str, dict[bytes, Any]]:
    """Batches in the official layout: {b'data': (n, 3072) uint8, b'labels': list of int, ...}."""
    return {
        name: {
            b"batch_label": name.encode(),
            b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
            b"labels": [int(v) for v in rng.integers(0, 10, size=n)],
            b"filenames": [f"img{i}.png".encode() for i in range(n)],
        }
        for name in CIFAR_BATCHES
    }


def cifar_bytes(batches: dict[str, dict[bytes, Any]], protocol: int = 2) -> dict[str, bytes]:
    return {name: pickle.dumps(batch, protocol=protocol) for name, batch in batches.items()}
