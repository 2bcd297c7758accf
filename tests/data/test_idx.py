"""The IDX reader: round trips, gzip detection, and a clear error naming the file for each corruption."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from scratchnn.data import read_idx
from scratchnn.data.idx import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC

from .fakes import idx_bytes, md5, write_file


@pytest.mark.parametrize("gz", [False, True])
def test_round_trip_images_and_labels(tmp_path: Path, rng: np.random.Generator, gz: bool) -> None:
    images = rng.integers(0, 256, size=(4, 3, 5), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1], dtype=np.uint8)
    pi = write_file(tmp_path / "imgs", idx_bytes(images), gz)
    pl = write_file(tmp_path / "labs", idx_bytes(labels), gz)
    out = read_idx(pi, magic=IDX_IMAGES_MAGIC)
    assert out.shape == (4, 3, 5) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, images)
    np.testing.assert_array_equal(read_idx(pl, magic=IDX_LABELS_MAGIC), labels)


def test_gzip_is_told_by_content_not_suffix(tmp_path: Path) -> None:
    labels = np.arange(7, dtype=np.uint8)
    (tmp_path / "gz_without_suffix").write_bytes(gzip.compress(idx_bytes(labels)))
    (tmp_path / "raw_with_suffix.gz").write_bytes(idx_bytes(labels))
    np.testing.assert_array_equal(read_idx(tmp_path / "gz_without_suffix"), labels)
    np.testing.assert_array_equal(read_idx(tmp_path / "raw_with_suffix.gz"), labels)


def test_big_endian_types_are_decoded(tmp_path: Path) -> None:
    values = np.array([[1.5, -2.0], [1e10, 0.25]], dtype=">f8")
    (tmp_path / "f").write_bytes(idx_bytes(values, type_code=0x0E))
    out = read_idx(tmp_path / "f")
    assert out.dtype == np.float64 and out.dtype.isnative
    np.testing.assert_array_equal(out, [[1.5, -2.0], [1e10, 0.25]])
    ints = np.array([70000, -3], dtype=">i4")
    (tmp_path / "i").write_bytes(idx_bytes(ints, type_code=0x0C))
    np.testing.assert_array_equal(read_idx(tmp_path / "i"), [70000, -3])


def test_md5_of_decompressed_content_is_checked(tmp_path: Path) -> None:
    raw = idx_bytes(np.arange(5, dtype=np.uint8))
    path = write_file(tmp_path / "labs", raw, gz=True)
    np.testing.assert_array_equal(read_idx(path, md5=md5(raw)), np.arange(5))
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*md5 is " + md5(raw) + ", not the expected 0+"):
        read_idx(path, md5="0" * 32)


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_data(tmp_path: Path, rng: np.random.Generator, gz: bool) -> None:
    raw = idx_bytes(rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8))
    path = write_file(tmp_path / "imgs", raw[:-10], gz)
    msg = (
        re.escape(str(path))
        + r": the header says 3 x 28 x 28 elements of uint8 = 2352 bytes of data,"
        + r" but the file has 2342; it is truncated"
    )
    with pytest.raises(ValueError, match=msg):
        read_idx(path, magic=IDX_IMAGES_MAGIC)


def test_extra_data_is_corrupt(tmp_path: Path) -> None:
    path = write_file(tmp_path / "labs", idx_bytes(np.zeros(4, np.uint8)) + b"\0", gz=False)
    with pytest.raises(
        ValueError, match=re.escape(str(path)) + r".*4 bytes of data, but the file has 5; it is corrupt"
    ):
        read_idx(path)


def test_truncated_header(tmp_path: Path) -> None:
    path = write_file(tmp_path / "imgs", idx_bytes(np.zeros((2, 2, 2), np.uint8))[:9], gz=False)
    with pytest.raises(ValueError, match=re.escape(str(path)) + ": the IDX header needs 16 bytes, the file has 9"):
        read_idx(path)
    tiny = write_file(tmp_path / "tiny", b"\0\0", gz=False)
    with pytest.raises(ValueError, match=re.escape(str(tiny)) + ": 2 bytes is too short for an IDX header"):
        read_idx(tiny)


def test_wrong_magic(tmp_path: Path) -> None:
    labels = write_file(tmp_path / "labels-given-as-images", idx_bytes(np.zeros(3, np.uint8)), gz=True)
    msg = re.escape(
        f"{labels}: wrong IDX magic number: expected 0x00000803 (uint8, 3 dims), found 0x00000801 (uint8, 1 dims)"
    )
    with pytest.raises(ValueError, match=msg):
        read_idx(labels, magic=IDX_IMAGES_MAGIC)
    text = write_file(tmp_path / "notes.txt", b"hello world, not IDX", gz=False)
    with pytest.raises(ValueError, match=re.escape(str(text)) + r": not an IDX file \(magic number 0x68656C6C\)"):
        read_idx(text)


def test_bad_gzip(tmp_path: Path) -> None:
    good = gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint16).astype(np.uint8)))
    truncated = tmp_path / "truncated.gz"
    truncated.write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match=re.escape(str(truncated)) + ": not a valid gzip file .*truncated or corrupt"):
        read_idx(truncated)
    garbled = tmp_path / "garbled.gz"
    garbled.write_bytes(good[:12] + bytes(b ^ 0xFF for b in good[12:]))
    with pytest.raises(ValueError, match=re.escape(str(garbled)) + ": not a valid gzip file"):
        read_idx(garbled)
