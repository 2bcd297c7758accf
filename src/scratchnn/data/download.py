"""Checked downloads: stream to a temporary file beside the destination, verify its md5, then publish it.

A file is only ever created, never overwritten: if the destination already exists with the expected
md5 the download is skipped, and if it exists with other content an error says so and leaves it alone.
``file://`` URLs work too (urllib), which is how the tests exercise this offline.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tqdm import tqdm

from .._validate import check_float, invalid_type, invalid_value

_CHUNK = 1 << 20  # 1 MiB
_MD5_RE = re.compile(r"[0-9a-f]{32}")


def md5_bytes(data: bytes) -> str:
    """Hex md5 of ``data`` (a checksum against corruption, not a security measure)."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def md5_file(path: str | os.PathLike[str]) -> str:
    """Hex md5 of a file's bytes, read in chunks."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def publish_new_file(tmp: Path, dest: Path) -> None:
    """Move the finished ``tmp`` to ``dest`` atomically, refusing to replace a file that appeared meanwhile.

    ``os.link`` fails if ``dest`` exists, so another process's (or the user's) file is never clobbered;
    filesystems without hard links fall back to an existence check plus ``os.replace``.
    """
    try:
        os.link(tmp, dest)
    except FileExistsError:
        tmp.unlink(missing_ok=True)
        raise FileExistsError(f"{dest} appeared while it was being written; it was left untouched.") from None
    except OSError:
        if dest.exists():
            tmp.unlink(missing_ok=True)
            raise FileExistsError(f"{dest} appeared while it was being written; it was left untouched.") from None
        os.replace(tmp, dest)
    else:
        tmp.unlink()


def download_url(url: str, dest: str | os.PathLike[str], md5: str, *, timeout: float = 30) -> Path:
    """Download ``url`` to ``dest`` and check its md5; return ``dest`` as a ``Path``.

    The bytes stream into a temporary file in ``dest``'s folder (with a progress bar when stderr is a
    terminal) and are renamed onto ``dest`` only after the checksum matches, so ``dest`` is either
    absent or complete. Nothing is downloaded if ``dest`` already exists with the right md5.

    Raises:
        ValueError: the downloaded bytes do not have md5 ``md5`` (the temporary file is removed).
        FileExistsError: ``dest`` exists with different content (it is never overwritten).
        OSError: the URL could not be fetched (offline, HTTP error, timeout, missing ``file://`` path).
    """
    if not isinstance(url, str):
        raise invalid_type("url", "a str", url)
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https", "file"):
        raise invalid_value("url", "an http://, https:// or file:// URL", url)
    if not isinstance(md5, str) or not _MD5_RE.fullmatch(md5.lower()):
        raise invalid_value("md5", "32 hexadecimal digits", md5)
    timeout = check_float(timeout, "timeout", low=0.0, low_open=True)
    md5 = md5.lower()
    dest = Path(dest)

    if dest.exists():
        found = md5_file(dest)
        if found == md5:
            return dest
        raise FileExistsError(
            f"{dest} already exists but its md5 is {found}, not the expected {md5}; it was not overwritten. "
            "Delete or move it to download it again."
        )
    dest.parent.mkdir(parents=True, exist_ok=True)

    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        h = hashlib.md5(usedforsecurity=False)
        with os.fdopen(fd, "wb") as out:
            try:
                response = urllib.request.urlopen(url, timeout=timeout)
            except (urllib.error.URLError, OSError, ValueError) as e:
                raise OSError(f"Could not download {url}: {getattr(e, 'reason', e)}") from e
            with response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                # disable=None: tqdm stays silent when stderr is not a terminal (CI, pipes, tests)
                with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=dest.name,
                          disable=None, file=sys.stderr, leave=False) as bar:  # fmt: skip
                    try:
                        while chunk := response.read(_CHUNK):
                            out.write(chunk)
                            h.update(chunk)
                            bar.update(len(chunk))
                    except (urllib.error.URLError, OSError) as e:
                        raise OSError(f"Download of {url} was interrupted: {e}") from e
        got = h.hexdigest()
        if got != md5:
            raise ValueError(
                f"Checksum mismatch for {url}: expected md5 {md5}, got {got}. The download is corrupt or the "
                f"file changed upstream; it was discarded and nothing was written to {dest}."
            )
        publish_new_file(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest
