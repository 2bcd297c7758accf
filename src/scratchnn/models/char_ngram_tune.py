"""Choose a :class:`CharNGram`'s order, smoothing and discounts on validation text.

    result = tune_char_ngram(train_ids, val_ids, orders=(1, 2, 3, 4, 5), vocab_size=len(vocab))
    result.order, result.smoothing, result.discount, result.val_bpc
    result.model.bits_per_char(test_ids)      # the chosen model, fitted on train
    result.table                              # one row per (order, smoothing, discounts) tried

One model of the largest order is fitted; every lower order shares its counts
(:meth:`CharNGram.truncated`). For each order and smoothing two sets of discounts are scored:

- ``"closed form"``: each level's estimate from its counts of counts (Chen & Goodman 1998, eq. 26);
- ``"tuned"``: for ``"kn"``, one discount D shared by all levels; for ``"modified_kn"``, every closed-form
  discount times one factor s (each D_j clipped to [0, j]); D or s found by golden-section search on
  the validation bits per character. Chen & Goodman tuned their discounts on held-out data too (with
  Powell's search over all of them); one number per model keeps the search to ~15 evaluations.

The held-out lookups of an order are done once; a new set of discounts only redoes the interpolation.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from .._validate import check_choice, check_float, check_int, invalid_type, invalid_value
from .char_ngram import SMOOTHINGS, CharNGram, _check_discount, _check_ids

__all__ = ["NGramTuning", "tune_char_ngram", "golden_section_min"]

KN_RANGE = (0.05, 1.0)  # the plain discount D
SCALE_RANGE = (0.5, 2.0)  # the factor on the modified closed-form discounts
_CAPS = np.array([1.0, 2.0, 3.0])  # D_j <= j keeps every c - D(c) >= 0


class NGramTuning(NamedTuple):
    """The best of the models tried, by validation bits per character.

    ``discount`` is what ``CharNGram(order, smoothing=smoothing, discount=discount)`` takes: an (order,)
    array for ``"kn"``, (order, 3) for ``"modified_kn"``. ``table`` rows: ``order``, ``smoothing``,
    ``discounts`` ("closed form" or "tuned"), ``param`` (D or s; None for the closed form), ``val_bpc``.
    ``fit_seconds``: the one fit on train; ``eval_seconds``: the validation lookups and all interpolations.
    """

    order: int
    smoothing: str
    discount: np.ndarray
    val_bpc: float
    model: CharNGram
    table: list[dict[str, Any]]
    fit_seconds: float
    eval_seconds: float


def golden_section_min(f: Callable[[float], float], lo: float, hi: float, tol: float = 1e-3) -> tuple[float, float]:
    """(x, f(x)) at the minimum of a unimodal ``f`` on [lo, hi], to within ``tol`` in x.

    Each step keeps the two inner points at the golden ratio, so one of them is reused: one new
    evaluation per step, the bracket shrinking by 0.618 each time (~15 steps from [0.05, 1] to 1e-3).
    """
    lo, hi = check_float(lo, "lo"), check_float(hi, "hi")
    tol = check_float(tol, "tol", low=0.0, low_open=True)
    if not lo < hi:
        raise invalid_value("hi", f"a float > lo={lo:g}", hi)
    inv_phi = (math.sqrt(5) - 1) / 2
    a, b = lo, hi
    c, d = b - inv_phi * (b - a), a + inv_phi * (b - a)
    fc, fd = f(c), f(d)
    while b - a > tol:
        if fc <= fd:  # the minimum is in [a, d]: d becomes the new upper point
            b, d, fd = d, c, fc
            c = b - inv_phi * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + inv_phi * (b - a)
            fd = f(d)
    return (c, fc) if fc <= fd else (d, fd)


def _discounts(smoothing: str, closed: np.ndarray, x: float) -> np.ndarray:
    """The (order, 3) discounts of one search point: D everywhere ("kn"), or x times the closed form."""
    return np.full(closed.shape, x) if smoothing == "kn" else np.minimum(closed * x, _CAPS)


def _bits(model: CharNGram, stats: Any, discounts: np.ndarray) -> float:
    return float(-np.mean(np.log2(model._combine(stats, discounts))))


def _val_bpc(model: CharNGram, stats: Any, smoothing: str, closed: np.ndarray, x: float) -> float:
    return _bits(model, stats, _discounts(smoothing, closed, x))


def tune_char_ngram(
    train_ids: np.ndarray,
    val_ids: np.ndarray,
    orders: Sequence[int] = (1, 2, 3, 4, 5),
    *,
    vocab_size: int | None = None,
    smoothings: Sequence[str] = SMOOTHINGS,
    tol: float = 1e-3,
) -> NGramTuning:
    """Fit on ``train_ids``, score every order x smoothing x (closed-form, tuned) discounts on ``val_ids``.

    Shape:
        train_ids: (T,) and val_ids: (S,) integer ids in [0, vocab_size)
    """
    if isinstance(orders, (str, bytes)) or not isinstance(orders, Sequence) or not orders:
        raise invalid_type("orders", "a non-empty sequence of ints >= 1", orders)
    orders = sorted({check_int(k, "orders", low=1) for k in orders})
    if isinstance(smoothings, (str, bytes)) or not isinstance(smoothings, Sequence) or not smoothings:
        raise invalid_type("smoothings", f"a non-empty sequence of {SMOOTHINGS}", smoothings)
    smoothings = [check_choice(s, "smoothings", SMOOTHINGS) for s in dict.fromkeys(smoothings)]
    if vocab_size is not None:
        vocab_size = check_int(vocab_size, "vocab_size", low=1)
    _check_ids(train_ids, "train_ids", vocab_size)
    start = time.perf_counter()
    full = CharNGram(orders[-1]).fit(train_ids, vocab_size)
    fit_seconds = time.perf_counter() - start
    val_ids = _check_ids(val_ids, "val_ids", full.vocab_size)

    start = time.perf_counter()
    table: list[dict[str, Any]] = []
    best: tuple[float, int, str, np.ndarray] | None = None
    for order in orders:
        model = full.truncated(order)
        stats = model._gather(model._codes(val_ids))  # the lookups, once per order
        closed = model.discounts()  # (order, 3) of modified KN; D1 is also the plain estimate
        for smoothing in smoothings:
            base = closed if smoothing == "modified_kn" else np.repeat(closed[:, :1], 3, axis=1)  # (order, 3)
            score = functools.partial(_val_bpc, model, stats, smoothing, closed)
            x, tuned_bpc = golden_section_min(score, *(KN_RANGE if smoothing == "kn" else SCALE_RANGE), tol)
            tuned = _discounts(smoothing, closed, x)
            for label, param, discounts, value in (
                ("closed form", None, base, _bits(model, stats, base)),
                ("tuned", x, tuned, tuned_bpc),
            ):
                table.append({"order": order, "smoothing": smoothing, "discounts": label, "param": param,
                              "val_bpc": value})  # fmt: skip
                if best is None or value < best[0]:
                    best = (value, order, smoothing, discounts)
    assert best is not None
    value, order, smoothing, discounts = best
    discount = discounts if smoothing == "modified_kn" else discounts[:, 0]
    chosen = full.truncated(order)
    chosen.smoothing, chosen.discount = smoothing, _check_discount(discount, smoothing, order)
    eval_seconds = time.perf_counter() - start
    return NGramTuning(order, smoothing, discount, value, chosen, table, fit_seconds, eval_seconds)
