"""``Embedding``: a lookup table of ``num_embeddings`` vectors, mirroring ``torch.nn.Embedding``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._config import get_default_dtype
from .._numerics import zero_fill
from .._validate import check_bool, check_float, check_float_dtype, check_int, invalid_value
from ..ops.embedding import check_ids, word_embedding_backward, word_embedding_forward
from . import init
from .module import Module
from .parameter import Param, new_array


class Embedding(Module):
    """out = weight[input]: each integer id picks a row of the table (:func:`scratchnn.ops.word_embedding_forward`).

    As ``torch.nn.Embedding``: weight is (num_embeddings, embedding_dim), initialised N(0, 1);
    ``padding_idx`` (negative counts from the end) names a row that starts at zero and never gets a
    gradient, so training leaves it zero. The input is an integer array of any shape; ids outside
    [0, num_embeddings) are a ValueError naming ``input`` (torch: IndexError). ``backward(grad_out)``
    accumulates into ``weight.grad`` (only the rows the batch used are touched) and returns None:
    integer ids have no gradient.

    Differs from torch: ``max_norm`` (renormalising the looked-up rows in place), ``scale_grad_by_freq``
    and ``sparse`` gradients are not implemented; anything but their defaults is a ValueError.

    Shape:
        input: any shape S of integer ids;  output: (*S, embedding_dim)
        weight: (num_embeddings, embedding_dim)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.num_embeddings = check_int(num_embeddings, "num_embeddings", low=1)
        self.embedding_dim = check_int(embedding_dim, "embedding_dim", low=1)
        if padding_idx is not None:
            V = self.num_embeddings
            if check_int(padding_idx, "padding_idx") not in range(-V, V):
                raise invalid_value("padding_idx", f"an int in [-{V}, {V}) (num_embeddings={V}) or None", padding_idx)
            padding_idx = int(padding_idx) % V  # torch stores a negative index as num_embeddings + padding_idx
        self.padding_idx = padding_idx
        if max_norm is not None:
            raise invalid_value("max_norm", "None (renormalising rows is not implemented in scratchnn)", max_norm)
        self.max_norm = max_norm
        self.norm_type = check_float(norm_type, "norm_type")  # unused while max_norm is None; checked all the same
        if check_bool(scale_grad_by_freq, "scale_grad_by_freq"):
            raise invalid_value("scale_grad_by_freq", "False (not implemented in scratchnn)", scale_grad_by_freq)
        if check_bool(sparse, "sparse"):
            raise invalid_value("sparse", "False (scratchnn's gradients are dense arrays)", sparse)
        self.scale_grad_by_freq = self.sparse = False
        dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
        sizes = {"num_embeddings": num_embeddings, "embedding_dim": embedding_dim}  # 2**40: the template error
        self.weight = Param(new_array((self.num_embeddings, self.embedding_dim), dt, sizes))
        init.normal_(self.weight, rng=rng)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0  # torch zeroes the padding row at init

    def forward(self, input: np.ndarray) -> np.ndarray:
        check_ids(input, "input", self.num_embeddings)
        out, cache = word_embedding_forward(input, self.weight.data, padding_idx=self.padding_idx)
        self._save(cache, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> None:
        """weight.grad[v] += the sum of grad_out over the positions of id v (not the padding row); returns None."""
        cache = self._saved(grad_out)
        buf = self.weight.fresh_grad()  # right after zero_grad: the buffer, its zeros still to be written
        if buf is None:
            word_embedding_backward(grad_out, cache, dW_out=self.weight.grad)  # adds into the touched rows only
        else:
            zero_fill(buf)
            word_embedding_backward(grad_out, cache, dW_out=buf, zeroed=True)  # writes the touched rows
        return None

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text if self.padding_idx is None else text + f", padding_idx={self.padding_idx}"
