"""What ``Module.load_state_dict`` needs besides the module: its return value and the check of one value.

Every value is checked against the array it will be copied into (shape, and an array kind that fits:
floats into floats of any width, integers into integers) before anything is copied, so a load
that fails leaves the module as it was.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._validate import invalid_shape

__all__ = ["IncompatibleKeys", "loadable"]


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` returns (torch's name): keys the module has and the dict lacks, and the reverse."""

    missing_keys: list[str]
    unexpected_keys: list[str]


_LOADABLE = {"f": ("f", "a floating"), "i": ("iu", "an integer"), "u": ("iu", "an integer"), "b": ("b", "a bool")}


def loadable(key: str, value: Any, current: np.ndarray, what: str) -> np.ndarray:
    """``value`` checked to fit ``current`` (its shape; an array kind ``_LOADABLE`` allows), cast to its dtype."""
    name = f"state_dict[{key!r}]"
    arr = np.asarray(value)
    if arr.shape != current.shape:
        raise invalid_shape(name, f"{current.shape}", arr.shape)
    kinds, want = _LOADABLE.get(current.dtype.kind, (current.dtype.kind, f"a {current.dtype}"))
    if arr.dtype.kind not in kinds:
        raise TypeError(
            f"Invalid dtype for `{name}`: expected {want} array for the {current.dtype} {what} "
            f"(floats of another width are cast, as torch's copy_). Received: {name}.dtype={arr.dtype}"
        )
    return arr.astype(current.dtype, copy=False)
