"""Greedy and beam-search decoding for :class:`Seq2SeqTransformer`, with a KV cache or full recomputation.

Both encode the sources once, then extend the summaries one token at a time from the start token. With
``use_cache=True`` (the default) each step feeds only the newest token through the decoder
(:meth:`Seq2SeqTransformer.decode_step`); with ``use_cache=False`` each step recomputes every position
(:meth:`Seq2SeqTransformer.decode_full`). Both give the same tokens and logits (the tests hold them to
1e-5); the cache makes step t cost O(t) instead of O(t^2) (benchmarks/bench_decoding.py).

Beam search keeps ``beam_size`` hypotheses per source, scored by the sum of their tokens' log-probabilities.
A hypothesis that emits EOS is finished, with score sum / length ** ``length_penalty`` (length = generated
tokens, EOS included; penalty > 0 favours longer summaries, as in Hugging Face's generate). A source is done
when it has ``beam_size`` finished hypotheses (early stopping) or at ``max_len``, when its live beams count
as finished. ``no_repeat_ngram_size`` n > 0 forbids a token that would repeat an n-gram already in the
hypothesis (start token included, as Hugging Face does).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..._validate import check_float, check_int
from ...nn.transformer import KVCache
from .seq2seq import Seq2SeqTransformer


class Decoded(NamedTuple):
    """Decoding's result: ``tokens[n]`` the ids of summary n (start and EOS dropped); ``logits`` (N, steps, V),
    every step's logits of the greedy path (greedy decoding only, else None)."""

    tokens: list[np.ndarray]
    logits: np.ndarray | None


