"""How a fuzz case draws a valid call of an op: its arguments (:class:`Call`), the parts in one dtype
(:class:`Draw`), and the spec that pairs a forward with its backwards (:class:`OpSpec`); of a module: its
constructor arguments and input (:class:`Case`, :class:`ModuleSpec`). A forward may return several
outputs (an RNN's output and final states): :func:`split` and :func:`leaves` find them, :func:`assert_like`
checks a gradient against what it differentiates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

from scratchnn.nn.utils.rnn import PackedSequence

from .props import FINITE_VALUES, LAYOUTS, is_finite, make_array

Path = tuple[Any, ...]  # ("args", "bn_param", "running_mean"): where a value sits in a call


@dataclass
class Call:
    args: dict[str, Any]  # the forward's positional arguments, by name, in order
    kwargs: dict[str, Any]
    out_shape: tuple[int, ...]  # the documented output shape (a loss: the loss's shape)
    grads: tuple[str, ...] = ("x",)  # what each result of the backward differentiates, in order
    floats: tuple[Path, ...] = (("args", "x"),)  # the float arrays that share the call's dtype
    finite: bool = True  # finite input must give a finite output
    refuse: bool = False  # a valid-looking call the library must refuse (batch statistics of one value, ...)
    state_shapes: tuple[tuple[int, ...], ...] = ()  # the shapes of the outputs after the first (h_n, c_n, next_c)
    index_outputs: tuple[int, ...] = ()  # outputs of integers or bools (a mask, ids_restore): no gradient

    def get(self, path: Path) -> Any:
        node: Any = {"args": self.args, "kwargs": self.kwargs}
        for key in path:
            node = node[key]
        return node

    def set(self, path: Path, value: Any) -> None:
        node: Any = {"args": self.args, "kwargs": self.kwargs}
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    def paths(self) -> list[Path]:
        """Every argument and every entry of a dict argument (the course's param dicts)."""
        out: list[Path] = []
        for where, d in (("args", self.args), ("kwargs", self.kwargs)):
            for k, v in d.items():
                out.append((where, k))
                if isinstance(v, dict):
                    out += [(where, k, kk) for kk in v]
        return out


class Draw:
    """Draws the parts of one call in one dtype; ``data`` arrays take any value kind the test allows."""

    def __init__(self, draw: st.DrawFn, dtype: np.dtype[Any], values: tuple[str, ...]) -> None:
        self.draw, self.dtype, self.values = draw, dtype, values

    def int(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def pick(self, options: Any) -> Any:
        return self.draw(st.sampled_from(options))

    def float(self, lo: float, hi: float) -> float:
        return self.draw(st.floats(lo, hi, allow_nan=False, allow_infinity=False))

    def array(self, shape: tuple[int, ...], values: tuple[str, ...] | None = None, dtype: Any = None) -> np.ndarray:
        seed = self.draw(st.integers(0, 2**32 - 1))
        kind = self.pick(values or FINITE_VALUES)
        return make_array(tuple(shape), dtype or self.dtype, self.pick(LAYOUTS), kind, seed)

    def x(self, shape: tuple[int, ...]) -> np.ndarray:
        return self.array(shape, self.values)

    def p(self, shape: tuple[int, ...]) -> np.ndarray:
        return self.array(shape, ("normal",))

    def labels(self, shape: tuple[int, ...], C: int) -> np.ndarray:
        y = self.array(shape, ("normal",), dtype=self.pick([np.int64, np.int32, np.uint8, np.int8]))
        return np.asarray((np.abs(y.astype(np.int64)) % C).astype(y.dtype)) if y.size else y


@dataclass(frozen=True)
class OpSpec:
    name: str
    forward: Callable[..., Any]
    backward: tuple[Callable[..., Any], ...]
    make: Callable[[Draw], Call]
    loss: bool = False
    labels: tuple[Path, ...] = field(default_factory=tuple)  # integer label arrays


def nonfinite(*arrays: Any) -> bool:
    return any(isinstance(a, np.ndarray) and a.size and not np.isfinite(a).all() for a in arrays)


def differentiable(outs: tuple[Any, ...]) -> list[Any]:
    """The floating outputs: a backward takes an upstream gradient for each, none for an index or mask output."""
    return [o for o in outs if np.asarray(o).dtype.kind == "f"]


def split(result: Any) -> tuple[tuple[Any, ...], Any]:
    """(outputs, cache) of a forward's result: (out, cache), ((out, h_n, ...), cache) or (next_h, next_c, cache)."""
    *first, cache = result
    outs = first[0] if len(first) == 1 and isinstance(first[0], tuple) else tuple(first)
    return tuple(outs), cache


def leaves(value: Any) -> list[Any]:
    """The arrays of a (nested) output or input, in order: a PackedSequence counts as its data."""
    if isinstance(value, PackedSequence):
        return [value.data]
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in leaves(v)]
    return [value]


def assert_like(g: Any, like: Any, dtype: np.dtype[Any], finite: bool, what: str = "the input gradient") -> None:
    """``g`` has the structure of ``like`` (None, an array, a PackedSequence, a tuple), shapes and ``dtype``."""
    if like is None:
        assert g is None, f"{what}: {type(g).__name__} for an input without a gradient"
    elif isinstance(like, PackedSequence):
        assert isinstance(g, PackedSequence), f"{what}: {type(g).__name__}, not a PackedSequence"
        assert np.array_equal(g.batch_sizes, like.batch_sizes), f"{what}: other batch sizes"
        assert_like(g.data, like.data, dtype, finite, what)
    elif isinstance(like, tuple):
        assert isinstance(g, tuple) and len(g) == len(like), f"{what}: {type(g).__name__} for a tuple of {len(like)}"
        for gi, li in zip(g, like, strict=True):
            assert_like(gi, li, dtype, finite, what)
    else:
        assert isinstance(g, np.ndarray) and g.shape == np.shape(like) and g.dtype == dtype, (
            what,
            type(g),
            np.shape(g),
        )
        assert not finite or is_finite(g), f"{what}: non-finite for finite input"


Shape = tuple[int, ...]


@dataclass
class Case:
    kwargs: dict[str, Any]  # constructor arguments (all by keyword; ``args`` for the positional-only ones)
    inputs: list[Any]  # forward's arguments
    out_shape: Shape | None  # None: no forward (ModuleList)
    args: tuple[Any, ...] = ()
    train: bool | None = None  # the mode to run in (None: either)
    refuse: bool = False  # the library must refuse this input (batch statistics of one value, NaN into a loss)
    finite: bool = True  # finite input must give a finite output
    state_shapes: tuple[Shape, ...] = ()  # the shapes of the outputs after the first (h_n, c_n)
    ids: bool = False  # the first input is integer ids: no input gradient
    hx: bool = False  # the second input is an initial state: with it, backward returns (d_input, d_hx)

    def grad_like(self, inputs: list[Any]) -> Any:
        """What the module's backward returns a gradient for: the input, (input, hx), or nothing (ids)."""
        if self.ids:
            return None
        if self.hx and len(inputs) > 1 and inputs[1] is not None:
            return (inputs[0], inputs[1])
        return inputs[0]


@dataclass(frozen=True)
class ModuleSpec:
    cls: type
    make: Callable[[Draw], Case]
    loss: bool = False
    not_implemented: tuple[str, ...] = field(default_factory=tuple)  # options documented to raise NotImplementedError
