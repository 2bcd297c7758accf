"""A digest of a task's arguments that is the same in every process and on every run.

Python's ``hash`` is salted per process and ``pickle`` bytes depend on object identity and
protocol, so neither can tell whether a run folder holds the same task as before; this can.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..._validate import invalid_type

__all__ = ["kwargs_digest"]


def kwargs_digest(kwargs: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a canonical serialization of ``kwargs``.

    Canonical: dict keys sorted, every value tagged with its type and length-prefixed, floats
    exact (``float.hex``), tuples distinct from lists, numpy arrays and scalars by dtype, shape and
    C-order bytes, dataclasses by class and fields. Other types are a ``TypeError`` naming where
    they are (``kwargs['config'][2]``): a ``repr`` could hold an address and never match again.
    """
    h = hashlib.sha256()
    _feed(h, kwargs, "kwargs")
    return h.hexdigest()


def _feed(h: Any, obj: Any, where: str) -> None:
    """Feed a canonical, typed, length-prefixed serialization of ``obj`` to the hash ``h``."""

    def token(tag: bytes, payload: bytes) -> None:
        h.update(tag + len(payload).to_bytes(8, "little") + payload)

    # numpy values first: np.float64 is also a float, but its dtype may matter to the task
    if isinstance(obj, (np.ndarray, np.generic)):
        arr = np.asarray(obj)
        if arr.dtype.hasobject:
            raise invalid_type(where, "JSON-able values or numpy arrays of numbers, not dtype object", obj)
        token(b"a", f"{arr.dtype.str}{arr.shape}".encode())
        token(b"", np.ascontiguousarray(arr).tobytes())
    elif obj is None or isinstance(obj, bool):
        token(b"c", repr(obj).encode())
    elif isinstance(obj, int):
        token(b"i", str(obj).encode())
    elif isinstance(obj, float):
        token(b"f", obj.hex().encode())  # exact: 0.1 and 0.1 + 1e-17 differ
    elif isinstance(obj, str):
        token(b"s", obj.encode())
    elif isinstance(obj, os.PathLike):
        token(b"p", os.fsencode(obj))
    elif isinstance(obj, Mapping):
        if not all(isinstance(k, str) for k in obj):
            raise invalid_type(where, "a dict with str keys", obj)
        token(b"{", str(len(obj)).encode())
        for k in sorted(obj):
            token(b"k", k.encode())
            _feed(h, obj[k], f"{where}[{k!r}]")
    elif isinstance(obj, (list, tuple)):
        token(b"[" if isinstance(obj, list) else b"(", str(len(obj)).encode())
        for i, v in enumerate(obj):
            _feed(h, v, f"{where}[{i}]")
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        token(b"D", f"{type(obj).__module__}:{type(obj).__qualname__}".encode())
        _feed(h, {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}, where)
    else:
        raise invalid_type(
            where, "JSON-able values (str, int, float, bool, None, list, tuple, dict, dataclass) or numpy arrays", obj
        )
