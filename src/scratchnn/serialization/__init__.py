"""``save`` / ``load``: nested Python structures with NumPy arrays, in one safetensors file (no pickle).

``save(obj, "run/ckpt.safetensors")`` writes one file, readable by any safetensors reader:

- its tensors: every array of ``obj``, under readable flattened keys (``{"model": {"fc.weight": w}}``
  stores ``w`` as ``"model.fc.weight"``);
- its header's ``__metadata__`` (str -> str, as safetensors allows): ``format`` ("scratchnn"),
  ``version`` ("2"), ``tree`` (the structure as JSON: dicts, lists, tuples, numbers, strings,
  booleans, ``None``, with ``{"__ndarray__": key}`` where each array was) and ``sha256``, a checksum
  of all the rest (see :func:`.files.checksum`), verified by ``load``.

The file is written under a temporary name and renamed over ``path`` in one step, so at every
moment ``path`` holds one complete checkpoint, the old one or the new one. Loading never executes
code: there is no pickle anywhere.

Format version 1 (scratchnn 0.1.0 before checksums) kept the structure in a JSON sidecar next to the file
(``run/ckpt.json``); ``load`` still reads such pairs (they carry no checksum), and
``save(..., overwrite=True)`` over one removes the old sidecar once the new file is in place.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from safetensors.numpy import save as _st_save

from .._validate import invalid_type, invalid_value
from .files import bad_file, checksum, corrupt, read_json, read_safetensors, write_atomic
from .tree import Encoder, decode

__all__ = ["save", "load"]

_FORMAT = "scratchnn"
_VERSION = "2"
_FIELDS = ("format", "version", "tree", "sha256")  # the __metadata__ of a version-2 file
_SUFFIX = ".safetensors"


def _paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The file and where a version-1 JSON sidecar of it would be."""
    if not isinstance(path, (str, os.PathLike)):
        raise invalid_type("path", "a str or os.PathLike ending in '.safetensors'", path)
    p = Path(path).expanduser()
    if p.suffix != _SUFFIX:
        raise invalid_value("path", "a file name ending in '.safetensors'", str(p))
    return p, p.with_suffix(".json")


def save(obj: Any, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """Save a nested structure of dicts, lists, tuples, arrays, numbers, str, bool and None to ``path``.

    One safetensors file (see the module doc): arrays keep their dtype and shape (0-d included),
    dict keys are str or int (int keys, as in an optimizer's ``state``, come back as int). It is
    written whole under a temporary name, then renamed over ``path``: a crash never leaves half a
    file, and the old checkpoint stays until the new one is complete. The file gets the mode the
    umask gives any new file.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False (nothing the user saved is
            replaced without asking).
        TypeError: ``obj`` holds something else (the message names where); nothing is written.
    """
    st_path, json_path = _paths(path)
    if not overwrite and st_path.exists():
        raise FileExistsError(f"{st_path} already exists; pass overwrite=True to replace it or choose another path")
    if not st_path.parent.is_dir():
        raise FileNotFoundError(f"Cannot save to {st_path}: the folder {st_path.parent} does not exist")
    enc = Encoder()
    tree = enc.encode(obj, [], "obj")  # every TypeError comes before anything is written
    meta = {"format": _FORMAT, "version": _VERSION, "tree": json.dumps(tree, allow_nan=False)}
    meta["sha256"] = checksum(meta, enc.arrays)
    write_atomic(st_path, _st_save(enc.arrays, metadata=meta))
    if overwrite and _is_old_sidecar(json_path):  # the new file holds everything; the pair's JSON is stale
        with contextlib.suppress(OSError):
            json_path.unlink()


def load(path: str | os.PathLike[str]) -> Any:
    """Load what :func:`save` wrote; a plain safetensors file gives its flat dict of arrays (sorted keys).

    Arrays come back writable, with the dtype and shape they were saved with. Files of format
    version 1 (a ``.safetensors`` + ``.json`` pair) load too.

    Raises:
        FileNotFoundError: there is no file at ``path``.
        ValueError: the file (or a version-1 sidecar) is empty, truncated, corrupt (its checksum
            does not match) or not a safetensors file; the message names the file.
    """
    st_path, json_path = _paths(path)
    if not st_path.is_file():
        raise FileNotFoundError(f"No such checkpoint file: {st_path}")
    meta, arrays = read_safetensors(st_path, st_path.read_bytes())
    if "tree" in meta or "sha256" in meta or (meta.get("format") == _FORMAT and "id" not in meta):
        tree = _checked_tree(st_path, meta, arrays)
    elif meta.get("format") == _FORMAT:  # version 1: the structure is in the sidecar
        tree = _sidecar_tree(st_path, json_path, meta)
    else:
        return dict(sorted(arrays.items()))
    try:
        return decode(tree, arrays)
    except Exception as e:  # a structure that does not fit the arrays: the file was not written by save
        raise corrupt(st_path, str(e)) from None


def _checked_tree(path: Path, meta: dict[str, str], arrays: dict[str, Any]) -> Any:
    missing = [k for k in _FIELDS if not isinstance(meta.get(k), str)]
    if missing:
        raise corrupt(path, f"its scratchnn metadata lacks {missing}")
    if checksum(meta, arrays) != meta["sha256"]:
        raise bad_file(path, "is corrupt: its arrays do not match the checksum saved with them")
    if meta["format"] != _FORMAT or meta["version"] != _VERSION:
        raise bad_file(
            path,
            f"was written in format {meta['format']!r} version {meta['version']!r}; this scratchnn reads "
            f"version {_VERSION} (upgrade scratchnn to load it)",
        )
    try:
        return json.loads(meta["tree"])
    except ValueError:
        raise corrupt(path, "its structure is not valid JSON") from None


def _sidecar_tree(st_path: Path, json_path: Path, meta: dict[str, str]) -> Any:
    if not json_path.is_file():
        raise bad_file(st_path, f"is half of an older scratchnn checkpoint whose JSON sidecar {json_path} is missing")
    header = read_json(json_path, st_path)
    if not isinstance(header, dict) or header.get("format") != _FORMAT or "tree" not in header:
        raise bad_file(st_path, f"has a JSON sidecar {str(json_path)!r} that is not a scratchnn sidecar")
    if meta.get("id") != header.get("id"):
        raise bad_file(
            st_path,
            f"and its sidecar {json_path} come from different saves (ids {meta.get('id')!r} and "
            f"{header.get('id')!r}): the pair was torn or mixed up",
        )
    return header["tree"]


def _is_old_sidecar(json_path: Path) -> bool:
    """Whether ``json_path`` is the JSON half of a version-1 checkpoint (not some other file of the user's)."""
    if not json_path.is_file():
        return False
    with contextlib.suppress(OSError, ValueError, UnicodeDecodeError):
        header = json.loads(json_path.read_bytes())
        return isinstance(header, dict) and header.get("format") == _FORMAT and "tree" in header
    return False
