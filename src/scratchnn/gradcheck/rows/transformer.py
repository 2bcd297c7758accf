"""Gradient-check rows of the Transformer: the multi-head attention op pair (ops/attention/multi_head.py), the
attention module, the encoder and decoder layers and stacks, nn.Transformer (nn/transformer/) and the
Seq2SeqTransformer (models/transformer/).

Every attention has a key bias whose gradient is exactly zero (it adds q_i . b_k to every score of row i, a
shift the softmax ignores; docs/derivations/attention/multi_head.md): :func:`key_bias` names that third of
``in_proj_bias``, and the rows hold it to zero against the scale of the whole bias gradient instead of entry by
entry (``check_module``'s ``exact_zeros``). Shared inputs (self-attention's one array, a decoder's memory as key
and value) go through small wrappers, since the checks copy every input. Sizes: d_model 8 (4 in the decoder
layer, the stacks and the models, whose finite differences cost layers x parameters forwards), 2 heads, 3
target and 4 source positions, 2 samples; layers run in eval mode, with dropout 0, or with a fixed attention
dropout mask, so that every call computes the same function.
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np

from ... import nn, ops
from ...models import Seq2SeqTransformer
from .base import F64, ModuleRow, OpRow

N, L, S, E, HEADS, FF = 2, 3, 4, 8, 2, 16
M = TypeVar("M", bound=nn.Module)
SMALL: dict[str, Any] = {"d_model": 4, "dim_feedforward": 8}  # the decoder layer, stacks and models
# Small gradient entries of the deeper rows meet central-difference rounding noise: f(x +- h) carries ~1e-16
# relative error through a few dozen float64 ops, 4e-11 to 1e-10 after dividing by 2h = 2e-5, a relative 1e-7 to
# 1e-6 on entries of 1e-4 to 5e-5 next to a largest of ~1 (measured: 6.2e-7 on an in_proj_weight entry of 5.7e-5
# in a pre-LN Seq2SeqTransformer, absolute error 7.1e-11; 1.1e-7 on a query entry of 1.9e-4 in the attention
# with dropout, absolute error 4.0e-11). The analytic gradients agree with them to 1e-10 absolute everywhere.
DEEP_TOL = 1e-6


def key_bias(name: str, value: np.ndarray) -> slice | None:
    """The key bias b_k = in_proj_bias[E:2E] of an attention (op argument or module parameter), else None."""
    if not name.endswith("in_proj_bias"):
        return None
    E3 = value.shape[0]
    return slice(E3 // 3, 2 * E3 // 3)


_masks = np.random.default_rng(11)
PADS = np.array([[False, False, False, False], [False, False, True, True]])  # (N, S): sample 1 has 2 pads
FLOAT_MASK = _masks.standard_normal((L, S))  # (L, S): a bias on every score, one pair masked out
FLOAT_MASK[0, 1] = -np.inf
PER_HEAD = _masks.random((N * HEADS, L, S)) < 0.3  # (N*H, L, S) boolean, torch's per-head form
PER_HEAD[..., 0] = False  # every query keeps key 0
KEEP = _masks.random((N, HEADS, L, L)) >= 0.25  # self-attention's dropout keep mask, p = 0.25
KEEP_CROSS = _masks.random((N, HEADS, L, S)) >= 0.25
CAUSAL = np.triu(np.ones((L, L), dtype=bool), 1)  # (T, T): True above the diagonal = may not attend


# ---------------------------------------------------------------------------------------------- the op pair
def _weights(r: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "in_proj_weight": r.standard_normal((3 * E, E)) / np.sqrt(E),
        "in_proj_bias": r.standard_normal(3 * E),
        "out_proj_weight": r.standard_normal((E, E)) / np.sqrt(E),
        "out_proj_bias": r.standard_normal(E),
    }


def _distinct(r: np.random.Generator) -> dict[str, np.ndarray]:
    """query (N, L, E), key and value (N, S, E), then the weights."""
    qkv = {"query": r.standard_normal((N, L, E)), "key": r.standard_normal((N, S, E))}
    return {**qkv, "value": r.standard_normal((N, S, E)), **_weights(r)}


def multi_head_self_attention_forward(
    query: np.ndarray, in_proj_weight: np.ndarray, in_proj_bias: np.ndarray, out_proj_weight: np.ndarray,
    out_proj_bias: np.ndarray, **kw: Any,
) -> Any:  # fmt: skip
    """The op with one array as query, key and value (one projection product)."""
    W, b, Wo, bo = in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias
    return ops.multi_head_attention_forward(query, query, query, W, b, Wo, bo, **kw)


def multi_head_cross_attention_forward(
    query: np.ndarray, memory: np.ndarray, in_proj_weight: np.ndarray, in_proj_bias: np.ndarray,
    out_proj_weight: np.ndarray, out_proj_bias: np.ndarray, **kw: Any,
) -> Any:  # fmt: skip
    """The op with one memory array as key and value (one projection product for both)."""
    W, b, Wo, bo = in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias
    return ops.multi_head_attention_forward(query, memory, memory, W, b, Wo, bo, **kw)


def multi_head_shared_attention_backward(dout: np.ndarray, dweights: np.ndarray, cache: Any) -> tuple[Any, ...]:
    """The op's gradients without the None of the inputs that repeated an earlier one (summed into it)."""
    return tuple(g for g in ops.multi_head_attention_backward(dout, dweights, cache) if g is not None)


