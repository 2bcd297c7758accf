"""The descriptions as datasets (data/debian_tasks.py, data/summaries.summary_pairs)."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn.data import (
    DOC_SEPARATOR,
    DebianRecord,
    DocumentSummary,
    char_corpus,
    char_vocab,
    section_dataset,
    split_descriptions,
    summary_pairs,
)
from scratchnn.data.debian_tasks import tokenize

RECORDS = [
    DebianRecord("a", "Alpha tool", "First text.\n\nSecond paragraph.", "utils"),
    DebianRecord("a-doc", "Alpha docs", "First text.\n\nSecond paragraph.", "doc"),  # same text, once in the corpus
    DebianRecord("b", "Beta", "", "utils"),
    DebianRecord("c", "Gamma", "Ünïcode text.", "misc"),
]


def test_char_corpus_holds_each_description_once_with_a_separator() -> None:
    text = char_corpus(RECORDS)
    assert text == "First text.\n\nSecond paragraph." + DOC_SEPARATOR + "Ünïcode text." + DOC_SEPARATOR
    assert char_corpus(RECORDS, separator="\n\n\n").split("\n\n\n") == [
        "First text.\n\nSecond paragraph.",
        "Ünïcode text.",
        "",
    ]
    assert char_corpus([]) == ""
    with pytest.raises(
        ValueError, match=r"Invalid value for `separator`: expected a string no description contains \(a's does\)"
    ):
        char_corpus(RECORDS, separator="text")
    with pytest.raises(ValueError, match="Invalid value for `separator`: expected a non-empty str"):
        char_corpus(RECORDS, separator="")


def test_char_vocab_maps_rare_characters_to_unk() -> None:
    text = "aaab" + "c" * 5 + DOC_SEPARATOR * 2
    vocab = char_vocab(text, min_count=2)
    assert vocab.tokens == ("<unk>", "c", "a", DOC_SEPARATOR)  # by frequency after <unk>; b seen once
    ids = vocab.encode("abcz")
    assert ids.tolist() == [2, 0, 1, 0] and ids.dtype == np.int64
    assert "".join(vocab.decode(vocab.encode("cab"))) == "ca<unk>"
    assert len(char_vocab(text)) == 5


def test_section_dataset_pads_synopses_and_labels_the_top_sections() -> None:
    rng = np.random.default_rng(0)
    sections = ["libs"] * 60 + ["python"] * 40 + ["games"] * 20 + ["rare"] * 3 + ["unknown"] * 90
    records = [
        DebianRecord(f"p{i}", f"{s} thing number {int(rng.integers(1000))}", f"Text of package {i}.", s)
        for i, s in enumerate(sections)
    ]
    records.append(DebianRecord("q", "Zzyzx only in one", "A text of its own.", "libs"))
    data = section_dataset(records, top_k=3, level="word")
    assert data.classes == ("libs", "python", "games")  # "unknown" is frequent but never a class
    splits = split_descriptions(records)
    for part, split in zip((data.train, data.val, data.test), splits):
        kept = [r for r in split if r.section in data.classes]
        assert part.x.shape[0] == part.lengths.shape[0] == part.y.shape[0] == len(kept)
        assert part.x.dtype == part.lengths.dtype == part.y.dtype == np.int64
        assert [data.classes[y] for y in part.y] == [r.section for r in kept]
        for row, n, r in zip(part.x, part.lengths, kept):
            assert n == len(tokenize(r.synopsis, "word")) and (row[n:] == data.vocab.pad_id).all()
            words = [w if w in data.vocab.index else "<unk>" for w in tokenize(r.synopsis, "word")]
            assert data.vocab.decode(row[:n]) == words
        assert part.x.shape[1] == max(part.lengths.max(initial=0), 1)
    train_words = {w for r in splits.train for w in tokenize(r.synopsis, "word") if r.section in data.classes}
    assert set(data.vocab.tokens) == {"<pad>", "<unk>"} | train_words  # built on train only
    assert data.vocab.tokens[:2] == ("<pad>", "<unk>") and data.vocab.pad_id == 0


def test_char_level_keeps_case_and_max_len_cuts() -> None:
    records = [DebianRecord(f"p{i}", "AbC" * (i + 2), f"Text {i}.", "libs") for i in range(30)]
    data = section_dataset(records, top_k=5, level="char", max_len=4)
    assert data.classes == ("libs",) and set(data.vocab.tokens) == {"<pad>", "<unk>", "A", "b", "C"}
    assert data.train.x.shape == (len(data.train.y), 4) and (data.train.lengths == 4).all()
    assert "".join(data.vocab.decode(data.train.x[0])) == "AbCA"


def test_section_dataset_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="Invalid value for `level`"):
        section_dataset(RECORDS, level="byte")
    with pytest.raises(ValueError, match="Invalid value for `top_k`: expected an int >= 1. Received: top_k=0"):
        section_dataset(RECORDS, top_k=0)
    with pytest.raises(ValueError, match="Invalid value for `max_len`"):
        section_dataset(RECORDS, max_len=0)


def test_summary_pairs_are_description_to_synopsis() -> None:
    pairs = summary_pairs(RECORDS)
    assert pairs == [
        DocumentSummary("First text.\n\nSecond paragraph.", "Alpha tool"),
        DocumentSummary("First text.\n\nSecond paragraph.", "Alpha docs"),
        DocumentSummary("Ünïcode text.", "Gamma"),  # b has no long description
    ]
    assert pairs[0].document == pairs[0][0]
