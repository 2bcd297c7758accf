"""The summarizer's data: (document, summary) pairs, their BPE tokenizer, and the fixed-width id arrays the
Trainer batches.

Pairs come from the Debian descriptions (long description -> synopsis, ``data.split_descriptions``'s
leak-free split) or from the user's JSON lines / CSV files: one file split 90/5/5 at random by ``--seed``,
or three files (train, validation, test). The tokenizer is trained on the training documents and
summaries only, and saved in the run folder (``--resume`` reads it back rather than training it again).

Each example becomes one row of ``source_len + target_len`` ids, the truncated document then the
decoder input (start token + summary), padded; its labels are the summary and EOS, padded with
ignore_index (-100). :class:`TeacherForced` splits the row again for the model.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .._validate import invalid_value
from ..nn.module import Module

IGNORE_INDEX = -100


class Corpus(NamedTuple):
    train: list[Any]
    val: list[Any]
    test: list[Any]
    source: str  # what the pairs are, for config.json and the report


def load_pairs(args: argparse.Namespace) -> Corpus:
    """The train, validation and test (document, summary) pairs the flags name."""
    from ..data import load_debian_descriptions, split_descriptions
    from ..data.summaries import load_document_summary_file, summary_pairs

    files = args.data or []
    if not files:
        records = load_debian_descriptions(args.path, lists_dir=args.lists_dir)
        train, val, test = (summary_pairs(part) for part in split_descriptions(records))
        return Corpus(train, val, test, "Debian package descriptions -> synopses (split_descriptions)")
    if len(files) == 3:
        train, val, test = (load_document_summary_file(f) for f in files)
        return Corpus(train, val, test, f"{files[0]}, {files[1]}, {files[2]}")
    if len(files) != 1:
        raise invalid_value("--data", "one file (split 90/5/5) or three (train, validation, test)", files)
    pairs = load_document_summary_file(files[0])
    order = np.random.default_rng([args.seed, 2]).permutation(len(pairs))
    n_val = n_test = max(1, len(pairs) // 20)
    if len(pairs) < 3:
        raise invalid_value("--data", "a file of at least 3 pairs to split", f"{files[0]} with {len(pairs)}")
    parts = np.split(order, [len(pairs) - n_val - n_test, len(pairs) - n_test])
    train, val, test = ([pairs[i] for i in part] for part in parts)
    return Corpus(train, val, test, f"{files[0]} split 90/5/5 (seed {args.seed})")


def tokenizer_for(run_dir: Path, train: list[Any], vocab_size: int) -> Any:
    """The run's tokenizer: ``run_dir/tokenizer.json`` if there (a resumed run), else one trained on the
    training pairs' documents and summaries (the recipe saves it once the run folder is made)."""
    from ..text import BPETokenizer

    path = run_dir / "tokenizer.json"
    if path.exists():
        return BPETokenizer.load(path)
    return BPETokenizer.train([p.document for p in train] + [p.summary for p in train], vocab_size=vocab_size)


def _fixed_width(rows: list[list[int]], width: int, pad_id: int) -> np.ndarray:
    """Rows cut and padded to exactly ``width`` ids. Shape: N rows -> (N, width)."""
    out = np.full((len(rows), width), pad_id, dtype=np.int64)
    for i, row in enumerate(rows):
        row = row[:width]
        out[i, : len(row)] = row
    return out


def encode_sources(tok: Any, documents: list[str], source_len: int) -> np.ndarray:
    """Documents as (N, source_len) ids, truncated (the lead kept) and padded. Shape: N strings -> (N, S)."""
    return _fixed_width(tok.encode_batch(documents), source_len, tok.pad_id)


def encode_pairs(tok: Any, pairs: list[Any], source_len: int, target_len: int) -> tuple[np.ndarray, np.ndarray]:
    """(X, y): X (N, source_len + target_len) = [source | start + summary], y (N, target_len) = summary + EOS,
    the summary cut to target_len - 1 tokens, pads labelled IGNORE_INDEX."""
    from ..text import shift_right

    src = encode_sources(tok, [p.document for p in pairs], source_len)
    summaries = [row[: target_len - 1] + [tok.eos_id] for row in tok.encode_batch([p.summary for p in pairs])]
    labels = _fixed_width(summaries, target_len, IGNORE_INDEX)  # (N, T)
    tgt_in = shift_right(labels, tok.bos_id, tok.pad_id)  # (N, T): start token, then the summary
    return np.concatenate([src, tgt_in], axis=1), labels


class TeacherForced(Module):
    """The Trainer's view of a Seq2SeqTransformer: one id row per example, [source | decoder input], in;
    scores (N, V, T) out, CrossEntropyLoss's layout for labels (N, T) (torch's K-dim form).

    Columns that are padding in every row of the batch are cut before the model runs (a batch of short
    documents costs less) and their scores come back as zeros: their labels are all ignore_index.
    """

    def __init__(self, model: Any, source_len: int) -> None:
        super().__init__()
        self.model = model
        self.source_len = source_len

    @staticmethod
    def _used(ids: np.ndarray, pad_id: int) -> int:
        """Columns up to the last one holding a token in some row (at least 1)."""
        cols = np.flatnonzero((ids != pad_id).any(axis=0))
        return int(cols[-1]) + 1 if cols.size else 1

    def forward(self, x: np.ndarray) -> np.ndarray:
        S, pad = self.source_len, self.model.pad_id
        src, tgt_in = x[:, :S], x[:, S:]  # (N, S), (N, T)
        s_used, t_used = self._used(src, pad), self._used(tgt_in, pad)
        logits = self.model(src[:, :s_used], tgt_in[:, :t_used])  # (N, t_used, V)
        N, T, V = x.shape[0], tgt_in.shape[1], logits.shape[2]
        if t_used == T:
            scores = logits  # (N, T, V)
        else:
            scores = np.zeros((N, T, V), dtype=logits.dtype)
            scores[:, :t_used] = logits
        # (N, T, V) -> (N, V, T), a view: the loss moves the class axis back last, which is then free
        out = scores.transpose(0, 2, 1)
        self._save(t_used, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> None:
        t_used = self._saved(grad_out)
        self.model.backward(np.ascontiguousarray(grad_out[:, :, :t_used].transpose(0, 2, 1)))  # (N, t_used, V)
