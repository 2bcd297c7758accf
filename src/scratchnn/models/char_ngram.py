"""``CharNGram``: a count-based character n-gram language model, the baseline a character RNN must beat.

    model = CharNGram(order=5).fit(train_ids, vocab_size=len(vocab))
    model.bits_per_char(val_ids)           # mean -log2 p(c_t | c_{t-n+1} .. c_{t-1})
    model.next_probs(context_ids)          # (V,) distribution of the next character

Smoothing is interpolated Kneser-Ney (Kneser & Ney 1995), plain (one discount D per level) or modified
(three discounts D1, D2, D3+ by the count, Chen & Goodman 1998, "An Empirical Study of Smoothing
Techniques for Language Modeling", TR-10-98, sections 2.7 and 3). With k-gram counts ``c`` at the top
level and continuation counts ``c'(x) = |{a : c(a x) > 0}|`` (distinct left neighbours) below it:

    p_k(w | h) = (c(h w) - D(c(h w)) + gamma(h) p_{k-1}(w | h'))  /  sum_v c(h v)     if sum_v c(h v) > 0
               = p_{k-1}(w | h')                                                      otherwise
    gamma(h)   = D1 N1(h) + D2 N2(h) + D3+ N3+(h),   N_j(h) = |{v : c(h v) = j}| (N3+: >= 3)
    p_0(w)     = 1 / V

where ``h'`` drops the first character of ``h``, ``D(0) = 0`` and plain KN has D1 = D2 = D3+ = D. Each
p_k(. | h) sums to 1 over the vocabulary exactly, seen context or not. Without given discounts each
level takes the closed-form estimates of Chen & Goodman (eq. 26) from its own counts of counts n_j:
Y = n1 / (n1 + 2 n2), D = Y (plain), D_j = j - (j + 1) Y n_{j+1} / n_j (modified).

The text is one stream. The first ``n - 1`` characters have a shorter history: the levels that need
more are skipped; or ``context`` (a document separator, say) gives them one.

Counting is vectorized: each n-gram is an int64 number in base V + 1 (digit V pads the end of the
text), one sort of the T n-gram codes gives every shorter order as sorted prefixes, and held-out
lookups are ``searchsorted``. :func:`tune_char_ngram` (``char_ngram_tune.py``) picks order and discounts
on validation text.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._config import get_rng
from .._validate import check_choice, check_float, check_int, invalid_dtype, invalid_shape, invalid_type, invalid_value

__all__ = ["CharNGram"]

SMOOTHINGS = ("kn", "modified_kn")


class _Table(NamedTuple):
    """One level's k-grams and counts; per context (first k - 1 characters) the total and how many
    continuations have count 1, 2, >= 3. Value arrays end in a zero row, read by index -1 (not found)."""

    keys: np.ndarray  # (M,) sorted k-gram codes
    counts: np.ndarray  # (M + 1,) int64, > 0 but the last
    ctx: np.ndarray  # (H,) sorted context codes, keys // B
    total: np.ndarray  # (H + 1,) int64
    n123: np.ndarray  # (H + 1, 3) int64


def _table(keys: np.ndarray, counts: np.ndarray, base: int) -> _Table:
    ctx_of_key = keys // base  # (M,)
    starts = np.flatnonzero(np.r_[True, ctx_of_key[1:] != ctx_of_key[:-1]]) if keys.size else keys[:0]  # (H,)
    classes = np.stack([counts == 1, counts == 2, counts >= 3], axis=1).astype(np.int64)  # (M, 3)
    total, n123 = (
        (np.add.reduceat(counts, starts), np.add.reduceat(classes, starts)) if keys.size else (counts, classes)
    )
    zero = np.zeros(1, dtype=np.int64)
    return _Table(keys, np.r_[counts, zero], ctx_of_key[starts], np.r_[total, zero], np.vstack([n123, [[0, 0, 0]]]))


def _unique_sorted(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a sorted array and how often each occurs, in O(T)."""
    if not codes.size:
        return codes, codes.astype(np.int64)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])  # (M,)
    return codes[starts], np.diff(np.r_[starts, codes.size])


