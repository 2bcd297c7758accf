"""MNIST and Fashion-MNIST: four IDX files each, found on disk or downloaded (see :mod:`.sources`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._validate import check_bool
from .download import download_url
from .idx import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, read_idx
from .sources import DatasetSource, locate


@dataclass(frozen=True)
class IdxFile:
    """One file of the release: its name without ``.gz``, and the official md5s (gzip file, content)."""

    name: str
    gz_md5: str  # of the .gz served by the mirror (downloads are checked against it)
    raw_md5: str  # of the decompressed content, which does not depend on how a copy was recompressed


@dataclass(frozen=True)
class IdxDataset:
    source: DatasetSource
    train_images: IdxFile
    train_labels: IdxFile
    test_images: IdxFile
    test_labels: IdxFile

    @property
    def files(self) -> tuple[IdxFile, ...]:
        return (self.train_images, self.train_labels, self.test_images, self.test_labels)


#: the ten Fashion-MNIST labels, in label order (the dataset's README)
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def _needed(names: tuple[str, ...]) -> str:
    return ", ".join(f"{n}.gz" for n in names) + " (each may also be uncompressed, without .gz)"


_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

# The .gz md5s are the ones torchvision and the datasets' pages publish. Debian's dataset-fashion-mnist
# recompressed the files (so their .gz md5s differ), but the decompressed content matches raw_md5.
SPECS: dict[str, IdxDataset] = {
    "fashion-mnist": IdxDataset(
        DatasetSource(
            name="fashion-mnist",
            title="Fashion-MNIST",
            mirror="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            needed=_needed(_NAMES),
            system_dirs=(Path("/usr/share/datasets/fashion-mnist"),),
            apt_package="dataset-fashion-mnist",
        ),
        IdxFile(_NAMES[0], "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
        IdxFile(_NAMES[1], "25c81989df183df01b3e8a0aad5dffbe", "9018921c3c673c538a1fc5bad174d6f9"),
        IdxFile(_NAMES[2], "bef4ecab320f06d8554ea6380940ec79", "8181f5470baa50b63fa0f6fddb340f0a"),
        IdxFile(_NAMES[3], "bb300cfdad3c16e7a12a480ee83cd310", "15d484375f8d13e6eb1aabb0c3f46965"),
    ),
    "mnist": IdxDataset(
        DatasetSource(
            name="mnist",
            title="MNIST",
            mirror="https://ossci-datasets.s3.amazonaws.com/mnist/",
            needed=_needed(_NAMES),
        ),
        IdxFile(_NAMES[0], "f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb"),
        IdxFile(_NAMES[1], "d53e105ee54ea40749a09fcbcd1e9432", "a25bea736e30d166cdddb491f175f624"),
        IdxFile(_NAMES[2], "9fb629c4189551a2d022fa330f9573f3", "2646ac647ad5339dbf082846283269ea"),
        IdxFile(_NAMES[3], "ec29112dd5afa0611ce80d1b7f02629c", "27ae3e4e09519cfbb04c329615203637"),
    ),
}


def _file_in(folder: Path, name: str) -> Path | None:
    for path in (folder / name, folder / f"{name}.gz"):
        if path.is_file():
            return path
    return None


def _find(spec: IdxDataset, folder: Path) -> tuple[dict[str, Path] | None, str]:
    if not folder.is_dir():
        return None, "no such folder"
    paths = {f.name: _file_in(folder, f.name) for f in spec.files}
    missing = [f"{name}[.gz]" for name, path in paths.items() if path is None]
    if missing:
        return None, "missing " + ", ".join(missing)
    return {name: path for name, path in paths.items() if path is not None}, ""


def _fetch(spec: IdxDataset, folder: Path) -> None:
    for f in spec.files:
        if _file_in(folder, f.name) is None:
            url = spec.source.mirror.rstrip("/") + f"/{f.name}.gz"
            download_url(url, folder / f"{f.name}.gz", f.gz_md5)


def locate_idx(key: str, root: str | os.PathLike[str] | None, *, download: bool) -> tuple[dict[str, Path], bool]:
    """The four files' paths (by name without ``.gz``) and whether to check their official md5s."""
    spec = SPECS[key]
    return locate(spec.source, root, download=download, find=lambda d: _find(spec, d), fetch=lambda d: _fetch(spec, d))