def _log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, in float64. Shape: (R, V) -> (R, V)."""
    z = z.astype(np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _check(model: Any, max_len: Any, start_id: Any, eos_id: Any) -> tuple[int, int, int]:
    if not isinstance(model, Seq2SeqTransformer):
        raise TypeError(f"Invalid type for `model`: expected a Seq2SeqTransformer. Received: {type(model).__name__}")
    V = model.vocab_size
    return (
        check_int(max_len, "max_len", low=1),
        check_int(start_id, "start_id", low=0, high=V - 1),
        check_int(eos_id, "eos_id", low=0, high=V - 1),
    )


def _strip(row: np.ndarray, eos_id: int) -> np.ndarray:
    """Generated ids up to (not including) the first EOS. Shape: (t,) -> (t',)."""
    stop = np.flatnonzero(row == eos_id)
    return row[: stop[0]] if stop.size else row


def greedy_decode(
    model: Seq2SeqTransformer,
    src: np.ndarray,
    *,
    max_len: int = 64,
    start_id: int,
    eos_id: int,
    use_cache: bool = True,
) -> Decoded:
    """The most likely next token at every step, for every source at once, until EOS or ``max_len`` tokens."""
    max_len, start_id, eos_id = _check(model, max_len, start_id, eos_id)
    was_training = model.training
    model.eval()
    try:
        memory, pad = model.encode(src)  # (N, S, d), (N, S)
        N = memory.shape[0]
        tokens = np.full((N, 1), start_id, dtype=np.int64)  # (N, 1 + steps)
        done = np.zeros(N, dtype=bool)
        cache, all_logits = KVCache(), []
        for _ in range(max_len):
            if use_cache:
                logits = model.decode_step(tokens[:, -1:], memory, pad, cache)[:, -1]  # (N, V)
            else:
                logits = model.decode_full(tokens, memory, pad)[:, -1]  # (N, V)
            all_logits.append(logits)
            nxt = np.where(done, model.pad_id, logits.argmax(axis=-1))  # (N,): finished rows pad
            tokens = np.concatenate([tokens, nxt[:, None]], axis=1)
            done |= nxt == eos_id
            if done.all():
                break
    finally:
        model.train(was_training)
    return Decoded([_strip(row[1:], eos_id) for row in tokens], np.stack(all_logits, axis=1))


def _banned(hyp: list[int], n: int) -> set[int]:
    """Tokens that would end an n-gram already in ``hyp`` (the no-repeat rule)."""
    if n <= 0 or len(hyp) < n:
        return set()
    prefix = tuple(hyp[len(hyp) - n + 1 :])
    return {hyp[i + n - 1] for i in range(len(hyp) - n + 1) if tuple(hyp[i : i + n - 1]) == prefix}


def beam_search(
    model: Seq2SeqTransformer,
    src: np.ndarray,
    *,
    beam_size: int = 4,
    max_len: int = 64,
    start_id: int,
    eos_id: int,
    length_penalty: float = 1.0,
    no_repeat_ngram_size: int = 0,
    use_cache: bool = True,
) -> Decoded:
    """The best of ``beam_size`` hypotheses per source (module docstring); ``beam_size=1`` is greedy search."""
    max_len, start_id, eos_id = _check(model, max_len, start_id, eos_id)
    B = check_int(beam_size, "beam_size", low=1)
    alpha = check_float(length_penalty, "length_penalty")
    ngram = check_int(no_repeat_ngram_size, "no_repeat_ngram_size", low=0)
    was_training = model.training
    model.eval()
    try:
        memory, pad = model.encode(src)
        N = memory.shape[0]
        memory, pad = np.repeat(memory, B, axis=0), np.repeat(pad, B, axis=0)  # (N*B, S, d), (N*B, S)
        hyps = [[start_id] for _ in range(N * B)]  # row n*B + b: beam b of source n
        scores = np.full((N, B), -np.inf)
        scores[:, 0] = 0.0  # one live beam at first: the others would copy it
        finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(N)]
        done = np.zeros(N, dtype=bool)
        cache = KVCache()
        for _ in range(max_len):
            if use_cache:
                last = np.array([h[-1] for h in hyps])[:, None]  # (N*B, 1)
                logits = model.decode_step(last, memory, pad, cache)[:, -1]  # (N*B, V)
            else:
                logits = model.decode_full(np.array(hyps), memory, pad)[:, -1]
            logp = _log_softmax(logits)  # (N*B, V)
            for r, h in enumerate(hyps):
                for t in _banned(h, ngram):
                    logp[r, t] = -np.inf
            total = (scores.reshape(N * B, 1) + logp).reshape(N, -1)  # (N, B*V)
            V = logp.shape[1]
            parents, new_tokens, new_scores = (
                np.zeros(N * B, np.int64),
                np.zeros(N * B, np.int64),
                np.full(N * B, -np.inf),
            )
            for n in range(N):
                if done[n]:
                    parents[n * B : (n + 1) * B] = np.arange(n * B, (n + 1) * B)
                    new_tokens[n * B : (n + 1) * B] = model.pad_id
                    continue
                top = np.argsort(-total[n], kind="stable")[: 2 * B]  # enough candidates for B live beams
                k = 0
                for c in top:
                    s = total[n, c]
                    if not np.isfinite(s):
                        break
                    b, t = divmod(int(c), V)
                    if t == eos_id:
                        generated = len(hyps[n * B + b])  # the start token dropped, EOS counted
                        finished[n].append((s / generated**alpha, hyps[n * B + b][1:]))
                    else:
                        parents[n * B + k], new_tokens[n * B + k], new_scores[n * B + k] = n * B + b, t, s
                        k += 1
                    if k == B:
                        break
                for j in range(k, B):  # fewer live candidates than beams: dead rows (score -inf)
                    parents[n * B + j], new_tokens[n * B + j] = n * B, model.pad_id
                done[n] = len(finished[n]) >= B
            hyps = [hyps[p] + [int(t)] for p, t in zip(parents, new_tokens)]
            scores = new_scores.reshape(N, B)
            if use_cache:
                cache.reorder(parents, include_static=False)
            if done.all():
                break
        for n in range(N):  # max_len reached: live beams count as finished
            if not done[n]:
                for b in range(B):
                    if np.isfinite(scores[n, b]):
                        finished[n].append((scores[n, b] / (len(hyps[n * B + b]) - 1) ** alpha, hyps[n * B + b][1:]))
    finally:
        model.train(was_training)
    best = [max(f, key=lambda sh: sh[0])[1] if f else [] for f in finished]
    return Decoded([np.array(_strip(np.array(h, dtype=np.int64), eos_id)) for h in best], None)
