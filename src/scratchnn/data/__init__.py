"""Datasets and batching: Fashion-MNIST, MNIST, CIFAR-10 loaders, synthetic sets, ``DataLoader``.

Real datasets are searched in ``root``, ``$SCRATCHNN_DATA/<name>/``, the user cache and system folders
(the Debian package ``dataset-fashion-mnist``), then downloaded with md5 checks; see :mod:`.sources`.
"""

from .cifar import load_cifar10
from .datasets import ensure_dataset
from .download import download_url
from .idx import read_idx
from .loader import DataLoader
from .mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist
from .sequences import make_running_mean
from .sources import DatasetNotFoundError, user_cache_dir
from .synthetic import gaussian_mixture, make_bars, make_blobs, make_spirals, train_val_split

__all__ = [
    "load_fashion_mnist",
    "load_mnist",
    "load_cifar10",
    "DataLoader",
    "make_spirals",
    "make_blobs",
    "gaussian_mixture",
    "make_bars",
    "make_running_mean",
    "FASHION_MNIST_CLASSES",
    "train_val_split",
    "ensure_dataset",
    "DatasetNotFoundError",
    "download_url",
    "read_idx",
    "user_cache_dir",
]
