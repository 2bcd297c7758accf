"""The bytes on disk: reading a safetensors file defensively, its checksum, and atomic writes.

Every problem with a file's contents becomes one ``ValueError`` that names the file (never a
``SafetensorError``, ``JSONDecodeError`` or ``UnicodeDecodeError`` from deep inside a reader).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load as _st_load

__all__ = [
    "bad_file",
    "corrupt",
    "read_safetensors",
    "checksum",
    "write_atomic",
    "read_json",
    "cannot_write",
    "writing",
]


def bad_file(path: Path, why: str) -> ValueError:
    """The error for a file that cannot be loaded: ``... Received: path='ck.safetensors', which <why>``."""
    return ValueError(
        f"Invalid value for `path`: expected a complete scratchnn checkpoint or safetensors file. "
        f"Received: path={str(path)!r}, which {why}"
    )


def corrupt(path: Path, detail: str) -> ValueError:
    return bad_file(path, f"is truncated, corrupt or not a scratchnn checkpoint ({detail})")


def read_safetensors(path: Path, data: bytes) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """The ``__metadata__`` and the arrays of the safetensors file ``path`` whose bytes are ``data``."""
    # layout: an 8-byte little-endian header length, a JSON header (tensors and __metadata__), the data
    if len(data) < 8:
        raise corrupt(path, f"it holds {len(data)} bytes, fewer than a safetensors header's 8-byte length")
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8:
        raise corrupt(path, f"its header claims {n} bytes, but only {len(data) - 8} follow")
    try:
        header = json.loads(data[8 : 8 + n])
    except (ValueError, UnicodeDecodeError):
        raise corrupt(path, "its header is not valid JSON") from None
    meta = (header.get("__metadata__") or {}) if isinstance(header, dict) else None
    if not isinstance(meta, dict):
        raise corrupt(path, "its header is not a safetensors header")
    try:
        arrays = _st_load(data)
    except Exception as e:  # SafetensorError, or a dtype NumPy lacks: the file is not one this library reads
        raise corrupt(path, f"safetensors cannot read it: {e}") from None
    return meta, arrays


def checksum(meta: Mapping[str, str], arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 (hex) of the metadata (but ``sha256``) and of every array's name, dtype, shape and bytes.

    The arrays' order in the file does not matter (they are hashed by name), their bytes do:
    a flipped bit anywhere in the header or the data changes it or breaks the file.
    """
    h = hashlib.sha256()
    h.update(json.dumps({k: v for k, v in meta.items() if k != "sha256"}, sort_keys=True).encode())
    for key in sorted(arrays):
        a = arrays[key]
        h.update(json.dumps([key, a.dtype.str, list(a.shape)]).encode())
        h.update(np.ascontiguousarray(a).data)  # ndim >= 1, C-ordered: a plain byte buffer
    return h.hexdigest()


def read_json(path: Path, owner: Path) -> Any:
    """The JSON in ``path`` (the sidecar of ``owner``); a ``ValueError`` naming both if it is broken."""
    try:
        return json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError):
        raise bad_file(
            owner, f"has a JSON sidecar {str(path)!r} that is truncated, corrupt or not a scratchnn sidecar"
        ) from None


def cannot_write(path: str | os.PathLike[str], e: OSError) -> OSError:
    """``e`` (its type and errno kept) as "cannot write <path>: <reason>", naming ``path``.

    ``path`` is the file or folder the caller meant to write, where ``e`` may name a temporary
    file beside it, a parent folder, or nothing (a full disk).
    """
    message = f"cannot write {os.fspath(path)}: {e.strerror or e}"
    try:
        return type(e)(e.errno, message) if e.errno is not None else type(e)(message)
    except TypeError:  # a subclass with a constructor of its own
        return OSError(e.errno, message)


@contextlib.contextmanager
def writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """An ``OSError`` inside the block becomes :func:`cannot_write` of ``path`` (chained to the original)."""
    try:
        yield
    except OSError as e:
        raise cannot_write(path, e) from e


def write_atomic(path: Path, data: bytes) -> None:
    """Put ``data`` at ``path`` in one step: a complete temporary file (on disk), then one rename.

    At every moment ``path`` is either its old complete contents or the new ones. The file gets the
    mode the umask gives new files (0644 usually), as ``open`` would, not ``mkstemp``'s 0600. An
    ``OSError`` (no permission, a full disk) names ``path`` (:func:`cannot_write`), and ``path`` is
    left as it was.
    """
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise cannot_write(path, e) from e
        raise
    _fsync_dir(path.parent)  # the rename itself survives a power cut


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not possible everywhere (Windows): the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
