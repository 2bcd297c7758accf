"""The IDX file format of MNIST and Fashion-MNIST, gzipped or not.

An IDX file is a 4-byte magic number ``0x0000TTDD`` (``TT`` the element type, ``DD`` the number of
dimensions), ``DD`` big-endian uint32 sizes, then the elements in C order, big-endian. Images are
``0x00000803`` (unsigned bytes, 3 dims: N, rows, cols), labels ``0x00000801`` (unsigned bytes, N).
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import check_int, invalid_type
from .download import md5_bytes

IDX_IMAGES_MAGIC = 0x00000803
IDX_LABELS_MAGIC = 0x00000801

_GZIP_MAGIC = b"\x1f\x8b"
_IDX_DTYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_maybe_gzip(path: str | os.PathLike[str]) -> bytes:
    """A file's bytes, decompressed when they are gzip (told by content, not by the ``.gz`` suffix)."""
    data = Path(path).read_bytes()
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"{path}: not a valid gzip file ({e}); it is truncated or corrupt.") from e


def _describe(magic: int) -> str:
    dtype = _IDX_DTYPES.get((magic >> 8) & 0xFF)
    kind = "unknown type" if dtype is None else f"{dtype.name}"
    return f"0x{magic:08X} ({kind}, {magic & 0xFF} dims)"


def read_idx(path: str | os.PathLike[str], *, magic: int | None = None, md5: str | None = None) -> np.ndarray:
    """Read an IDX file (gzipped or not) into an array with the header's shape, native byte order.

    Args:
        path: the file; gzip is detected from its first bytes.
        magic: the magic number the file must have, e.g. ``IDX_IMAGES_MAGIC``; ``None`` accepts any.
        md5: the expected md5 of the (decompressed) content, or ``None`` to skip the check.

    Raises:
        ValueError: naming ``path``, for a bad gzip stream, a wrong or unknown magic number, a header
            that does not fit, a data length other than the product of the header's sizes, or an md5
            mismatch.

    Shape:
        output: the header's sizes, e.g. (N, rows, cols) for images and (N,) for labels.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise invalid_type("path", "a file (a str or os.PathLike)", path)
    if magic is not None:
        check_int(magic, "magic", low=0)
    if md5 is not None and not isinstance(md5, str):
        raise invalid_type("md5", "None or a hex digest (a str)", md5)
    raw = read_maybe_gzip(path)
    if len(raw) < 4:
        raise ValueError(f"{path}: {len(raw)} bytes is too short for an IDX header; the file is truncated.")
    found = int.from_bytes(raw[:4], "big")
    if raw[:2] != b"\0\0" or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path}: not an IDX file (magic number 0x{found:08X}).")
    if magic is not None and found != magic:
        raise ValueError(f"{path}: wrong IDX magic number: expected {_describe(magic)}, found {_describe(found)}.")
    dtype, ndim = _IDX_DTYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: the IDX header needs {header} bytes, the file has {len(raw)}; it is truncated.")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    count = math.prod(shape)
    expected, got = count * dtype.itemsize, len(raw) - header
    if got != expected:
        dims = " x ".join(map(str, shape))
        raise ValueError(
            f"{path}: the header says {dims} elements of {dtype.name} = {expected} bytes of data, "
            f"but the file has {got}; it is {'truncated' if got < expected else 'corrupt'}."
        )
    if md5 is not None and (found_md5 := md5_bytes(raw)) != md5:
        raise ValueError(
            f"{path}: the content's md5 is {found_md5}, not the expected {md5}; "
            "the file is corrupt or not the official one."
        )
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))  # a writable copy in native byte order
