"""Scaled dot-product attention, softmax(q k^T * scale + mask) v, batched over batch and heads.

Every product is one batched ``np.matmul`` over (N, H); the softmax runs in place on the fresh score array;
float32 stays float32 throughout. The naive twin (scaled_dot_product_naive.py) computes each query row on
its own and is held equal to this one in the tests.

Derivation: docs/derivations/attention/scaled_dot_product.md
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._numerics import quiet
from ..._validate import check_grad
from ._common import AttentionCache, prepare


def _saturating() -> Any:
    """inf or NaN in the input give NaN rows (inf - inf), as in torch, without NumPy's signals; finite input
    never meets them: -inf from a mask only ever has a finite value or 0 subtracted from it."""
    return np.errstate(over="ignore", invalid="ignore")


@quiet
def scaled_dot_product_attention_forward(
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
    """out = P' v,  P' = P * keep / (1 - p),  P = softmax_j(scale * q k^T + M).

    ``scale`` defaults to 1 / sqrt(E) (1 when E = 0: every score is 0 then); any finite float may be given.

    M is every mask merged into one additive mask (:func:`~.masks.merge_masks`): -inf where a boolean mask is
    True (scratchnn's convention: True = masked out, as nn.MultiheadAttention; F.scaled_dot_product_attention's
    boolean mask is the inverse, see :func:`~.masks.to_sdpa_mask`), plus any float mask.

    - ``attn_mask``: bool or float, broadcasting to (N, H, L, S); ``key_padding_mask``: (N, S), True = pad;
      ``is_causal``: query i attends to keys j <= i (top-left aligned when L != S, as torch). They combine.
    - attention dropout: ``dropout_p`` is the drop probability p in [0, 1); each weight is kept with
      probability 1 - p, the keep mask ``rng.random((N, H, L, S), dtype=float32) >= p`` (``rng`` None:
      scratchnn's default generator), or ``dropout_mask`` (bool (N, H, L, S), True = keep) given explicitly,
      for twin tests; either way the kept weights are scaled by 1 / (1 - p) (inverted dropout).
    - a fully masked row (every score -inf) gives output 0, weights 0 and zero gradients. torch 2.13's
      F.scaled_dot_product_attention gives 0 there too; nn.MultiheadAttention with need_weights=True (its
      default, an explicit softmax) gives NaN output and weights for that row.

    The cache (:class:`~._common.AttentionCache`) exposes ``cache.weights`` (P, before dropout) and
    ``cache.dropped_weights`` (P', after dropout): torch's nn.MultiheadAttention returns P' with
    need_weights=True, i.e. the weights after dropout in training mode.

    Backward:
        dv = P'^T dout;  dP' = dout v^T (+ dweights, the weights' own gradient, if given);  dP = dP' * keep / (1 - p);
        dS = P * (dP - sum_j dP * P)  (the softmax's Jacobian-vector product, row by row);
        dq = scale * dS k;  dk = scale * dS^T q.

    Shape:
        q: (N, H, L, E);  k: (N, H, S, E);  v: (N, H, S, Ev);  out: (N, H, L, Ev)
        attn_mask: broadcasting to (N, H, L, S);  key_padding_mask: (N, S);  dropout_mask: (N, H, L, S)

    Derivation: docs/derivations/attention/scaled_dot_product.md
    """
    scale_, mask, keep = prepare(q, k, v, attn_mask, key_padding_mask, is_causal, dropout_p, dropout_mask, rng, scale)
    qs = q * scale_ if scale_ != 1 else q  # the scale on q: L*E products instead of L*S on the scores
    scores = np.matmul(qs, k.swapaxes(-1, -2))  # (N, H, L, E) @ (N, H, E, S) -> (N, H, L, S)
    with _saturating():
        weights = _softmax_rows_(scores, mask)
    dropped = weights if keep is None else weights * keep
    out = np.matmul(dropped, v)  # (N, H, L, S) @ (N, H, S, Ev) -> (N, H, L, Ev)
    return out, AttentionCache(qs, k, v, weights, dropped, keep, scale_)


def _softmax_rows_(scores: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """scores <- softmax(scores + mask) over the last axis, in place (the caller owns scores); returns it.

    A row whose every entry is -inf (every key masked out, or no keys at all) becomes all 0: its maximum is
    taken as 0 so exp gives 0 rather than exp(-inf + inf) = NaN, and its sum as 1 so 0 / 1 = 0.

    Shape:
        scores: (..., S);  mask: broadcasting to scores
    """
    if mask is not None:
        scores += mask
    m = np.max(scores, axis=-1, keepdims=True, initial=-np.inf)  # (..., S) -> (..., 1); initial: S may be 0
    dead = m == -np.inf
    any_dead = bool(dead.any())
    if any_dead:
        m[dead] = 0
    scores -= m
    np.exp(scores, out=scores)
    total = scores.sum(axis=-1, keepdims=True)  # (..., S) -> (..., 1)
    if any_dead:
        total[dead] = 1
    scores *= np.reciprocal(total, out=total)  # one division per row, a multiply per weight
    return scores


@quiet
def scaled_dot_product_attention_backward(
    dout: np.ndarray, cache: AttentionCache, *, dweights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`scaled_dot_product_attention_forward`: (dq, dk, dv).

    ``dweights``: an upstream gradient of the weights after dropout, ``cache.dropped_weights`` (P'), when
    the caller uses them too (nn.MultiheadAttention returns them); it adds to dP' = dout v^T. None: zero.

    Shape:
        dout: (N, H, L, Ev);  dweights: (N, H, L, S);  dq: (N, H, L, E);  dk: (N, H, S, E);  dv: (N, H, S, Ev)
    """
    qs, k, v, weights, dropped, keep, scale = cache
    check_grad(dout, "dout", weights.shape[:3] + v.shape[3:], v.dtype)
    if dweights is not None:
        check_grad(dweights, "dweights", weights.shape, v.dtype)
    dv = np.matmul(dropped.swapaxes(-1, -2), dout)  # (N, H, S, L) @ (N, H, L, Ev) -> (N, H, S, Ev)
    ds = np.matmul(dout, v.swapaxes(-1, -2))  # (N, H, L, Ev) @ (N, H, Ev, S) -> (N, H, L, S): dP', in place to dS
    with _saturating():
        if dweights is not None:
            ds += dweights  # P' is an output as well as a factor of out: its two gradients add
        if keep is not None:
            ds *= keep  # dP
        # dP - sum_j dP P; einsum sums the products without a (N, H, L, S) temporary
        ds -= np.einsum("...s,...s->...", ds, weights)[..., None]  # (N, H, L, S) -> (N, H, L) -> (N, H, L, 1)
        ds *= weights  # dS; zero on a fully masked row, whose weights are 0
    dq = np.matmul(ds, k)  # (N, H, L, S) @ (N, H, S, E) -> (N, H, L, E)
    if scale != 1:
        dq *= scale
    dk = np.matmul(ds.swapaxes(-1, -2), qs)  # (N, H, S, L) @ (N, H, L, E) -> (N, H, S, E); qs carries the scale
    return dq, dk, dv
