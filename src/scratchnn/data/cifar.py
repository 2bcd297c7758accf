"""CIFAR-10 from its official "python version": pickled batches, extracted or inside the tarball.

A folder holds CIFAR-10 if it has ``cifar-10-batches-py/`` (``data_batch_1`` .. ``data_batch_5``,
``test_batch``), the same six files directly, or ``cifar-10-python.tar.gz``, which is then read in
place without extracting anything. A download lands in the user cache and is extracted there.
"""

from __future__ import annotations

import codecs
import io
import os
import pickle
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .download import download_url, md5_bytes, publish_new_file
from .sources import DatasetSource, locate

ARCHIVE = "cifar-10-python.tar.gz"
ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
BATCH_DIR = "cifar-10-batches-py"
# batch name -> official md5 (those torchvision checks)
BATCHES: dict[str, str] = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}
SOURCE = DatasetSource(
    name="cifar-10",
    title="CIFAR-10",
    mirror="https://www.cs.toronto.edu/~kriz/",
    needed=f"{ARCHIVE}, or its extracted {BATCH_DIR}/ folder ({', '.join(BATCHES)})",
)

# The official batches are Python 2 pickles, so reading them needs pickle, which the project otherwise
# refuses (our checkpoints are safetensors + JSON). Unpickling can call any importable callable, so this
# allow-list admits only what a dict of bytes, lists, ints and numpy arrays needs: numpy's array
# reconstruction helpers, ndarray, dtype, and codecs.encode (how protocol-2 pickles written by Python 3
# spell bytes). Anything else, e.g. os.system or builtins.eval, is refused before it is called.
_ARRAY = np.empty(1)
_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _ARRAY.__reduce__()[0],
    ("numpy._core.multiarray", "_reconstruct"): _ARRAY.__reduce__()[0],
    ("numpy.core.numeric", "_frombuffer"): _ARRAY.__reduce_ex__(5)[0],
    ("numpy._core.numeric", "_frombuffer"): _ARRAY.__reduce_ex__(5)[0],
    ("_codecs", "encode"): codecs.encode,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refused to load global {module}.{name}") from None


def _unpickle_batch(data: bytes, origin: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse one batch: ``data`` (N, 3072) uint8 rows (R, G, B planes of 32x32) and ``labels`` (N,)."""
    try:
        batch = _RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except Exception as e:  # any failure to parse means a corrupt or foreign file
        raise ValueError(f"{origin}: not a CIFAR-10 batch ({type(e).__name__}: {e}).") from e
    if not isinstance(batch, dict):
        raise ValueError(f"{origin}: not a CIFAR-10 batch (a {type(batch).__name__}, expected a dict).")
    images = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != 3072:
        got = f"shape {images.shape}, dtype {images.dtype}" if isinstance(images, np.ndarray) else type(images).__name__
        raise ValueError(f"{origin}: 'data' must be a uint8 array of shape (N, 3072); found {got}.")
    try:
        y = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{origin}: 'labels' must be a list of ints; found {type(labels).__name__}.") from e
    if y.shape != (len(images),):
        raise ValueError(f"{origin}: {len(images)} images but 'labels' has shape {y.shape}.")
    if y.size and (y.min() < 0 or y.max() > 9):
        raise ValueError(f"{origin}: labels must be in [0, 9]; found {int(y.min())}..{int(y.max())}.")
    return images.reshape(-1, 3, 32, 32), y  # (N, 3072) -> (N, C, H, W)


def _read_archive(path: Path) -> dict[str, bytes]:
    """The six batches' bytes from the tarball, read in one pass without writing anything to disk.

    Only regular-file members with the exact expected names are read, so links, absolute paths and
    ``..`` in member names play no part (nothing is extracted by member name).
    """
    wanted = {f"{BATCH_DIR}/{name}": name for name in BATCHES}
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                if member.isfile() and member.name in wanted:
                    f = tar.extractfile(member)
                    if f is not None:
                        found[wanted[member.name]] = f.read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise ValueError(f"{path}: not a readable .tar.gz archive ({e}); it is truncated or corrupt.") from e
    missing = [name for name in BATCHES if name not in found]
    if missing:
        raise ValueError(f"{path}: the archive lacks {BATCH_DIR}/{', '.join(missing)}.")
    return found


def _find(folder: Path) -> tuple[Path | None, str]:
    """A folder holding the six batches, or the tarball itself."""
    if not folder.is_dir():
        return None, "no such folder"
    for batch_dir in (folder / BATCH_DIR, folder):
        if all((batch_dir / name).is_file() for name in BATCHES):
            return batch_dir, ""
    if (folder / ARCHIVE).is_file():
        return folder / ARCHIVE, ""
    return None, f"no {BATCH_DIR}/ with all six batches and no {ARCHIVE}"


def _fetch(folder: Path) -> None:
    archive = download_url(SOURCE.mirror + ARCHIVE, folder / ARCHIVE, ARCHIVE_MD5)
    out_dir = folder / BATCH_DIR
    out_dir.mkdir(exist_ok=True)
    for name, data in _read_archive(archive).items():
        dest = out_dir / name  # our own name, never the member's path
        if not dest.exists():
            fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{name}.", suffix=".part")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            publish_new_file(Path(tmp), dest)


def locate_cifar10(root: str | os.PathLike[str] | None, *, download: bool) -> tuple[Path, bool]:
    """The batch folder or tarball, and whether to check the official md5s."""
    return locate(SOURCE, root, download=download, find=_find, fetch=_fetch)


def _batches(source: Path) -> Iterator[tuple[str, bytes, str]]:
    """(name, bytes, where-from) of each batch, in ``BATCHES`` order."""
    if source.is_dir():
        for name in BATCHES:
            yield name, (source / name).read_bytes(), str(source / name)
    else:
        archive = _read_archive(source)
        for name in BATCHES:
            yield name, archive.pop(name), f"{source}:{BATCH_DIR}/{name}"


def load_cifar10_arrays(source: Path, verify: bool) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every batch parsed (md5-checked when ``verify``), by name."""
    out = {}
    for name, data, origin in _batches(source):
        if verify and (found := md5_bytes(data)) != BATCHES[name]:
            raise ValueError(f"{origin}: md5 is {found}, not the official {BATCHES[name]}; the file is corrupt.")
        out[name] = _unpickle_batch(data, origin)
    return out


def load_cifar10(
    root: str | os.PathLike[str] | None = None, *, download: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CIFAR-10 (32x32 colour images, 10 classes) as ``X_train, y_train, X_test, y_test``.

    Searched like :func:`load_fashion_mnist` under the folder name ``cifar-10``; downloads
    ``cifar-10-python.tar.gz`` (md5-checked) into the user cache and extracts the six batches there.

    Raises:
        DatasetNotFoundError: the files are nowhere; the message says where to put them.
        ValueError: a batch or the archive is corrupt (naming it).

    Shape:
        X_train: (50000, 3, 32, 32) float32 in [0, 1];  y_train: (50000,) int64
        X_test: (10000, 3, 32, 32) float32 in [0, 1];  y_test: (10000,) int64
    """
    source, verify = locate_cifar10(root, download=download)
    batches = load_cifar10_arrays(source, verify)
    test = batches.pop("test_batch")
    X_train = np.concatenate([x for x, _ in batches.values()]).astype(np.float32)  # 5 x (N, C, H, W) -> (5N, C, H, W)
    y_train = np.concatenate([y for _, y in batches.values()])
    X_test = test[0].astype(np.float32)
    X_train /= np.float32(255.0)
    X_test /= np.float32(255.0)
    return X_train, y_train, X_test, test[1]
