"""Position information for a Transformer: the fixed sinusoidal encoding and a learned position table.

``PositionalEncoding`` is the "Attention is all you need" encoding as the PyTorch tutorial writes it (torch.nn
has no such class): a ``pe`` buffer added to the input, then dropout. ``LearnedPositionalEmbedding`` is an
``nn.Embedding`` over the positions 0, 1, ..., T - 1 (BART's and GPT-2's learned positions). Both take an
``offset``, the position of the first step, so incremental decoding with a KV cache asks for position t alone.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..._config import get_default_dtype, get_rng
from ..._validate import (
    check_array,
    check_bool,
    check_dtype_matches,
    check_float,
    check_float_dtype,
    check_int,
    invalid_shape,
    invalid_type,
    invalid_value,
)
from .. import init
from ..module import Module
from ..parameter import Param, new_array


def sinusoidal_table(max_len: int, d_model: int) -> np.ndarray:
    """The (max_len, d_model) float64 table PE[pos, 2i] = sin(pos / 10000^(2i / d_model)), PE[pos, 2i + 1] =
    cos(pos / 10000^(2i / d_model)). For an odd d_model the last column is a sine (the tutorial's code fails there)."""
    pos = np.arange(max_len, dtype=np.float64)[:, None]  # (max_len, 1)
    rates = 10000.0 ** (-np.arange(0, d_model, 2) / d_model)  # (ceil(d_model / 2),): 1 / 10000^(2i / d_model)
    angles = pos * rates  # (max_len, 1) * (ceil(d/2),) -> (max_len, ceil(d/2))
    table = np.empty((max_len, d_model))
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return table


def _positions(offset: Any, T: int, max_len: int, name: str, shape: tuple[int, ...], axis: str) -> int:
    """``offset`` checked so that positions offset .. offset + T - 1 are rows of a table of ``max_len``."""
    offset = check_int(offset, "offset", low=0)
    if T > max_len:
        raise invalid_shape(name, f"a sequence of at most {max_len} positions along {axis} (the table's size)", shape)
    if offset + T > max_len:
        raise invalid_value("offset", f"an int in [0, {max_len - T}] for {T} positions of a table of {max_len}", offset)
    return offset


class PositionalEncoding(Module):
    """out = dropout(input + PE[offset : offset + T]): the fixed sinusoidal encoding of "Attention is all you need".

    PE (:func:`sinusoidal_table`) is the buffer ``pe``, in ``state_dict`` like torch's buffers, so a model's
    checkpoint carries it. Dropout (``dropout`` is the drop probability) acts in training only, with a mask
    per value from ``rng`` drawn by :meth:`draw_dropout_mask` (tests replace it to inject masks, as in
    ``nn.RNN``). ``forward(input, offset=0)``: ``offset`` is the position of the first step (incremental
    decoding). A sequence longer than ``max_len`` (or running past it from ``offset``) is a ValueError.

    Backward: d_input = grad_out * mask (grad_out in eval mode): the encoding is a constant, so the gradient
    passes through unchanged; ``pe`` gets none.

    Differs from the PyTorch tutorial's module: ``pe`` is (max_len, d_model), not (max_len, 1, d_model), and the
    defaults are dropout 0 and time-first input (``batch_first=False``, as ``nn.Transformer``).

    Shape:
        input, output: (T, N, d_model), (N, T, d_model) with batch_first, or (T, d_model) unbatched
        pe: (max_len, d_model)
    """

    def __init__(
        self,
        d_model: int,
        max_len: int = 5000,
        dropout: float = 0.0,
        batch_first: bool = False,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.d_model = check_int(d_model, "d_model", low=1)
        self.max_len = check_int(max_len, "max_len", low=1)
        self.dropout = check_float(dropout, "dropout", low=0.0, high=1.0, high_open=True)
        self.batch_first = check_bool(batch_first, "batch_first")
        dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
        if rng is not None:
            get_rng(rng)  # type check
        self.rng = rng
        pe = new_array((self.max_len, self.d_model), dt, {"max_len": max_len, "d_model": d_model})
        pe[...] = sinusoidal_table(self.max_len, self.d_model)  # computed in float64, then rounded once
        self.register_buffer("pe", pe)

    def draw_dropout_mask(self, shape: tuple[int, ...], dtype: np.dtype[Any]) -> np.ndarray:
        """The inverted-dropout mask [u >= p] / (1 - p), u ~ U[0, 1) from ``rng``. Tests replace it to inject a mask."""
        keep = get_rng(self.rng).random(shape) >= self.dropout
        return keep.astype(dtype) * (1 / (1 - self.dropout))

    @property
    def dropout_mask(self) -> np.ndarray | None:
        """The dropout mask of the last forward (None in eval mode, with dropout 0, or before any forward)."""
        return None if self._cache is None else self._cache[0]

    def forward(self, input: np.ndarray, offset: int = 0) -> np.ndarray:
        check_array(input, "input", ndim=(2, 3))
        if input.shape[-1] != self.d_model:
            layout = "(N, T, d_model)" if self.batch_first else "(T, N, d_model)"
            raise invalid_shape("input", f"{layout} or (T, d_model) with d_model={self.d_model}", input.shape)
        check_dtype_matches(input, "input", self.pe.dtype, "PositionalEncoding")
        time_axis = 1 if self.batch_first and input.ndim == 3 else 0
        T = input.shape[time_axis]
        offset = _positions(offset, T, self.max_len, "input", input.shape, f"axis {time_axis}")
        pe = self.pe[offset : offset + T]  # (T, d_model)
        if input.ndim == 3 and not self.batch_first:
            pe = pe[:, None, :]  # (T, d_model) -> (T, 1, d_model): the same encoding for every sequence
        out = input + pe  # broadcast over the batch axis
        mask = None
        if self.training and self.dropout > 0:
            mask = np.asarray(self.draw_dropout_mask(out.shape, out.dtype), dtype=out.dtype)
            if mask.shape != out.shape:  # an injected mask of the wrong shape would broadcast silently
                raise invalid_shape("dropout mask", f"{out.shape}, the output's shape", mask.shape)
            out *= mask
        self._save((mask,), out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """d_input = grad_out * dropout mask (the encoding adds a constant); None with ``input_grad=False``."""
        (mask,) = self._saved(grad_out)
        if not input_grad:
            return None
        return grad_out.copy() if mask is None else grad_out * mask

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}, dropout={self.dropout}, batch_first={self.batch_first}"


class LearnedPositionalEmbedding(Module):
    """out[..., t, :] = weight[offset + t]: a learned vector per position, an ``nn.Embedding`` over 0 .. T - 1.

    ``forward(input, offset=0)`` takes the token ids (*, T), time last (batch-first ids, as Hugging Face's
    ``BartLearnedPositionalEmbedding`` takes ``input_ids``), and returns the position embeddings of their
    shape plus ``embedding_dim``, so that ``tokens(ids) + positions(ids)`` embeds a batch; only the ids'
    shape is read. ``offset`` is the position of the first step (incremental decoding asks for step t with
    ids of one step and ``offset=t``). Positions past ``num_positions`` are a ValueError. The weight is
    initialised N(0, 1) and named ``weight``, as ``nn.Embedding``'s, so its state_dict loads into
    ``torch.nn.Embedding(num_positions, embedding_dim)``.

    Backward: weight.grad[offset + t] += the sum of grad_out[..., t, :] over the batch axes (every sequence
    uses every position); returns None, as ``nn.Embedding``: integer ids have no gradient.

    Shape:
        input: (*, T) integer ids;  output: (*, T, embedding_dim);  weight: (num_positions, embedding_dim)
    """

    def __init__(
        self, num_positions: int, embedding_dim: int, dtype: Any = None, *, rng: np.random.Generator | None = None
    ) -> None:
        super().__init__()
        self.num_positions = check_int(num_positions, "num_positions", low=1)
        self.embedding_dim = check_int(embedding_dim, "embedding_dim", low=1)
        dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
        sizes = {"num_positions": num_positions, "embedding_dim": embedding_dim}
        self.weight = Param(new_array((self.num_positions, self.embedding_dim), dt, sizes))
        init.normal_(self.weight, rng=rng)

    def forward(self, input: np.ndarray, offset: int = 0) -> np.ndarray:
        if not isinstance(input, np.ndarray) or input.dtype.kind not in "iu":
            shown = f", not dtype {input.dtype}" if isinstance(input, np.ndarray) else ""
            raise invalid_type("input", f"an integer numpy.ndarray of token ids (*, T){shown}", input)
        if input.ndim == 0:
            raise invalid_shape("input", "(*, T) token ids, time last", input.shape)
        T = input.shape[-1]
        offset = _positions(offset, T, self.num_positions, "input", input.shape, "its last axis")
        rows = self.weight.data[offset : offset + T]  # (T, E)
        out = np.broadcast_to(rows, (*input.shape, self.embedding_dim)).copy()  # (T, E) -> (*, T, E)
        self._save((offset, input.shape), out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> None:
        """weight.grad[offset + t] += grad_out[..., t, :] summed over the batch axes; returns None."""
        offset, shape = self._saved(grad_out)
        T, E = shape[-1], self.embedding_dim
        per_position = grad_out.reshape(math.prod(shape[:-1]), T, E).sum(axis=0)  # (*, T, E) -> (T, E)
        self.weight.grad[offset : offset + T] += per_position
        return None

    def extra_repr(self) -> str:
        return f"{self.num_positions}, {self.embedding_dim}"
