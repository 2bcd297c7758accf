"""Data augmentation as training callbacks: a fresh random transform of the training images each epoch."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._config import get_rng
from .._validate import check_array, check_float
from .callbacks import Callback

__all__ = ["RandomHorizontalFlip"]


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
