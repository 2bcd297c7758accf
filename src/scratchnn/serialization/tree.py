"""The structure of a saved object: a JSON-able tree with a placeholder for each array.

``Encoder().encode(obj)`` turns dicts, lists, tuples, numbers, strings, booleans and None into
JSON and collects the arrays under readable flattened keys (``{"model": {"fc.weight": w}}``
stores ``w`` as ``"model.fc.weight"``), leaving ``{"__ndarray__": key}`` in their place;
:func:`decode` puts them back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._validate import invalid_type

__all__ = ["Encoder", "decode"]

# dtypes both NumPy and safetensors know (safetensors also has bfloat16 / float8, which NumPy lacks)
_ARRAY_DTYPES = frozenset(
    np.dtype(t).name
    for t in (
        "bool",
        "int8",
        "uint8",
        "int16",
        "uint16",
        "int32",
        "uint32",
        "int64",
        "uint64",
        "float16",
        "float32",
        "float64",
        "complex64",
    )
)
_TAGS = ("__ndarray__", "__tuple__", "__dict__", "__scalar__", "__float__")


class Encoder:
    """Turns ``obj`` into a JSON-able tree, collecting arrays under unique flattened keys."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def _key(self, parts: list[str]) -> str:
        base = ".".join(parts) or "tensor"
        key, n = base, 1
        while key in self.arrays:  # "a.b" as one key and as a nested path would collide
            n += 1
            key = f"{base}#{n}"
        return key

    def encode(self, obj: Any, parts: list[str], where: str) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int) and not isinstance(obj, np.generic):
            return int(obj)
        if isinstance(obj, float) and not isinstance(obj, np.generic):
            return obj if math.isfinite(obj) else {"__float__": repr(obj)}
        if isinstance(obj, np.ndarray):
            if obj.dtype.name not in _ARRAY_DTYPES:
                raise invalid_type(
                    where, f"arrays of dtype {', '.join(sorted(_ARRAY_DTYPES))}; not dtype {obj.dtype}", obj
                )
            key = self._key(parts)
            # little-endian and C-ordered, as safetensors stores it, so the checksum covers the stored bytes
            self.arrays[key] = np.asarray(obj, dtype=obj.dtype.newbyteorder("<"), order="C")
            return {"__ndarray__": key}
        if isinstance(obj, np.generic):
            if obj.dtype.kind not in "biuf" or obj.dtype.itemsize > 8:
                raise invalid_type(where, "a NumPy bool, int or float scalar of at most 64 bits", obj)
            value = obj.item()
            if isinstance(value, float) and not math.isfinite(value):
                value = repr(value)
            return {"__scalar__": [obj.dtype.name, value]}
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, [*parts, str(i)], f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self.encode(v, [*parts, str(i)], f"{where}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, Mapping):
            return self._encode_dict(obj, parts, where)
        raise invalid_type(where, "dicts, lists, tuples, numpy arrays, numbers, str, bool or None", obj)

    def _encode_dict(self, obj: Mapping[Any, Any], parts: list[str], where: str) -> Any:
        keys: list[str | int] = []
        for k in obj:
            if isinstance(k, (np.integer, int)) and not isinstance(k, bool):
                keys.append(int(k))
            elif isinstance(k, str):
                keys.append(k)
            else:
                raise invalid_type(f"key of {where}", "str or int dict keys", k)
        values = [self.encode(v, [*parts, str(k)], f"{where}[{k!r}]") for k, v in zip(keys, obj.values())]
        if all(isinstance(k, str) for k in keys) and not (len(keys) == 1 and keys[0] in _TAGS):
            return dict(zip(keys, values))
        # int keys (optimizer state) or a key that looks like a tag: an explicit list of pairs
        return {"__dict__": [[k, v] for k, v in zip(keys, values)]}


def decode(node: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    """The object :meth:`Encoder.encode` turned into ``node``; ``ValueError`` (or another error) if it is malformed."""
    if isinstance(node, list):
        return [decode(v, arrays) for v in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((tag, value),) = node.items()
        if tag == "__ndarray__":
            if value not in arrays:
                raise ValueError(f"its structure names array {value!r}, which the file does not hold")
            return arrays[value]
        if tag == "__tuple__":
            return tuple(decode(v, arrays) for v in value)
        if tag == "__dict__":
            return {k: decode(v, arrays) for k, v in value}
        if tag == "__scalar__":
            dtype, v = value
            return np.dtype(dtype).type(float(v) if isinstance(v, str) else v)
        if tag == "__float__":
            return float(value)
    return {k: decode(v, arrays) for k, v in node.items()}
