"""The numbers a summarizer must beat, and the token lengths its truncation is chosen from.

    python -m scratchnn.text.baselines            # on the Debian description -> synopsis split

prints, for the leak-free split of :func:`scratchnn.data.split_descriptions`:

1. the lead-k baseline: k tuned on validation (:func:`.rouge.best_lead_k`), then ROUGE-1/2/L on test, with
   the first-sentence baseline beside it;
2. for each vocabulary size, how long BPE training on the training split's documents and summaries takes,
   and percentiles of the documents' and summaries' lengths in tokens (EOS not counted).

The functions take any (document, summary) pairs, so the same report runs on a user's JSON-lines file.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np

from ..data.debian import load_debian_descriptions
from ..data.debian_split import split_descriptions
from ..data.summaries import DocumentSummary, summary_pairs
from .rouge import best_lead_k, first_sentence, lead_words, rouge_scores
from .tokenizer import BPETokenizer

PERCENTILES = (50, 90, 95, 99, 100)


class LeadBaselines(NamedTuple):
    """The lead baselines: ``k`` tuned on validation, every k's validation scores, and the test scores."""

    k: int
    val_by_k: dict[int, dict[str, float]]
    test_lead: dict[str, float]
    test_first_sentence: dict[str, float]


def lead_baselines(
    val: Sequence[DocumentSummary],
    test: Sequence[DocumentSummary],
    ks: Iterable[int] = range(1, 21),
    *,
    use_stemmer: bool = True,
) -> LeadBaselines:
    """Tune lead-k on ``val``, then score lead-k and the first sentence on ``test``."""
    k, by_k = best_lead_k([p.document for p in val], [p.summary for p in val], ks, use_stemmer=use_stemmer)
    references = [p.summary for p in test]
    lead = rouge_scores([lead_words(p.document, k) for p in test], references, use_stemmer=use_stemmer)
    first = rouge_scores([first_sentence(p.document) for p in test], references, use_stemmer=use_stemmer)
    return LeadBaselines(k, by_k, lead, first)


class TokenLengths(NamedTuple):
    """A tokenizer trained on a training split: its size, training time and token-length percentiles."""

    vocab_size: int
    train_seconds: float  # wall clock
    train_cpu_seconds: float  # all threads of the process (the library trains on several)
    documents: dict[int, float]
    summaries: dict[int, float]


def token_lengths(
    train: Sequence[DocumentSummary], vocab_size: int, percentiles: Sequence[int] = PERCENTILES
) -> TokenLengths:
    """Train a BPE tokenizer on ``train``'s documents and summaries; percentiles of their token counts."""
    texts = [p.document for p in train] + [p.summary for p in train]
    start, cpu = time.perf_counter(), time.process_time()
    tok = BPETokenizer.train(texts, vocab_size=vocab_size)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu

    def pct(seqs: list[list[int]]) -> dict[int, float]:
        n = np.array([len(s) for s in seqs])  # (N,)
        return {q: float(np.percentile(n, q)) for q in percentiles}

    docs = pct(tok.encode_batch([p.document for p in train]))
    sums = pct(tok.encode_batch([p.summary for p in train]))
    return TokenLengths(tok.vocab_size, seconds, cpu, docs, sums)


def word_percentiles(texts: Iterable[str], percentiles: Sequence[int] = PERCENTILES) -> dict[int, float]:
    """Percentiles of the texts' lengths in whitespace-separated words."""
    n = np.array([len(t.split()) for t in texts])  # (N,)
    return {q: float(np.percentile(n, q)) for q in percentiles}


def _scores(s: dict[str, float]) -> str:
    return "  ".join(f"{name} {100 * v:5.2f}" for name, v in s.items())


def _pcts(p: dict[int, float]) -> str:
    return "  ".join(f"p{q} {v:.0f}" for q, v in p.items())


def report(
    train: Sequence[DocumentSummary],
    val: Sequence[DocumentSummary],
    test: Sequence[DocumentSummary],
    *,
    vocab_sizes: Sequence[int] = (8000, 16000),
    ks: Iterable[int] = range(1, 21),
) -> str:
    """The baselines and the token lengths as text (ROUGE F1 in percent, stemming on)."""
    lines = [f"pairs: train {len(train)}, val {len(val)}, test {len(test)}"]
    start = time.perf_counter()
    base = lead_baselines(val, test, ks)
    lines.append(f"lead-k on val (mean F1 of R1, R2, RL; {time.perf_counter() - start:.0f} s for all):")
    for k, s in base.val_by_k.items():
        lines.append(
            f"  k={k:2d}  {_scores(s)}  mean {100 * sum(s.values()) / 3:5.2f}" + ("  <-" if k == base.k else "")
        )
    lines.append(f"test, lead-{base.k}:        {_scores(base.test_lead)}")
    lines.append(f"test, first sentence: {_scores(base.test_first_sentence)}")
    lines.append(f"words, train documents: {_pcts(word_percentiles(p.document for p in train))}")
    lines.append(f"words, train summaries: {_pcts(word_percentiles(p.summary for p in train))}")
    for v in vocab_sizes:
        t = token_lengths(train, v)
        lines.append(f"BPE vocab {t.vocab_size}: trained on {2 * len(train)} texts in {t.train_seconds:.1f} s "
                     f"({t.train_cpu_seconds:.1f} s CPU)")  # fmt: skip
        lines.append(f"  tokens, documents: {_pcts(t.documents)}")
        lines.append(f"  tokens, summaries: {_pcts(t.summaries)}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Print :func:`report` for the Debian description -> synopsis split."""
    parser = argparse.ArgumentParser(prog="python -m scratchnn.text.baselines", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="the split's seed (split_descriptions)")
    parser.add_argument("--vocab-sizes", type=int, nargs="+", default=[8000, 16000])
    parser.add_argument("--max-k", type=int, default=20, help="lead-k tries k = 1 .. MAX_K")
    args = parser.parse_args(argv)
    train, val, test = (summary_pairs(part) for part in split_descriptions(load_debian_descriptions(), seed=args.seed))
    print(report(train, val, test, vocab_sizes=args.vocab_sizes, ks=range(1, args.max_k + 1)))


if __name__ == "__main__":
    main()
