"""How a fuzz case draws a valid call of an op: its arguments (:class:`Call`), the parts in one dtype
(:class:`Draw`), and the spec that pairs a forward with its backwards (:class:`OpSpec`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

from .props import FINITE_VALUES, LAYOUTS, make_array

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
