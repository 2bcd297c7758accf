"""Bag-of-words features and the linear classifier on them: the baseline of text classification.

    counts = bag_of_words(x, lengths, V)                       # (N, V) token counts per row
    feats = NGramFeatures(V, orders=(1, 2, 3), min_df=2).fit(x_train, len_train)
    ids = feats.transform(x, lengths)                          # (N, L) feature ids, 0 = none
    model = BagOfWordsClassifier(feats.num_features, num_classes, idf=feats.idf())
    scores = model(ids)                                        # (N, C): logistic regression on tf-idf

Logistic regression on a bag of words is one ``Linear`` on the count vector; the classifier builds the
(N, F) counts of each batch from token ids as it goes, so the training set is stored as ids (N x L
integers), not as an N x F matrix (28,530 synopses x 50,000 n-grams would be 5.7 GB in float32).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._config import get_default_dtype
from .._validate import check_bool, check_float_dtype, check_int, invalid_shape, invalid_type, invalid_value
from ..nn.linear import Linear
from ..nn.module import Module

__all__ = ["bag_of_words", "ngram_codes", "NGramFeatures", "BagOfWordsClassifier"]


def _check_tokens(x: Any, lengths: Any, V: int) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "iu":
        raise invalid_type("x", "an integer numpy.ndarray of token ids", x)
    if x.ndim != 2:
        raise invalid_shape("x", "(N, T)", x.shape)
    if not isinstance(lengths, np.ndarray) or lengths.dtype.kind not in "iu":
        raise invalid_type("lengths", "an integer numpy.ndarray", lengths)
    if lengths.shape != (x.shape[0],):
        raise invalid_shape("lengths", f"({x.shape[0]},) to match x", lengths.shape)
    if lengths.size and (lengths.min() < 0 or lengths.max() > x.shape[1]):
        raise invalid_value("lengths", f"lengths in [0, {x.shape[1]}] (T of x)", lengths)
    valid = np.arange(x.shape[1]) < lengths[:, None]  # (N, T)
    if valid.any() and (x[valid].min() < 0 or x[valid].max() >= V):
        bad = x[valid][(x[valid] < 0) | (x[valid] >= V)][0]
        raise ValueError(f"Invalid value for `x`: expected token ids in [0, {V}). Received: an id {int(bad)}")
    return x, valid


def bag_of_words(x: np.ndarray, lengths: np.ndarray, V: int, dtype: Any = None) -> np.ndarray:
    """How often each of the ``V`` tokens occurs in the first ``lengths[i]`` tokens of row ``i``.

    Shape:
        x: (N, T) integer ids in [0, V) (positions past the length are ignored);  lengths: (N,)
        returns: (N, V) counts, in ``dtype`` (the default float dtype if None)
    """
    V = check_int(V, "V", low=1)
    x, valid = _check_tokens(x, lengths, V)
    dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
    rows = np.broadcast_to(np.arange(x.shape[0])[:, None], x.shape)[valid]  # (K,) the row of each real token
    flat = np.bincount(rows * V + x[valid], minlength=x.shape[0] * V)  # (N * V,)
    return flat.reshape(x.shape[0], V).astype(dt)  # (N * V,) -> (N, V)


def ngram_codes(x: np.ndarray, lengths: np.ndarray, V: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The n-grams of each row as int64 codes (base V digits, plus V + V**2 + .. + V**(n-1) so that
    orders never share a code), left-aligned and padded with -1, and how many each row has: max(length - n + 1, 0).

    Shape:
        x: (N, T);  lengths: (N,);  returns: (N, max(T - n + 1, 0)) codes and (N,) counts
    """
    V, n = check_int(V, "V", low=1), check_int(n, "n", low=1)
    x, _ = _check_tokens(x, lengths, V)
    offset = sum(V**m for m in range(1, n))  # the codes of all shorter n-grams come first
    if offset + V**n >= 2**63:
        raise invalid_value("n", f"an order with V + .. + V**n < 2**63 (V={V})", n)
    width = max(x.shape[1] - n + 1, 0)
    codes = np.full((x.shape[0], width), offset, dtype=np.int64)  # (N, T - n + 1)
    for j in range(n):
        codes += x[:, j : j + width].astype(np.int64) * V ** (n - 1 - j)
    counts = np.maximum(lengths.astype(np.int64) - n + 1, 0)  # (N,)
    return np.where(np.arange(width) < counts[:, None], codes, -1), counts


