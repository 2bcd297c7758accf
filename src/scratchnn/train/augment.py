"""Data augmentation as training callbacks: a fresh random transform of the training images each epoch."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._config import get_rng
from .._validate import check_array, check_float, invalid_value
from .callbacks import Callback

__all__ = ["RandomHorizontalFlip"]


class RandomHorizontalFlip(Callback):
    """Before each epoch, mirror each training image left-right with probability ``p``, drawn anew.

    The training array given to ``Trainer.fit`` is rewritten IN PLACE from a copy of the original
    images (the DataLoader batches from that array), so every epoch sees a different mix of mirrored
    and original images while the array's memory stays where the loader holds it. Like torchvision's
    ``RandomHorizontalFlip`` (labels of clothing do not change in a mirror), but per epoch, not per batch.
    Its state is the epoch's choice of images, so a run resumed mid-epoch sees the same images.

    Shape:
        X: (N, C, H, W), the very array passed to ``fit`` as ``X_train``
    """

    def __init__(self, X: np.ndarray, p: float = 0.5, *, rng: np.random.Generator | None = None) -> None:
        self.X = check_array(X, "X", ndim=4)
        self.p = check_float(p, "p", low=0.0, high=1.0)
        self.rng = get_rng(rng)
        self.original = X.copy()
        self.flip: np.ndarray | None = None  # (N,) bool: which images this epoch mirrors (None: none yet)

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        self.flip = self.rng.random(len(self.X)) < self.p  # (N,)
        self._apply()

    def _apply(self) -> None:
        self.X[...] = self.original
        if self.flip is not None:
            self.X[self.flip] = self.original[self.flip, :, :, ::-1]  # (n_flip, C, H, W), W reversed

    def state_dict(self) -> dict[str, Any]:
        return {"flip": None if self.flip is None else self.flip.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """This epoch's flips (``{}`` from a checkpoint that predates them: none), applied to ``X`` at once."""
        flip = state.get("flip")
        if flip is not None and (not isinstance(flip, np.ndarray) or flip.shape != (len(self.X),)):
            raise invalid_value("state['flip']", f"a ({len(self.X)},) bool array, one per image", flip)
        self.flip = None if flip is None else flip.astype(bool)
        self._apply()
