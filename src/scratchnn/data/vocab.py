"""Token <-> id maps for text: characters or words, special tokens first, rare tokens as ``<unk>``.

    vocab = Vocab.build([list(text)], min_count=5, specials=(UNK,))   # a character vocabulary
    ids = vocab.encode(text)                                           # (T,) int64
    "".join(vocab.decode(ids))

Saved as JSON (``{"format": ..., "tokens": [...], "unk": "<unk>"}``), never pickle.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .._validate import check_int, invalid_type, invalid_value

# the spellings of the special tokens, shared with scratchnn.text.BPETokenizer (which adds BOS and EOS)
PAD = "<pad>"
UNK = "<unk>"
BOS = "<bos>"
EOS = "<eos>"
VOCAB_FORMAT = "scratchnn.vocab"


class Vocab:
    """A fixed list of tokens: id ``i`` is ``tokens[i]``; tokens not in the list encode as ``unk``.

    Args:
        tokens: the tokens in id order, no repeats; specials (``<pad>``, ``<unk>``) are ordinary entries.
        unk: the token that unknown tokens map to; must be in ``tokens``.
    """

    def __init__(self, tokens: Sequence[str], unk: str = UNK) -> None:
        if isinstance(tokens, str) or not all(isinstance(t, str) for t in tokens):
            raise invalid_type("tokens", "a sequence of str", tokens)
        self.tokens: tuple[str, ...] = tuple(tokens)
        self.index: dict[str, int] = {t: i for i, t in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            repeated = sorted(t for t, n in Counter(self.tokens).items() if n > 1)
            raise invalid_value("tokens", f"distinct tokens (repeated: {repeated[:5]})", tokens)
        if unk not in self.index:
            raise invalid_value("unk", "one of `tokens`", unk)
        self.unk = unk
        self.unk_id = self.index[unk]
        self.pad_id: int | None = self.index.get(PAD)
        # the one-character tokens by code point, for encoding a str in one vectorized lookup
        singles = sorted((ord(t), i) for i, t in enumerate(self.tokens) if len(t) == 1)
        self._codes = np.array([c for c, _ in singles], dtype=np.uint32)
        self._code_ids = np.array([i for _, i in singles], dtype=np.int64)

    @classmethod
    def build(cls, sequences: Iterable[Iterable[str]], *, min_count: int = 1,
              specials: Sequence[str] = (PAD, UNK)) -> Vocab:  # fmt: skip
        """The specials, then every token seen at least ``min_count`` times, most frequent first (ties by token).

        Rarer tokens are left out and encode as ``<unk>``, which must be among ``specials``.
        """
        min_count = check_int(min_count, "min_count", low=1)
        if UNK not in specials:
            raise invalid_value("specials", f"a sequence that includes {UNK!r}", specials)
        counts: Counter[str] = Counter()
        for seq in sequences:
            counts.update(seq)
        kept = sorted((t for t, n in counts.items() if n >= min_count and t not in specials),
                      key=lambda t: (-counts[t], t))  # fmt: skip
        return cls([*specials, *kept], unk=UNK)

    def __len__(self) -> int:
        return len(self.tokens)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and (self.tokens, self.unk) == (other.tokens, other.unk)

    __hash__ = None  # type: ignore[assignment]  # mutable-looking container: not a dict key

    def __repr__(self) -> str:
        return f"Vocab({len(self)} tokens, unk={self.unk!r})"

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Ids of ``tokens`` (a ``str`` is its characters) as an int64 array of shape (T,)."""
        if isinstance(tokens, str):
            return self._encode_chars(tokens)
        return np.array([self.index.get(t, self.unk_id) for t in tokens], dtype=np.int64)

    def decode(self, ids: Iterable[int] | np.ndarray) -> list[str]:
        """The tokens of ``ids``; join them with ``""`` (characters) or ``" "`` (words)."""
        ids = np.asarray(ids)
        if ids.ndim != 1 or (ids.size and ids.dtype.kind not in "iu"):
            raise invalid_value("ids", "a 1-D sequence of integer ids", ids)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise invalid_value("ids", f"ids in [0, {len(self)})", ids)
        return [self.tokens[i] for i in ids.tolist()]

    def _encode_chars(self, text: str) -> np.ndarray:
        # one vectorized lookup instead of a dict lookup per character (the corpus is ~30 M characters)
        points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)  # (T,)
        if not self._codes.size:
            return np.full(points.shape, self.unk_id, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._codes, points), self._codes.size - 1)  # (T,)
        return np.where(self._codes[at] == points, self._code_ids[at], self.unk_id)  # (T,)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the vocabulary as JSON."""
        data = {"format": VOCAB_FORMAT, "tokens": list(self.tokens), "unk": self.unk}
        Path(path).write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Vocab:
        """Read a vocabulary written by :meth:`save`."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path} is not a scratchnn vocabulary: not valid JSON ({e.msg}, line {e.lineno})") from e
        if not isinstance(data, dict) or data.get("format") != VOCAB_FORMAT or "tokens" not in data:
            raise ValueError(f'{path} is not a scratchnn vocabulary (no "format": "{VOCAB_FORMAT}" with tokens)')
        return cls(data["tokens"], unk=data.get("unk", UNK))
