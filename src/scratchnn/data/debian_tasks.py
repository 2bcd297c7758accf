"""The package descriptions as datasets: a character corpus, synopsis -> section classification.

    train, val, test = split_descriptions(load_debian_descriptions())
    text = char_corpus(train)                  # documents joined by DOC_SEPARATOR
    vocab = char_vocab(text, min_count=5)      # characters seen < 5 times become <unk>

    data = section_dataset(records, top_k=10, level="word")
    data.train.x, data.train.lengths, data.train.y, data.classes, data.vocab

The description -> synopsis pairs for summarization are :func:`scratchnn.data.summaries.summary_pairs`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .._validate import check_choice, check_int, invalid_value
from .debian import UNKNOWN_SECTION, DebianRecord
from .debian_split import split_descriptions
from .vocab import PAD, UNK, Vocab

# ASCII's record separator: one character the descriptions never contain, so a character model learns
# where a document ends and sampling can stop there
DOC_SEPARATOR = "\x1e"
_WORD = re.compile(r"\w+|[^\w\s]")


def char_corpus(records: Sequence[DebianRecord], separator: str = DOC_SEPARATOR) -> str:
    """The long descriptions as one text, each followed by ``separator``, for a character language model.

    Each distinct description appears once, in record order (a family's shared text would otherwise
    weigh as many times as it has packages); records without a long description are left out.
    """
    if not isinstance(separator, str) or not separator:
        raise invalid_value("separator", "a non-empty str", separator)
    seen: dict[str, None] = {}
    for r in records:
        if r.description:
            if separator in r.description:
                raise invalid_value("separator", f"a string no description contains ({r.package}'s does)", separator)
            seen.setdefault(r.description)
    return "".join(d + separator for d in seen)


def char_vocab(text: str, min_count: int = 1) -> Vocab:
    """Every character of ``text`` seen at least ``min_count`` times, after ``<unk>`` (id 0) for the rest."""
    return Vocab.build([text], min_count=min_count, specials=(UNK,))


def tokenize(text: str, level: str) -> list[str]:
    """``"char"``: the characters, case kept; ``"word"``: lower-cased words and punctuation marks."""
    return list(text) if level == "char" else _WORD.findall(text.lower())


class SectionSplit(NamedTuple):
    """Padded synopses with their section labels.

    Shape:
        x: (N, T) int64 token ids, padded with ``vocab.pad_id`` (0) after each synopsis
        lengths: (N,) int64, the number of real tokens of each row
        y: (N,) int64 indices into ``classes``
    """

    x: np.ndarray
    lengths: np.ndarray
    y: np.ndarray


class SectionDataset(NamedTuple):
    """``train``/``val``/``test`` splits, the vocabulary (built on train) and the class names by frequency."""

    train: SectionSplit
    val: SectionSplit
    test: SectionSplit
    vocab: Vocab
    classes: tuple[str, ...]


def section_dataset(
    records: Sequence[DebianRecord],
    top_k: int = 10,
    level: str = "char",
    *,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    min_count: int = 1,
    max_len: int | None = None,
) -> SectionDataset:
    """Synopsis -> section classification over the ``top_k`` most common sections.

    The records are split with :func:`split_descriptions` (``fractions``, ``seed``); the classes are the
    ``top_k`` sections most frequent in train (ties by name; ``"unknown"`` is never a class), and records
    of other sections are dropped from every split. The vocabulary (``<pad>`` = 0, ``<unk>`` = 1, then
    tokens seen ``min_count`` times in train) is built on train only.

    Args:
        level: ``"char"`` (characters, case kept) or ``"word"`` (lower-cased words and punctuation).
        max_len: cut synopses to this many tokens; ``None`` pads to the longest synopsis of each split.
    """
    top_k = check_int(top_k, "top_k", low=1)
    level = check_choice(level, "level", ("char", "word"))
    if max_len is not None:
        max_len = check_int(max_len, "max_len", low=1)
    splits = split_descriptions(records, fractions, seed)
    counts = Counter(r.section for r in splits.train if r.section != UNKNOWN_SECTION)
    classes = tuple(sorted(counts, key=lambda s: (-counts[s], s))[:top_k])
    label = {s: i for i, s in enumerate(classes)}
    kept = [[r for r in part if r.section in label] for part in splits]
    vocab = Vocab.build((tokenize(r.synopsis, level) for r in kept[0]), min_count=min_count, specials=(PAD, UNK))
    train, val, test = (_pad(part, vocab, label, level, max_len) for part in kept)
    return SectionDataset(train, val, test, vocab, classes)


def _pad(
    records: list[DebianRecord], vocab: Vocab, label: dict[str, int], level: str, max_len: int | None
) -> SectionSplit:
    seqs = [vocab.encode(tokenize(r.synopsis, level))[:max_len] for r in records]
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)  # (N,)
    width = max_len if max_len is not None else max(int(lengths.max(initial=0)), 1)
    x = np.full((len(seqs), width), vocab.pad_id, dtype=np.int64)  # (N, T)
    for i, s in enumerate(seqs):
        x[i, : len(s)] = s
    y = np.array([label[r.section] for r in records], dtype=np.int64)  # (N,)
    return SectionSplit(x, lengths, y)
