"""Fuzz specs of the Transformer's modules: MultiheadAttention, the encoder and decoder layers and stacks,
nn.Transformer and the Seq2SeqTransformer.

Inputs come sequence-first, batch-first or unbatched, any axis but the features possibly empty; the masks
(``Case.call_kwargs``: boolean or float, float ones holding -inf, per-head attention masks, causal flags) are
drawn for the shapes at hand and never replaced. MultiheadAttention returns its weights as a second output, and
its query, key and value come as one array, key and value as one, or three (``Case.grads``: the shared ones get
no gradient of their own). The decoder and nn.Transformer return a gradient for each of their two inputs; the
Seq2SeqTransformer takes token ids, which have none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from scratchnn import models, nn

from .calls import Case, Draw, ModuleSpec, Shape


def _mask(d: Draw, shape: Shape) -> np.ndarray:
    """A boolean mask (True = masked out), or a float one in the call's dtype, some entries -inf."""
    if d.pick([True, False]):
        return np.asarray(d.array(shape, ("normal",)) > 1)
    m = np.array(d.p(shape))
    if m.size and d.pick([True, False]):
        m[m < -1] = -np.inf
    return m


def _maybe(d: Draw, out: dict[str, Any], name: str, shape: Shape) -> None:
    if d.pick([True, False]):
        out[name] = _mask(d, shape)


def _sizes(d: Draw) -> tuple[int, int]:
    """(d_model, nhead): d_model a multiple of nhead."""
    H = d.int(1, 3)
    return H * d.int(1, 2), H


def _layout(d: Draw, E: int) -> tuple[bool, bool, int, Callable[[int], Shape]]:
    """(batch_first, unbatched, N, T -> the input shape of T positions)."""
    batch_first, unbatched, N = d.pick([True, False]), d.pick([True, False]), d.int(0, 3)
    if unbatched:
        return batch_first, True, N, lambda T: (T, E)
    return batch_first, False, N, (lambda T: (N, T, E)) if batch_first else (lambda T: (T, N, E))


def _padding(d: Draw, unbatched: bool, N: int, S: int) -> Shape:
    return (S,) if unbatched else (N, S)


def _shared_grads(inputs: list[Any]) -> tuple[Any, ...]:
    """MultiheadAttention's gradients: one per input, None for key and value that are the query, value the key."""
    q, k, v = inputs
    if k is q and v is q:
        return (q, None, None)
    return (q, k, None) if v is k else (q, k, v)


def multihead(d: Draw) -> Case:
    E, H = _sizes(d)
    batch_first, unbatched, N, shape = _layout(d, E)
    kind = d.pick(["self", "key_is_value", "distinct"])
    L, S = d.int(0, 3), d.int(0, 3)
    S = L if kind == "self" else S
    q = d.x(shape(L))
    k = q if kind == "self" else d.p(shape(S))
    v = k if kind != "distinct" else d.p(shape(S))
    kwargs = {"embed_dim": E, "num_heads": H, "dropout": d.pick([0.0, d.float(0, 0.9)]),
              "bias": d.pick([True, False]), "batch_first": batch_first}  # fmt: skip
    average = d.pick([True, False])
    call: dict[str, Any] = {"average_attn_weights": average, "is_causal": d.pick([True, False])}
    _maybe(d, call, "key_padding_mask", _padding(d, unbatched, N, S))
    _maybe(d, call, "attn_mask", d.pick([(L, S), (H if unbatched else N * H, L, S)]))
    lead = () if unbatched else (N,)
    weights = (*lead, L, S) if average else (*lead, H, L, S)
    return Case(kwargs, [q, k, v], shape(L), state_shapes=(weights,), call_kwargs=call, grads=_shared_grads)


def _layer_kwargs(d: Draw, E: int, H: int, batch_first: bool) -> dict[str, Any]:
    return {"d_model": E, "nhead": H, "dim_feedforward": d.int(1, 4), "dropout": d.pick([0.0, d.float(0, 0.9)]),
            "activation": d.pick(["relu", "gelu"]), "layer_norm_eps": d.float(1e-6, 1), "batch_first": batch_first,
            "norm_first": d.pick([True, False]), "bias": d.pick([True, False])}  # fmt: skip


def _encoder_call(d: Draw, unbatched: bool, N: int, T: int, mask: str = "src_mask") -> dict[str, Any]:
    call: dict[str, Any] = {"is_causal": d.pick([True, False])}
    _maybe(d, call, mask, (T, T))
    _maybe(d, call, "src_key_padding_mask", _padding(d, unbatched, N, T))
    return call


