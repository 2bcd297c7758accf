"""Fuzz specs of the attention ops: scaled dot-product attention, fast and naive, and multi-head attention.

Every axis may be empty (no samples, heads, queries, keys or features); the masks come in every kind the
ops take (a boolean or float ``attn_mask`` of any shape that broadcasts to (N, H, L, S), float ones holding
-inf, a boolean or float ``key_padding_mask``, ``is_causal``), combined or alone, and attention dropout
draws from an ``rng`` or takes a keep mask. Multi-head attention also takes torch's per-head (N * H, L, S)
mask, and its query, key and value come as one array (self-attention), key and value as one, or three.
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


def _attention_kwargs(d: Draw, shape: tuple[int, int, int, int]) -> dict[str, Any]:
    """The masks and dropout of a call over (N, H, L, S) weights, each present or not."""
    N, H, L, S = shape
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
    return kwargs


def attention(d: Draw) -> Call:
    N, H, L, S, E, Ev = (d.int(0, 3) for _ in range(6))
    args = {"q": d.x((N, H, L, E)), "k": d.p((N, H, S, E)), "v": d.p((N, H, S, Ev))}
    kwargs = _attention_kwargs(d, (N, H, L, S))
    if d.pick([True, False]):
        kwargs["scale"] = d.float(-2, 2)
    floats = (("args", "q"), ("args", "k"), ("args", "v"))
    return Call(args, kwargs, (N, H, L, Ev), ("q", "k", "v"), floats)


def _shared(args: dict[str, Any]) -> set[str]:
    """Multi-head attention's inputs that get no gradient of their own: key and value when both are the query,
    value when it is the key (their gradients come summed into the query's, the key's)."""
    q, k, v = args["query"], args["key"], args["value"]
    if k is q and v is q:
        return {"key", "value"}
    return {"value"} if v is k else set()


def multi_head(d: Draw) -> Call:
    N, L, S, H = d.int(0, 3), d.int(0, 3), d.int(0, 3), d.int(1, 3)
    E = H * d.int(0, 2)  # embed_dim a multiple of num_heads, 0 included (with one head)
    H = H if E else 1
    kind = d.pick(["self", "key_is_value", "distinct"])
    S = L if kind == "self" else S
    query = d.x((N, L, E))
    key = query if kind == "self" else d.p((N, S, E))
    bias = d.pick([True, False])
    args: dict[str, Any] = {
        "query": query, "key": key, "value": key if kind != "distinct" else d.p((N, S, E)),
        "in_proj_weight": d.p((3 * E, E)), "in_proj_bias": d.p((3 * E,)) if bias else None,
        "out_proj_weight": d.p((E, E)), "out_proj_bias": d.p((E,)) if bias else None,
    }  # fmt: skip
    kwargs = {"num_heads": H, **_attention_kwargs(d, (N, H, L, S))}
    if d.pick([True, False]):
        kwargs["attn_mask"] = _mask(d, (N * H, L, S))  # torch's per-head form
    floats = tuple(("args", name) for name, a in args.items() if a is not None)
    return Call(args, kwargs, (N, L, E), tuple(args), floats, state_shapes=((N, H, L, S),), shared=_shared)


def _spec(name: str, make: Callable[[Draw], Call], suffix: str = "") -> OpSpec:
    forward = getattr(ops, f"{name}_forward{suffix}")
    return OpSpec(name + suffix, forward, (getattr(ops, f"{name}_backward{suffix}"),), make)


SPECS: list[OpSpec] = [
    _spec("scaled_dot_product_attention", attention),
    _spec("scaled_dot_product_attention", attention, "_naive"),
    _spec("multi_head_attention", multi_head),
]
