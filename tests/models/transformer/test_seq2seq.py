"""Seq2SeqTransformer: gradients against finite differences, the tied head and the shared embedding, an
overfit run on a copy task, and the errors its arguments raise."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from scratchnn import nn
from scratchnn.gradcheck import eval_numerical_gradient_array
from scratchnn.models import Seq2SeqTransformer
from scratchnn.optim import Adam

V, PAD, BOS, EOS = 11, 0, 1, 2


def _model(**kw: Any) -> Seq2SeqTransformer:
    args: dict[str, Any] = dict(
        d_model=8,
        nhead=2,
        num_encoder_layers=1,
        num_decoder_layers=2,
        dim_feedforward=16,
        dropout=0.0,
        max_len=12,
        pad_id=PAD,
        dtype=np.float64,
        rng=np.random.default_rng(0),
    )
    args.update(kw)
    return Seq2SeqTransformer(V, **args)


def _batch(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    src = rng.integers(3, V, (3, 6))
    src[1, 4:] = PAD  # a shorter source
    tgt = rng.integers(3, V, (3, 5))
    tgt[:, 0] = BOS
    return src, tgt


@pytest.mark.parametrize("positions,norm_first", [("learned", False), ("sinusoidal", True)])
def test_gradients_match_finite_differences(positions: str, norm_first: bool) -> None:
    model = _model(positions=positions, norm_first=norm_first, activation="gelu", num_decoder_layers=1)
    rng = np.random.default_rng(1)
    for p in model.parameters():  # away from init symmetries (zero biases, unit norms)
        p.data += 0.05 * rng.standard_normal(p.data.shape)
    model.embed_tokens.weight.data[PAD] = 0
    src, tgt = _batch(rng)
    dout = rng.standard_normal(model(src, tgt).shape)
    model.zero_grad()
    model.backward(dout)
    errors = {}
    for name, p in model.named_parameters():
        num = eval_numerical_gradient_array(lambda _: model(src, tgt), p.data, dout, h=1e-6)
        # relative to the largest entry of the gradient, not entry by entry: the attention's key bias has an
        # exactly zero gradient (softmax ignores a shift shared by a query's scores), whose finite differences
        # are rounding noise (~1e-10) that an entrywise ratio with a 1e-8 floor would call a 1% error
        errors[name] = np.abs(p.grad - num).max() / max(np.abs(num).max(), 1e-12)
        if name.endswith("in_proj_bias"):
            E = model.d_model
            assert np.abs(p.grad[E : 2 * E]).max() < 1e-12, name  # the key bias's gradient is zero
    assert max(errors.values()) < 1e-7, errors


def test_head_is_tied_and_pad_row_gets_only_the_heads_gradient() -> None:
    """The pad row is never looked up for its gradient (Embedding's padding_idx), but as a row of the tied
    head it scores the pad token, and gets that gradient, as tied weights in torch would."""
    model = _model()
    src, tgt = _batch(np.random.default_rng(3))
    names = [n for n, _ in model.named_parameters()]
    assert "head.weight" not in names and "head_bias" in names  # the head has no weight of its own
    logits = model(src, tgt)
    assert logits.shape == (3, 5, V)
    model.zero_grad()
    dout = np.random.default_rng(4).standard_normal(logits.shape)
    model.backward(dout)
    h = model._cache[0]  # the decoder's output, (N, T, d)
    head_part = dout[..., PAD].reshape(-1) @ h.reshape(-1, model.d_model)  # (N*T,) @ (N*T, d) -> (d,)
    np.testing.assert_allclose(model.embed_tokens.weight.grad[PAD], head_part, rtol=1e-12, atol=1e-14)
    assert np.abs(model.embed_tokens.weight.grad[3:]).sum() > 0


def test_source_padding_is_invisible() -> None:
    """Changing what sits under a source pad changes nothing: the pads are masked out of every attention."""
    model = _model().eval()
    src, tgt = _batch(np.random.default_rng(5))
    a = model(src, tgt)
    src2 = src.copy()
    src2[1, 4:] = PAD
    longer = np.concatenate([src2, np.full((3, 2), PAD)], axis=1)  # two more pad columns
    np.testing.assert_allclose(model(longer, tgt), a, rtol=1e-12, atol=1e-12)


def test_overfits_a_copy_task() -> None:
    """Eight 5-token sequences copied through the model: the loss falls below 2% of its start."""
    rng = np.random.default_rng(6)
    model = _model(dtype=np.float32, d_model=16, nhead=2, dim_feedforward=32)
    src = rng.integers(3, V, (8, 5))
    labels = np.concatenate([src, np.full((8, 1), EOS)], axis=1)  # (8, 6)
    tgt_in = np.concatenate([np.full((8, 1), BOS), src], axis=1)
    loss_fn = nn.CrossEntropyLoss()
    opt = Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(300):
        logits = model(src, tgt_in)
        loss = loss_fn(logits.reshape(-1, V), labels.reshape(-1))
        model.zero_grad()
        model.backward(loss_fn.backward().reshape(logits.shape))
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < 0.02 * losses[0], (losses[0], losses[-1])


def test_bad_arguments_name_themselves() -> None:
    model = _model()
    src, tgt = _batch(np.random.default_rng(7))
    with pytest.raises(ValueError, match="`src`"):
        model(np.full((3, 13), 3), tgt)  # longer than the position table
    with pytest.raises(ValueError, match="`tgt_in`"):
        model(src, np.full((3, 5), V))  # an id past the vocabulary
    with pytest.raises(ValueError, match="`tgt_in`"):
        model(src, tgt[:2])
    with pytest.raises(ValueError, match="`positions`"):
        _model(positions="rotary")
    with pytest.raises(ValueError, match="`nhead`"):
        _model(d_model=9, nhead=2)


def test_an_empty_batch_gives_empty_logits_and_zero_gradients() -> None:
    """Found by fuzzing: reshape(N, S, -1) cannot infer the features of no samples."""
    model = _model()
    logits = model(np.zeros((0, 4), dtype=np.int64), np.zeros((0, 3), dtype=np.int64))
    assert logits.shape == (0, 3, V) and logits.dtype == np.float64
    model.zero_grad()
    assert model.backward(np.zeros_like(logits)) is None
    for name, p in model.named_parameters():
        assert not p.grad.any(), name