def encoder_layer(stack: bool) -> Callable[[Draw], Case]:
    def make(d: Draw) -> Case:
        E, H = _sizes(d)
        batch_first, unbatched, N, shape = _layout(d, E)
        T = d.int(0, 3)
        kwargs = _layer_kwargs(d, E, H, batch_first)
        if stack:
            kwargs = {"encoder_layer": nn.TransformerEncoderLayer(**kwargs), "num_layers": d.int(1, 2),
                      "norm": d.pick([None, nn.LayerNorm(E)])}  # fmt: skip
        call = _encoder_call(d, unbatched, N, T, "mask" if stack else "src_mask")
        return Case(kwargs, [d.x(shape(T))], shape(T), call_kwargs=call)

    return make


def _decoder_call(d: Draw, unbatched: bool, N: int, T: int, S: int) -> dict[str, Any]:
    call: dict[str, Any] = {"tgt_is_causal": d.pick([True, False]), "memory_is_causal": d.pick([True, False])}
    _maybe(d, call, "tgt_mask", (T, T))
    _maybe(d, call, "memory_mask", (T, S))
    _maybe(d, call, "tgt_key_padding_mask", _padding(d, unbatched, N, T))
    _maybe(d, call, "memory_key_padding_mask", _padding(d, unbatched, N, S))
    return call


def _both(inputs: list[Any]) -> tuple[Any, Any]:
    return inputs[0], inputs[1]


def decoder_layer(stack: bool) -> Callable[[Draw], Case]:
    def make(d: Draw) -> Case:
        E, H = _sizes(d)
        batch_first, unbatched, N, shape = _layout(d, E)
        T, S = d.int(0, 3), d.int(0, 3)
        kwargs = _layer_kwargs(d, E, H, batch_first)
        if stack:
            kwargs = {"decoder_layer": nn.TransformerDecoderLayer(**kwargs), "num_layers": d.int(1, 2),
                      "norm": d.pick([None, nn.LayerNorm(E)])}  # fmt: skip
        tgt = d.x(shape(T))
        memory = tgt if T == S and d.pick([True, False]) else d.p(shape(S))  # one array as both, or two
        call = _decoder_call(d, unbatched, N, T, S)
        return Case(kwargs, [tgt, memory], shape(T), call_kwargs=call, grads=_both)

    return make


def transformer(d: Draw) -> Case:
    E, H = _sizes(d)
    batch_first, unbatched, N, shape = _layout(d, E)
    S, T = d.int(0, 3), d.int(0, 3)
    kwargs = _layer_kwargs(d, E, H, batch_first)
    kwargs.update(num_encoder_layers=d.int(1, 2), num_decoder_layers=d.int(1, 2))
    call = _decoder_call(d, unbatched, N, T, S)
    call.update(_encoder_call(d, unbatched, N, S))
    call["src_is_causal"] = call.pop("is_causal")
    return Case(kwargs, [d.x(shape(S)), d.x(shape(T))], shape(T), call_kwargs=call, grads=_both)


def seq2seq(d: Draw) -> Case:
    E, H = _sizes(d)
    V, N, S, T = d.int(1, 6), d.int(0, 3), d.int(1, 4), d.int(1, 4)
    kwargs = {"vocab_size": V, "d_model": E, "nhead": H, "num_encoder_layers": d.int(1, 2),
              "num_decoder_layers": d.int(1, 2), "dim_feedforward": d.int(1, 4),
              "dropout": d.pick([0.0, d.float(0, 0.9)]), "activation": d.pick(["relu", "gelu"]),
              "norm_first": d.pick([True, False]), "max_len": d.int(max(S, T), 6), "pad_id": d.int(0, V - 1),
              "positions": d.pick(["learned", "sinusoidal"])}  # fmt: skip
    return Case(kwargs, [d.labels((N, S), V), d.labels((N, T), V)], (N, T, V), ids=True)


SPECS: list[ModuleSpec] = [
    ModuleSpec(nn.MultiheadAttention, multihead, not_implemented=("add_bias_kv", "add_zero_attn", "kdim", "vdim")),
    ModuleSpec(nn.TransformerEncoderLayer, encoder_layer(False)),
    ModuleSpec(nn.TransformerEncoder, encoder_layer(True)),
    ModuleSpec(nn.TransformerDecoderLayer, decoder_layer(False)),
    ModuleSpec(nn.TransformerDecoder, decoder_layer(True)),
    ModuleSpec(nn.Transformer, transformer),
    ModuleSpec(models.Seq2SeqTransformer, seq2seq),
]
