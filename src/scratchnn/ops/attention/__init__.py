"""Attention ops: scaled dot-product attention (fast, batched over batch and heads, and its naive twin), the
masks it takes, and multi-head attention (the projections and the heads around it, one op pair).

Boolean masks are True where attention is NOT allowed (nn.MultiheadAttention's convention); float masks
are added to the scores. masks.py converts to and from F.scaled_dot_product_attention's boolean convention.
Derivations: docs/derivations/attention/
"""

from ._common import AttentionCache
from .masks import additive_mask, causal_mask, from_sdpa_mask, merge_masks, to_sdpa_mask
from .multi_head import multi_head_attention_backward, multi_head_attention_forward
from .scaled_dot_product import scaled_dot_product_attention_backward, scaled_dot_product_attention_forward
from .scaled_dot_product_naive import (
    scaled_dot_product_attention_backward_naive,
    scaled_dot_product_attention_forward_naive,
)

__all__ = [
    "scaled_dot_product_attention_forward",
    "scaled_dot_product_attention_backward",
    "scaled_dot_product_attention_forward_naive",
    "scaled_dot_product_attention_backward_naive",
    "multi_head_attention_forward",
    "multi_head_attention_backward",
    "AttentionCache",
    "causal_mask",
    "to_sdpa_mask",
    "from_sdpa_mask",
    "additive_mask",
    "merge_masks",
]