def closed_form_discounts(counts: np.ndarray) -> np.ndarray:
    """(D1, D2, D3+) from counts of counts n_j (Chen & Goodman eq. 26), each in (0, j].

    An estimate that is undefined (n_j = 0 in its denominator, as on tiny corpora) or not positive
    takes the discount of the count before it (D1 = Y is always in (0, 1]; 0.5 when no count is 1),
    so that every seen continuation gives some mass to the lower order and no probability is 0.
    """
    n = np.bincount(np.minimum(counts, 5), minlength=6)[1:5].astype(np.float64)  # n1 .. n4
    y = n[0] / (n[0] + 2 * n[1]) if n[0] > 0 else 0.5
    out = [y]
    for j in (2, 3):
        est = j - (j + 1) * y * n[j] / n[j - 1] if n[j - 1] > 0 else 0.0
        out.append(min(est, float(j)) if est > 0 else out[-1])
    return np.array(out)


class CharNGram:
    """Interpolated Kneser-Ney character n-gram model (module docstring: the formula, the reference).

    Args:
        order: n, the number of characters of each n-gram (n - 1 of context); 1 is a smoothed unigram.
        smoothing: ``"modified_kn"`` (D1, D2, D3+) or ``"kn"`` (one D).
        discount: None for the closed-form estimates of each level; a float in (0, 1] for ``"kn"``; a
            sequence (D1, D2, D3+) in (0, 1] x (0, 2] x (0, 3] for ``"modified_kn"``; either also as an
            (order,) or (order, 3) array, one row per level from the unigram up.
    """

    def __init__(self, order: int = 5, *, smoothing: str = "modified_kn", discount: Any = None) -> None:
        self.order = check_int(order, "order", low=1)
        self.smoothing = check_choice(smoothing, "smoothing", SMOOTHINGS)
        self.discount = None if discount is None else _check_discount(discount, smoothing, self.order)
        self.vocab_size = 0
        self._raw: list[_Table] = []  # levels 1..n with raw counts (the top level of any order <= n)
        self._cont: list[_Table] = []  # levels 1..n-1 with continuation counts
        self._closed: np.ndarray | None = None  # the closed-form discounts, once computed

    # ------------------------------------------------------------------------------------- fitting
    def fit(self, ids: np.ndarray, vocab_size: int | None = None) -> CharNGram:
        """Count every k-gram (k = 1..order) of ``ids`` and the continuation counts; returns self.

        Shape:
            ids: (T,) integer character ids in [0, vocab_size); ``vocab_size`` defaults to ``ids.max() + 1``
        """
        _check_ids(ids, "ids", None if vocab_size is None else check_int(vocab_size, "vocab_size", low=1))
        V = int(ids.max()) + 1 if vocab_size is None else vocab_size
        n, base = self.order, V + 1
        if base**n >= 2**63:
            largest = int(np.floor(63 * np.log(2) / np.log(base) - 1e-9))
            raise invalid_value("order", f"an order with (vocab_size + 1)**order < 2**63 (<= {largest} here)", n)
        padded = np.concatenate([ids.astype(np.int64), np.full(n - 1, V, dtype=np.int64)])  # (T + n - 1,)
        codes, T = np.zeros(ids.size, dtype=np.int64), ids.size  # (T,) the n-gram starting at each position
        for j in range(n):
            codes = codes * base + padded[j : j + T]
        codes.sort()
        raw: list[tuple[np.ndarray, np.ndarray]] = []
        for k in range(n, 0, -1):
            prefix = codes // base ** (n - k)  # (T,) still sorted: the k-gram starting at each position
            raw.append(_unique_sorted(prefix[prefix % base != V]))  # prefixes ending in padding are no k-grams
        raw.reverse()
        self.vocab_size = V
        self._raw = [_table(keys, counts, base) for keys, counts in raw]
        # c'(x) for a k-gram x: how many distinct (k+1)-grams end in x
        self._cont = [_table(*_unique_sorted(np.sort(raw[k][0] % base**k)), base) for k in range(1, n)]
        self._closed = None
        return self

    def truncated(self, order: int) -> CharNGram:
        """The model of a lower ``order`` on the same text, sharing the counts (no refit)."""
        self._check_fitted()
        order = check_int(order, "order", low=1, high=self.order)
        model, disc = CharNGram(order, smoothing=self.smoothing), self.discount
        model.discount = disc[:order] if disc is not None and len(disc) > 1 else disc  # per level, or shared
        model.vocab_size, model._raw, model._cont = self.vocab_size, self._raw[:order], self._cont[: order - 1]
        return model

    def _levels(self) -> list[_Table]:
        return [*self._cont[: self.order - 1], self._raw[self.order - 1]]

    def discounts(self) -> np.ndarray:
        """(order, 3) float64: (D1, D2, D3+) of each level from the unigram up, as used."""
        self._check_fitted()
        if self.discount is not None:
            return np.broadcast_to(self.discount, (self.order, 3)).copy()
        if self._closed is None:
            self._closed = np.stack([closed_form_discounts(t.counts) for t in self._levels()])  # (order, 3)
        est = self._closed.copy()
        return est if self.smoothing == "modified_kn" else np.repeat(est[:, :1], 3, axis=1)

    # ---------------------------------------------------------------------------------- evaluation
    def log_prob(self, ids: np.ndarray, context: np.ndarray | None = None) -> np.ndarray:
        """Natural log of p(c_t | the n - 1 characters before it) for each character of ``ids``.

        ``context``: characters before ``ids`` (conditioned on, not scored); without it the first
        characters have a shorter history.

        Shape:
            ids: (T,) integer ids in [0, vocab_size);  context: (S,);  returns: (T,) float64
        """
        return np.log(self._probs(ids, context))

    def bits_per_char(self, ids: np.ndarray, context: np.ndarray | None = None) -> float:
        """Mean -log2 p(c_t | previous characters) over ``ids``: the cross-entropy in bits."""
        return float(-np.mean(np.log2(self._probs(ids, context))))

    def next_probs(self, context: np.ndarray) -> np.ndarray:
        """p(w | the last order - 1 characters of ``context``) for every w: (V,) float64 summing to 1.

        Shape:
            context: (S,) integer ids, S >= 0 (a shorter context uses the lower orders);  returns: (V,)
        """
        self._check_fitted()
        context = _check_ids(context, "context", self.vocab_size, allow_empty=True)
        V, base = self.vocab_size, self.vocab_size + 1
        codes = [np.arange(V, dtype=np.int64)]  # the k-gram (last k - 1 context characters, w) for each w
        ctx_code = 0
        for k in range(2, self.order + 1):
            if context.size >= k - 1:
                ctx_code = ctx_code + int(context[context.size - k + 1]) * base ** (k - 2)
                codes.append(ctx_code * base + codes[0])  # (V,)
            else:
                codes.append(np.full(V, -1, dtype=np.int64))  # (V,) no such history: this level is skipped
        return self._combine(self._gather(codes), self.discounts())

    def sample(self, length: int, *, context: np.ndarray | None = None, stop: int | None = None,
               rng: np.random.Generator | None = None) -> np.ndarray:  # fmt: skip
        """Draw up to ``length`` characters one at a time after ``context``; stops after drawing ``stop``.

        Shape:
            returns: (L,) int64 ids, L <= length
        """
        self._check_fitted()
        length, rng = check_int(length, "length", low=0), get_rng(rng)
        history = [] if context is None else _check_ids(context, "context", self.vocab_size, allow_empty=True).tolist()
        out: list[int] = []
        while len(out) < length:
            probs = self.next_probs(np.array(history[len(history) - self.order + 1 :], dtype=np.int64))  # (V,)
            out.append(int(rng.choice(self.vocab_size, p=probs)))
            history.append(out[-1])
            if stop is not None and out[-1] == stop:
                break
        return np.array(out, dtype=np.int64)

    def _probs(self, ids: np.ndarray, context: np.ndarray | None) -> np.ndarray:
        self._check_fitted()
        ids = _check_ids(ids, "ids", self.vocab_size)
        ctx = ids[:0] if context is None else _check_ids(context, "context", self.vocab_size, allow_empty=True)
        stream = np.concatenate([ctx.astype(np.int64), ids.astype(np.int64)]) if ctx.size else ids
        return self._combine(self._gather(self._codes(stream)), self.discounts())[ctx.size :]

    def _codes(self, ids: np.ndarray) -> list[np.ndarray]:
        """For each level k, the code of the k-gram ending at each position (-1 where the history is short)."""
        base, T = self.vocab_size + 1, ids.size
        codes = [ids.astype(np.int64)]  # (T,)
        for k in range(2, self.order + 1):
            code = np.full(T, -1, dtype=np.int64)  # (T,)
            code[k - 1 :] = codes[-1][k - 2 : T - 1] * base + codes[0][k - 1 :]
            codes.append(code)
        return codes

    def _gather(self, codes: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per level: the count of each k-gram, its context's total and (N1, N2, N3+); 0 where unseen."""
        base = self.vocab_size + 1
        stats = []
        for table, code in zip(self._levels(), codes, strict=True):
            at = _find(table.ctx, code // base)  # (N,) the context's row, -1 (a zero row) if unseen
            stats.append((table.counts[_find(table.keys, code)], table.total[at], table.n123[at]))
        return stats

    def _combine(self, stats: list[tuple[np.ndarray, np.ndarray, np.ndarray]], discounts: np.ndarray) -> np.ndarray:
        """The interpolation of the module docstring, level by level from the uniform distribution up."""
        p = np.full(stats[0][0].shape, 1.0 / self.vocab_size)  # (N,)
        for (c, total, n123), d in zip(stats, discounts, strict=True):
            d_of_c = np.where(c > 0, d[np.clip(c, 1, 3) - 1], 0.0)  # (N,)
            p = np.where(total > 0, (c - d_of_c + (n123 @ d) * p) / np.maximum(total, 1), p)
        return p

    def _check_fitted(self) -> None:
        if not self._raw:
            raise RuntimeError("CharNGram is not fitted: call fit(ids) first")


def _find(keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    """The index of each query in the sorted ``keys``, -1 where it is not a key."""
    if not keys.size:
        return np.full(query.shape, -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(keys, query), keys.size - 1)  # (N,)
    return np.where(keys[at] == query, at, -1)


def _check_ids(ids: Any, name: str, vocab_size: int | None, allow_empty: bool = False) -> np.ndarray:
    if not isinstance(ids, np.ndarray):
        raise invalid_type(name, "a 1-D numpy.ndarray of integer character ids", ids)
    if ids.dtype.kind not in "iu":
        raise invalid_dtype(name, "an integer dtype (character ids)", ids.dtype)
    if ids.ndim != 1:
        raise invalid_shape(name, "(T,)", ids.shape)
    if not ids.size:
        if allow_empty:
            return ids
        raise invalid_value(name, "a non-empty array of character ids", ids)
    lo, hi = int(ids.min()), int(ids.max())
    if lo < 0 or (vocab_size is not None and hi >= vocab_size):
        bound, bad = "vocab_size" if vocab_size is None else vocab_size, lo if lo < 0 else hi
        raise ValueError(f"Invalid value for `{name}`: expected character ids in [0, {bound}). Received: an id {bad}")
    return ids


def _check_discount(discount: Any, smoothing: str, order: int) -> np.ndarray:
    """The discount argument as a (1, 3) or (order, 3) float64 array, each entry checked."""
    modified = smoothing == "modified_kn"
    want = "a sequence (D1, D2, D3+) or an (order, 3) array" if modified else "a float or an (order,) array"
    try:
        arr = np.asarray(discount, dtype=object if isinstance(discount, (str, bytes)) else None)
    except ValueError:  # a ragged nesting
        arr = np.asarray(None)
    if arr.dtype.kind not in "iuf" or arr.ndim > 2:
        raise invalid_type("discount", f"{want} of numbers", discount)
    shapes = [(3,), (order, 3)] if modified else [(), (order,)]
    if arr.shape not in shapes:
        raise invalid_shape("discount", f"{' or '.join(map(str, shapes))} for smoothing={smoothing!r}", arr.shape)
    arr = arr.astype(np.float64).reshape(-1, 3 if modified else 1)  # (L, 3) or (L, 1)
    highs = (1.0, 2.0, 3.0) if modified else (1.0,)
    for j, high in enumerate(highs):
        for value in arr[:, j]:
            check_float(value, "discount", low=0.0, high=high, low_open=True)  # D > 0: no probability is 0
    return arr if modified else np.repeat(arr, 3, axis=1)
