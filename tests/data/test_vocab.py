"""Token <-> id maps (data/vocab.py): building, encoding, decoding, JSON files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scratchnn.data import Vocab


def test_build_puts_specials_first_then_tokens_by_frequency() -> None:
    vocab = Vocab.build([["b", "a", "c"], ["a", "b", "a", "<unk>"], ["d"]], min_count=2)
    assert vocab.tokens == ("<pad>", "<unk>", "a", "b")  # c and d seen once; a specials' count is ignored
    assert (vocab.pad_id, vocab.unk_id, len(vocab)) == (0, 1, 4)
    assert Vocab.build([["y", "x"]]).tokens == ("<pad>", "<unk>", "x", "y")  # ties by token


def test_word_encoding_and_decoding_round_trip() -> None:
    vocab = Vocab(["<pad>", "<unk>", "hello", "world"])
    ids = vocab.encode(["hello", "there", "world"])
    assert ids.tolist() == [2, 1, 3] and ids.dtype == np.int64
    assert vocab.decode(ids) == ["hello", "<unk>", "world"]
    assert vocab.encode([]).shape == (0,) and vocab.decode([]) == []


def test_encoding_a_string_matches_a_lookup_per_character() -> None:
    # a str is encoded in one vectorized lookup; it must agree with the plain per-character map
    rng = np.random.default_rng(0)
    alphabet = list("abcxyz \n.é漢\x1e") + ["<sep>"]
    vocab = Vocab(["<unk>", *alphabet[::2]])
    text = "".join(rng.choice(list("abcxyz \n.é漢\x1e😀"), size=5000))
    expected = [vocab.index.get(ch, vocab.unk_id) for ch in text]
    assert vocab.encode(text).tolist() == expected
    assert Vocab(["<unk>", "word"]).encode("wo").tolist() == [0, 0]  # no one-character tokens


def test_save_and_load_is_plain_json(tmp_path: Path) -> None:
    vocab = Vocab(["<pad>", "<unk>", "é", "\x1e", "word"])
    vocab.save(tmp_path / "vocab.json")
    data = json.loads((tmp_path / "vocab.json").read_text(encoding="utf-8"))
    assert data == {"format": "scratchnn.vocab", "tokens": ["<pad>", "<unk>", "é", "\x1e", "word"], "unk": "<unk>"}
    loaded = Vocab.load(tmp_path / "vocab.json")
    assert loaded == vocab and loaded.tokens == vocab.tokens and loaded.pad_id == 0


def test_bad_vocabularies_and_ids_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"Invalid value for `tokens`: expected distinct tokens \(repeated: \['a'\]\)"):
        Vocab(["<unk>", "a", "a"])
    with pytest.raises(ValueError, match="Invalid value for `unk`: expected one of `tokens`"):
        Vocab(["a"])
    with pytest.raises(TypeError, match="Invalid type for `tokens`"):
        Vocab("abc")
    with pytest.raises(ValueError, match="Invalid value for `specials`: expected a sequence that includes '<unk>'"):
        Vocab.build([["a"]], specials=("<pad>",))
    with pytest.raises(ValueError, match="Invalid value for `min_count`"):
        Vocab.build([["a"]], min_count=0)
    vocab = Vocab(["<unk>", "a"])
    with pytest.raises(ValueError, match=r"Invalid value for `ids`: expected ids in \[0, 2\)"):
        vocab.decode([0, 2])
    with pytest.raises(ValueError, match="Invalid value for `ids`: expected a 1-D sequence of integer ids"):
        vocab.decode(np.zeros((2, 2), dtype=np.int64))
    (tmp_path / "other.json").write_text('{"tokens": ["a"]}')
    with pytest.raises(ValueError, match="other.json is not a scratchnn vocabulary"):
        Vocab.load(tmp_path / "other.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ValueError, match="broken.json is not a scratchnn vocabulary: not valid JSON"):
        Vocab.load(tmp_path / "broken.json")
