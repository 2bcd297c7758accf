"""Datasets and batching: Fashion-MNIST, MNIST, CIFAR-10 loaders, synthetic sets, ``DataLoader``, input
corruptions (Gaussian noise, feature masks) for the autoencoders; text from
the English descriptions of Debian packages (apt's lists) and (document, summary) files.

Real datasets are searched in ``root``, ``$SCRATCHNN_DATA/<name>/``, the user cache and system folders
(the Debian package ``dataset-fashion-mnist``), then downloaded with md5 checks; see :mod:`.sources`.
"""

from .cifar import load_cifar10
from .corruptions import FeatureMask, GaussianNoise
from .datasets import ensure_dataset
from .debian import DebianRecord, load_debian_descriptions
from .debian_split import Splits, debian_report, description_groups, split_descriptions
from .debian_tasks import DOC_SEPARATOR, SectionDataset, SectionSplit, char_corpus, char_vocab, section_dataset
from .download import download_url
from .idx import read_idx
from .loader import DataLoader
from .mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist
from .sequences import make_running_mean
from .sources import DatasetNotFoundError, user_cache_dir
from .subspace import make_subspace_gaussian, random_rotation, train_val_test_split
from .summaries import DocumentSummary, load_document_summary_file, summary_pairs
from .synthetic import gaussian_mixture, make_bars, make_blobs, make_spirals, train_val_split
from .vocab import Vocab

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
    "make_subspace_gaussian",
    "random_rotation",
    "train_val_test_split",
    "GaussianNoise",
    "FeatureMask",
    "ensure_dataset",
    "DatasetNotFoundError",
    "download_url",
    "read_idx",
    "user_cache_dir",
    "load_debian_descriptions",
    "DebianRecord",
    "split_descriptions",
    "description_groups",
    "Splits",
    "debian_report",
    "char_corpus",
    "char_vocab",
    "DOC_SEPARATOR",
    "section_dataset",
    "SectionDataset",
    "SectionSplit",
    "summary_pairs",
    "load_document_summary_file",
    "DocumentSummary",
    "Vocab",
]
