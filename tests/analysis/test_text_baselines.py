"""Text-classification baselines: the majority class and bag-of-n-grams logistic regression."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn.analysis.text_baselines import fit_bow_logreg, majority_accuracy
from scratchnn.data.debian_tasks import SectionSplit


def _split(rows: list[list[int]], y: list[int], T: int = 8) -> SectionSplit:
    x = np.zeros((len(rows), T), dtype=np.int64)  # padded with <pad> = 0
    for i, r in enumerate(rows):
        x[i, : len(r)] = r
    return SectionSplit(x, np.array([len(r) for r in rows], dtype=np.int64), np.array(y, dtype=np.int64))


def _keyword_task(n: int, seed: int) -> SectionSplit:
    """Class c holds token 2 + c once among noise tokens 5..11: separable by one word."""
    rng = np.random.default_rng(seed)
    rows, ys = [], []
    for _ in range(n):
        c = int(rng.integers(3))
        row = rng.integers(5, 12, int(rng.integers(2, 6))).tolist()
        row.insert(int(rng.integers(len(row) + 1)), 2 + c)
        rows.append(row)
        ys.append(c)
    return _split(rows, ys)


def _order_task(n: int, seed: int) -> SectionSplit:
    """Class 0 holds the pair (2, 3), class 1 the pair (3, 2): the same words, told apart by bigrams only."""
    rng = np.random.default_rng(seed)
    rows, ys = [], []
    for _ in range(n):
        c = int(rng.integers(2))
        row = rng.integers(4, 8, int(rng.integers(1, 5))).tolist()
        at = int(rng.integers(len(row) + 1))
        rows.append(row[:at] + ([2, 3] if c == 0 else [3, 2]) + row[at:])
        ys.append(c)
    return _split(rows, ys)


def test_majority_accuracy_by_hand() -> None:
    assert majority_accuracy(np.array([0, 1, 1, 2]), np.array([1, 1, 0])) == pytest.approx(2 / 3)
    assert majority_accuracy(np.array([2, 0, 2, 0]), np.array([0, 2, 2, 1])) == 0.25  # tie: the lower id, 0
    with pytest.raises(TypeError, match="Invalid type for `y`: expected a non-empty 1-D integer numpy.ndarray"):
        majority_accuracy(np.array([0, 1]), np.array([0.0]))
    with pytest.raises(ValueError, match="Invalid value for `y_train`: expected class labels >= 0"):
        majority_accuracy(np.array([0, -1]), np.array([0]))


@pytest.mark.parametrize("features", ["tfidf", "count"])
def test_a_separable_set_is_learned_perfectly(features: str) -> None:
    train, val, test = _keyword_task(150, 0), _keyword_task(60, 1), _keyword_task(60, 2)
    result = fit_bow_logreg(train, val, test, vocab_size=12, features=features, weight_decays=(0.0, 1e-3),
                            lr=0.1, epochs=15, batch_size=32, rng=np.random.default_rng(0))  # fmt: skip
    assert result.val_acc == 1.0 and result.test_acc == 1.0 and result.train_acc == 1.0
    assert [r["weight_decay"] for r in result.table] == [0.0, 1e-3]
    assert result.weight_decay == max(result.table, key=lambda r: r["val_acc"])["weight_decay"]
    assert result.model.weight.shape == (3, result.features.num_features)
    assert result.features.num_features == 1 + 10  # tokens 2..11 were all seen in train, plus id 0
    assert result.seconds > 0


def test_bigram_features_tell_apart_what_a_bag_of_words_cannot() -> None:
    train, val = _order_task(200, 0), _order_task(100, 1)
    kwargs = dict(vocab_size=8, weight_decays=(0.0,), lr=0.1, epochs=15, batch_size=32)
    words = fit_bow_logreg(train, val, rng=np.random.default_rng(0), **kwargs)  # type: ignore[arg-type]
    bigrams = fit_bow_logreg(train, val, orders=(1, 2), rng=np.random.default_rng(0), **kwargs)  # type: ignore[arg-type]
    assert words.val_acc < 0.8 and words.test_acc is None
    assert bigrams.val_acc == 1.0


def test_weight_decay_is_chosen_on_validation() -> None:
    train, val = _keyword_task(90, 3), _keyword_task(60, 4)
    # a huge L2 keeps the weights near 0: the one run worse than the others on validation must not be chosen
    result = fit_bow_logreg(train, val, vocab_size=12, weight_decays=(10.0, 0.0), lr=0.1, epochs=10,
                            rng=np.random.default_rng(0))  # fmt: skip
    assert result.table[0]["val_acc"] < result.table[1]["val_acc"]
    assert result.weight_decay == 0.0 and result.val_acc == result.table[1]["val_acc"]


def test_fit_bow_logreg_refuses_bad_arguments() -> None:
    data = _keyword_task(20, 0)
    with pytest.raises(ValueError, match="Invalid value for `features`: expected one of 'tfidf', 'count'"):
        fit_bow_logreg(data, data, vocab_size=12, features="binary")
    with pytest.raises(TypeError, match="Invalid type for `weight_decays`: expected a non-empty sequence"):
        fit_bow_logreg(data, data, vocab_size=12, weight_decays=())
    with pytest.raises(ValueError, match=r"Invalid value for `weight_decays`: expected a float in \[0, inf\]"):
        fit_bow_logreg(data, data, vocab_size=12, weight_decays=(-1.0,))
    with pytest.raises(TypeError, match="Invalid type for `val`: expected a split with x, lengths and y"):
        fit_bow_logreg(data, (data.x, data.y), vocab_size=12)
    with pytest.raises(ValueError, match=r"Invalid value for `x`: expected token ids in \[0, 5\)"):
        fit_bow_logreg(data, data, vocab_size=5)
