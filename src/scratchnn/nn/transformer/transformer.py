"""``Transformer``: encoder and decoder stacks, each with a final LayerNorm, mirroring ``torch.nn.Transformer``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._config import get_default_dtype, get_rng
from ..._validate import check_array, check_int, invalid_shape
from ...ops.attention.masks import causal_mask
from .. import init
from ..module import Module
from ..normalization import LayerNorm
from .decoder import TransformerDecoder, TransformerDecoderLayer
from .encoder import TransformerEncoder, TransformerEncoderLayer


class Transformer(Module):
    """``encoder`` (``num_encoder_layers`` layers + LayerNorm) and ``decoder`` (``num_decoder_layers`` layers +
    LayerNorm), torch's arguments and defaults (d_model=512, nhead=8, 6 + 6 layers, dim_feedforward=2048,
    dropout=0.1, relu, layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True), and torch's init:
    xavier_uniform_ on every parameter with more than one dimension, in ``named_parameters`` order.

    ``forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
    memory_is_causal=False)`` returns the decoder's output; ``backward`` returns (dsrc, dtgt) (None with
    ``input_grad=False``).
    ``custom_encoder`` / ``custom_decoder`` replace the stacks, as in torch.

    Shape:
        src: (S, N, E);  tgt, output: (T, N, E);  (N, S, E), (N, T, E) with batch_first
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Any = "relu",
        custom_encoder: Module | None = None,
        custom_decoder: Module | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        if rng is not None:
            get_rng(rng)  # type check
        dt = get_default_dtype() if dtype is None else dtype
        kw: dict[str, Any] = {
            "dim_feedforward": dim_feedforward, "dropout": dropout, "activation": activation,
            "layer_norm_eps": layer_norm_eps, "batch_first": batch_first, "norm_first": norm_first, "bias": bias,
            "dtype": dt, "rng": rng,
        }  # fmt: skip
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, **kw)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dt)
            self.encoder = TransformerEncoder(layer, check_int(num_encoder_layers, "num_encoder_layers", low=1), norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            dlayer = TransformerDecoderLayer(d_model, nhead, **kw)
            dnorm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dt)
            self.decoder = TransformerDecoder(dlayer, check_int(num_decoder_layers, "num_decoder_layers", low=1), dnorm)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        for _, p in self.named_parameters():
            if p.data.ndim > 1:
                init.xavier_uniform_(p, rng=rng)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, dtype: Any = None) -> np.ndarray:
        """The (sz, sz) float causal mask: 0 on and below the diagonal, -inf above (torch's)."""
        return causal_mask(sz, dtype=get_default_dtype() if dtype is None else dtype)

    def forward(
        self,
        src: np.ndarray,
        tgt: np.ndarray,
        src_mask: np.ndarray | None = None,
        tgt_mask: np.ndarray | None = None,
        memory_mask: np.ndarray | None = None,
        src_key_padding_mask: np.ndarray | None = None,
        tgt_key_padding_mask: np.ndarray | None = None,
        memory_key_padding_mask: np.ndarray | None = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> np.ndarray:
        check_array(src, "src", ndim=(2, 3))
        check_array(tgt, "tgt", ndim=(2, 3))
        batch = 0 if self.batch_first else 1
        if tgt.ndim != src.ndim or (src.ndim == 3 and tgt.shape[batch] != src.shape[batch]):
            want = "(T, E) as src is unbatched" if src.ndim == 2 else f"N = {src.shape[batch]} samples as src"
            raise invalid_shape("tgt", want, tgt.shape)
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        out = self.decoder(
            tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask, tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )  # fmt: skip
        self._save(True, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> tuple[np.ndarray, np.ndarray] | None:
        self._saved(grad_out)
        dtgt, dmemory = self.decoder.backward(grad_out)  # the memory is ours, not an input: always its gradient
        dsrc = self.encoder.backward(dmemory, input_grad=input_grad)
        return (dsrc, dtgt) if input_grad else None
