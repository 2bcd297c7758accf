"""ROUGE through rouge-score and the lead baselines (text/rouge.py), against values computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn.text import best_lead_k, first_sentence, lead_words, rouge_per_example, rouge_scores


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r)


def test_rouge_of_a_hand_computed_pair() -> None:
    # prediction "the cat sat", reference "the cat was here":
    # unigrams: the, cat match -> P = 2/3, R = 2/4; bigrams: "the cat" matches -> P = 1/2, R = 1/3;
    # longest common subsequence "the cat" (2) -> as ROUGE-1
    scores = rouge_scores(["the cat sat"], ["the cat was here"])
    assert scores["rouge1"] == pytest.approx(f1(2 / 3, 2 / 4)) == pytest.approx(4 / 7)
    assert scores["rouge2"] == pytest.approx(f1(1 / 2, 1 / 3)) == pytest.approx(2 / 5)
    assert scores["rougeL"] == pytest.approx(4 / 7)
    assert list(scores) == ["rouge1", "rouge2", "rougeL"]


def test_rouge_l_follows_order_where_rouge_1_does_not() -> None:
    # "b a c" vs "a b c": all three unigrams match (R1 = 1); no bigram does; the LCS is 2 ("a c" or "b c")
    scores = rouge_scores(["b a c"], ["a b c"])
    assert (scores["rouge1"], scores["rouge2"]) == (pytest.approx(1.0), 0.0)
    assert scores["rougeL"] == pytest.approx(f1(2 / 3, 2 / 3))


def test_identical_disjoint_and_empty() -> None:
    same = rouge_scores(["A small tool for text."], ["a small tool for text"])  # case and punctuation ignored
    assert same == {"rouge1": pytest.approx(1.0), "rouge2": pytest.approx(1.0), "rougeL": pytest.approx(1.0)}
    assert rouge_scores(["red green"], ["blue yellow"]) == {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    assert rouge_scores([""], ["anything here"]) == {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    one = rouge_scores(["word"], ["word"])  # one token: no bigram to match
    assert (one["rouge1"], one["rouge2"]) == (pytest.approx(1.0), 0.0)


def test_scores_are_means_of_per_example_f1() -> None:
    preds = ["the cat sat", "red green", "a b c d"]
    refs = ["the cat was here", "blue yellow", "a b c d"]
    per = rouge_per_example(preds, refs)
    assert per.shape == (3, 3) and per.dtype == np.float64
    np.testing.assert_allclose(per[:, 0], [4 / 7, 0.0, 1.0])
    np.testing.assert_allclose(per[:, 1], [2 / 5, 0.0, 1.0])
    scores = rouge_scores(preds, refs)
    assert scores["rouge1"] == pytest.approx((4 / 7 + 0 + 1) / 3)
    assert scores["rouge2"] == pytest.approx((2 / 5 + 0 + 1) / 3)


def test_stemming_is_on_by_default_and_can_be_turned_off() -> None:
    # Porter stems words longer than 3 characters: running -> run, dogs -> dog; "run" and "dog" stay
    assert rouge_scores(["running dogs"], ["run dog"])["rouge1"] == pytest.approx(1.0)
    assert rouge_scores(["running dogs"], ["run dog"], use_stemmer=False)["rouge1"] == 0.0
    # the memoized stemmer gives what rouge-score's own scorer gives
    from rouge_score import rouge_scorer

    preds = ["Running quickly through the libraries", "connection handling for databases", "x86-64 tools"]
    refs = ["runs quick library", "connect handler for the database", "tools for x86"]
    for stem in (True, False):
        plain = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=stem)
        expected = [
            [plain.score(r, p)[t].fmeasure for t in ("rouge1", "rouge2", "rougeL")] for p, r in zip(preds, refs)
        ]
        np.testing.assert_array_equal(rouge_per_example(preds, refs, use_stemmer=stem), expected)


def test_lead_words() -> None:
    doc = "Foo is a   library\nfor parsing\n\nbar files."
    assert lead_words(doc, 1) == "Foo"
    assert lead_words(doc, 5) == "Foo is a library for"
    assert lead_words(doc, 100) == "Foo is a library for parsing bar files."
    assert lead_words("", 3) == ""


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("Foo is a library. It parses bar files.", "Foo is a library."),
        ("Foo is a library\nfor parsing bar\nfiles. It is fast.", "Foo is a library for parsing bar files."),
        ("libfoo is small. libfoo is fast.", "libfoo is small."),  # a sentence may start in lower case
        ("Tools, e.g. grep, and more. Second.", "Tools, e.g. grep, and more."),
        ("Handles A, B, etc. and more. Second.", "Handles A, B, etc. and more."),
        ("Handles A, B, etc. The second one.", "Handles A, B, etc."),
        ("Written by J. Smith in 2020. Second.", "Written by J. Smith in 2020."),
        ("Version 2.0 is out! Get it.", "Version 2.0 is out!"),
        ('It says "hello." Then more.', 'It says "hello."'),
        ("Parses (in C). Second.", "Parses (in C)."),
        ("A title without a period\n\nThe body. More.", "A title without a period"),
        ("Main features:\n * fast\n * small", "Main features:"),
        ("It supports:\n - a\n - b. Yes.", "It supports:"),
        (" * first item. Then.\n * second item", "first item."),
        ("See http://example.org/x.html for more", "See http://example.org/x.html for more"),
        ("", ""),
    ],
)
def test_first_sentence(document: str, expected: str) -> None:
    assert first_sentence(document) == expected


def test_best_lead_k_picks_the_k_with_the_best_mean_rouge() -> None:
    # the references are each document's first three words: k = 3 matches them exactly
    docs = ["alpha beta gamma delta epsilon", "one two three four five six", "red green blue cyan magenta"]
    refs = [" ".join(d.split()[:3]) for d in docs]
    k, by_k = best_lead_k(docs, refs, ks=[1, 2, 3, 4, 6])
    assert k == 3 and sorted(by_k) == [1, 2, 3, 4, 6]
    assert by_k[3] == {"rouge1": pytest.approx(1.0), "rouge2": pytest.approx(1.0), "rougeL": pytest.approx(1.0)}
    # k = 2: P = 1, R = 2/3 for unigrams and LCS; bigrams P = 1, R = 1/2
    assert by_k[2]["rouge1"] == pytest.approx(f1(1, 2 / 3)) and by_k[2]["rouge2"] == pytest.approx(f1(1, 1 / 2))
    assert by_k[1]["rouge2"] == 0.0
    # ties go to the smaller k: with one-word documents every k >= 1 scores the same
    k, _ = best_lead_k(["word"], ["word"], ks=range(3, 0, -1))
    assert k == 1


def test_bad_arguments_name_the_argument() -> None:
    with pytest.raises(ValueError, match=r"`references`: expected one text per entry of `predictions` \(2\)"):
        rouge_scores(["a", "b"], ["a"])
    with pytest.raises(TypeError, match=r"`predictions\[1\]`: expected a str"):
        rouge_scores(["a", 3], ["a", "b"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="`predictions`"):
        rouge_scores("a", "a")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`predictions`: expected at least one text"):
        rouge_scores([], [])
    with pytest.raises(TypeError, match="`use_stemmer`"):
        rouge_scores(["a"], ["a"], use_stemmer=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`k`: expected an int >= 1"):
        lead_words("a b", 0)
    with pytest.raises(TypeError, match="`document`"):
        first_sentence(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`ks`: expected an int >= 1"):
        best_lead_k(["a"], ["a"], ks=[0, 1])
    with pytest.raises(ValueError, match="`ks`: expected at least one k"):
        best_lead_k(["a"], ["a"], ks=[])
    with pytest.raises(ValueError, match="`references`: expected one text per entry of `documents`"):
        best_lead_k(["a"], ["a", "b"])