class NGramFeatures:
    """The token n-grams (of each order in ``orders``) seen in at least ``min_df`` training rows, as
    feature ids 1..F; id 0 stands for padding and n-grams not kept (as scikit-learn's CountVectorizer
    with ``ngram_range`` and ``min_df``, on token ids). ``orders=(1, 2, 3)`` of characters is the usual
    character n-gram bag; ``orders=(1,)`` of words the plain bag of words."""

    def __init__(self, vocab_size: int, orders: Sequence[int] = (1,), min_df: int = 1) -> None:
        self.vocab_size = check_int(vocab_size, "vocab_size", low=1)
        if isinstance(orders, (str, bytes)) or not isinstance(orders, Sequence) or not orders:
            raise invalid_type("orders", "a non-empty sequence of ints >= 1", orders)
        self.orders = tuple(sorted({check_int(n, "orders", low=1) for n in orders}))
        self.min_df = check_int(min_df, "min_df", low=1)
        self.codes = np.zeros(0, dtype=np.int64)  # (F,) sorted n-gram codes; feature id = index + 1
        self.df = np.zeros(0, dtype=np.int64)  # (F,) training rows holding each
        self.num_rows = 0

    @property
    def num_features(self) -> int:
        """F + 1: the kept n-grams and the id 0."""
        return self.codes.size + 1

    def _all_codes(self, x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        parts = [ngram_codes(x, lengths, self.vocab_size, n)[0] for n in self.orders]
        return np.concatenate(parts, axis=1) if parts else np.zeros((x.shape[0], 0), dtype=np.int64)  # (N, L)

    def fit(self, x: np.ndarray, lengths: np.ndarray) -> NGramFeatures:
        """Keep the n-grams of ``x`` found in at least ``min_df`` rows; returns self."""
        codes = self._all_codes(x, lengths)  # (N, L)
        rows = np.broadcast_to(np.arange(codes.shape[0])[:, None], codes.shape)
        seen = codes >= 0
        pairs = np.unique(np.stack([codes[seen], rows[seen]], axis=1), axis=0)  # (P, 2) distinct (code, row)
        kept, df = np.unique(pairs[:, 0], return_counts=True)  # (F0,)
        self.codes, self.df = kept[df >= self.min_df], df[df >= self.min_df]
        self.num_rows = x.shape[0]
        return self

    def transform(self, x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Feature ids of each row's n-grams, 0 for padding and for n-grams not kept.

        Shape:
            x: (N, T);  lengths: (N,);  returns: (N, L) int64, L = sum over orders of max(T - n + 1, 0)
        """
        codes = self._all_codes(x, lengths)  # (N, L)
        if not self.codes.size:
            return np.zeros(codes.shape, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.codes, codes), self.codes.size - 1)  # (N, L)
        return np.where((self.codes[at] == codes) & (codes >= 0), at + 1, 0)

    def idf(self) -> np.ndarray:
        """Smoothed inverse document frequency ln((1 + N) / (1 + df)) + 1 of each feature id, 0 for id 0.

        Shape:
            returns: (F + 1,) float64
        """
        return np.r_[0.0, np.log((1 + self.num_rows) / (1 + self.df)) + 1]


class BagOfWordsClassifier(Module):
    """Logistic regression on a bag of token ids: scores = f(x) W^T + b, f(x) the row's weighted counts.

    ``f(x)_v`` counts id v in the row (``padding_idx`` never counts), times ``idf[v]`` when given, and
    with ``normalize`` each row is scaled to unit L2 norm (tf-idf as scikit-learn's TfidfVectorizer).
    This is ``Linear(num_features, num_classes)`` on f(x), with its parameter names, init and numbers,
    computed from the ids without the (N, F) matrix: each token adds its weight column times its
    value (torch's ``EmbeddingBag(mode="sum", per_sample_weights)`` plus a bias).

        forward:   out[n] = b + sum_t v[n, t] W[:, x[n, t]],   v[n, t] = f's weight of token t
        backward:  dW[:, j] += sum_{(n, t): x[n, t] = j} v[n, t] dout[n],   db += sum_n dout[n]

    The input is ids, so there is no input gradient: ``backward`` returns None.

    Shape:
        input: (N, T) integer ids in [0, num_features);  output: (N, num_classes)
        weight: (num_classes, num_features);  bias: (num_classes,);  idf: (num_features,)
    """

    def __init__(self, num_features: int, num_classes: int, *, padding_idx: int | None = 0,
                 idf: np.ndarray | None = None, normalize: bool = False, dtype: Any = None,
                 rng: np.random.Generator | None = None) -> None:  # fmt: skip
        super().__init__()
        self.num_features = check_int(num_features, "num_features", low=1)
        if padding_idx is not None:
            padding_idx = check_int(padding_idx, "padding_idx", low=0, high=self.num_features - 1)
        self.padding_idx = padding_idx
        self.normalize = check_bool(normalize, "normalize")
        linear = Linear(num_features, num_classes, dtype=dtype, rng=rng)  # torch's init for the same layer
        bias = linear.bias
        assert bias is not None  # Linear's default bias=True
        self.weight, self.bias = linear.weight, bias
        if idf is not None:
            if not isinstance(idf, np.ndarray) or idf.shape != (num_features,):
                raise invalid_shape("idf", f"({num_features},)", np.shape(idf))
            if not np.all(np.isfinite(idf)) or (idf < 0).any():
                raise invalid_value("idf", "finite weights >= 0", idf)
            idf = idf.astype(self.weight.dtype)
        self.register_buffer("idf", idf)

    def _values(self, x: np.ndarray) -> np.ndarray:
        """v: each token's value in f(x), so that f(x)_j = sum of v over the row's tokens with id j."""
        if not isinstance(x, np.ndarray) or x.ndim != 2:
            raise invalid_shape("input", "(N, T) integer ids", np.shape(x))
        _check_tokens(x, np.full(x.shape[0], x.shape[1]), self.num_features)
        v = np.ones(x.shape, dtype=self.weight.dtype) if self.idf is None else self.idf[x]  # (N, T)
        if self.padding_idx is not None:
            v = np.where(x == self.padding_idx, 0, v).astype(self.weight.dtype)
        if self.normalize:
            # |f(x)|^2 adds (count * weight)^2 over the distinct ids of a row: repeats add before squaring
            key = (np.arange(x.shape[0])[:, None] * self.num_features + x)[v > 0]  # (K,)
            uniq, counts = np.unique(key, return_counts=True)
            weight = 1.0 if self.idf is None else self.idf[uniq % self.num_features]
            norm2 = np.bincount(uniq // self.num_features, (counts * weight) ** 2, minlength=x.shape[0])  # (N,)
            v = v / np.sqrt(np.where(norm2 > 0, norm2, 1.0)).astype(v.dtype)[:, None]
        return v

    def features(self, x: np.ndarray) -> np.ndarray:
        """f(x) as a dense matrix (what ``Linear`` would take): (N, T) ids -> (N, num_features)."""
        v = self._values(x)  # (N, T)
        rows = np.broadcast_to(np.arange(x.shape[0])[:, None], x.shape)  # (N, T)
        flat = np.bincount((rows * self.num_features + x).ravel(), v.ravel(), minlength=x.shape[0] * self.num_features)
        return flat.reshape(x.shape[0], self.num_features).astype(self.weight.dtype)  # (N * F,) -> (N, F)

    def forward(self, x: np.ndarray) -> np.ndarray:
        v = self._values(x)  # (N, T)
        columns = self.weight.data[:, x]  # (C, N, T)
        out = np.einsum("cnt,nt->nc", columns, v) + self.bias.data  # (C, N, T) . (N, T) -> (N, C)
        self._save((x, v), out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> None:
        """weight.grad += dout^T f(x) (one bincount per class), bias.grad += sum of dout; None for the ids."""
        x, v = self._saved(grad_out)
        ids = x.ravel()  # (N * T,)
        dw = np.stack([np.bincount(ids, (v * grad_out[:, c : c + 1]).ravel(), minlength=self.num_features)
                       for c in range(grad_out.shape[1])])  # fmt: skip  # (C, F)
        self.weight.accumulate_grad(dw.astype(self.weight.dtype))
        self.bias.accumulate_grad(grad_out.sum(axis=0))
        return None

    def extra_repr(self) -> str:
        return f"num_features={self.num_features}, num_classes={self.weight.shape[0]}, normalize={self.normalize}"
