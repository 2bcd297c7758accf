"""tune_char_ngram and golden_section_min: the search, the table, the chosen model, errors."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn.models.char_ngram import CharNGram
from scratchnn.models.char_ngram_tune import golden_section_min, tune_char_ngram


def _markov_text(n: int, seed: int, V: int = 5) -> np.ndarray:
    """An order-2 Markov chain over V characters, the same chain for every seed (seed 0 draws it)."""
    table = np.random.default_rng(0).dirichlet(np.full(V, 0.2), size=(V, V))  # (V, V, V)
    rng = np.random.default_rng(seed)
    out = [0, 1]
    for u in rng.random(n - 2):
        out.append(min(int(np.searchsorted(np.cumsum(table[out[-2], out[-1]]), u)), V - 1))
    return np.array(out, dtype=np.int64)


def test_golden_section_finds_the_minimum() -> None:
    calls: list[float] = []

    def f(x: float) -> float:
        calls.append(x)
        return (x - 0.3) ** 2 + 1.0

    x, fx = golden_section_min(f, 0.0, 1.0, tol=1e-4)
    assert abs(x - 0.3) < 1e-4 and fx == pytest.approx(1.0 + (x - 0.3) ** 2, abs=0)
    assert len(calls) <= 2 + int(np.ceil(np.log(1e-4) / np.log(0.618)))  # one new point per step
    x, _ = golden_section_min(lambda t: -t, 0.0, 2.0, tol=1e-3)  # minimum at the upper end
    assert 2.0 - x < 1e-3
    with pytest.raises(ValueError, match=r"Invalid value for `hi`: expected a float > lo=1. Received: hi=0.5"):
        golden_section_min(f, 1.0, 0.5)
    with pytest.raises(ValueError, match=r"Invalid value for `tol`: expected a float in \(0, inf\]"):
        golden_section_min(f, 0.0, 1.0, tol=0.0)


def test_tuning_picks_the_chains_order_and_reports_every_model() -> None:
    train, val = _markov_text(20000, seed=1), _markov_text(4000, seed=2)
    result = tune_char_ngram(train, val, orders=(1, 2, 3, 4), vocab_size=5)
    assert len(result.table) == 4 * 2 * 2
    assert {(r["order"], r["smoothing"], r["discounts"]) for r in result.table} == {
        (k, s, d) for k in (1, 2, 3, 4) for s in ("kn", "modified_kn") for d in ("closed form", "tuned")
    }
    best = {k: min(r["val_bpc"] for r in result.table if r["order"] == k) for k in (1, 2, 3, 4)}
    assert best[1] > best[2] > best[3]  # each added character of the chain's context helps ...
    assert result.order in (3, 4) and best[4] > best[3] - 0.01  # ... and one beyond it hardly does
    assert result.val_bpc == min(r["val_bpc"] for r in result.table)
    # the chosen model is what its fields say, and it scores what the table says
    assert result.model.order == result.order and result.model.smoothing == result.smoothing
    assert result.model.bits_per_char(val) == pytest.approx(result.val_bpc, rel=1e-12)
    refit = CharNGram(result.order, smoothing=result.smoothing, discount=result.discount).fit(train, vocab_size=5)
    assert refit.bits_per_char(val) == pytest.approx(result.val_bpc, rel=1e-12)
    assert result.fit_seconds > 0 and result.eval_seconds > 0


def test_tuned_discounts_beat_a_grid() -> None:
    train, val = _markov_text(8000, seed=3), _markov_text(2000, seed=4)
    result = tune_char_ngram(train, val, orders=(4,), vocab_size=5, smoothings=("kn",))
    tuned = next(r for r in result.table if r["discounts"] == "tuned")
    assert 0.05 <= tuned["param"] <= 1.0
    for D in (0.1, 0.3, 0.5, 0.7, 0.9, 1.0):
        model = CharNGram(4, smoothing="kn", discount=D).fit(train, vocab_size=5)
        assert tuned["val_bpc"] <= model.bits_per_char(val) + 1e-9
    closed = next(r for r in result.table if r["discounts"] == "closed form")
    assert closed["param"] is None
    assert closed["val_bpc"] == pytest.approx(CharNGram(4, smoothing="kn").fit(train, 5).bits_per_char(val), rel=1e-12)


def test_tune_refuses_bad_arguments() -> None:
    ids = np.array([0, 1, 2, 1, 0])
    with pytest.raises(TypeError, match="Invalid type for `orders`: expected a non-empty sequence of ints >= 1"):
        tune_char_ngram(ids, ids, orders=())
    with pytest.raises(ValueError, match=r"Invalid value for `orders`: expected an int >= 1. Received: orders=0"):
        tune_char_ngram(ids, ids, orders=(0, 1))
    with pytest.raises(ValueError, match="Invalid value for `smoothings`: expected one of 'kn', 'modified_kn'"):
        tune_char_ngram(ids, ids, smoothings=("good_turing",))
    with pytest.raises(ValueError, match=r"Invalid value for `val_ids`: expected character ids in \[0, 3\)"):
        tune_char_ngram(ids, np.array([0, 3]), orders=(1, 2))
    with pytest.raises(ValueError, match="Invalid value for `train_ids`: expected a non-empty array"):
        tune_char_ngram(np.array([], dtype=np.int64), ids)
