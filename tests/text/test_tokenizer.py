"""Byte-level BPE through ``tokenizers`` (text/tokenizer.py): round trips, fixed special ids, files, bad input."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scratchnn.text import BPETokenizer

SENTENCES = [
    "The cat sat on the mat.",
    "The dog sat on the log, and the cat sat on the dog.",
    "A library for the Haskell programming language.\n\nThis package contains the documentation.",
    "Real-time strategy game of ancient warfare",
    "  two spaces, a tab\tand a trailing newline\n",
]


@pytest.fixture(scope="module")
def tok() -> BPETokenizer:
    return BPETokenizer.train(SENTENCES, vocab_size=300, min_frequency=2)


def test_round_trip_is_exact_for_text_in_the_training_alphabet(tok: BPETokenizer) -> None:
    for s in [*SENTENCES, "The mat sat on the cat.", "dog\n\ncat", " the", ""]:
        assert tok.decode(tok.encode(s)) == s
    assert tok.encode("") == []


def test_merges_are_learned_and_the_vocabulary_is_bounded(tok: BPETokenizer) -> None:
    # 260 = 4 specials + 256 bytes; "the" and " sat" occur often enough to be merged into single tokens
    assert 260 < tok.vocab_size <= 300 and len(tok) == tok.vocab_size
    text = "The cat sat on the mat."
    assert len(tok.encode(text)) < len(text.encode())
    assert len(tok.encode(" sat")) == 1


def test_special_tokens_have_fixed_ids_and_are_skipped_when_decoding(tok: BPETokenizer) -> None:
    assert (tok.pad_id, tok.bos_id, tok.eos_id, tok.unk_id) == (0, 1, 2, 3)
    assert tok.decode([0, 1, 2, 3], skip_special_tokens=False) == "<pad><bos><eos><unk>"
    ids = tok.encode("the cat")
    assert tok.decode([1, *ids, 2, 0, 0]) == "the cat"
    assert tok.decode(np.array([1, *ids, 2, 0], dtype=np.int64)) == "the cat"  # an array row works too


def test_special_tokens_written_in_the_text_stay_text(tok: BPETokenizer) -> None:
    s = "end with <eos> and <pad>"
    ids = tok.encode(s)
    assert not {0, 1, 2, 3} & set(ids)
    assert tok.decode(ids) == s


def test_unseen_characters_become_their_utf8_bytes_never_unk(tok: BPETokenizer) -> None:
    for ch in ["é", "☃", "漢", "😀"]:
        ids = tok.encode(ch)
        assert len(ids) == len(ch.encode("utf-8")) and tok.unk_id not in ids  # one token per byte
        assert tok.decode(ids) == ch
    s = "naïve café ☃ the cat"
    assert tok.decode(tok.encode(s)) == s
    # a sequence cut inside a character (a model may generate one) decodes with U+FFFD there
    assert tok.decode(tok.encode("☃")[:2]) == "\ufffd"


def test_encode_batch_and_decode_batch_agree_with_one_at_a_time(tok: BPETokenizer) -> None:
    batch = tok.encode_batch(SENTENCES)
    assert batch == [tok.encode(s) for s in SENTENCES]
    rows = np.zeros((2, 12), dtype=np.int64)  # (N, T) padded with <pad> = 0
    for i, s in enumerate(["the cat", "on the mat"]):
        ids = tok.encode(s)
        rows[i, : len(ids)] = ids
    assert tok.decode_batch(rows) == ["the cat", "on the mat"]
    assert tok.encode_batch([]) == [] and tok.decode_batch([]) == []


def test_training_is_deterministic_across_processes(tok: BPETokenizer) -> None:
    again = BPETokenizer.train(list(SENTENCES), vocab_size=300, min_frequency=2)
    assert again == tok and again.to_json() == tok.to_json()
    # a fresh interpreter has other hash seeds (Python's and the Rust library's): the same file still
    code = (
        "import hashlib, json, sys; from scratchnn.text import BPETokenizer; "
        "t = BPETokenizer.train(json.loads(sys.argv[1]), vocab_size=300, min_frequency=2); "
        "print(hashlib.sha256(t.to_json().encode()).hexdigest())"
    )
    out = subprocess.run([sys.executable, "-c", code, json.dumps(SENTENCES)], capture_output=True, text=True,
                         check=True, timeout=300)  # fmt: skip
    assert out.stdout.strip() == hashlib.sha256(tok.to_json().encode()).hexdigest()
    other = BPETokenizer.train(SENTENCES, vocab_size=280, min_frequency=2)
    assert other != tok and other.vocab_size == 280


def test_save_and_load_give_identical_encodings(tok: BPETokenizer, tmp_path: Path) -> None:
    path = tok.save(tmp_path / "tokenizer.json")
    assert path == tmp_path / "tokenizer.json"
    assert json.loads(path.read_text(encoding="utf-8"))["model"]["type"] == "BPE"  # the library's JSON format
    loaded = BPETokenizer.load(path)
    assert loaded == tok and loaded.vocab_size == tok.vocab_size
    for s in [*SENTENCES, "naïve <eos> ☃"]:
        assert loaded.encode(s) == tok.encode(s)
    assert loaded.encode("<eos>") != [2]  # literal specials stay text after loading, too
    assert [p.name for p in tmp_path.iterdir()] == ["tokenizer.json"]  # no temporary file left behind


def test_save_never_replaces_a_file_unless_told(tok: BPETokenizer, tmp_path: Path) -> None:
    path = tmp_path / "tokenizer.json"
    path.write_text("the user's file", encoding="utf-8")
    with pytest.raises(FileExistsError, match="pass overwrite=True"):
        tok.save(path)
    assert path.read_text(encoding="utf-8") == "the user's file"
    tok.save(path, overwrite=True)
    assert BPETokenizer.load(path) == tok
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokenizer.json"]


def test_load_refuses_files_that_are_not_our_tokenizer(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="is not a tokenizers JSON file"):
        BPETokenizer.load(bad)
    import tokenizers

    other = tokenizers.Tokenizer(tokenizers.models.BPE(unk_token="[UNK]"))
    other.add_special_tokens(["[UNK]", "[PAD]"])
    (tmp_path / "other.json").write_text(other.to_str(), encoding="utf-8")
    with pytest.raises(ValueError, match=r"is not a scratchnn BPE tokenizer: Invalid value for `tokenizer`"):
        BPETokenizer.load(tmp_path / "other.json")
    with pytest.raises(FileNotFoundError):
        BPETokenizer.load(tmp_path / "missing.json")


def test_bad_arguments_name_the_argument(tok: BPETokenizer) -> None:
    with pytest.raises(ValueError, match=r"Invalid value for `vocab_size`: expected an int >= 260\. Received: vocab_"):
        BPETokenizer.train(SENTENCES, vocab_size=3)
    with pytest.raises(ValueError, match="`vocab_size`"):
        BPETokenizer.train(SENTENCES, vocab_size=259)  # room for the specials but not for all 256 bytes
    with pytest.raises(TypeError, match="`vocab_size`"):
        BPETokenizer.train(SENTENCES, vocab_size=300.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`min_frequency`"):
        BPETokenizer.train(SENTENCES, vocab_size=300, min_frequency=0)
    expected = r"Invalid type for `texts\[1\]`: expected a str\. Received: texts\[1\] of type int"
    with pytest.raises(TypeError, match=expected):
        BPETokenizer.train(["a text", 5])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="Invalid type for `texts`: expected an iterable of str"):
        BPETokenizer.train("one string is not a corpus")
    with pytest.raises(ValueError, match="Invalid value for `texts`: expected at least one text"):
        BPETokenizer.train([])
    with pytest.raises(TypeError, match="Invalid type for `text`: expected a str. Received: text of type bytes"):
        tok.encode(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"`texts\[0\]`"):
        tok.encode_batch([None])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=rf"Invalid value for `ids`: expected token ids in \[0, {tok.vocab_size}\)"):
        tok.decode([5, tok.vocab_size])
    with pytest.raises(ValueError, match="`ids`: expected token ids"):
        tok.decode([-1])
    with pytest.raises(ValueError, match="`ids`: expected a 1-D sequence of integer token ids"):
        tok.decode(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"`rows\[1\]`"):
        tok.decode_batch([[5], [[5]]])
    with pytest.raises(TypeError, match="`skip_special_tokens`"):
        tok.decode([5], skip_special_tokens="no")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`tokenizer`: expected a tokenizers.Tokenizer"):
        BPETokenizer("tokenizer.json")  # type: ignore[arg-type]
