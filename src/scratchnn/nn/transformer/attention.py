"""``MultiheadAttention``, mirroring ``torch.nn.MultiheadAttention`` (packed in-projection, ``out_proj``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._config import get_default_dtype, get_rng
from ..._validate import (
    check_array,
    check_bool,
    check_dtype_matches,
    check_float,
    check_float_dtype,
    check_grad,
    check_int,
    invalid_shape,
    invalid_value,
)
from ...ops.attention.masks import causal_mask
from ...ops.attention.multi_head import (
    merge_heads,
    multi_head_attention_backward,
    multi_head_attention_forward,
    project,
    split_heads,
)
from ...ops.attention.scaled_dot_product import scaled_dot_product_attention_forward
from ...ops.dropout import draw_keep
from .. import init
from ..linear import Linear
from ..module import Module
from ..parameter import Param, new_array
from .kv_cache import KVCache


def _not_implemented(option: str, value: Any, default: str) -> NotImplementedError:
    return NotImplementedError(
        f"MultiheadAttention({option}={value!r}) is not implemented in scratchnn; only {option}={default} is supported"
    )


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads of size embed_dim / num_heads, as ``torch.nn.MultiheadAttention``.

    out = concat_h(softmax(q_h k_h^T / sqrt(Dh) + mask) v_h) W_o^T + b_o with [q, k, v] the rows of
    ``in_proj_weight`` (3E, E) applied to query, key and value (:mod:`scratchnn.ops.attention.multi_head`).
    torch's init: xavier_uniform_ for ``in_proj_weight``, zeros for both biases, ``out_proj.weight`` as a
    Linear's. ``dropout`` is the drop probability of the attention weights in training, from ``rng``
    (:meth:`draw_dropout_mask`, which tests replace to inject torch's masks).

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` returns ``(attn_output, attn_weights)`` as torch does:
    the weights (after dropout) averaged over heads (N, L, S), per head (N, H, L, S) with
    ``average_attn_weights=False``, or None with ``need_weights=False``. Masks follow torch: boolean True
    means "may not attend", float masks are added to the scores; ``attn_mask`` is (L, S) or (N * H, L, S),
    ``key_padding_mask`` (N, S). Inputs are (L, N, E) or, with ``batch_first``, (N, L, E); unbatched
    (L, E) inputs work too.

    ``backward(grad_attn_output, grad_attn_weights=None)`` (or the tuple ``(grad_attn_output,
    grad_attn_weights)``) returns ``(dquery, dkey, dvalue)``: the weights are an output too, and a gradient
    of them (of the returned form: averaged or per head) flows back through the softmax; None means zero.
    When forward got one array as query, key and value (self-attention), the three gradients come back
    summed as ``(dx, None, None)``; when key and value were one array (a decoder's memory), as
    ``(dquery, dmemory, None)``. ``input_grad=False`` returns None.

    Differs from torch: a query row whose keys are all masked out gives zeros where torch gives NaN;
    ``is_causal=True`` without ``attn_mask`` builds the causal mask (torch requires the mask as well);
    ``add_bias_kv``, ``add_zero_attn`` and ``kdim``/``vdim`` other than embed_dim are not implemented.

    Shape:
        query: (L, N, E) or (N, L, E) with batch_first;  key, value: (S, N, E) or (N, S, E)
        attn_output: as query;  attn_weights: (N, L, S) or (N, H, L, S)
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.embed_dim = check_int(embed_dim, "embed_dim", low=1)
        self.num_heads = check_int(num_heads, "num_heads", low=1)
        if embed_dim % num_heads:
            raise invalid_value("num_heads", f"a divisor of embed_dim = {embed_dim}", num_heads)
        self.head_dim = embed_dim // num_heads
        self.dropout = check_float(dropout, "dropout", low=0.0, high=1.0, high_open=True)
        self.batch_first = check_bool(batch_first, "batch_first")
        if check_bool(add_bias_kv, "add_bias_kv"):
            raise _not_implemented("add_bias_kv", add_bias_kv, "False")
        if check_bool(add_zero_attn, "add_zero_attn"):
            raise _not_implemented("add_zero_attn", add_zero_attn, "False")
        for name, value in (("kdim", kdim), ("vdim", vdim)):
            if value is not None and value != embed_dim:
                raise _not_implemented(name, value, f"None or embed_dim ({embed_dim})")
        self.kdim = self.vdim = embed_dim
        self._qkv_same_embed_dim = True
        bias = check_bool(bias, "bias")
        if rng is not None:
            get_rng(rng)  # type check
        self.rng = rng
        dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
        sizes = {"embed_dim": embed_dim}
        self.in_proj_weight = Param(new_array((3 * embed_dim, embed_dim), dt, sizes))
        self.in_proj_bias = Param(new_array((3 * embed_dim,), dt, sizes, fill=0.0)) if bias else None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dt, rng=rng)
        init.xavier_uniform_(self.in_proj_weight, rng=rng)
        if self.out_proj.bias is not None:
            init.zeros_(self.out_proj.bias)

    def draw_dropout_mask(self, shape: tuple[int, ...]) -> np.ndarray:
        """Which attention weights (N, H, L, S) dropout keeps, True = kept: u >= p, u ~ U[0, 1) from ``rng``
        (the op scales the kept ones by 1 / (1 - p)). Tests replace it to inject a mask.

        u is drawn in float32, as the op draws its own masks: half the bytes of float64 draws for a mask
        that is often the largest array of the step (N * H * L * S values)."""
        return draw_keep(get_rng(self.rng), shape, self.dropout, np.float32)  # rng.random(shape, float32) >= p

    def _batch_major(self, x: Any, name: str, unbatched: bool) -> np.ndarray:
        """An input as (N, T, E): unbatched (T, E) gains N = 1, sequence-first (T, N, E) is transposed (a view)."""
        check_array(x, name, ndim=2 if unbatched else 3)
        check_dtype_matches(x, name, self.in_proj_weight.dtype, "MultiheadAttention")
        if x.shape[-1] != self.embed_dim:
            raise invalid_shape(name, f"(..., embed_dim) with embed_dim = {self.embed_dim}", x.shape)
        if unbatched:
            return x[None]  # (T, E) -> (1, T, E)
        return x if self.batch_first else x.transpose(1, 0, 2)  # (T, N, E) -> (N, T, E)

    def forward(
        self,
        query: np.ndarray,
        key: np.ndarray,
        value: np.ndarray,
        key_padding_mask: np.ndarray | None = None,
        need_weights: bool = True,
        attn_mask: np.ndarray | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        check_array(query, "query")
        unbatched = query.ndim == 2
        q = self._batch_major(query, "query", unbatched)
        k = q if key is query else self._batch_major(key, "key", unbatched)
        v = k if value is key else q if value is query else self._batch_major(value, "value", unbatched)
        if unbatched and key_padding_mask is not None:
            check_array(key_padding_mask, "key_padding_mask", ndim=1, floating=False)
            key_padding_mask = key_padding_mask[None]  # (S,) -> (1, S)
        need_weights = check_bool(need_weights, "need_weights")
        average = check_bool(average_attn_weights, "average_attn_weights")
        N, L, S, H = q.shape[0], q.shape[1], k.shape[1], self.num_heads
        p = self.dropout if self.training else 0.0
        mask = None
        if p > 0:
            mask = np.asarray(self.draw_dropout_mask((N, H, L, S)), dtype=bool)
            if mask.shape != (N, H, L, S):  # an injected mask of the wrong shape would broadcast silently
                raise invalid_shape("dropout mask", f"(N, H, L, S) = {(N, H, L, S)}", mask.shape)
        b_in = None if self.in_proj_bias is None else self.in_proj_bias.data
        b_out = None if self.out_proj.bias is None else self.out_proj.bias.data
        out, weights, cache = multi_head_attention_forward(
            q, k, v, self.in_proj_weight.data, b_in, self.out_proj.weight.data, b_out, H,
            attn_mask=attn_mask, key_padding_mask=key_padding_mask, is_causal=check_bool(is_causal, "is_causal"),
            dropout_p=p, dropout_mask=mask,
        )  # fmt: skip
        if unbatched:
            out = out[0]  # (1, L, E) -> (L, E)
        elif not self.batch_first:
            out = out.transpose(1, 0, 2)  # (N, L, E) -> (L, N, E), a view as torch's output is
        if not need_weights:
            self._save((cache, unbatched, None), out)
            return out, None
        w = weights.mean(axis=1) if average else weights  # (N, H, L, S) -> (N, L, S)
        if unbatched:
            w = w[0]  # (1, ..., L, S) -> (..., L, S)
        self._save((cache, unbatched, (average, w.shape)), out)
        return out, w

    def forward_cached(
        self,
        query: np.ndarray,
        memory: np.ndarray | None,
        cache: KVCache,
        key_padding_mask: np.ndarray | None = None,
    ) -> np.ndarray:
        """Inference-time attention for the newest positions, keys and values kept in ``cache`` (no backward).

        ``memory=None``: causal self-attention; the new positions' keys and values are appended to the
        cache and each new query i attends to every cached key and to the new ones up to itself.
        ``memory`` given: cross-attention over it; its keys and values are projected on the first call
        and reused after. ``key_padding_mask`` (N, S) masks memory pads. Equal to :meth:`forward` over the
        whole sequence with a causal mask, position by position (the tests hold it to 1e-5).

        Shape:
            query: (N, n, E) batch-first or (n, N, E), the n newest positions;  memory: (N, S, E) or (S, N, E)
            output: as query
        """
        q_in = self._batch_major(query, "query", False)  # (N, n, E)
        E, H = self.embed_dim, self.num_heads
        W = self.in_proj_weight.data
        b = None if self.in_proj_bias is None else self.in_proj_bias.data
        if memory is None:
            qkv = split_heads(project(q_in, W, b), 3 * H)  # (N, n, 3E) -> (N, 3H, n, Dh)
            q, k_new, v_new = qkv[:, :H], qkv[:, H : 2 * H], qkv[:, 2 * H :]  # (N, H, n, Dh) each
            k, v = cache.extend(self, k_new, v_new)  # (N, H, S, Dh): every position so far
            n, S = q.shape[2], k.shape[2]
            mask = causal_mask(n, S, offset=S - n)  # the new queries are the last n positions
        else:
            m = self._batch_major(memory, "memory", False)  # (N, S, E)

            def project_memory() -> tuple[np.ndarray, np.ndarray]:
                kv = split_heads(project(m, W[E:], None if b is None else b[E:]), 2 * H)  # (N, 2H, S, Dh)
                return np.ascontiguousarray(kv[:, :H]), np.ascontiguousarray(kv[:, H:])

            k, v = cache.static(self, project_memory)
            q = split_heads(project(q_in, W[:E], None if b is None else b[:E]), H)  # (N, H, n, Dh)
            mask = None
        heads, _ = scaled_dot_product_attention_forward(q, k, v, attn_mask=mask, key_padding_mask=key_padding_mask)
        out = self.out_proj.forward(merge_heads(heads))  # (N, H, n, Dh) -> (N, n, E)
        return out if self.batch_first else out.transpose(1, 0, 2)

    def backward(
        self, grad_out: Any, grad_attn_weights: Any = None, *, input_grad: bool = True
    ) -> tuple[np.ndarray | None, ...] | None:
        if isinstance(grad_out, tuple) and grad_attn_weights is None:
            if len(grad_out) != 2:
                raise invalid_value("grad_out", "grad_attn_output or (grad_attn_output, grad_attn_weights)", grad_out)
            grad_out, grad_attn_weights = grad_out
        cache, unbatched, weights_spec = self._saved(grad_out)
        dw = None
        if grad_attn_weights is not None:
            if weights_spec is None:
                raise invalid_value(
                    "grad_attn_weights", "None: the forward ran with need_weights=False", grad_attn_weights
                )
            average, shape = weights_spec
            dw = check_grad(grad_attn_weights, "grad_attn_weights", shape, grad_out.dtype)
            if unbatched:
                dw = dw[None]  # (..., L, S) -> (1, ..., L, S)
            if average:  # each head's weights entered the mean over heads with a factor 1 / H
                N, L, S = dw.shape
                dw = np.broadcast_to((dw / self.num_heads)[:, None], (N, self.num_heads, L, S))  # (N, H, L, S)
        if unbatched:
            grad_out = grad_out[None]  # (L, E) -> (1, L, E)
        elif not self.batch_first:
            grad_out = grad_out.transpose(1, 0, 2)  # (L, N, E) -> (N, L, E)
        dq, dk, dv, dW, db, dWo, dbo = multi_head_attention_backward(grad_out, dw, cache)
        self.in_proj_weight.accumulate_grad(dW)
        self.out_proj.weight.accumulate_grad(dWo)
        if self.in_proj_bias is not None and self.out_proj.bias is not None:
            assert db is not None and dbo is not None  # the op returns them when it had biases
            self.in_proj_bias.accumulate_grad(db)
            self.out_proj.bias.accumulate_grad(dbo)
        if not input_grad:
            return None
        grads = []
        for d in (dq, dk, dv):
            if d is not None:
                d = d[0] if unbatched else d if self.batch_first else d.transpose(1, 0, 2)  # back to the input's layout
            grads.append(d)
        return tuple(grads)

    def extra_repr(self) -> str:
        heads = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
        return f"{heads}, dropout={self.dropout}, batch_first={self.batch_first}"
