"""The baseline report's pieces (text/baselines.py) on hand-made pairs; the real run is
``python -m scratchnn.text.baselines``."""

from __future__ import annotations

import pytest

from scratchnn.data import DocumentSummary
from scratchnn.text.baselines import lead_baselines, report, token_lengths, word_percentiles

VAL = [
    DocumentSummary("alpha beta gamma. delta epsilon zeta", "alpha beta gamma"),
    DocumentSummary("one two three four. five six", "one two three"),
]
TEST = [
    DocumentSummary("red green blue cyan. magenta", "red green blue"),
    DocumentSummary("north south east. west up down", "north south east"),
]


def test_lead_k_is_tuned_on_val_and_scored_on_test() -> None:
    base = lead_baselines(VAL, TEST, ks=[2, 3, 4])
    assert base.k == 3 and sorted(base.val_by_k) == [2, 3, 4]
    assert base.test_lead == {"rouge1": pytest.approx(1.0), "rouge2": pytest.approx(1.0), "rougeL": pytest.approx(1.0)}
    # first sentences: "red green blue cyan." (R1: P = 3/4, R = 1) and "north south east." (exact)
    f1 = 2 * (3 / 4) / (3 / 4 + 1)
    assert base.test_first_sentence["rouge1"] == pytest.approx((f1 + 1) / 2)


def test_token_lengths_and_word_percentiles() -> None:
    lengths = token_lengths(VAL + TEST, vocab_size=300, percentiles=(0, 100))
    assert 260 < lengths.vocab_size <= 300 and lengths.train_seconds >= 0
    assert 1 <= lengths.summaries[0] <= lengths.summaries[100] <= len("north south east")
    assert word_percentiles(["a b", "a b c d"], (0, 50, 100)) == {0: 2.0, 50: 3.0, 100: 4.0}


def test_report_names_the_best_k_and_both_test_baselines() -> None:
    text = report(VAL, VAL, TEST, vocab_sizes=(300,), ks=[2, 3])
    assert "pairs: train 2, val 2, test 2" in text
    assert "k= 3" in text.split("<-")[0].splitlines()[-1]  # the arrow marks k = 3
    assert "test, lead-3:" in text and "test, first sentence:" in text and "BPE vocab" in text
