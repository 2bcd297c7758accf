"""Gradient-check rows of the text area: the bag-of-words classifier (its input is ids: parameters only)."""

from __future__ import annotations

import numpy as np

from ...models import BagOfWordsClassifier
from .base import F64, ModuleRow


def _ids(r: np.random.Generator) -> tuple[np.ndarray, ...]:
    x = r.integers(0, 7, (4, 6))  # (N, T): id 0 (padding) and repeated ids in most rows
    x[3] = 0  # an all-padding row: zero features
    return (x,)


def _tfidf(r: np.random.Generator) -> tuple[BagOfWordsClassifier, tuple[np.ndarray, ...]]:
    idf = r.uniform(0.5, 3.0, 7)
    return BagOfWordsClassifier(7, 3, idf=idf, normalize=True, dtype=F64, rng=r), _ids(r)


MODULE_ROWS = [
    ModuleRow("BagOfWordsClassifier", lambda r: (BagOfWordsClassifier(7, 3, dtype=F64, rng=r), _ids(r))),
    ModuleRow("BagOfWordsClassifier-tfidf", _tfidf),
]
