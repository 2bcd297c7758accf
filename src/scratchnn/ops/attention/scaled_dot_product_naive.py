"""Scaled dot-product attention one query at a time: the readable reference for scaled_dot_product.py.

Loops over batch, heads and query positions; each query's scores, softmax, output and gradients are the
plain per-row formulas. Arguments, checks, masks, dropout draws and the cache are the fast op's (both go
through ``_common.prepare``), so the two are held equal in the tests, and either backward takes either cache.

Derivation: docs/derivations/attention/scaled_dot_product.md
"""

from __future__ import annotations

import numpy as np

from ..._numerics import quiet
from ..._validate import check_grad
from ._common import AttentionCache, prepare


@quiet
def scaled_dot_product_attention_forward_naive(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    *,
    attn_mask: np.ndarray | None = None,
    key_padding_mask: np.ndarray | None = None,
    is_causal: bool = False,
    dropout_p: float = 0.0,
    dropout_mask: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
    scale: float | None = None,
) -> tuple[np.ndarray, AttentionCache]:
    """:func:`~.scaled_dot_product.scaled_dot_product_attention_forward` with loops; the same arguments and results.

    For query i of head h of sample n:  s_j = scale * q_i . k_j + M_ij;  p = softmax(s) (0 if every s_j is -inf);
    p' = p * keep_i / (1 - dropout_p);  out_i = sum_j p'_j v_j.

    Shape:
        q: (N, H, L, E);  k: (N, H, S, E);  v: (N, H, S, Ev);  out: (N, H, L, Ev)
    """
    scale_, mask, keep = prepare(q, k, v, attn_mask, key_padding_mask, is_causal, dropout_p, dropout_mask, rng, scale)
    N, H, L, E = q.shape
    S, Ev = v.shape[2:]
    M = np.zeros((N, H, L, S), q.dtype) if mask is None else np.broadcast_to(mask, (N, H, L, S))
    weights = np.zeros((N, H, L, S), q.dtype)
    dropped = weights if keep is None else np.zeros((N, H, L, S), q.dtype)
    out = np.zeros((N, H, L, Ev), q.dtype)
    for n in range(N):
        for h in range(H):
            for i in range(L):
                s = k[n, h] @ q[n, h, i] * scale_ + M[n, h, i]  # (S, E) @ (E,) -> (S,)
                if S and s.max() != -np.inf:
                    e = np.exp(s - s.max())
                    weights[n, h, i] = e / e.sum()
                # else: every key masked out (or none at all): the row stays 0
                if keep is not None:
                    dropped[n, h, i] = weights[n, h, i] * keep[n, h, i]
                out[n, h, i] = dropped[n, h, i] @ v[n, h]  # (S,) @ (S, Ev) -> (Ev,)
    qs = q * scale_ if scale_ != 1 else q
    return out, AttentionCache(qs, k, v, weights, dropped, keep, scale_)


@quiet
def scaled_dot_product_attention_backward_naive(
    dout: np.ndarray, cache: AttentionCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`scaled_dot_product_attention_forward_naive`, one query at a time: (dq, dk, dv).

    For query i:  dv_j += p'_j dout_i;  dp_j = v_j . dout_i * keep_ij / (1 - dropout_p);
    ds = p * (dp - p . dp);  dq_i = scale * sum_j ds_j k_j;  dk_j += scale * ds_j q_i.

    Shape:
        dout: (N, H, L, Ev);  dq: (N, H, L, E);  dk: (N, H, S, E);  dv: (N, H, S, Ev)
    """
    qs, k, v, weights, dropped, keep, scale = cache
    check_grad(dout, "dout", weights.shape[:3] + v.shape[3:], v.dtype)
    N, H, L, _ = qs.shape
    dq, dk, dv = np.zeros(qs.shape, qs.dtype), np.zeros_like(k), np.zeros_like(v)
    for n in range(N):
        for h in range(H):
            for i in range(L):
                p = weights[n, h, i]  # (S,)
                dv[n, h] += np.outer(dropped[n, h, i], dout[n, h, i])  # (S,) x (Ev,) -> (S, Ev)
                dp = v[n, h] @ dout[n, h, i]  # (S, Ev) @ (Ev,) -> (S,)
                if keep is not None:
                    dp = dp * keep[n, h, i]
                ds = p * (dp - p @ dp)  # (S,)
                dq[n, h, i] = scale * (ds @ k[n, h])  # (S,) @ (S, E) -> (E,)
                dk[n, h] += np.outer(ds, qs[n, h, i])  # (S,) x (E,) -> (S, E); qs = scale * q
    return dq, dk, dv
