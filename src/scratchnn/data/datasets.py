"""``ensure_dataset``: find or download a dataset by name and check it reads (for the CLI and ``make demo``)."""

from __future__ import annotations

import os
from pathlib import Path

from .._validate import invalid_type, invalid_value
from .cifar import load_cifar10_arrays, locate_cifar10
from .mnist import SPECS, locate_idx, read_split

DATASETS = ("fashion-mnist", "mnist", "cifar-10")
_ALIASES = {
    "fashion_mnist": "fashion-mnist",
    "fashionmnist": "fashion-mnist",
    "cifar10": "cifar-10",
    "cifar_10": "cifar-10",
}


def ensure_dataset(name: str, root: str | os.PathLike[str] | None = None, *, download: bool = True) -> Path:
    """Make sure dataset ``name`` is on disk and readable; return the folder holding its files.

    Searches and downloads exactly as the loaders do (``root``, ``$SCRATCHNN_DATA/<name>``, the user
    cache, system folders, then the canonical mirror), then reads every file once, so corruption is
    reported here rather than in the middle of a run.

    Args:
        name: ``"fashion-mnist"``, ``"mnist"`` or ``"cifar-10"`` (``fashion_mnist``, ``cifar10`` also work).
        root: a folder to use instead of the default search path.
        download: allow downloading missing files.

    Raises:
        DatasetNotFoundError: the dataset is nowhere and could not be downloaded; the message lists
            every folder searched, the file names, and how to provide them.
        ValueError: an unknown name, or a corrupt file (naming it).
    """
    if not isinstance(name, str):
        raise invalid_type("name", "a str", name)
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in DATASETS:
        raise invalid_value("name", "one of " + ", ".join(repr(d) for d in DATASETS), name)
    if key == "cifar-10":
        source, verify = locate_cifar10(root, download=download)
        load_cifar10_arrays(source, verify)
        return source if source.is_dir() else source.parent
    spec = SPECS[key]
    paths, verify = locate_idx(key, root, download=download)
    read_split(spec.train_images, spec.train_labels, paths, verify)
    read_split(spec.test_images, spec.test_labels, paths, verify)
    return paths[spec.train_images.name].parent
