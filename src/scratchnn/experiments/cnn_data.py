"""Image data for ``scratchnn train cnn``: the datasets it trains on, and a small synthetic task for tests.

``make_bars`` draws oriented bars on noise: a translation-invariant task a convolution solves in
seconds, so the command's whole path is tested without a download. ``RandomHorizontalFlip`` mirrors
a fresh random half of the training images every epoch (data augmentation).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._config import get_rng
from .._validate import check_array, check_float, check_int
from ..train.callbacks import Callback

__all__ = ["FASHION_MNIST_CLASSES", "BAR_CLASSES", "make_bars", "load_images", "RandomHorizontalFlip"]

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
BAR_CLASSES = ("horizontal", "vertical", "diagonal", "anti-diagonal")


def make_bars(n: int, size: int = 12, noise: float = 0.3, *, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A small synthetic image task for tests: a bar of one of four orientations, anywhere in the image.

    Class k is the orientation (horizontal, vertical, diagonal, anti-diagonal) of a bar of length
    size // 2 at a random position, on N(0, noise^2) noise. Translation-invariant, so a convolution
    solves it where a pixel-wise model struggles.

    Shape:
        X: (n, 1, size, size) float32;  y: (n,) int64 in [0, 4)
    """
    n, size = check_int(n, "n", low=1), check_int(size, "size", low=4)
    L = size // 2
    y = rng.integers(0, 4, n)
    X = (noise * rng.standard_normal((n, 1, size, size))).astype(np.float32)
    t = np.arange(L)
    offsets = {0: (0 * t, t), 1: (t, 0 * t), 2: (t, t), 3: (t, L - 1 - t)}  # (row, col) of each bar pixel
    corner = rng.integers(0, size - L + 1, (n, 2))
    for k, (dr, dc) in offsets.items():
        idx = np.flatnonzero(y == k)
        rows = corner[idx, :1] + dr  # (n_k, 1) + (L,) -> (n_k, L)
        cols = corner[idx, 1:] + dc
        X[idx[:, None], 0, rows, cols] += 1.0
    return X, y.astype(np.int64)


def load_images(name: str, root: str | None, rng: np.random.Generator) -> tuple[Any, ...]:
    """X_train, y_train, X_test, y_test as (N, C, H, W) float32 images, and the class names."""
    from ..data import load_fashion_mnist, load_mnist

    if name == "fashion-mnist":
        return (*load_fashion_mnist(root), FASHION_MNIST_CLASSES)
    if name == "mnist":
        return (*load_mnist(root), tuple(str(d) for d in range(10)))
    if name == "synthetic":
        X, y = make_bars(800, rng=rng)
        return X[:600], y[:600], X[600:], y[600:], BAR_CLASSES
    raise ValueError(f"Invalid value for `dataset`: expected fashion-mnist, mnist or synthetic. Received: {name!r}")


class RandomHorizontalFlip(Callback):
    """Before each epoch, mirror each training image left-right with probability ``p``, drawn anew.

    The training array given to ``Trainer.fit`` is rewritten IN PLACE from a copy of the original
    images (the DataLoader batches from that array), so every epoch sees a different mix of mirrored
    and original images while the array's memory stays where the loader holds it. Like torchvision's
    ``RandomHorizontalFlip`` (labels of clothing do not change in a mirror), but per epoch, not per batch.

    Shape:
        X: (N, C, H, W), the very array passed to ``fit`` as ``X_train``
    """

    def __init__(self, X: np.ndarray, p: float = 0.5, *, rng: np.random.Generator | None = None) -> None:
        self.X = check_array(X, "X", ndim=4)
        self.p = check_float(p, "p", low=0.0, high=1.0)
        self.rng = get_rng(rng)
        self.original = X.copy()

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        flip = self.rng.random(len(self.X)) < self.p  # (N,)
        self.X[...] = self.original
        self.X[flip] = self.original[flip, :, :, ::-1]  # (n_flip, C, H, W), W reversed
