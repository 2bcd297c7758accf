"""``save`` / ``load``: nested Python structures with NumPy arrays, as safetensors + JSON (no pickle).

``save(obj, "run/ckpt.safetensors")`` writes two files:

- ``run/ckpt.safetensors``: every array of ``obj``, under readable flattened keys
  (``{"model": {"fc.weight": w}}`` stores ``w`` as ``"model.fc.weight"``), so any safetensors
  reader (``safetensors.torch.load_file``, ...) opens it;
- ``run/ckpt.json``: the structure itself (dicts, lists, tuples, numbers, strings, booleans,
  ``None``) with a placeholder ``{"__ndarray__": key}`` where each array was.

Both files carry the same random id, so a pair torn by a crash between the two renames is
detected on load. Loading never executes code: there is no pickle anywhere.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load as _st_load
from safetensors.numpy import save as _st_save

from ._validate import invalid_type, invalid_value

__all__ = ["save", "load"]

_FORMAT = "scratchnn"
_VERSION = 1
_SUFFIX = ".safetensors"
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


def _paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    if not isinstance(path, (str, os.PathLike)):
        raise invalid_type("path", "a str or os.PathLike ending in '.safetensors'", path)
    p = Path(path).expanduser()
    if p.suffix != _SUFFIX:
        raise invalid_value("path", "a file name ending in '.safetensors' (a JSON sidecar goes next to it)", str(p))
    return p, p.with_suffix(".json")


# ------------------------------------------------------------------------------------------- encoding
class _Encoder:
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
            self.arrays[key] = obj if obj.flags.c_contiguous else obj.copy(order="C")
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


def _decode(node: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    if isinstance(node, list):
        return [_decode(v, arrays) for v in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((tag, value),) = node.items()
        if tag == "__ndarray__":
            if value not in arrays:
                raise ValueError(
                    f"Corrupt checkpoint: the JSON sidecar names array {value!r}, "
                    "which the .safetensors file does not hold"
                )
            return arrays[value]
        if tag == "__tuple__":
            return tuple(_decode(v, arrays) for v in value)
        if tag == "__dict__":
            return {k: _decode(v, arrays) for k, v in value}
        if tag == "__scalar__":
            dtype, v = value
            return np.dtype(dtype).type(float(v) if isinstance(v, str) else v)
        if tag == "__float__":
            return float(value)
    return {k: _decode(v, arrays) for k, v in node.items()}


# ------------------------------------------------------------------------------------------- files
def _write_temp(path: Path, data: bytes) -> str:
    """Write ``data`` to a fresh temporary file next to ``path`` (flushed to disk); return its name."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def save(obj: Any, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """Save a nested structure of dicts, lists, tuples, arrays, numbers, str, bool and None.

    Arrays go to ``path`` (a safetensors file, dtype and shape kept, 0-d included), the rest
    to the JSON sidecar ``path`` with ``.json`` in place of ``.safetensors``. Dict keys are
    str or int (int keys, as in an optimizer's ``state``, come back as int). Both files are
    written to temporary names and renamed into place, so a crash never leaves half a file.

    Raises:
        FileExistsError: ``path`` or its sidecar exists and ``overwrite`` is False (nothing
            the user saved is replaced without asking).
        TypeError: ``obj`` holds something else (the message names where).
    """
    st_path, json_path = _paths(path)
    if not overwrite:
        for p in (st_path, json_path):
            if p.exists():
                raise FileExistsError(f"{p} already exists; pass overwrite=True to replace it or choose another path")
    if not st_path.parent.is_dir():
        raise FileNotFoundError(f"Cannot save to {st_path}: the folder {st_path.parent} does not exist")
    enc = _Encoder()
    tree = enc.encode(obj, [], "obj")  # every TypeError comes before anything is written
    file_id = uuid.uuid4().hex
    header = {"format": _FORMAT, "version": _VERSION, "id": file_id, "tree": tree}
    json_bytes = (json.dumps(header, allow_nan=False) + "\n").encode()
    st_bytes = _st_save(enc.arrays, metadata={"format": _FORMAT, "id": file_id})
    temps: list[str] = []
    try:
        temps.append(_write_temp(st_path, st_bytes))
        temps.append(_write_temp(json_path, json_bytes))
        os.replace(temps[0], st_path)
        os.replace(temps[1], json_path)
    finally:
        for tmp in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def load(path: str | os.PathLike[str]) -> Any:
    """Load what :func:`save` wrote; a plain safetensors file without a sidecar gives its flat dict (sorted keys).

    Arrays come back writable, with the dtype and shape they were saved with.
    """
    st_path, json_path = _paths(path)
    if not st_path.is_file():
        raise FileNotFoundError(f"No such checkpoint file: {st_path}")
    data = st_path.read_bytes()
    arrays = _st_load(data)
    if not json_path.is_file():
        return dict(sorted(arrays.items()))
    header = json.loads(json_path.read_text())
    if not isinstance(header, dict) or header.get("format") != _FORMAT or "tree" not in header:
        raise ValueError(f"{json_path} is not a scratchnn sidecar (no 'format': 'scratchnn' and 'tree')")
    # safetensors layout: an 8-byte little-endian length, then a JSON header holding __metadata__
    n = int.from_bytes(data[:8], "little")
    meta = json.loads(data[8 : 8 + n]).get("__metadata__") or {}
    if meta.get("id") != header.get("id"):
        raise ValueError(
            f"{st_path} and {json_path} come from different saves (ids {meta.get('id')!r} and "
            f"{header.get('id')!r}): the pair was torn or mixed up"
        )
    return _decode(header["tree"], arrays)
