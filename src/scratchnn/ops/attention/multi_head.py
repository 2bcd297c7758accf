"""Multi-head attention as one op pair: the input projections, the heads, attention, the output projection.

    q = query Wq^T + bq,  k = key Wk^T + bk,  v = value Wv^T + bv       [Wq; Wk; Wv] = in_proj_weight (3E, E)
    head h: O_h = attention(q_h, k_h, v_h), q_h = q[..., h*Dh:(h+1)*Dh], Dh = E / H
    out = concat_h(O_h) Wo^T + bo

Backward runs the same chain in reverse: dO = dout Wo, dWo = dout^T concat(O), dbo = sum dout; the heads'
attention backward gives dq, dk, dv (with the weights' own upstream gradient dweights, when the caller used
the weights, added to their gradient dP' there); then dWq = dq^T query, dquery = dq Wq, and so on for k and v.

Self-attention (query, key and value the same array) projects once, x @ [Wq; Wk; Wv]^T, and its input
gradient is one product, [dq, dk, dv] @ [Wq; Wk; Wv]; cross-attention with key and value the same array
(a decoder attending to the encoder's memory) projects key and value in one product the same way. The
gradients then come back summed for the shared input, as :func:`multi_head_attention_backward` says.

The heads are views of the projections' outputs, and attention writes its outputs (forward: the heads'
outputs; backward: dq, dk, dv) straight into merged buffers through views, so heads are never split or
merged by copying. Its blocks run on the intra-op threads (scratchnn/_threads.py), and so do the
projections' GEMMs: forward, rows split over the threads (``_threads.matmul``); backward, each weight
gradient beside its input gradient, one whole GEMM per thread (``_threads.matmuls``: 34 -> 26 ms for the
four at T = 128). Mixing in OpenBLAS's own threads would leave them spinning on the cores the blocks want.

Shape (batch-first; nn.MultiheadAttention transposes sequence-first inputs):
    query: (N, L, E);  key: (N, S, E);  value: (N, S, E);  out: (N, L, E);  weights: (N, H, L, S)
    in_proj_weight: (3E, E);  in_proj_bias: (3E,);  out_proj_weight: (E, E);  out_proj_bias: (E,)

Derivation: docs/derivations/attention/multi_head.md
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..._numerics import quiet
from ..._threads import matmul, matmuls
from ..._validate import check_array, check_grad, check_int, check_same_dtype, invalid_shape, invalid_value
from ._common import prepare
from .scaled_dot_product import _attend, _attend_backward

__all__ = ["multi_head_attention_forward", "multi_head_attention_backward", "split_heads", "merge_heads", "project"]


def split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """(N, T, E) -> (N, H, T, Dh), a view: head h holds features h*Dh .. (h+1)*Dh - 1 (torch's split)."""
    N, T, E = x.shape
    return x.reshape(N, T, num_heads, E // num_heads).transpose(0, 2, 1, 3)  # (N, T, H, Dh) -> (N, H, T, Dh)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """(N, H, T, Dh) -> (N, T, H * Dh), contiguous: the heads' outputs side by side, as concat_h(O_h)."""
    N, H, T, Dh = x.shape
    return x.transpose(0, 2, 1, 3).reshape(N, T, H * Dh)  # (N, T, H, Dh) -> (N, T, E), one copy


class _Cache(NamedTuple):
    query: np.ndarray  # (N, L, E)
    key: np.ndarray | None  # (N, S, E); None when it is query
    value: np.ndarray | None  # (N, S, E); None when it is key (or query)
    in_proj_weight: np.ndarray
    out_proj_weight: np.ndarray
    concat: np.ndarray  # (N, L, E): the heads' outputs before the output projection
    attention: Any  # the scaled dot-product attention's cache
    num_heads: int
    has_bias: bool


def _check(
    query: Any,
    key: Any,
    value: Any,
    in_proj_weight: Any,
    in_proj_bias: Any,
    out_proj_weight: Any,
    out_proj_bias: Any,
    num_heads: Any,
) -> tuple[int, int, int, int]:
    """Ranks, dtypes and shapes of the arrays; returns (N, L, S, E)."""
    for name, a in (("query", query), ("key", key), ("value", value)):
        check_array(a, name, ndim=3)
    E = query.shape[2]
    H = check_int(num_heads, "num_heads", low=1)
    if E % H:
        raise invalid_value("num_heads", f"a divisor of embed_dim = {E}", num_heads)
    if E == 0 and H > 1:  # every count divides 0, but more heads than features only makes huge empty shapes
        raise invalid_value("num_heads", "1 when embed_dim = 0", num_heads)
    for name, a in (("key", key), ("value", value)):
        check_same_dtype(a, name, query, "query")
        if a.shape[0] != query.shape[0] or a.shape[2] != E:
            raise invalid_shape(name, f"(N, S, E) with N = {query.shape[0]}, E = {E} as query", a.shape)
    if value.shape[1] != key.shape[1]:
        raise invalid_shape("value", f"(N, S, E) with S = {key.shape[1]} as key", value.shape)
    for name, a, shape in (
        ("in_proj_weight", in_proj_weight, (3 * E, E)),
        ("out_proj_weight", out_proj_weight, (E, E)),
        ("in_proj_bias", in_proj_bias, (3 * E,)),
        ("out_proj_bias", out_proj_bias, (E,)),
    ):
        if a is None and name.endswith("bias"):
            continue
        check_array(a, name, ndim=len(shape))
        check_same_dtype(a, name, query, "query")
        if a.shape != shape:
            raise invalid_shape(name, str(shape), a.shape)
    if (in_proj_bias is None) != (out_proj_bias is None):
        raise invalid_value("out_proj_bias", "given exactly when in_proj_bias is", out_proj_bias)
    return query.shape[0], query.shape[1], key.shape[1], E


def project(x: np.ndarray, W: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """x W^T + b over the last axis. Shape: x (N, T, E);  W (k*E, E);  result (N, T, k*E)."""
    N, T, E = x.shape
    # one (N*T, E) @ (E, kE) product: a stacked matmul would call the BLAS once per sample
    return matmul(x.reshape(N * T, E), W.T, bias=b).reshape(N, T, W.shape[0])  # (N*T, E) @ (E, kE) -> (N, T, kE)


@quiet
def multi_head_attention_forward(
    query: np.ndarray,
    key: np.ndarray,
    value: np.ndarray,
    in_proj_weight: np.ndarray,
    in_proj_bias: np.ndarray | None,
    out_proj_weight: np.ndarray,
    out_proj_bias: np.ndarray | None,
    num_heads: int,
    *,
    attn_mask: Any = None,
    key_padding_mask: Any = None,
    is_causal: bool = False,
    dropout_p: float = 0.0,
    rng: np.random.Generator | None = None,
    dropout_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, Any]:
    """Multi-head attention (module docstring); returns (out, weights, cache).

    ``weights`` are each head's attention weights (N, H, L, S), after dropout as torch's
    ``need_weights=True`` returns them: a second output, whose upstream gradient
    :func:`multi_head_attention_backward` takes after dout (None when unused). Masks and dropout are those of
    :func:`scaled_dot_product_attention_forward`, applied to every head; ``attn_mask`` may also be torch's
    per-head (N * H, L, S) form.
    """
    N, L, S, E = _check(query, key, value, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias, num_heads)
    H = num_heads
    W, b = in_proj_weight, in_proj_bias
    bs = (None, None, None) if b is None else (b[:E], b[E : 2 * E], b[2 * E :])
    if key is query and value is query:  # self-attention: one product for q, k and v
        q, k, v = np.split(project(query, W, b), 3, axis=2)  # (N, L, 3E) -> 3 x (N, L, E) views
    else:
        q = project(query, W[:E], bs[0])  # (N, L, E)
        if value is key:  # cross-attention over one memory: one product for k and v
            k, v = np.split(project(key, W[E:], None if b is None else b[E:]), 2, axis=2)  # 2 x (N, S, E)
        else:
            k, v = project(key, W[E : 2 * E], bs[1]), project(value, W[2 * E :], bs[2])  # (N, S, E) each
    if isinstance(attn_mask, np.ndarray) and attn_mask.ndim == 3 and attn_mask.shape[0] == N * H:
        attn_mask = attn_mask.reshape(N, H, *attn_mask.shape[1:])  # torch's (N*H, L, S) -> (N, H, L, S)
    qh, kh, vh = split_heads(q, H), split_heads(k, H), split_heads(v, H)  # (N, H, L or S, Dh) views
    scale, mask, keep = prepare(qh, kh, vh, attn_mask, key_padding_mask, is_causal, dropout_p, dropout_mask, rng, None)
    concat = np.empty((N, L, E), dtype=query.dtype)  # the heads' outputs side by side, concat_h(O_h)
    att = _attend(qh, kh, vh, scale, mask, keep, out=split_heads(concat, H))  # written straight into concat
    out = project(concat, out_proj_weight, out_proj_bias)  # (N, L, E)
    shared_key = None if key is query and value is query else key
    shared_value = None if value is key else value
    cache = _Cache(query, shared_key, shared_value, W, out_proj_weight, concat, att, H, b is not None)
    return out, att.dropped_weights, cache


@quiet
def multi_head_attention_backward(
    dout: np.ndarray, dweights: np.ndarray | None, cache: Any
) -> tuple[
    np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray | None
]:
    """Gradients of :func:`multi_head_attention_forward` for the upstream gradients of its two outputs, out and
    weights (``dweights`` None: the weights were not used):
    (dquery, dkey, dvalue, din_proj_weight, din_proj_bias, dout_proj_weight, dout_proj_bias).

    The two fused cases return None for the repeated input, its gradient summed into the earlier one's:
    self-attention (query, key and value one array) returns (dx, None, None, ...), key is value returns
    (dquery, dmemory, None, ...); any other repeat (key is query alone) gets a gradient per argument.
    The biases' gradients are None when the forward had no biases.

    Shape:
        dout: (N, L, E);  dweights: (N, H, L, S)
    """
    c: _Cache = cache
    N, L, E = c.query.shape
    dout = check_grad(dout, "dout", (N, L, E), c.query.dtype)
    if dweights is not None:
        check_grad(dweights, "dweights", c.attention.weights.shape, c.query.dtype)
    d2 = dout.reshape(N * L, E)  # (N, L, E) -> (N*L, E)
    # dWo = dout^T concat: (E, N*L) @ (N*L, E) -> (E, E);  dconcat = dout Wo: (N*L, E) @ (E, E) -> (N*L, E)
    dWo, dconcat = matmuls((d2.T, c.concat.reshape(N * L, E), None), (d2, c.out_proj_weight, None))
    dbo = d2.sum(axis=0) if c.has_bias else None
    dconcat = dconcat.reshape(N, L, E)
    H, S = c.num_heads, c.attention.k.shape[2]
    W = c.in_proj_weight
    dW = np.empty_like(W)  # (3E, E): [dWq; dWk; dWv]
    db = np.empty(3 * E, dtype=W.dtype) if c.has_bias else None
    if c.key is None:  # self-attention: [dq, dk, dv] side by side, one product each way
        dqkv = np.empty((N, L, 3 * E), dtype=dout.dtype)  # the heads' gradients written straight in, merged
        heads = (split_heads(d, H) for d in np.split(dqkv, 3, axis=2))  # 3 x (N, H, L, Dh) views
        _attend_backward(split_heads(dconcat, H), c.attention, dweights, *heads)
        dqkv = dqkv.reshape(N * L, 3 * E)  # (N*L, 3E)
        # dW = [dq dk dv]^T x: (3E, N*L) @ (N*L, E) -> (3E, E);  dx = [dq dk dv] W: (N*L, 3E) @ (3E, E)
        dquery = matmuls((dqkv.T, c.query.reshape(N * L, E), dW), (dqkv, W, None))[1].reshape(N, L, E)
        dkey = dvalue = None
        if db is not None:
            np.sum(dqkv, axis=0, out=db)
    else:
        dq = np.empty((N, L, E), dtype=dout.dtype)
        dkv = np.empty((N, S, 2 * E), dtype=dout.dtype)  # [dk dv] side by side, as one memory's product takes them
        dk, dv = np.split(dkv, 2, axis=2)  # 2 x (N, S, E) views
        # the heads' gradients written straight into the merged arrays through (N, H, T, Dh) views
        _attend_backward(split_heads(dconcat, H), c.attention, dweights, *(split_heads(d, H) for d in (dq, dk, dv)))
        dq2, dkv2 = dq.reshape(N * L, E), dkv.reshape(N * S, 2 * E)
        # dWq = dq^T query: (E, N*L) @ (N*L, E) -> (E, E);  dquery = dq Wq: (N*L, E) @ (E, E) -> (N*L, E)
        dquery = matmuls((dq2.T, c.query.reshape(N * L, E), dW[:E]), (dq2, W[:E], None))[1].reshape(N, L, E)
        if c.value is None:  # key is value: one memory, one product each way
            # (2E, N*S) @ (N*S, E) -> (2E, E);  (N*S, 2E) @ (2E, E) -> (N*S, E)
            dkey = matmuls((dkv2.T, c.key.reshape(N * S, E), dW[E:]), (dkv2, W[E:], None))[1].reshape(N, S, E)
            dvalue = None
        else:
            dk2, dv2 = dkv2[:, :E], dkv2[:, E:]  # (N*S, E) views
            dkey, dvalue = matmuls(
                (dk2.T, c.key.reshape(N * S, E), dW[E : 2 * E]),  # (E, N*S) @ (N*S, E) -> (E, E)
                (dv2.T, c.value.reshape(N * S, E), dW[2 * E :]),  # (E, N*S) @ (N*S, E) -> (E, E)
                (dk2, W[E : 2 * E], None),  # (N*S, E) @ (E, E) -> (N*S, E)
                (dv2, W[2 * E :], None),  # (N*S, E) @ (E, E) -> (N*S, E)
            )[2:]
            dkey, dvalue = dkey.reshape(N, S, E), dvalue.reshape(N, S, E)
        if db is not None:
            np.sum(dq2, axis=0, out=db[:E])
            np.sum(dkv2, axis=0, out=db[E:])
    return dquery, dkey, dvalue, dW, db, dWo, dbo