def _self(r: np.random.Generator) -> dict[str, np.ndarray]:
    return {"query": r.standard_normal((N, L, E)), **_weights(r)}


def _cross(r: np.random.Generator) -> dict[str, np.ndarray]:
    return {"query": r.standard_normal((N, L, E)), "memory": r.standard_normal((N, S, E)), **_weights(r)}


mha = (ops.multi_head_attention_forward, ops.multi_head_attention_backward)
shared = multi_head_shared_attention_backward

OP_ROWS = [
    OpRow("multi_head_attention-masks", *mha, _distinct,
          {"num_heads": HEADS, "attn_mask": FLOAT_MASK, "key_padding_mask": PADS}, exact_zeros=key_bias),
    OpRow("multi_head_attention-self-causal-dropout", multi_head_self_attention_forward, shared, _self,
          {"num_heads": HEADS, "is_causal": True, "dropout_p": 0.25, "dropout_mask": KEEP}, exact_zeros=key_bias),
    OpRow("multi_head_attention-cross-key_is_value-per_head_mask", multi_head_cross_attention_forward, shared, _cross,
          {"num_heads": HEADS, "attn_mask": PER_HEAD, "key_padding_mask": PADS}, exact_zeros=key_bias),
]  # fmt: skip


# ---------------------------------------------------------------------------------------------- the modules
class Attend(nn.Module):
    """MultiheadAttention seen by ``check_module``: arrays in, one flat array out.

    ``uses`` says which input is query, key and value: (0, 0, 0) self-attention (one array, as the encoder
    passes it), (0, 1, 1) attention over one memory, (0, 1, 2) three arrays; ``kwargs`` are the forward's
    masks and flags. The output is attn_output and, with need_weights, the weights, raveled end to end;
    backward splits its gradient into the two and returns one gradient per input (shared ones come summed).
    """

    def __init__(self, inner: nn.MultiheadAttention, uses: tuple[int, int, int], **kwargs: Any) -> None:
        super().__init__()
        self.inner, self.uses, self.kwargs = inner, uses, kwargs

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        q, k, v = (xs[i] for i in self.uses)
        out, w = self.inner(q, k, v, **self.kwargs)
        parts = [out] if w is None else [out, w]
        flat = np.concatenate([p.reshape(-1) for p in parts])
        self._save([p.shape for p in parts], flat)
        return flat

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> Any:
        shapes = self._saved(grad_out)
        cut = int(np.prod(shapes[0]))
        dw = grad_out[cut:].reshape(shapes[1]) if len(shapes) > 1 else None
        grads = self.inner.backward(grad_out[:cut].reshape(shapes[0]), dw, input_grad=input_grad)
        kept = tuple(g for g in grads if g is not None) if grads is not None else (None,)
        return kept if len(kept) > 1 else kept[0]


