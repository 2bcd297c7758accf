"""Fuzz specs of the attention ops: scaled dot-product attention, fast and naive.

Every axis may be empty (no samples, heads, queries, keys or features); the masks come in every kind the
ops take (a boolean or float ``attn_mask`` of any shape that broadcasts to (N, H, L, S), float ones holding
-inf, a boolean or float ``key_padding_mask``, ``is_causal``), combined or alone, and attention dropout
draws from an ``rng`` or takes a keep mask.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from scratchnn import ops

from .calls import Call, Draw, OpSpec


def _mask_shape(d: Draw, shape: tuple[int, int, int, int]) -> tuple[int, ...]:
    """A shape that broadcasts to ``shape``: each axis its size or 1, the leading ones possibly dropped."""
    full = tuple(n if d.pick([True, False]) else 1 for n in shape)
    return full[d.int(0, 2) :]


def _mask(d: Draw, shape: tuple[int, ...]) -> np.ndarray:
    """A boolean mask (True = masked out), or a float one in the call's dtype, some entries -inf."""
    if d.pick([True, False]):
        return np.asarray(d.array(shape, ("normal",)) > 1)
    m = np.array(d.p(shape))
    if m.size and d.pick([True, False]):
        m[m < -1] = -np.inf
    return m


def attention(d: Draw) -> Call:
    N, H, L, S, E, Ev = (d.int(0, 3) for _ in range(6))
    shape = (N, H, L, S)
    args = {"q": d.x((N, H, L, E)), "k": d.p((N, H, S, E)), "v": d.p((N, H, S, Ev))}
    kwargs: dict[str, Any] = {}
    if d.pick([True, False]):
        kwargs["attn_mask"] = _mask(d, _mask_shape(d, shape))
    if d.pick([True, False]):
        kwargs["key_padding_mask"] = _mask(d, (N, S))
    if d.pick([True, False]):
        kwargs["is_causal"] = d.pick([True, False])
    if d.pick([True, False]):
        kwargs["dropout_p"] = d.float(0, 0.9)
        if d.pick([True, False]):
            kwargs["dropout_mask"] = np.asarray(d.array(shape, ("normal",)) > -0.5)
        else:
            kwargs["rng"] = np.random.default_rng(d.int(0, 9))
    if d.pick([True, False]):
        kwargs["scale"] = d.float(-2, 2)
    floats = (("args", "q"), ("args", "k"), ("args", "v"))
    return Call(args, kwargs, (N, H, L, Ev), ("q", "k", "v"), floats)


def _spec(name: str, make: Callable[[Draw], Call], suffix: str = "") -> OpSpec:
    forward = getattr(ops, f"{name}_forward{suffix}")
    return OpSpec(name + suffix, forward, (getattr(ops, f"{name}_backward{suffix}"),), make)


SPECS: list[OpSpec] = [
    _spec("scaled_dot_product_attention", attention),
    _spec("scaled_dot_product_attention", attention, "_naive"),
]
