"""Subword tokens for the summarizer: byte-level BPE trained with the ``tokenizers`` library (the ``text`` extra).

    tok = BPETokenizer.train(documents + summaries, vocab_size=8000)   # on the training split only
    ids = tok.encode("Real-time strategy game")                        # list[int]
    tok.decode(ids) == "Real-time strategy game"
    tok.save(run / "tokenizer.json"); BPETokenizer.load(run / "tokenizer.json")

Why byte-level BPE (GPT-2, RoBERTa, BART): the base alphabet is the 256 byte values, so every string encodes
without an unknown token and ``decode(encode(s)) == s`` for any ``s`` -- spaces, newlines, capitals and
punctuation come back exactly, which a whitespace pre-tokenizer (``"Hello , world"``) cannot promise.
Characters never seen in training (``é``, ``☃``) become their UTF-8 bytes, one token each; ``<unk>`` keeps
its id but ``encode`` never produces it. A decoded sequence that ends inside a character (a model can
generate any ids) shows U+FFFD there. Special tokens written literally in the text (``"<eos>"``) are
encoded as text, not as the special id, so no document can inject an end of sequence.

The special tokens have fixed ids: ``<pad>`` 0, ``<bos>`` 1, ``<eos>`` 2, ``<unk>`` 3 (the spellings of
:mod:`scratchnn.data.vocab`). The file is the ``tokenizers`` JSON format, so ``tokenizers.Tokenizer.from_file``
(and Hugging Face's ``PreTrainedTokenizerFast``) read it too.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .._validate import check_bool, check_int, invalid_type, invalid_value
from ..data.download import publish_new_file
from ..data.vocab import BOS, EOS, PAD, UNK
from ._optional import require

if TYPE_CHECKING:
    import tokenizers

SPECIAL_TOKENS = (PAD, BOS, EOS, UNK)  # their ids are their positions: 0, 1, 2, 3
BYTE_ALPHABET = 256
MIN_VOCAB_SIZE = len(SPECIAL_TOKENS) + BYTE_ALPHABET


class BPETokenizer:
    """A trained byte-level BPE tokenizer with the special tokens at ids 0..3.

    Build one with :meth:`train` or :meth:`load`; the constructor wraps a ``tokenizers.Tokenizer`` that has
    them (and raises ``ValueError`` otherwise).
    """

    pad_id = 0
    bos_id = 1
    eos_id = 2
    unk_id = 3

    def __init__(self, tokenizer: tokenizers.Tokenizer) -> None:
        tk = require("tokenizers", "BPETokenizer")
        if not isinstance(tokenizer, tk.Tokenizer):
            raise invalid_type("tokenizer", "a tokenizers.Tokenizer", tokenizer)
        found = {t: tokenizer.token_to_id(t) for t in SPECIAL_TOKENS}
        if any(found[t] != i for i, t in enumerate(SPECIAL_TOKENS)):
            raise invalid_value("tokenizer", f"a tokenizer with {SPECIAL_TOKENS} at ids 0..3", found)
        tokenizer.encode_special_tokens = True  # "<eos>" in a text is text (not saved in the file: set on load)
        self._tok = tokenizer

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int = 8000, min_frequency: int = 2) -> BPETokenizer:
        """Learn merges on ``texts`` until the vocabulary has ``vocab_size`` tokens (or no pair is frequent enough).

        Args:
            texts: the training texts (documents and summaries of the training split, never val/test).
            vocab_size: the most tokens, specials and the 256 bytes included (so at least 260).
            min_frequency: a pair seen fewer times is never merged.

        The same texts in the same order give the same tokenizer (the same file, byte for byte).
        """
        vocab_size = check_int(vocab_size, "vocab_size", low=MIN_VOCAB_SIZE)
        min_frequency = check_int(min_frequency, "min_frequency", low=1)
        texts = _check_texts(texts, "texts")
        if not texts:
            raise invalid_value("texts", "at least one text to learn merges from", texts)
        tk = require("tokenizers", "BPETokenizer.train")
        tokenizer = tk.Tokenizer(tk.models.BPE(unk_token=UNK))
        # no prefix space: the first word of a text keeps its bytes, so decode(encode(s)) == s exactly
        tokenizer.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = tk.decoders.ByteLevel()
        trainer = tk.trainers.BpeTrainer(
            vocab_size=vocab_size,
            min_frequency=min_frequency,
            special_tokens=list(SPECIAL_TOKENS),
            initial_alphabet=tk.pre_tokenizers.ByteLevel.alphabet(),  # all 256 bytes, seen or not
            show_progress=False,
        )
        tokenizer.train_from_iterator(texts, trainer=trainer)
        return cls(tokenizer)

    @property
    def vocab_size(self) -> int:
        """The number of token ids, specials included: ids are in ``[0, vocab_size)``."""
        return int(self._tok.get_vocab_size(with_added_tokens=True))

    def __len__(self) -> int:
        return self.vocab_size

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BPETokenizer) and self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"BPETokenizer(vocab_size={self.vocab_size})"

    def to_json(self) -> str:
        """The tokenizer as the ``tokenizers`` JSON text that :meth:`save` writes."""
        return str(self._tok.to_str())

    def encode(self, text: str) -> list[int]:
        """The token ids of ``text``, with no special token added."""
        if not isinstance(text, str):
            raise invalid_type("text", "a str", text)
        return list(self._tok.encode(text, add_special_tokens=False).ids)

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """:meth:`encode` of each text, in order (the library encodes them on several threads)."""
        texts = _check_texts(texts, "texts")
        return [list(e.ids) for e in self._tok.encode_batch_fast(texts, add_special_tokens=False)]

    def decode(self, ids: Sequence[int] | np.ndarray, skip_special_tokens: bool = True) -> str:
        """The text of ``ids``; ``skip_special_tokens`` drops ``<pad>``, ``<bos>``, ``<eos>`` and ``<unk>``.

        Raises ``ValueError`` for an id outside ``[0, vocab_size)`` (the library would drop it silently).
        """
        skip = check_bool(skip_special_tokens, "skip_special_tokens")
        return str(self._tok.decode(self._check_ids(ids, "ids"), skip_special_tokens=skip))

    def decode_batch(self, rows: Iterable[Sequence[int] | np.ndarray], skip_special_tokens: bool = True) -> list[str]:
        """:meth:`decode` of each row (a list of id lists, or the rows of an (N, T) array)."""
        skip = check_bool(skip_special_tokens, "skip_special_tokens")
        checked = [self._check_ids(r, f"rows[{i}]") for i, r in enumerate(rows)]
        return [str(t) for t in self._tok.decode_batch(checked, skip_special_tokens=skip)]

    def _check_ids(self, ids: Sequence[int] | np.ndarray, name: str) -> list[int]:
        arr = np.asarray(ids)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise invalid_value(name, "a 1-D sequence of integer token ids", ids)
        if arr.size and (arr.min() < 0 or arr.max() >= self.vocab_size):
            raise invalid_value(name, f"token ids in [0, {self.vocab_size})", ids)
        return [int(i) for i in arr.tolist()]

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the tokenizer as one JSON file and return its path.

        An existing file is never replaced unless ``overwrite=True`` (``FileExistsError`` otherwise, also when
        the file appears while this one is written); the file appears whole or not at all.
        """
        overwrite = check_bool(overwrite, "overwrite")
        path = Path(path)
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it.")
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(self.to_json() + "\n")
            if overwrite:
                os.replace(tmp, path)
            else:
                publish_new_file(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BPETokenizer:
        """Read a tokenizer that :meth:`save` wrote (``FileNotFoundError`` if absent, ``ValueError`` if not one)."""
        tk = require("tokenizers", "BPETokenizer.load")
        text = Path(path).read_text(encoding="utf-8")
        try:
            tokenizer = tk.Tokenizer.from_str(text)
        except Exception as e:  # the library raises a bare Exception for any bad file
            raise ValueError(f"{path} is not a tokenizers JSON file: {e}") from None
        try:
            return cls(tokenizer)
        except ValueError as e:
            raise ValueError(f"{path} is not a scratchnn BPE tokenizer: {e}") from None


def _check_texts(texts: Iterable[str], name: str) -> list[str]:
    if isinstance(texts, (str, bytes)) or not isinstance(texts, Iterable):
        raise invalid_type(name, "an iterable of str", texts)
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise invalid_type(f"{name}[{i}]", "a str", t)
    return texts