class Call(nn.Module):
    """A module called with fixed keyword arguments (masks, flags), as ``check_module`` passes arrays only."""

    def __init__(self, inner: nn.Module, **kwargs: Any) -> None:
        super().__init__()
        self.inner, self.kwargs = inner, kwargs

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.inner(*xs, **self.kwargs)
        self._save(True, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> Any:
        self._saved(grad_out)
        return self.inner.backward(grad_out, input_grad=input_grad)


def jitter(m: M, r: np.random.Generator) -> M:
    """Every parameter moved off its initial value (zero biases, unit norms), so that no two gradients that
    differ in general happen to agree at the start (a swapped bias would then still pass)."""
    for p in m.parameters():
        p.data += 0.1 * r.standard_normal(p.data.shape)
    return m


def _fixed_attention_dropout(m: nn.MultiheadAttention, keep: np.ndarray) -> nn.MultiheadAttention:
    m.draw_dropout_mask = lambda shape: keep  # type: ignore[method-assign]
    return m


def attention_row(r: np.random.Generator, uses: tuple[int, int, int], *, batch_first: bool = True,
                  unbatched: bool = False, dropout: float = 0.0, bias: bool = True, **kw: Any) -> Any:  # fmt: skip
    """(Attend(MultiheadAttention), inputs): L queries, S keys (or L for self-attention), N samples."""
    m = jitter(nn.MultiheadAttention(E, HEADS, dropout, bias, batch_first=batch_first, dtype=F64, rng=r), r)
    if dropout:
        _fixed_attention_dropout(m, KEEP_CROSS)
    lead = (lambda T: (T, E)) if unbatched else (lambda T: (N, T, E)) if batch_first else (lambda T: (T, N, E))
    shapes = [lead(L), lead(S), lead(S)][: max(uses) + 1]  # self-attention: the query alone
    return Attend(m, uses, **kw), tuple(r.standard_normal(s) for s in shapes)


def layer_kw(norm_first: bool, activation: str, dropout: float = 0.0, batch_first: bool = False,
             d_model: int = E, dim_feedforward: int = FF) -> dict[str, Any]:  # fmt: skip
    return {"d_model": d_model, "nhead": HEADS, "dim_feedforward": dim_feedforward, "dropout": dropout,
            "activation": activation, "batch_first": batch_first, "norm_first": norm_first, "dtype": F64}  # fmt: skip


def seq(r: np.random.Generator, T: int, batch_first: bool = False, d: int = E) -> np.ndarray:
    return r.standard_normal((N, T, d) if batch_first else (T, N, d))


def encoder_layer(r: np.random.Generator, **kw: Any) -> nn.TransformerEncoderLayer:
    return nn.TransformerEncoderLayer(**layer_kw(**kw), rng=r)


def decoder_layer(r: np.random.Generator, **kw: Any) -> nn.TransformerDecoderLayer:
    return nn.TransformerDecoderLayer(**layer_kw(**kw), rng=r)


def stack(cls: Any, layer: nn.Module) -> nn.Module:
    """Two copies of a d_model-4 layer and a final LayerNorm."""
    out: nn.Module = cls(layer, 2, nn.LayerNorm(4, dtype=F64))
    return out


def seq2seq(r: np.random.Generator, **kw: Any) -> tuple[nn.Module, tuple[np.ndarray, ...]]:
    """The summarizer (V = 11, pad id 0) on 2 sources of 4 tokens, one with 2 pads, and 3 target tokens."""
    m = Seq2SeqTransformer(11, 4, HEADS, 1, 1, 8, 0.0, max_len=6, dtype=F64, rng=r, **kw)
    jitter(m, r).embed_tokens.weight.data[0] = 0  # the pad row stays zero, as the model keeps it
    src = r.integers(3, 11, (N, S))
    src[PADS] = 0
    return m, (src, r.integers(1, 11, (N, L)))


CAUSAL_FLOAT = nn.Transformer.generate_square_subsequent_mask(L, F64)  # (T, T): 0 and -inf

MODULE_ROWS = [
    ModuleRow("MultiheadAttention-self-seq_first-padding",
              lambda r: attention_row(r, (0, 0, 0), batch_first=False, key_padding_mask=PADS[:, :L]),
              exact_zeros=key_bias),
    ModuleRow("MultiheadAttention-cross-causal-per_head_weights",
              lambda r: attention_row(r, (0, 1, 1), is_causal=True, average_attn_weights=False),
              exact_zeros=key_bias),
    ModuleRow("MultiheadAttention-distinct-masks-dropout_fixed_mask",
              lambda r: attention_row(r, (0, 1, 2), dropout=0.25, attn_mask=FLOAT_MASK, key_padding_mask=PADS),
              tol=DEEP_TOL, exact_zeros=key_bias),
    ModuleRow("MultiheadAttention-unbatched-no_bias-no_weights",
              lambda r: attention_row(r, (0, 1, 2), unbatched=True, bias=False, need_weights=False)),
    # the layers, stacks and models (the stacks and models at d_model 4)
    ModuleRow("TransformerEncoderLayer-post_LN-relu-padding-causal-eval",
              lambda r: (Call(jitter(encoder_layer(r, norm_first=False, activation="relu", dropout=0.1), r).eval(),
                              src_mask=CAUSAL_FLOAT, src_key_padding_mask=PADS[:, :L]), (seq(r, L),)),
              exact_zeros=key_bias),
    ModuleRow("TransformerEncoderLayer-pre_LN-gelu-batch_first-padding",
              lambda r: (Call(jitter(encoder_layer(r, norm_first=True, activation="gelu", batch_first=True), r),
                              src_key_padding_mask=PADS), (seq(r, S, True),)),
              exact_zeros=key_bias),
    ModuleRow("TransformerEncoder-2layers-norm-causal",
              lambda r: (Call(jitter(stack(nn.TransformerEncoder, encoder_layer(r, norm_first=False, activation="relu",
                                                                                **SMALL)), r),
                              mask=CAUSAL, is_causal=True), (seq(r, L, d=4),)),
              tol=DEEP_TOL, exact_zeros=key_bias),
    ModuleRow("TransformerDecoderLayer-post_LN-relu-memory_padding-eval",
              lambda r: (Call(jitter(decoder_layer(r, norm_first=False, activation="relu", dropout=0.1, **SMALL),
                                     r).eval(),
                              tgt_mask=CAUSAL, memory_key_padding_mask=PADS), (seq(r, L, d=4), seq(r, S, d=4))),
              tol=DEEP_TOL, exact_zeros=key_bias),
    ModuleRow("TransformerDecoderLayer-pre_LN-gelu-batch_first-tgt_is_causal",
              lambda r: (Call(jitter(decoder_layer(r, norm_first=True, activation="gelu", batch_first=True, **SMALL),
                                     r),
                              tgt_is_causal=True), (seq(r, L, True, 4), seq(r, S, True, 4))),
              tol=DEEP_TOL, exact_zeros=key_bias),
    ModuleRow("TransformerDecoder-2layers-norm",
              lambda r: (Call(jitter(stack(nn.TransformerDecoder, decoder_layer(r, norm_first=True, activation="relu",
                                                                                **SMALL)), r),
                              tgt_is_causal=True, memory_key_padding_mask=PADS), (seq(r, L, d=4), seq(r, S, d=4))),
              tol=DEEP_TOL, exact_zeros=key_bias),
    ModuleRow("Transformer-padding-causal",
              lambda r: (Call(jitter(nn.Transformer(nhead=HEADS, num_encoder_layers=1, num_decoder_layers=1,
                                                    dropout=0.0, dtype=F64, rng=r, **SMALL), r),
                              tgt_mask=CAUSAL_FLOAT, src_key_padding_mask=PADS, memory_key_padding_mask=PADS),
                         (seq(r, S, d=4), seq(r, L, d=4))),
              tol=DEEP_TOL, exact_zeros=key_bias),
    # the course's configuration; tests/models/transformer/test_seq2seq.py checks sinusoidal positions with pre-LN
    ModuleRow("Seq2SeqTransformer-learned-post_LN", lambda r: seq2seq(r), tol=DEEP_TOL, exact_zeros=key_bias),
]  # fmt: skip