def read_split(
    images_file: IdxFile, labels_file: IdxFile, paths: dict[str, Path], verify: bool
) -> tuple[np.ndarray, np.ndarray]:
    images_path, labels_path = paths[images_file.name], paths[labels_file.name]
    images = read_idx(images_path, magic=IDX_IMAGES_MAGIC, md5=images_file.raw_md5 if verify else None)
    labels = read_idx(labels_path, magic=IDX_LABELS_MAGIC, md5=labels_file.raw_md5 if verify else None)
    if len(images) != len(labels):
        raise ValueError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels; "
            "the two files do not belong together."
        )
    if labels.size and labels.max() > 9:
        raise ValueError(f"{labels_path}: labels must be in [0, 9], found {int(labels.max())}; the file is corrupt.")
    return images, labels.astype(np.int64)


def load_idx_dataset(
    key: str, root: str | os.PathLike[str] | None, *, download: bool, flatten: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shared body of :func:`load_fashion_mnist` and :func:`load_mnist`."""
    spec = SPECS[key]
    flatten = check_bool(flatten, "flatten")
    paths, verify = locate_idx(key, root, download=download)
    out: list[np.ndarray] = []
    for images_file, labels_file in ((spec.train_images, spec.train_labels), (spec.test_images, spec.test_labels)):
        images, labels = read_split(images_file, labels_file, paths, verify)
        n, rows, cols = images.shape
        X = images.astype(np.float32)
        X /= np.float32(255.0)
        X = (
            X.reshape(n, rows * cols) if flatten else X.reshape(n, 1, rows, cols)
        )  # (N, rows, cols) -> (N, D)|(N, 1, H, W)
        out += [X, labels]
    return out[0], out[1], out[2], out[3]


def load_fashion_mnist(
    root: str | os.PathLike[str] | None = None, *, download: bool = True, flatten: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fashion-MNIST (Zalando's 28x28 grey clothing images, 10 classes) as ``X_train, y_train, X_test, y_test``.

    Looks in ``root`` if given; else in ``$SCRATCHNN_DATA/fashion-mnist``, the user cache
    (``~/.cache/scratchnn/fashion-mnist``) and the Debian package's ``/usr/share/datasets/fashion-mnist``;
    then downloads from the canonical mirror with md5 checks. Files may be gzipped or not.

    Args:
        root: a folder holding the four IDX files (directly or in ``root/fashion-mnist``).
        download: download missing files; with ``False`` a missing dataset raises at once.
        flatten: return images as rows of 784 values instead of (1, 28, 28) planes.

    Raises:
        DatasetNotFoundError: the files are nowhere; the message says where to put them.
        ValueError: a file is corrupt (naming it).

    Shape:
        X_train: (60000, 1, 28, 28) float32 in [0, 1], or (60000, 784) with ``flatten``;  y_train: (60000,) int64
        X_test: (10000, 1, 28, 28) or (10000, 784);  y_test: (10000,) int64
    """
    return load_idx_dataset("fashion-mnist", root, download=download, flatten=flatten)


def load_mnist(
    root: str | os.PathLike[str] | None = None, *, download: bool = True, flatten: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST handwritten digits as ``X_train, y_train, X_test, y_test``; same search and format as
    :func:`load_fashion_mnist`, under the folder name ``mnist`` and without a system folder.

    Shape:
        X_train: (60000, 1, 28, 28) float32 in [0, 1], or (60000, 784) with ``flatten``;  y_train: (60000,) int64
        X_test: (10000, 1, 28, 28) or (10000, 784);  y_test: (10000,) int64
    """
    return load_idx_dataset("mnist", root, download=download, flatten=flatten)
