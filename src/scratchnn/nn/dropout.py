"""``Dropout``: inverted dropout mirroring ``torch.nn.Dropout`` (``p`` is the drop probability)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._config import get_rng
from .._validate import check_array, check_bool, check_float
from ..ops.dropout import dropout_backward, dropout_forward
from .module import Module


class Dropout(Module):
    """In training, zero each value with probability ``p`` and scale the rest by 1 / (1 - p); identity in eval.

    As ``torch.nn.Dropout``: ``p`` is the DROP probability (the course's dropout p was the keep
    probability). The mask comes from ``rng`` (None: scratchnn's default generator, see
    ``scratchnn.manual_seed``), drawn anew on every training forward and reused by ``backward``.
    In eval mode, and for ``p = 0``, the output is the input itself (not a copy), and the backward's
    gradient is ``grad_out`` itself, as in torch.

    Differs from torch: ``p`` must be in [0, 1) (p = 1 would zero everything), and ``inplace`` is
    accepted and ignored (the input is never modified).

    Shape:
        input, output: any shape
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, *, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.p = check_float(p, "p", low=0.0, high=1.0, high_open=True)
        self.inplace = check_bool(inplace, "inplace")
        if rng is not None:
            get_rng(rng)  # type check
        self.rng = rng

    def forward(self, input: np.ndarray) -> np.ndarray:
        check_array(input, "input")
        if not self.training or self.p == 0.0:
            # the input itself, as torch's dropout returns it (the op returns a copy): a Transformer with
            # dropout 0 runs fifteen of these per step, and their copies cost 3% of the step
            self._save((None, input.shape, input.dtype), input)
            return input
        param: dict[str, Any] = {"p": self.p, "mode": "train"}
        out, cache = dropout_forward(input, param, rng=self.rng)
        self._save(cache, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        cache = self._saved(grad_out)
        if not input_grad:
            return None
        return grad_out if cache[0] is None else dropout_backward(grad_out, cache)  # no mask: grad_out itself

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
