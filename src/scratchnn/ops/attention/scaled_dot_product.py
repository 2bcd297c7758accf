"""Scaled dot-product attention, softmax(q k^T * scale + mask) v, batched over batch and heads.

The (sample, head) pairs are cut into blocks of about 2^17 scores, each run start to end (scores, softmax,
the average of the values; backward likewise) on the intra-op threads, so a block's scores are still in
cache when the softmax reads them. Every product is a batched ``np.matmul`` over a block's pairs, the
softmax runs in place on the block's scores, and float32 stays float32 throughout. The naive twin
(scaled_dot_product_naive.py) computes each query row on its own and is held equal to this one in the tests.

Derivation: docs/derivations/attention/scaled_dot_product.md
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._numerics import quiet
from ..._threads import run_blocks
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
    out = np.empty(q.shape[:3] + v.shape[3:], dtype=q.dtype)  # (N, H, L, Ev)
    return out, _attend(q, k, v, scale_, mask, keep, out)


def _attend(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    scale: float,
    mask: np.ndarray | None,
    keep: np.ndarray | None,
    out: np.ndarray,
) -> AttentionCache:
    """The forward's work on checked arguments (:func:`~._common.prepare`'s scale, mask and keep), written
    into ``out``: any (N, H, L, Ev) array or view whose rows are contiguous (multi-head attention passes a
    view of its merged (N, L, H * Ev) buffer, so the heads are never copied together).

    The (sample, head) pairs are cut into :func:`blocks` and each block is run start to end (scores, softmax,
    the average of the values) on the intra-op threads (scratchnn/_threads.py): the scores of a block are
    still in the core's cache when the softmax and the second product read them.
    """
    N, H, L, _ = q.shape
    S = k.shape[2]
    qs = np.empty_like(q)  # q * scale: L*E products instead of L*S on the scores
    weights = np.empty((N, H, L, S), dtype=q.dtype)
    dropped = weights if keep is None else np.empty_like(weights)
    masks = None if mask is None else np.broadcast_to(mask, weights.shape)  # a view: its slices are free

    def block(n: slice, h: slice) -> None:
        np.multiply(q[n, h], scale, out=qs[n, h])
        s = np.matmul(qs[n, h], k[n, h].swapaxes(-1, -2), out=weights[n, h])  # (n, h, L, E) @ (n, h, E, S)
        with _saturating():
            _softmax_rows_(s, None if masks is None else masks[n, h])  # (n, h, L, S), in place
        if keep is not None:
            np.multiply(s, keep[n, h], out=dropped[n, h])
        np.matmul(dropped[n, h], v[n, h], out=out[n, h])  # (n, h, L, S) @ (n, h, S, Ev) -> (n, h, L, Ev)

    run_blocks(block, blocks(N, H, L * S))
    return AttentionCache(qs, k, v, weights, dropped, keep, scale)


# A block holds about this many scores (512 KiB of float32: one sample's 8 heads at L = S = 128, one head
# at 512), few enough to stay in a core's cache from the GEMM that writes them through the softmax to the
# GEMM that reads them, many enough that a block's ~15 NumPy calls cost little next to its arithmetic.
# Measured at T = 128 on two threads: blocks of 2^16 and 2^18 scores were no faster.
BLOCK = 1 << 17


def blocks(N: int, H: int, per_head: int) -> list[tuple[slice, slice]]:
    """(samples, heads) slices that cover (N, H), each about BLOCK scores (``per_head`` per head): whole
    samples when a sample's heads hold fewer, else a few heads of one sample. Small problems are one block."""
    if H * per_head >= BLOCK:
        h = max(1, BLOCK // per_head)
        return [(slice(n, n + 1), slice(i, i + h)) for n in range(N) for i in range(0, H, h)]
    m = BLOCK // max(H * per_head, 1)  # per_head may be 0: no queries or no keys
    return [(slice(n, n + m), slice(0, H)) for n in range(0, N, m)] or [(slice(0, 0), slice(0, H))]


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
    shape, dtype = cache.weights.shape, cache.v.dtype  # (N, H, L, S)
    check_grad(dout, "dout", shape[:3] + cache.v.shape[3:], dtype)
    if dweights is not None:
        check_grad(dweights, "dweights", shape, dtype)
    dq, dk, dv = np.empty_like(cache.qs), np.empty_like(cache.k), np.empty_like(cache.v)
    _attend_backward(dout, cache, dweights, dq, dk, dv)
    return dq, dk, dv


def _attend_backward(
    dout: np.ndarray,
    cache: AttentionCache,
    dweights: np.ndarray | None,
    dq: np.ndarray,
    dk: np.ndarray,
    dv: np.ndarray,
) -> None:
    """The backward's work on checked gradients, written into ``dq``, ``dk`` and ``dv``: arrays or views
    with contiguous rows (multi-head self-attention passes views of its [dq dk dv] buffer), block by
    block as :func:`_attend`."""
    qs, k, v, weights, dropped, keep, scale = cache
    N, H = weights.shape[:2]

    def block(n: slice, h: slice) -> None:
        P = weights[n, h]  # (n, h, L, S)
        np.matmul(dropped[n, h].swapaxes(-1, -2), dout[n, h], out=dv[n, h])  # (n, h, S, L) @ (n, h, L, Ev)
        ds = np.matmul(dout[n, h], v[n, h].swapaxes(-1, -2))  # (n, h, L, Ev) @ (n, h, Ev, S): dP', to dS in place
        with _saturating():
            if dweights is not None:
                ds += dweights[n, h]  # P' is an output as well as a factor of out: its two gradients add
            if keep is not None:
                ds *= keep[n, h]  # dP
            # dP - sum_j dP P; einsum sums the products without a temporary
            ds -= np.einsum("...s,...s->...", ds, P)[..., None]  # (n, h, L, S) -> (n, h, L) -> (n, h, L, 1)
            ds *= P  # dS; zero on a fully masked row, whose weights are 0
        dqb = np.matmul(ds, k[n, h], out=dq[n, h])  # (n, h, L, S) @ (n, h, S, E) -> (n, h, L, E)
        if scale != 1:
            dqb *= scale
        np.matmul(ds.swapaxes(-1, -2), qs[n, h], out=dk[n, h])  # (n, h, S, L) @ (n, h, L, E); qs has the scale

    run_blocks(block, blocks(N, H, weights.shape[2] * weights.shape[3]))
