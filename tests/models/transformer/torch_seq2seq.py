"""The torch twin of Seq2SeqTransformer, built from torch.nn's own layers with the same parameter names: the
reference the twin test compares against, and the "equivalent model" benchmarks/bench_transformer.py times."""

from __future__ import annotations

import torch


class TorchSeq2Seq(torch.nn.Module):
    """Shared token (times sqrt(d)) + learned position embeddings with a LayerNorm and dropout,
    nn.TransformerEncoder and nn.TransformerDecoder (batch-first), a head tied to the token table with its own
    bias."""

    def __init__(self, V: int, d: int, nhead: int, layers: int, ff: int, dropout: float, max_len: int, pad_id: int,
                 norm_first: bool = False, activation: str = "relu") -> None:  # fmt: skip
        super().__init__()
        nn = torch.nn
        self.pad_id = pad_id
        self.embed_tokens = nn.Embedding(V, d, padding_idx=pad_id)
        self.embed_positions = nn.Embedding(max_len, d)
        self.embed_norm = nn.LayerNorm(d)
        self.embed_dropout = nn.Dropout(dropout)
        kw = dict(dim_feedforward=ff, dropout=dropout, activation=activation, batch_first=True, norm_first=norm_first)
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(d, nhead, **kw), layers, norm=nn.LayerNorm(d) if norm_first else None,
            enable_nested_tensor=False,
        )  # fmt: skip
        self.decoder = nn.TransformerDecoder(
            nn.TransformerDecoderLayer(d, nhead, **kw), layers, norm=nn.LayerNorm(d) if norm_first else None
        )
        self.head_bias = nn.Parameter(torch.zeros(V))

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(ids.shape[1])
        scaled = self.embed_tokens(ids) * self.embed_tokens.embedding_dim**0.5
        return self.embed_dropout(self.embed_norm(scaled + self.embed_positions(pos)))

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        pad = src == self.pad_id
        memory = self.encoder(self.embed(src), src_key_padding_mask=pad)
        T = tgt_in.shape[1]
        causal = torch.nn.Transformer.generate_square_subsequent_mask(T, dtype=memory.dtype)
        h = self.decoder(self.embed(tgt_in), memory, tgt_mask=causal, memory_key_padding_mask=pad, tgt_is_causal=True)
        return h @ self.embed_tokens.weight.T + self.head_bias
