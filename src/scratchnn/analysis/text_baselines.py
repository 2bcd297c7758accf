"""Baselines of text classification: the majority class and logistic regression on a bag of n-grams.

    data = section_dataset(records, top_k=10, level="word")
    majority_accuracy(data.train.y, data.val.y)
    result = fit_bow_logreg(data.train, data.val, data.test, vocab_size=len(data.vocab))
    result.weight_decay, result.val_acc, result.test_acc, result.table

The classifier is :class:`~scratchnn.models.bag_of_words.BagOfWordsClassifier` (one ``Linear`` on
the counts or tf-idf of the n-grams kept by :class:`~scratchnn.models.bag_of_words.NGramFeatures`),
trained with ``CrossEntropyLoss`` and ``Adam`` by the :class:`~scratchnn.train.Trainer`. The L2
strength (Adam's ``weight_decay`` on the weight, not the bias) is chosen on validation accuracy;
within each run early stopping keeps the epoch of least validation loss. The test split is scored
once, by the chosen model.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .._config import get_rng
from .._validate import check_choice, check_float, check_int, invalid_type, invalid_value
from ..models.bag_of_words import BagOfWordsClassifier, NGramFeatures
from ..nn.loss import CrossEntropyLoss
from ..optim.adam import Adam
from ..train.callbacks import EarlyStopping
from ..train.trainer import Trainer

__all__ = ["majority_accuracy", "BowLogReg", "fit_bow_logreg"]


def majority_accuracy(y_train: np.ndarray, y: np.ndarray) -> float:
    """Accuracy on ``y`` of always predicting the most frequent class of ``y_train`` (ties: lowest id)."""
    for name, arr in (("y_train", y_train), ("y", y)):
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "iu" or arr.ndim != 1 or not arr.size:
            raise invalid_type(name, "a non-empty 1-D integer numpy.ndarray of class labels", arr)
        if arr.min() < 0:
            raise invalid_value(name, "class labels >= 0", arr)
    return float(np.mean(y == np.argmax(np.bincount(y_train))))


class BowLogReg(NamedTuple):
    """The chosen classifier and the table of the L2 strengths tried.

    ``table`` rows: ``weight_decay``, ``epoch`` (the restored best), ``train_acc``, ``val_acc``.
    ``test_acc`` is None when no test split was given; ``seconds`` covers features and all training.
    """

    weight_decay: float
    train_acc: float
    val_acc: float
    test_acc: float | None
    table: list[dict[str, Any]]
    model: BagOfWordsClassifier
    features: NGramFeatures
    seconds: float


def _split(value: Any, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not all(hasattr(value, a) for a in ("x", "lengths", "y")):
        raise invalid_type(name, "a split with x, lengths and y (a data.debian_tasks.SectionSplit)", value)
    return value.x, value.lengths, value.y


def fit_bow_logreg(
    train: Any,
    val: Any,
    test: Any = None,
    *,
    vocab_size: int,
    num_classes: int | None = None,
    orders: Sequence[int] = (1,),
    min_df: int = 1,
    features: str = "tfidf",
    weight_decays: Sequence[float] = (0.0, 1e-5, 1e-4, 1e-3),
    lr: float = 1e-2,
    epochs: int = 30,
    patience: int = 3,
    batch_size: int = 128,
    rng: np.random.Generator | None = None,
) -> BowLogReg:
    """Logistic regression on the bag of n-grams of each split's token ids, L2 chosen on ``val``.

    Args:
        train, val, test: splits with ``x`` (N, T) token ids, ``lengths`` (N,) and ``y`` (N,) labels.
        vocab_size: the number of token ids (``len(data.vocab)``).
        orders, min_df: which n-grams are features (:class:`NGramFeatures`): ``(1,)`` is the plain bag
            of words; ``(1, 2, 3)`` of characters the character n-gram bag.
        features: ``"tfidf"`` (counts times smoothed idf, rows of unit L2 norm) or ``"count"``.
        weight_decays: the L2 strengths tried; each run starts from the same weights and batch order.
    """
    (x_tr, len_tr, y_tr), (x_va, len_va, y_va) = _split(train, "train"), _split(val, "val")
    features = check_choice(features, "features", ("tfidf", "count"))
    if isinstance(weight_decays, (str, bytes)) or not isinstance(weight_decays, Sequence) or not weight_decays:
        raise invalid_type("weight_decays", "a non-empty sequence of floats >= 0", weight_decays)
    decays = [check_float(wd, "weight_decays", low=0.0) for wd in weight_decays]
    C = int(max(y_tr.max(), y_va.max())) + 1 if num_classes is None else check_int(num_classes, "num_classes", low=2)
    start = time.perf_counter()
    feats = NGramFeatures(vocab_size, orders, min_df).fit(x_tr, len_tr)
    ids_tr, ids_va = feats.transform(x_tr, len_tr), feats.transform(x_va, len_va)  # (N, L) feature ids
    tfidf = features == "tfidf"
    seed = int(get_rng(rng).integers(2**32))

    table: list[dict[str, Any]] = []
    best: tuple[float, BagOfWordsClassifier, Trainer] | None = None
    for wd in decays:
        model = BagOfWordsClassifier(feats.num_features, C, idf=feats.idf() if tfidf else None, normalize=tfidf,
                                     rng=np.random.default_rng(seed))  # fmt: skip
        w, b = model.weight, model.bias
        optimizer = Adam([{"params": [w], "weight_decay": wd}, {"params": [b], "weight_decay": 0.0}], lr=lr)
        stop = EarlyStopping("val_loss", patience=patience, restore_best_weights=True)
        trainer = Trainer(model, CrossEntropyLoss(), optimizer, batch_size=batch_size, epochs=epochs,
                          callbacks=[stop], verbose=False, rng=np.random.default_rng(seed + 1))  # fmt: skip
        history = trainer.fit(ids_tr, y_tr, ids_va, y_va)
        val_acc = trainer.evaluate(ids_va, y_va)["accuracy"]
        epoch = min(history, key=lambda e: e["val_loss"])["epoch"]
        table.append({"weight_decay": wd, "epoch": epoch, "train_acc": trainer.evaluate(ids_tr, y_tr)["accuracy"],
                      "val_acc": val_acc})  # fmt: skip
        if best is None or val_acc > best[0]:
            best = (val_acc, model, trainer)
    assert best is not None
    val_acc, model, trainer = best
    row = next(r for r in table if r["val_acc"] == val_acc)
    test_acc = None
    if test is not None:
        x_te, len_te, y_te = _split(test, "test")
        test_acc = trainer.evaluate(feats.transform(x_te, len_te), y_te)["accuracy"]
    seconds = time.perf_counter() - start
    return BowLogReg(row["weight_decay"], row["train_acc"], val_acc, test_acc, table, model, feats, seconds)
