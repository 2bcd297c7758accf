"""What the encoder and decoder layers share: their arguments, the feed-forward block, the residual steps.

A residual step is x + sublayer(x) with a LayerNorm before the sublayer (pre-LN, ``norm_first=True``) or
after the sum (post-LN, the original Transformer's and torch's default):

    post-LN:  y = norm(x + dropout(f(x)))          pre-LN:  y = x + dropout(f(norm(x)))

and its backward passes dy through the norm and the dropout and adds the skip connection's dy.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from ..._threads import pool_gemms
from ..._validate import (
    check_array,
    check_bool,
    check_dtype_matches,
    check_float,
    check_int,
    invalid_shape,
    invalid_type,
    invalid_value,
)
from ..activation import GELU, ReLU
from ..dropout import Dropout
from ..linear import Linear
from ..module import Module
from ..normalization import LayerNorm
from ..parameter import new_array


def make_activation(activation: Any) -> Module:
    """torch's ``activation`` argument: "relu", "gelu", or a module (ReLU() or GELU() instances included)."""
    expected = '"relu", "gelu" or a scratchnn.nn.Module such as nn.GELU()'
    if isinstance(activation, Module):
        return activation
    if not isinstance(activation, str):  # an array would make `==` elementwise
        raise invalid_type("activation", expected, activation)
    if activation == "relu":
        return ReLU()
    if activation == "gelu":
        return GELU()
    raise invalid_value("activation", expected, activation)


class LayerArgs:
    """The checked constructor arguments both layers take, with torch's defaults."""

    def __init__(
        self, d_model: Any, nhead: Any, dim_feedforward: Any, dropout: Any, layer_norm_eps: Any, batch_first: Any,
        norm_first: Any, bias: Any,
    ) -> None:  # fmt: skip
        self.d_model = check_int(d_model, "d_model", low=1)
        self.nhead = check_int(nhead, "nhead", low=1)
        if self.d_model % self.nhead:
            raise invalid_value("nhead", f"a divisor of d_model = {self.d_model}", nhead)
        self.dim_feedforward = check_int(dim_feedforward, "dim_feedforward", low=1)
        self.dropout = check_float(dropout, "dropout", low=0.0, high=1.0, high_open=True)
        self.layer_norm_eps = check_float(layer_norm_eps, "layer_norm_eps", low=0.0)
        self.batch_first = check_bool(batch_first, "batch_first")
        self.norm_first = check_bool(norm_first, "norm_first")
        self.bias = check_bool(bias, "bias")


def add_feedforward(layer: Module, a: LayerArgs, activation: Any, dt: Any, rng: np.random.Generator | None) -> None:
    """linear1 -> activation -> dropout -> linear2, torch's names, on ``layer``."""
    layer.linear1 = Linear(a.d_model, a.dim_feedforward, bias=a.bias, dtype=dt, rng=rng)
    layer.dropout = Dropout(a.dropout, rng=rng)
    layer.linear2 = Linear(a.dim_feedforward, a.d_model, bias=a.bias, dtype=dt, rng=rng)
    layer.activation = make_activation(activation)


# The feed-forward's GEMMs run on the intra-op threads (pool_gemms), as the attention beside them does:
# a layer that mixed them with OpenBLAS's threads would leave OpenBLAS's idle workers spinning on the
# cores the attention's blocks want (scratchnn/_threads.py).


def feedforward(layer: Module, x: np.ndarray) -> np.ndarray:
    """linear2(dropout(activation(linear1(x)))). Shape: x (N, T, E) -> (N, T, F) -> (N, T, E)."""
    with pool_gemms():
        return layer.linear2(layer.dropout(layer.activation(layer.linear1(x))))


def feedforward_eval(layer: Module, x: np.ndarray) -> np.ndarray:
    """:func:`feedforward` without its dropout, whatever the layer's mode (cached decoding)."""
    with pool_gemms():
        return layer.linear2(layer.activation(layer.linear1(x)))


def feedforward_backward(layer: Module, g: np.ndarray) -> np.ndarray:
    """Gradient of :func:`feedforward` for its output's gradient g."""
    with pool_gemms():
        g = layer.dropout.backward(layer.linear2.backward(g))  # (N, T, E) -> (N, T, F)
        return layer.linear1.backward(layer.activation.backward(g))  # (N, T, F) -> (N, T, E)


def residual(
    x: np.ndarray,
    norm: LayerNorm,
    dropout: Callable[[np.ndarray], np.ndarray],
    sublayer: Callable[[np.ndarray], np.ndarray],
    norm_first: bool,
) -> np.ndarray:
    """post-LN norm(x + dropout(f(x))) or pre-LN x + dropout(f(norm(x))), f = ``sublayer``."""
    if norm_first:
        return x + dropout(sublayer(norm(x)))
    return norm(x + dropout(sublayer(x)))


def residual_backward(
    g: np.ndarray, norm: Module, dropout: Module, sublayer_backward: Callable[[np.ndarray], np.ndarray],
    norm_first: bool,
) -> np.ndarray:  # fmt: skip
    """Gradient of :func:`residual` for its output's gradient g: the skip path's g plus the sublayer path's."""
    if norm_first:
        return g + norm.backward(sublayer_backward(dropout.backward(g)))
    g = norm.backward(g)  # through the norm, then into both summands
    return g + sublayer_backward(dropout.backward(g))


def attention_grads(attn: Module, d: np.ndarray) -> tuple[Any, Any, Any]:
    """(dquery, dkey, dvalue) of a MultiheadAttention's last call, None for an input that repeated an earlier one."""
    grads: tuple[Any, Any, Any] = attn.backward(d)
    return grads


def check_input(x: Any, name: str, layer: Module, d_model: int) -> np.ndarray:
    """A layer's input: (T, N, E), (N, T, E) or unbatched (T, E), E = d_model, in the layer's dtype; the errors
    name the layer's own argument (``src``, ``tgt``, ``memory``), not the attention's ``query`` inside."""
    check_array(x, name, ndim=(2, 3))
    check_dtype_matches(x, name, layer.linear1.weight.dtype, type(layer).__name__)
    if x.shape[-1] != d_model:
        raise invalid_shape(name, f"(..., E) with E = d_model = {d_model}", x.shape)
    return x


def batch_major(x: np.ndarray, batch_first: bool) -> np.ndarray:
    """(T, N, E) -> (N, T, E) for sequence-first layers (a view); batch-first and unbatched (T, E) as they are."""
    return x if batch_first or x.ndim != 3 else x.transpose(1, 0, 2)


def clones(layer: Module, num_layers: Any) -> list[Module]:
    """``num_layers`` deep copies of ``layer`` with the same initial weights, as torch's encoder and decoder
    stacks make them. A generator the layer holds (``rng``) is shared by the copies, not copied: copied,
    every layer would draw the same dropout masks."""
    n = check_int(num_layers, "num_layers", low=1)
    # the copies' elements in one untouched array first (as the recurrent layers do): a count no memory can hold
    # (2**70 layers) is the template error, not a loop of 2**70 deep copies
    params = [p.data for p in layer.parameters()]
    dtype = params[0].dtype if params else np.float32
    new_array((n, sum(p.size for p in params)), dtype, {"num_layers": num_layers})
    memo = {id(m.rng): m.rng for m in layer.modules() if getattr(m, "rng", None) is not None}
    return [copy.deepcopy(layer, dict(memo)) for _ in range(n)]
