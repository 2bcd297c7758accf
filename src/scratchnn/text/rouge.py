"""ROUGE-1/2/L F1 through the ``rouge-score`` package (the ``text`` extra), and the lead baselines to beat.

    scores = rouge_scores(predictions, references)        # {"rouge1": ..., "rouge2": ..., "rougeL": ...}
    k, by_k = best_lead_k(val_documents, val_summaries)   # tune k on validation
    rouge_scores([lead_words(d, k) for d in test_documents], test_summaries)
    rouge_scores([first_sentence(d) for d in test_documents], test_summaries)

ROUGE-n F1 is ``2 P R / (P + R)`` with ``P`` = matching n-grams / n-grams of the prediction and ``R`` =
matching n-grams / n-grams of the reference (counts clipped); ROUGE-L takes the longest common subsequence
as the match. Scores are the means of per-example F1s over the set. ``rouge-score``'s tokenizer lower-cases,
keeps only ``[a-z0-9]`` runs (so ``"x86-64"`` is two tokens and non-ASCII letters are dropped) and, with
``use_stemmer``, Porter-stems words longer than 3 characters. Stemming is on by default: the setting of
the reported XSum and CNN/DailyMail numbers (BART, PEGASUS), so ours compare with them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .._validate import check_bool, check_int, check_iterable, invalid_type, invalid_value
from ._optional import require

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")

# a period after these is no sentence end ("tools, e.g. grep"); after "etc." only before a capital letter
NEVER_ENDS = frozenset({"e.g.", "i.e.", "cf.", "vs.", "approx.", "incl.", "esp.", "resp.", "ca.", "al.", "mr.",
                        "dr.", "st.", "no.", "ver.", "v."})  # fmt: skip
ENDS_BEFORE_CAPITAL = frozenset({"etc."})
SENTENCE_END = re.compile(r"[.!?][\"')\]]*$")  # the word ends a sentence: "it.", "(it).", 'said."'
# a line that starts an item of a list: Debian's " * item", " - item", " + item", " o item", "1. item"
BULLET = re.compile(r"^\s*(?:[*+\-o\u2022]|\d+[.)])\s+")


def rouge_per_example(predictions: Sequence[str], references: Sequence[str], *, use_stemmer: bool = True) -> np.ndarray:
    """ROUGE-1, ROUGE-2 and ROUGE-L F1 of each prediction against its reference.

    Returns:
        (N, 3) float64, columns in the order of ``ROUGE_TYPES``. An empty prediction or reference scores 0;
        a one-token text has no bigram, so its ROUGE-2 is 0 even against itself.
    """
    predictions, references = _check_pairs(predictions, references)
    scorer = _scorer(check_bool(use_stemmer, "use_stemmer"))
    out = np.zeros((len(predictions), len(ROUGE_TYPES)))  # (N, 3)
    for i, (pred, ref) in enumerate(zip(predictions, references)):
        s = scorer.score(ref, pred)  # rouge-score's order: (target, prediction)
        out[i] = [s[t].fmeasure for t in ROUGE_TYPES]
    return out


def rouge_scores(
    predictions: Sequence[str], references: Sequence[str], *, use_stemmer: bool = True
) -> dict[str, float]:
    """The mean ROUGE-1/2/L F1 over the pairs: ``{"rouge1": ..., "rouge2": ..., "rougeL": ...}``, in [0, 1]."""
    means = rouge_per_example(predictions, references, use_stemmer=use_stemmer).mean(axis=0)  # (3,)
    return {t: float(m) for t, m in zip(ROUGE_TYPES, means)}


def lead_words(document: str, k: int) -> str:
    """The first ``k`` whitespace-separated words of ``document``, joined by single spaces."""
    if not isinstance(document, str):
        raise invalid_type("document", "a str", document)
    return " ".join(document.split()[: check_int(k, "k", low=1)])


def first_sentence(document: str) -> str:
    """The document's first sentence, whitespace collapsed to single spaces.

    Debian descriptions are paragraphs of wrapped lines with bullet lists, so the first sentence is looked
    for in the first block: the lines up to the first blank line or the first line that starts a list item
    ("Main features:" then " * fast"). Within it, the sentence ends after the first word that ends in
    ``.``, ``!`` or ``?`` (closing quotes or brackets allowed), except for abbreviations ("e.g.", "i.e.",
    "vs.", ...), "etc." not followed by a capital, and initials ("J."). A block with no such word (a title,
    an intro ending in ":") is the sentence whole. A document that starts with a list item gives that item
    without its marker.
    """
    if not isinstance(document, str):
        raise invalid_type("document", "a str", document)
    lines = document.strip().splitlines()
    block: list[str] = []
    for i, line in enumerate(lines):
        if not line.strip() or (i and BULLET.match(line)):
            break
        block.append(BULLET.sub("", line) if i == 0 else line)
    words = " ".join(block).split()
    for i, word in enumerate(words):
        if SENTENCE_END.search(word) and _ends_sentence(word, words[i + 1] if i + 1 < len(words) else ""):
            return " ".join(words[: i + 1])
    return " ".join(words)


def _ends_sentence(word: str, following: str) -> bool:
    w = word.lower()
    if w in NEVER_ENDS or (len(word) == 2 and word[0].isupper() and word[1] == "."):  # an initial: "J."
        return False
    return w not in ENDS_BEFORE_CAPITAL or following[:1].isupper()


def best_lead_k(
    documents: Sequence[str],
    references: Sequence[str],
    ks: Iterable[int] = range(1, 21),
    *,
    use_stemmer: bool = True,
) -> tuple[int, dict[int, dict[str, float]]]:
    """The number of lead words whose ROUGE is best, for tuning the lead-k baseline on a validation split.

    The criterion is the mean of the three mean F1s, ``(R1 + R2 + RL) / 3``, so no one n-gram order decides
    alone; ties go to the smaller k.

    Returns:
        ``(k, scores)``: the best k, and for every k tried its :func:`rouge_scores` dict.
    """
    ks = sorted({check_int(k, "ks", low=1) for k in check_iterable(ks, "ks", "an iterable of ints >= 1")})
    if not ks:
        raise invalid_value("ks", "at least one k", ks)
    documents, references = _check_pairs(documents, references, names=("documents", "references"))
    scores = {k: rouge_scores([lead_words(d, k) for d in documents], references, use_stemmer=use_stemmer) for k in ks}
    best = max(ks, key=lambda k: (sum(scores[k].values()), -k))
    return best, scores


def _check_pairs(
    a: Sequence[str], b: Sequence[str], names: tuple[str, str] = ("predictions", "references")
) -> tuple[list[str], list[str]]:
    lists = []
    for name, texts in zip(names, (a, b)):
        items = check_iterable(texts, name, "a sequence of str")
        for i, t in enumerate(items):
            if not isinstance(t, str):
                raise invalid_type(f"{name}[{i}]", "a str", t)
        lists.append(items)
    if len(lists[0]) != len(lists[1]):
        raise ValueError(f"Invalid value for `{names[1]}`: expected one text per entry of `{names[0]}` "
                         f"({len(lists[0])}). Received: {len(lists[1])} texts")  # fmt: skip
    if not lists[0]:
        raise invalid_value(names[0], "at least one text", lists[0])
    return lists[0], lists[1]


@functools.cache
def _scorer(use_stemmer: bool) -> Any:
    """A RougeScorer whose Porter stems are memoized: the same scores, 3x faster on repeated words."""
    rouge_scorer = require("rouge_score.rouge_scorer", "ROUGE")
    tokenize = require("rouge_score.tokenize", "ROUGE")
    tokenizers = require("rouge_score.tokenizers", "ROUGE")
    stemmer = _MemoStemmer(require("nltk.stem.porter", "ROUGE").PorterStemmer()) if use_stemmer else None

    class Tokenizer(tokenizers.Tokenizer):  # type: ignore[name-defined]  # rouge-score's extension point
        def tokenize(self, text: str) -> list[str]:
            return list(tokenize.tokenize(text, stemmer))

    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), tokenizer=Tokenizer())


class _MemoStemmer:
    def __init__(self, stemmer: Any) -> None:
        self.stem = functools.lru_cache(maxsize=1 << 18)(stemmer.stem)
