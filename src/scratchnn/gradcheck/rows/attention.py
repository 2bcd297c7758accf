"""Gradient-check rows of the attention area: scaled dot-product attention and its naive twin
(ops/attention/scaled_dot_product.py, scaled_dot_product_naive.py).

The rows cover no mask, the causal mask for L == S and for L != S, boolean and float masks together (with
a fully masked row, whose gradients are 0 on both sides), an explicit scale, and attention dropout with an
injected keep mask (a drawn one would change between the finite-difference calls). E != Ev throughout, so
a transposed product would fail on shapes. The softmax is smooth: no input needs to avoid a kink.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ... import ops
from .base import OpRow

N, H, L, S, E, Ev = 2, 2, 3, 4, 3, 2


def qkv(rng: np.random.Generator, *, L: int = L, S: int = S) -> dict[str, np.ndarray]:
    """q (N, H, L, E), k (N, H, S, E), v (N, H, S, Ev), standard normal."""
    return {
        "q": rng.standard_normal((N, H, L, E)),
        "k": rng.standard_normal((N, H, S, E)),
        "v": rng.standard_normal((N, H, S, Ev)),
    }


_masks = np.random.default_rng(7)
PADS = np.array([[False, False, False, False], [False, False, True, True]])  # (N, S): sample 1 has 2 pads
FLOAT_MASK = _masks.standard_normal((L, S))  # (L, S): a bias on every score
FLOAT_MASK[0, 1] = -np.inf  # one key masked out of query 0
HEAD_MASK = np.zeros((H, 1, S), bool)  # (H, 1, S): head 1 masks keys 0 and 1 for every query
HEAD_MASK[1, 0, :2] = True
DEAD = np.zeros((H, L, S), bool)  # (H, L, S): query 2 of head 0 sees no key at all, in every sample
DEAD[0, 2] = True
NO_KEYS = np.array([[False] * S, [True] * S])  # (N, S): every key of sample 1 is a pad
KEEP = _masks.random((N, H, L, S)) >= 0.25  # an attention dropout keep mask, p = 0.25
KEEP_SQUARE = _masks.random((N, H, L, L)) >= 0.25

fast = (ops.scaled_dot_product_attention_forward, ops.scaled_dot_product_attention_backward)
naive = (ops.scaled_dot_product_attention_forward_naive, ops.scaled_dot_product_attention_backward_naive)

OP_ROWS = [
    OpRow("scaled_dot_product_attention", *fast, qkv),
    OpRow("scaled_dot_product_attention-causal", *fast, partial(qkv, S=L), {"is_causal": True}),
    OpRow("scaled_dot_product_attention-causal-L<S", *fast, qkv, {"is_causal": True}),
    OpRow("scaled_dot_product_attention-causal-L>S", *fast, partial(qkv, L=S, S=L), {"is_causal": True}),
    OpRow("scaled_dot_product_attention-masks", *fast, qkv,
          {"attn_mask": FLOAT_MASK, "key_padding_mask": PADS}),
    OpRow("scaled_dot_product_attention-head-mask-dead-row", *fast, qkv,
          {"attn_mask": HEAD_MASK | DEAD, "key_padding_mask": -np.abs(FLOAT_MASK[:N]), "scale": 0.7}),
    OpRow("scaled_dot_product_attention-dropout", *fast, qkv,
          {"dropout_p": 0.25, "dropout_mask": KEEP, "key_padding_mask": PADS}),
    OpRow("scaled_dot_product_attention-dropout-causal", *fast, partial(qkv, S=L),
          {"dropout_p": 0.25, "dropout_mask": KEEP_SQUARE, "is_causal": True}),
    OpRow("scaled_dot_product_attention_naive", *naive, qkv),
    OpRow("scaled_dot_product_attention_naive-masks-dropout", *naive, qkv,
          {"attn_mask": FLOAT_MASK, "key_padding_mask": PADS, "is_causal": True, "dropout_p": 0.25,
           "dropout_mask": KEEP}),
    OpRow("scaled_dot_product_attention_naive-dead-row", *naive, qkv, {"attn_mask": DEAD, "scale": 1.3}),
    OpRow("scaled_dot_product_attention-all-keys-padded", *fast, qkv, {"key_padding_mask": NO_KEYS}),
]  # fmt: skip
