"""``Seq2SeqTransformer``: the course project's encoder-decoder summarizer, written on scratchnn.nn.

    embed(ids, positions) = dropout(LayerNorm(sqrt(d) E_tok[ids] + E_pos[positions]))     shared by both sides
    memory = encoder(embed(src, 0..S-1)),  h = decoder(embed(tgt_in, 0..T-1), memory), causal
    logits = h E_tok^T + b                                                         the head tied to E_tok

The decoder's input is the summary shifted right behind a start token (:func:`scratchnn.text.shift_right`),
so position t predicts token t of the summary. Source pads are masked out of every attention over the
source; target pads need no mask, as causal attention never lets a real position see a later pad.

One forward embeds the source and target ids together, as one flat batch of tokens (the embedding, its
LayerNorm and dropout are per token), so each shared module runs once per forward and its backward once.
The token table gets three gradients: from the source's and the target's embeddings and from the head.

Decoding (:mod:`.decoding`) calls :meth:`encode` once and :meth:`decode_step` per new token with a
:class:`~scratchnn.nn.transformer.KVCache`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._config import get_default_dtype, get_rng
from ..._threads import matmul, matmuls
from ..._validate import check_bool, check_choice, check_float, check_float_dtype, check_int, invalid_shape
from ...nn import init
from ...nn.dropout import Dropout
from ...nn.module import Module
from ...nn.normalization import LayerNorm
from ...nn.parameter import Param, new_array
from ...nn.sparse import Embedding
from ...nn.transformer import (
    KVCache,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
    sinusoidal_table,
)
from ...ops.embedding import check_ids

POSITIONS = ("learned", "sinusoidal")


class Seq2SeqTransformer(Module):
    """See the module docstring.

    Args:
        vocab_size: V, token ids 0..V-1 (the tokenizer's vocabulary).
        d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward, dropout, activation,
            norm_first: as ``nn.Transformer``'s (post-LN by default, as the course project; ``norm_first``
            gives pre-LN, with a final LayerNorm after each stack).
        max_len: positions in the table: longer sources or targets are a ValueError naming them.
        pad_id: the padding id: its embedding row stays zero, source pads are masked out.
        positions: 'learned' (an Embedding of positions, the course's) or 'sinusoidal' (fixed).

    The token table starts N(0, 1/d_model), so the tied head's first logits have unit scale, and is
    scaled by sqrt(d_model) on the way in (as in "Attention is all you need"), so tokens and positions
    (learned N(0, 1), or sinusoidal) enter the embedding's LayerNorm at the same scale: unscaled, the
    positions would outweigh the tokens 16 to 1 at d_model = 256 and training would first spend hundreds of
    steps growing the token table. Every other weight has its module's torch default init.

    Shape:
        src: (N, S) ids;  tgt_in: (N, T) ids;  output: (N, T, V) logits
    """

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 256,
        nhead: int = 4,
        num_encoder_layers: int = 3,
        num_decoder_layers: int = 3,
        dim_feedforward: int = 1024,
        dropout: float = 0.1,
        *,
        activation: str = "relu",
        norm_first: bool = False,
        max_len: int = 512,
        pad_id: int = 0,
        positions: str = "learned",
        dtype: Any = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        V = self.vocab_size = check_int(vocab_size, "vocab_size", low=1)
        d = self.d_model = check_int(d_model, "d_model", low=1)
        self.max_len = check_int(max_len, "max_len", low=1)
        self.pad_id = check_int(pad_id, "pad_id", low=0, high=V - 1)
        self.positions = check_choice(positions, "positions", POSITIONS)
        self.norm_first = check_bool(norm_first, "norm_first")
        p = check_float(dropout, "dropout", low=0.0, high=1.0, high_open=True)
        dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
        rng = get_rng(rng)
        self.embed_tokens = Embedding(V, d, padding_idx=self.pad_id, dtype=dt, rng=rng)
        init.normal_(self.embed_tokens.weight, std=d**-0.5, rng=rng)
        self.embed_tokens.weight.data[self.pad_id] = 0
        self.embed_scale = float(np.sqrt(d))  # a Python float: keeps the table's dtype
        if self.positions == "learned":
            self.embed_positions = Embedding(self.max_len, d, dtype=dt, rng=rng)
        else:
            self.register_buffer("position_table", sinusoidal_table(self.max_len, d).astype(dt))
        self.embed_norm = LayerNorm(d, dtype=dt)
        self.embed_dropout = Dropout(p, rng=rng)
        kw: dict[str, Any] = {"dim_feedforward": dim_feedforward, "dropout": p, "activation": activation}
        kw.update(batch_first=True, norm_first=self.norm_first, dtype=dt, rng=rng)
        final = (lambda: LayerNorm(d, dtype=dt)) if self.norm_first else (lambda: None)
        self.encoder = TransformerEncoder(TransformerEncoderLayer(d, nhead, **kw), num_encoder_layers, norm=final())
        self.decoder = TransformerDecoder(TransformerDecoderLayer(d, nhead, **kw), num_decoder_layers, norm=final())
        self.head_bias = Param(new_array((V,), dt, {"vocab_size": V}, fill=0.0))

    # ------------------------------------------------------------------ the shared embedding
    def _check_ids(self, ids: Any, name: str) -> np.ndarray:
        check_ids(ids, name, self.vocab_size)
        if ids.ndim != 2 or ids.shape[1] == 0:
            raise invalid_shape(name, "(N, T) token ids with T >= 1", ids.shape)
        if ids.shape[1] > self.max_len:
            raise invalid_shape(name, f"(N, T) with T <= max_len = {self.max_len} (the position table)", ids.shape)
        return ids

    def _embed(self, ids: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """dropout(LayerNorm(E_tok[ids] + E_pos[positions])) for a flat batch of tokens. Shape: (M,) -> (M, d)."""
        x = self.embed_tokens(ids) * self.embed_scale  # (M, d)
        if self.positions == "learned":
            x = x + self.embed_positions(positions)  # (M, d)
        else:
            x = x + self.position_table[positions]  # (M, d)
        return self.embed_dropout(self.embed_norm(x))

    def _embed_backward(self, dx: np.ndarray) -> None:
        d_dropped = self.embed_dropout.backward(dx)  # (M, d)
        assert d_dropped is not None  # input_grad=True: arrays, here and below
        d_normed = self.embed_norm.backward(d_dropped)
        assert d_normed is not None
        dx = d_normed
        self.embed_tokens.backward(dx * self.embed_scale)
        if self.positions == "learned":
            self.embed_positions.backward(dx)

    def _head(self, h: np.ndarray) -> np.ndarray:
        """logits = h E_tok^T + b. Shape: (N, T, d) -> (N, T, V)."""
        # on the intra-op threads, as every other GEMM of the model (scratchnn/_threads.py: never two pools)
        N, T, d = h.shape
        logits = matmul(h.reshape(N * T, d), self.embed_tokens.weight.data.T, bias=self.head_bias.data)  # (N*T, V)
        return logits.reshape(N, T, self.vocab_size)  # (N*T, V) -> (N, T, V)

    # ------------------------------------------------------------------ training
    def forward(self, src: np.ndarray, tgt_in: np.ndarray) -> np.ndarray:
        src, tgt_in = self._check_ids(src, "src"), self._check_ids(tgt_in, "tgt_in")
        if tgt_in.shape[0] != src.shape[0]:
            raise invalid_shape("tgt_in", f"(N, T) with N = {src.shape[0]} as src", tgt_in.shape)
        (N, S), T = src.shape, tgt_in.shape[1]
        pos = np.concatenate([np.tile(np.arange(S), N), np.tile(np.arange(T), N)])  # (N*S + N*T,)
        x = self._embed(np.concatenate([src.reshape(-1), tgt_in.reshape(-1)]), pos)  # (N*S + N*T, d)
        pad = src == self.pad_id  # (N, S): True at source pads
        d = self.d_model  # not -1 in the reshapes: N may be 0
        memory = self.encoder(x[: N * S].reshape(N, S, d), src_key_padding_mask=pad)  # (N, S, d)
        h = self.decoder(x[N * S :].reshape(N, T, d), memory, memory_key_padding_mask=pad, tgt_is_causal=True)
        logits = self._head(h)  # (N, T, d) -> (N, T, V)
        self._save((h, N, S, T), logits)
        return logits

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> None:
        """Gradients into every parameter (ids have none); returns None."""
        h, N, S, T = self._saved(grad_out)
        d = self.d_model
        W = self.embed_tokens.weight
        g2 = grad_out.reshape(N * T, self.vocab_size)  # (N*T, V)
        self.head_bias.accumulate_grad(g2.sum(axis=0))
        # dW = g2^T h: (V, N*T) @ (N*T, d) -> (V, d), beside dh = g2 W: (N*T, V) @ (V, d) -> (N*T, d)
        dW, dh = matmuls((g2.T, h.reshape(N * T, d), None), (g2, W.data, None))
        W.accumulate_grad(dW)
        dh = dh.reshape(N, T, d)  # (N*T, d) -> (N, T, d)
        grads = self.decoder.backward(dh)
        assert grads is not None  # input_grad=True
        dtgt, dmemory = grads
        dsrc = self.encoder.backward(dmemory)
        assert dsrc is not None
        self._embed_backward(np.concatenate([dsrc.reshape(N * S, d), dtgt.reshape(N * T, d)]))  # (N*S + N*T, d)

    # ------------------------------------------------------------------ inference
    def encode(self, src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(memory (N, S, d), source pad mask (N, S)) in the current mode; decoding runs it in eval mode."""
        src = self._check_ids(src, "src")
        N, S = src.shape
        x = self._embed(src.reshape(-1), np.tile(np.arange(S), N)).reshape(N, S, self.d_model)  # (N, S, d)
        pad = src == self.pad_id
        return self.encoder(x, src_key_padding_mask=pad), pad

    def decode_step(self, tgt_new: np.ndarray, memory: np.ndarray, pad: np.ndarray, cache: KVCache) -> np.ndarray:
        """Logits of the n newest target positions, the earlier ones read from ``cache`` (eval mode).

        Shape: tgt_new (N, n) ids at positions cache.steps .. cache.steps + n - 1;  logits (N, n, V)
        """
        check_ids(tgt_new, "tgt_new", self.vocab_size)
        N, n = tgt_new.shape
        start = cache.steps
        if start + n > self.max_len:
            raise invalid_shape(
                "tgt_new", f"positions below max_len = {self.max_len}; decoding reached {start + n}", (N, n)
            )
        x = self._embed(tgt_new.reshape(-1), np.tile(np.arange(start, start + n), N)).reshape(N, n, self.d_model)
        h = self.decoder.forward_cached(x, memory, cache, memory_key_padding_mask=pad)  # (N, n, d)
        return self._head(h)

    def decode_full(self, tgt_in: np.ndarray, memory: np.ndarray, pad: np.ndarray) -> np.ndarray:
        """Logits of every target position, recomputed from scratch (what :meth:`decode_step` caches).

        Shape: tgt_in (N, T) ids;  logits (N, T, V)
        """
        tgt_in = self._check_ids(tgt_in, "tgt_in")
        N, T = tgt_in.shape
        x = self._embed(tgt_in.reshape(-1), np.tile(np.arange(T), N)).reshape(N, T, self.d_model)
        return self._head(self.decoder(x, memory, memory_key_padding_mask=pad, tgt_is_causal=True))
