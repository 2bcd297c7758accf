"""``TransformerEncoderLayer`` and ``TransformerEncoder``, mirroring torch's (names, defaults, numerics).

One layer, post-LN (torch's default) or pre-LN (``norm_first=True``), _block.py's residual steps:

    x = residual(x, norm1, dropout1, self-attention)      self-attention(x) = self_attn(x, x, x)[0]
    x = residual(x, norm2, dropout2, feed-forward)         feed-forward(x) = linear2(dropout(act(linear1(x))))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._config import get_default_dtype, get_rng
from ..._validate import invalid_type
from ..container import ModuleList
from ..dropout import Dropout
from ..module import Module
from ..normalization import LayerNorm
from . import _block
from .attention import MultiheadAttention


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each in a residual step, as ``torch.nn.TransformerEncoderLayer``.

    Arguments and defaults are torch's: ``d_model``, ``nhead``, ``dim_feedforward=2048``, ``dropout=0.1``
    (after the attention, inside and after the feed-forward block, and on the attention weights),
    ``activation="relu"`` ("gelu" or a module), ``layer_norm_eps=1e-5``, ``batch_first=False``,
    ``norm_first=False``, ``bias=True``. Submodules ``self_attn``, ``linear1``, ``dropout``, ``linear2``,
    ``norm1``, ``norm2``, ``dropout1``, ``dropout2`` carry torch's state_dict names.
    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``; ``backward`` returns dsrc
    (None with ``input_grad=False``).

    Shape:
        src, output: (T, N, E), (N, T, E) with batch_first, or unbatched (T, E)
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
        self.self_attn = MultiheadAttention(
            a.d_model, a.nhead, dropout=a.dropout, bias=a.bias, batch_first=True, dtype=dt, rng=rng
        )  # always batch-first inside: the layer transposes its input once
        _block.add_feedforward(self, a, activation, dt, rng)
        self.norm1 = LayerNorm(a.d_model, eps=a.layer_norm_eps, bias=a.bias, dtype=dt)
        self.norm2 = LayerNorm(a.d_model, eps=a.layer_norm_eps, bias=a.bias, dtype=dt)
        self.dropout1 = Dropout(a.dropout, rng=rng)
        self.dropout2 = Dropout(a.dropout, rng=rng)

    def forward(
        self,
        src: np.ndarray,
        src_mask: np.ndarray | None = None,
        src_key_padding_mask: np.ndarray | None = None,
        is_causal: bool = False,
    ) -> np.ndarray:
        _block.check_input(src, "src", self, self.self_attn.embed_dim)
        x = _block.batch_major(src, self.batch_first)  # (N, T, E) or unbatched (T, E)

        def attend(h: np.ndarray) -> np.ndarray:
            return self.self_attn(
                h, h, h, key_padding_mask=src_key_padding_mask, need_weights=False, attn_mask=src_mask,
                is_causal=bool(is_causal),
            )[0]  # fmt: skip

        x = _block.residual(x, self.norm1, self.dropout1, attend, self.norm_first)
        x = _block.residual(x, self.norm2, self.dropout2, lambda h: _block.feedforward(self, h), self.norm_first)
        out = _block.batch_major(x, self.batch_first)  # back to (T, N, E) for sequence-first layers
        self._save(True, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        self._saved(grad_out)
        g = _block.batch_major(grad_out, self.batch_first)
        g = _block.residual_backward(
            g, self.norm2, self.dropout2, lambda d: _block.feedforward_backward(self, d), self.norm_first
        )
        g = _block.residual_backward(
            g, self.norm1, self.dropout1, lambda d: _block.attention_grads(self.self_attn, d)[0], self.norm_first
        )
        return _block.batch_major(g, self.batch_first) if input_grad else None


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (same initial weights, as torch's deep copies) and an
    optional final ``norm``, as ``torch.nn.TransformerEncoder``; state_dict names ``layers.0....``, ``norm....``.

    ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)`` runs every layer with the
    same masks; ``backward`` returns dsrc (None with ``input_grad=False``). ``enable_nested_tensor`` and
    ``mask_check`` are accepted and ignored (torch's fast-path switches; they change no result).
    """

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(encoder_layer, TransformerEncoderLayer):
            raise invalid_type("encoder_layer", "a scratchnn.nn.TransformerEncoderLayer", encoder_layer)
        if norm is not None and not isinstance(norm, Module):
            raise invalid_type("norm", "a scratchnn.nn.Module (a LayerNorm) or None", norm)
        self.layers = ModuleList(_block.clones(encoder_layer, num_layers))
        self.num_layers = len(self.layers)
        self.norm = norm

    def forward(
        self,
        src: np.ndarray,
        mask: np.ndarray | None = None,
        src_key_padding_mask: np.ndarray | None = None,
        is_causal: bool | None = None,
    ) -> np.ndarray:
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        if self.norm is not None:
            x = self.norm(x)
        self._save(True, x)
        return x

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        self._saved(grad_out)
        g = grad_out if self.norm is None else self.norm.backward(grad_out)
        first, *rest = self.layers
        for layer in reversed(rest):
            g = layer.backward(g)
        return first.backward(g, input_grad=input_grad)  # the first layer sees our input
