"""``TransformerDecoderLayer`` and ``TransformerDecoder``, mirroring torch's (names, defaults, numerics).

One layer, post-LN (torch's default) or pre-LN (``norm_first=True``), _block.py's residual steps:

    x = residual(x, norm1, dropout1, self-attention)       self_attn(x, x, x), causal through tgt_mask
    x = residual(x, norm2, dropout2, cross-attention)      multihead_attn(x, memory, memory)
    x = residual(x, norm3, dropout3, feed-forward)

Backward returns (dtgt, dmemory): the memory gets a gradient from every layer's cross-attention.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._config import get_default_dtype, get_rng
from ..._validate import invalid_shape, invalid_type
from ..container import ModuleList
from ..dropout import Dropout
from ..module import Module
from ..normalization import LayerNorm
from . import _block
from .attention import MultiheadAttention
from .kv_cache import KVCache


class _Identity:
    """Stands in for a dropout module at inference: the residual steps call it on the sublayer's output."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return x


class TransformerDecoderLayer(Module):
    """Causal self-attention, attention over the encoder's memory and a feed-forward block, each in a residual
    step, as ``torch.nn.TransformerDecoderLayer``; arguments and defaults as :class:`TransformerEncoderLayer`.

    Submodules ``self_attn``, ``multihead_attn``, ``linear1``, ``dropout``, ``linear2``, ``norm1``..``norm3``,
    ``dropout1``..``dropout3`` carry torch's state_dict names. ``forward(tgt, memory, tgt_mask=None,
    memory_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None, tgt_is_causal=False,
    memory_is_causal=False)``; ``backward(grad)`` returns (dtgt, dmemory) (None with ``input_grad=False``).

    Shape:
        tgt, output: (T, N, E) or (N, T, E) with batch_first;  memory: (S, N, E) or (N, S, E)
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Any = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        a = _block.LayerArgs(d_model, nhead, dim_feedforward, dropout, layer_norm_eps, batch_first, norm_first, bias)
        if rng is not None:
            get_rng(rng)  # type check
        dt = get_default_dtype() if dtype is None else dtype
        self.batch_first, self.norm_first = a.batch_first, a.norm_first
        kw: dict[str, Any] = {"dropout": a.dropout, "bias": a.bias, "batch_first": True, "dtype": dt, "rng": rng}
        self.self_attn = MultiheadAttention(a.d_model, a.nhead, **kw)
        self.multihead_attn = MultiheadAttention(a.d_model, a.nhead, **kw)
        _block.add_feedforward(self, a, activation, dt, rng)
        for i in (1, 2, 3):
            setattr(self, f"norm{i}", LayerNorm(a.d_model, eps=a.layer_norm_eps, bias=a.bias, dtype=dt))
        for i in (1, 2, 3):
            setattr(self, f"dropout{i}", Dropout(a.dropout, rng=rng))

    def forward(
        self,
        tgt: np.ndarray,
        memory: np.ndarray,
        tgt_mask: np.ndarray | None = None,
        memory_mask: np.ndarray | None = None,
        tgt_key_padding_mask: np.ndarray | None = None,
        memory_key_padding_mask: np.ndarray | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> np.ndarray:
        E = self.self_attn.embed_dim
        _block.check_input(tgt, "tgt", self, E)
        _block.check_input(memory, "memory", self, E)
        batch = 0 if self.batch_first else 1
        if memory.ndim != tgt.ndim or (tgt.ndim == 3 and memory.shape[batch] != tgt.shape[batch]):
            want = "(S, E) as tgt is unbatched" if tgt.ndim == 2 else f"N = {tgt.shape[batch]} samples as tgt"
            raise invalid_shape("memory", want, memory.shape)
        x = _block.batch_major(tgt, self.batch_first)  # (N, T, E)
        m = _block.batch_major(memory, self.batch_first)  # (N, S, E)

        def self_attend(h: np.ndarray) -> np.ndarray:
            return self.self_attn(
                h, h, h, key_padding_mask=tgt_key_padding_mask, need_weights=False, attn_mask=tgt_mask,
                is_causal=bool(tgt_is_causal),
            )[0]  # fmt: skip

        def cross_attend(h: np.ndarray) -> np.ndarray:
            return self.multihead_attn(
                h, m, m, key_padding_mask=memory_key_padding_mask, need_weights=False, attn_mask=memory_mask,
                is_causal=bool(memory_is_causal),
            )[0]  # fmt: skip

        x = _block.residual(x, self.norm1, self.dropout1, self_attend, self.norm_first)
        x = _block.residual(x, self.norm2, self.dropout2, cross_attend, self.norm_first)
        x = _block.residual(x, self.norm3, self.dropout3, lambda h: _block.feedforward(self, h), self.norm_first)
        out = _block.batch_major(x, self.batch_first)
        self._save(True, out)
        return out

    def forward_cached(
        self, tgt: np.ndarray, memory: np.ndarray, cache: KVCache, memory_key_padding_mask: np.ndarray | None = None
    ) -> np.ndarray:
        """The newest target positions only, the attention keys and values of the earlier ones (and of the
        memory) from ``cache``: inference, eval mode (no dropout), causal; no backward.

        Shape: tgt (N, n, E) or (n, N, E), the n newest positions;  memory (N, S, E) or (S, N, E)
        """
        x = _block.batch_major(tgt, self.batch_first)  # (N, n, E)
        m = _block.batch_major(memory, self.batch_first)  # (N, S, E)
        sa, ca = self.self_attn, self.multihead_attn  # both batch-first
        identity = _Identity()
        x = _block.residual(x, self.norm1, identity, lambda h: sa.forward_cached(h, None, cache), self.norm_first)
        x = _block.residual(
            x, self.norm2, identity, lambda h: ca.forward_cached(h, m, cache, memory_key_padding_mask), self.norm_first
        )
        x = _block.residual(x, self.norm3, identity, lambda h: _block.feedforward_eval(self, h), self.norm_first)
        return _block.batch_major(x, self.batch_first)

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> tuple[np.ndarray, np.ndarray] | None:
        self._saved(grad_out)
        dmemory: list[np.ndarray] = []

        def cross_backward(d: np.ndarray) -> np.ndarray:
            dq, dm, _ = _block.attention_grads(self.multihead_attn, d)  # key is value (the memory): dm is its gradient
            dmemory.append(dm)
            return dq

        g = _block.batch_major(grad_out, self.batch_first)
        g = _block.residual_backward(
            g, self.norm3, self.dropout3, lambda d: _block.feedforward_backward(self, d), self.norm_first
        )
        g = _block.residual_backward(g, self.norm2, self.dropout2, cross_backward, self.norm_first)
        g = _block.residual_backward(
            g, self.norm1, self.dropout1, lambda d: _block.attention_grads(self.self_attn, d)[0], self.norm_first
        )
        if not input_grad:
            return None
        return _block.batch_major(g, self.batch_first), _block.batch_major(dmemory[0], self.batch_first)


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` and an optional final ``norm``, as ``torch.nn.TransformerDecoder``.

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False)``; ``backward`` returns
    (dtgt, dmemory), dmemory summed over the layers (None with ``input_grad=False``).
    """

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        if not isinstance(decoder_layer, TransformerDecoderLayer):
            raise invalid_type("decoder_layer", "a scratchnn.nn.TransformerDecoderLayer", decoder_layer)
        if norm is not None and not isinstance(norm, Module):
            raise invalid_type("norm", "a scratchnn.nn.Module (a LayerNorm) or None", norm)
        self.layers = ModuleList(_block.clones(decoder_layer, num_layers))
        self.num_layers = len(self.layers)
        self.norm = norm

    def forward(
        self,
        tgt: np.ndarray,
        memory: np.ndarray,
        tgt_mask: np.ndarray | None = None,
        memory_mask: np.ndarray | None = None,
        tgt_key_padding_mask: np.ndarray | None = None,
        memory_key_padding_mask: np.ndarray | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> np.ndarray:
        x = tgt
        for layer in self.layers:
            x = layer(
                x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask, tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=bool(tgt_is_causal),
                memory_is_causal=memory_is_causal,
            )  # fmt: skip
        if self.norm is not None:
            x = self.norm(x)
        self._save(True, x)
        return x

    def forward_cached(
        self, tgt: np.ndarray, memory: np.ndarray, cache: KVCache, memory_key_padding_mask: np.ndarray | None = None
    ) -> np.ndarray:
        """Every layer's :meth:`TransformerDecoderLayer.forward_cached` and the final norm, for the newest
        positions ``tgt``; ``cache.steps`` advances by their count. Inference only (no backward)."""
        x = tgt
        for layer in self.layers:
            x = layer.forward_cached(x, memory, cache, memory_key_padding_mask)
        if self.norm is not None:
            x = self.norm.forward(x)
        cache.steps += tgt.shape[1 if self.layers[0].batch_first else 0]
        return x

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> tuple[np.ndarray, np.ndarray] | None:
        self._saved(grad_out)
        g = grad_out if self.norm is None else self.norm.backward(grad_out)
        dmemory = None
        for layer in reversed(list(self.layers)):
            g, dm = layer.backward(g)
            dmemory = dm if dmemory is None else dmemory + dm
        assert dmemory is not None  # num_layers >= 1
        return (g, dmemory) if input_grad else None
