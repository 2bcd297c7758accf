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


def kwargs_digest(kwargs: Mapping[str, Any], arrays: dict[int, bytes] | None = None) -> str:
    """SHA-256 (hex) of a canonical serialization of ``kwargs``.

    Canonical: dict keys sorted, every value tagged with its type and length-prefixed, floats
    exact (``float.hex``), tuples distinct from lists, numpy arrays and scalars by dtype, shape and
    the SHA-256 of their C-order bytes, dataclasses by class and fields. Other types are a
    ``TypeError`` naming where they are (``kwargs['config'][2]``): a ``repr`` could hold an address
    and never match again.

    ``arrays``, if given, caches each array's bytes digest by ``id``, across calls: a sweep's tasks
    often share the same data arrays, hashed once then. Only for arrays that stay alive and
    unmodified while the cache is in use (one sweep's tasks hold theirs).
    """
    h = hashlib.sha256()
    _feed(h, kwargs, "kwargs", {} if arrays is None else arrays)
    return h.hexdigest()


def _feed(h: Any, obj: Any, where: str, arrays: dict[int, bytes]) -> None:
    """Feed a canonical, typed, length-prefixed serialization of ``obj`` to the hash ``h``."""

    def token(tag: bytes, payload: bytes) -> None:
        h.update(tag + len(payload).to_bytes(8, "little") + payload)

    # numpy values first: np.float64 is also a float, but its dtype may matter to the task
    if isinstance(obj, (np.ndarray, np.generic)):
        arr = np.asarray(obj)
        if arr.dtype.hasobject:
            raise invalid_type(where, "JSON-able values or numpy arrays of numbers, not dtype object", obj)
        token(b"a", f"{arr.dtype.str}{arr.shape}".encode())
        if id(obj) not in arrays:
            # a flat uint8 view of the C-order data: hashed in place, no copy of a contiguous array
            arrays[id(obj)] = hashlib.sha256(np.ascontiguousarray(arr).reshape(-1).view(np.uint8).data).digest()
        token(b"", arrays[id(obj)])
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
            _feed(h, obj[k], f"{where}[{k!r}]", arrays)
    elif isinstance(obj, (list, tuple)):
        token(b"[" if isinstance(obj, list) else b"(", str(len(obj)).encode())
        for i, v in enumerate(obj):
            _feed(h, v, f"{where}[{i}]", arrays)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        token(b"D", f"{type(obj).__module__}:{type(obj).__qualname__}".encode())
        _feed(h, {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}, where, arrays)
    else:
        raise invalid_type(
            where, "JSON-able values (str, int, float, bool, None, list, tuple, dict, dataclass) or numpy arrays", obj
        )
