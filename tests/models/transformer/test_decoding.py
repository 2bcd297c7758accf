"""Greedy and beam-search decoding: the KV cache changes nothing (tokens and logits to 1e-5), beam search with
one beam is greedy search, the no-repeat rule holds, a trained copy model decodes its sources back."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from scratchnn import nn
from scratchnn.models import Seq2SeqTransformer, beam_search, greedy_decode
from scratchnn.models.transformer.decoding import _banned
from scratchnn.optim import Adam

V, PAD, BOS, EOS = 13, 0, 1, 2


def _model(seed: int = 0, **kw: Any) -> Seq2SeqTransformer:
    args: dict[str, Any] = dict(
        d_model=16,
        nhead=4,
        num_encoder_layers=2,
        num_decoder_layers=2,
        dim_feedforward=32,
        dropout=0.1,
        max_len=40,
        pad_id=PAD,
        dtype=np.float32,
        rng=np.random.default_rng(seed),
    )
    args.update(kw)
    m = Seq2SeqTransformer(V, **args)
    rng = np.random.default_rng(seed + 1)
    for p in m.parameters():  # a sharper, less uniform next-token distribution than at init
        p.data += 0.3 * rng.standard_normal(p.data.shape).astype(p.data.dtype)
    return m


def _src(seed: int = 2) -> np.ndarray:
    src = np.random.default_rng(seed).integers(3, V, (4, 7))
    src[2, 5:] = PAD
    return src


@pytest.mark.parametrize("norm_first", [False, True])
def test_greedy_cache_gives_the_same_tokens_and_logits(norm_first: bool) -> None:
    model = _model(norm_first=norm_first)
    a = greedy_decode(model, _src(), max_len=30, start_id=BOS, eos_id=EOS, use_cache=True)
    b = greedy_decode(model, _src(), max_len=30, start_id=BOS, eos_id=EOS, use_cache=False)
    assert a.logits is not None and b.logits is not None and a.logits.shape == b.logits.shape
    np.testing.assert_allclose(a.logits, b.logits, rtol=1e-5, atol=1e-5)
    assert all(np.array_equal(x, y) for x, y in zip(a.tokens, b.tokens))
    assert model.training  # the mode is restored


@pytest.mark.parametrize("kw", [dict(beam_size=3), dict(beam_size=4, length_penalty=0.6, no_repeat_ngram_size=2)])
def test_beam_search_cache_gives_the_same_tokens(kw: dict[str, Any]) -> None:
    model = _model(3)
    a = beam_search(model, _src(), max_len=20, start_id=BOS, eos_id=EOS, use_cache=True, **kw)
    b = beam_search(model, _src(), max_len=20, start_id=BOS, eos_id=EOS, use_cache=False, **kw)
    assert all(np.array_equal(x, y) for x, y in zip(a.tokens, b.tokens))


def test_one_beam_is_greedy() -> None:
    model = _model(4)
    g = greedy_decode(model, _src(), max_len=25, start_id=BOS, eos_id=EOS)
    b = beam_search(model, _src(), beam_size=1, max_len=25, start_id=BOS, eos_id=EOS, length_penalty=0.0)
    assert all(np.array_equal(x, y) for x, y in zip(g.tokens, b.tokens))


def test_beam_search_finds_a_sequence_at_least_as_likely_as_greedy() -> None:
    """With no length penalty, the best of 5 beams scores at least the greedy path's log-probability."""
    model = _model(5)
    src = _src()
    g = greedy_decode(model, src, max_len=12, start_id=BOS, eos_id=EOS).tokens
    b = beam_search(model, src, beam_size=5, max_len=12, start_id=BOS, eos_id=EOS, length_penalty=0.0).tokens

    def logprob(n: int, seq: np.ndarray) -> float:
        ended = seq.size < 12  # the search stopped at EOS, which counts
        full = np.concatenate([seq, [EOS]]) if ended else seq
        tgt_in = np.concatenate([[BOS], full[:-1]])[None]
        model.eval()
        z = model(src[n : n + 1], tgt_in)[0].astype(np.float64)
        logp = z - z.max(-1, keepdims=True) - np.log(np.exp(z - z.max(-1, keepdims=True)).sum(-1, keepdims=True))
        return float(logp[np.arange(full.size), full].sum())

    for n in range(src.shape[0]):
        assert logprob(n, b[n]) >= logprob(n, g[n]) - 1e-4


def test_no_repeat_ngram_rule() -> None:
    assert _banned([1, 5, 6, 5], 2) == {6}  # "5 6" was seen: after 5, 6 is banned
    assert _banned([1, 5, 6, 7, 5, 6], 3) == {7}
    assert _banned([1, 5], 3) == set()
    model = _model(6)
    out = beam_search(model, _src(), beam_size=3, max_len=30, start_id=BOS, eos_id=EOS, no_repeat_ngram_size=2)
    for seq in out.tokens:
        pairs = list(zip([BOS, *seq[:-1]], seq))
        assert len(pairs) == len(set(pairs))  # no bigram twice


def test_a_trained_copy_model_decodes_its_sources() -> None:
    rng = np.random.default_rng(7)
    model = _model(8, dropout=0.0, d_model=32, dim_feedforward=64)
    src = rng.integers(3, V, (16, 6))
    labels = np.concatenate([src, np.full((16, 1), EOS)], axis=1)
    tgt_in = np.concatenate([np.full((16, 1), BOS), src], axis=1)
    loss_fn, opt = nn.CrossEntropyLoss(), Adam(model.parameters(), lr=3e-3)
    for _ in range(400):
        logits = model(src, tgt_in)
        loss_fn(logits.reshape(-1, V), labels.reshape(-1))
        model.zero_grad()
        model.backward(loss_fn.backward().reshape(logits.shape))
        opt.step()
    for out in (
        greedy_decode(model, src, max_len=10, start_id=BOS, eos_id=EOS),
        beam_search(model, src, beam_size=3, max_len=10, start_id=BOS, eos_id=EOS),
    ):
        assert sum(np.array_equal(a, b) for a, b in zip(out.tokens, src)) >= 15


def test_bad_arguments_name_themselves() -> None:
    model = _model()
    with pytest.raises(ValueError, match="`beam_size`"):
        beam_search(model, _src(), beam_size=0, start_id=BOS, eos_id=EOS)
    with pytest.raises(ValueError, match="`eos_id`"):
        greedy_decode(model, _src(), start_id=BOS, eos_id=V)
    with pytest.raises(ValueError, match="`max_len`"):
        greedy_decode(model, _src(), max_len=0, start_id=BOS, eos_id=EOS)
    with pytest.raises(TypeError, match="`model`"):
        greedy_decode(nn.Linear(2, 2), _src(), start_id=BOS, eos_id=EOS)  # type: ignore[arg-type]
