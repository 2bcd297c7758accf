"""Reading apt's package lists: find them, decompress them, split them into stanzas.

After ``apt-get -o Acquire::Languages=en update``, ``/var/lib/apt/lists/`` holds, per suite
(bookworm, bookworm-updates, bookworm-security, ...), two kinds of Debian control files:

- ``*_i18n_Translation-en[.ext]``: stanzas ``Package:``, ``Description-md5:``, ``Description-en:``, where
  the first line of ``Description-en`` is the one-line synopsis and the following lines, each indented by
  one space, are the long description (`` .`` alone on a line is a paragraph break; lines indented by two
  or more spaces are shown verbatim, e.g. lists);
- ``*_binary-<arch>_Packages[.ext]``: one stanza per binary package with, among others, ``Section:``
  (``games``, or ``area/section`` such as ``contrib/net`` outside main).

apt stores them plain or compressed (lz4 on Debian by default, gzip in Docker images); a Translation-en file
downloaded from a mirror's ``dists/<suite>/main/i18n/`` is .bz2 or .xz. The compression is recognised by
its magic bytes, not the file name: gzip, bzip2 and xz through the standard library, lz4 and zstd through
apt's own ``apt-helper cat-file`` (present wherever apt is) or the ``lz4`` / ``zstd`` commands. The Python
``lz4`` package would do it too, but it is one more dependency for a format that only appears where apt
(and so apt-helper) already is.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

APT_LISTS_DIR = Path("/var/lib/apt/lists")
APT_HELPER = "/usr/lib/apt/apt-helper"

# the suffixes apt gives its lists; others in that folder (.diff_Index, the partial/ folder) are not lists
LIST_SUFFIXES = ("", ".gz", ".bz2", ".xz", ".lzma", ".lz4", ".zst")

_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x04\x22\x4d\x18": "lz4",
    b"\x28\xb5\x2f\xfd": "zstd",
}
_STDLIB_DECOMPRESS = {"gzip": gzip.decompress, "bzip2": bz2.decompress, "xz": lzma.decompress}
# what decompresses a format without a standard-library module: (command, suffix apt-helper needs or None)
EXTERNAL_DECOMPRESSORS: dict[str, list[tuple[list[str], str | None]]] = {
    "lz4": [([APT_HELPER, "cat-file"], ".lz4"), (["lz4", "-dc"], None), (["lz4cat"], None)],
    "zstd": [([APT_HELPER, "cat-file"], ".zst"), (["zstd", "-dc"], None), (["zstdcat"], None)],
}


def find_list_files(lists_dir: str | os.PathLike[str], kind: str) -> list[Path]:
    """apt's list files of one ``kind`` in ``lists_dir``, sorted by name.

    Args:
        lists_dir: apt's lists folder, ``/var/lib/apt/lists`` on Debian and Ubuntu.
        kind: ``"Translation-en"`` (``*_i18n_Translation-en*``) or ``"Packages"`` (``*_binary-*_Packages*``).
    """
    pattern = {"Translation-en": "*_i18n_Translation-en*", "Packages": "*_binary-*_Packages*"}[kind]
    folder = Path(lists_dir)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob(pattern):
        # exactly the list, plain or with one compression suffix: not Translation-en_GB, not Packages.diff_Index
        rest = path.name[path.name.rindex(kind) + len(kind) :]
        if rest in LIST_SUFFIXES and path.is_file():
            found.append(path)
    return sorted(found)


def compression_of(head: bytes) -> str | None:
    """The compression format whose magic bytes start ``head``, or ``None`` for a plain file."""
    for magic, name in _MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def read_list_text(path: str | os.PathLike[str]) -> str:
    """The text of a list file, decompressed by its magic bytes (plain, gzip, bzip2, xz, lz4, zstd).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        OSError: an lz4 or zstd file and no tool that decompresses it worked; the message names the file
            and the tools tried.
        ValueError: the file is corrupt (naming it), or is not UTF-8 text.
    """
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(8)
    fmt = compression_of(head)
    if fmt in EXTERNAL_DECOMPRESSORS:
        data = _decompress_with_command(path, fmt)
    else:
        data = path.read_bytes()
        if fmt is not None:
            try:
                data = _STDLIB_DECOMPRESS[fmt](data)
            except (EOFError, OSError, lzma.LZMAError, zlib.error) as e:  # truncated or corrupt, in memory
                raise ValueError(f"{path} is not a readable {fmt} file: {e}") from e
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path} is not UTF-8 text ({e}); is it an apt list file?") from e


def _decompress_with_command(path: Path, fmt: str) -> bytes:
    tried = []
    for command, suffix in EXTERNAL_DECOMPRESSORS[fmt]:
        if suffix is not None and not path.name.endswith(suffix):
            tried.append(f"{command[0]} (needs a file name ending in {suffix})")
            continue  # apt-helper picks the decompressor by the file name, not the content
        try:
            done = subprocess.run([*command, str(path)], capture_output=True, check=False)
        except OSError as e:  # not installed, not executable
            tried.append(f"{command[0]} ({e.strerror or e})")
            continue
        if done.returncode == 0 and compression_of(done.stdout[:8]) != fmt:
            return done.stdout
        why = done.stderr.decode(errors="replace").strip().splitlines()
        tried.append(f"{' '.join(command)} (exit status {done.returncode}{': ' + why[-1] if why else ''})")
    raise OSError(
        f"Cannot decompress {path} ({fmt}): tried " + "; ".join(tried) + f". Install the {fmt} command "
        f"(apt-get install {fmt}) or pass a .gz, .xz or plain copy of the file."
    )


def iter_stanzas(text: str) -> Iterator[dict[str, str]]:
    """The stanzas of a Debian control file as ``{field: value}``; a multi-line value keeps its lines.

    A field starts at the beginning of a line (``Name: value``); lines starting with a space or tab
    continue the field above and are kept as they are, joined by newlines to the first line's value.
    Blank lines separate stanzas.
    """
    stanza: dict[str, str] = {}
    name = ""
    for line in text.splitlines():
        if not line.strip():
            if stanza:
                yield stanza
            stanza, name = {}, ""
        elif line[0] in " \t":
            if name:  # a continuation line before any field is malformed: skip it
                stanza[name] += "\n" + line
        else:
            name, _, value = line.partition(":")
            stanza[name] = value.strip()
    if stanza:
        yield stanza


def long_description(continuation: str) -> str:
    """The long description as plain text: each line's leading space removed, `` .`` lines a blank line.

    >>> long_description(" First paragraph,\\n its second line.\\n .\\n Second.\\n  * verbatim item")
    'First paragraph,\\nits second line.\\n\\nSecond.\\n * verbatim item'
    """
    lines = []
    for line in continuation.splitlines():
        line = line[1:].rstrip() if line[:1] in (" ", "\t") else line.rstrip()
        lines.append("" if line == "." else line)
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


def parse_translation(text: str) -> Iterator[tuple[str, str, str, str]]:
    """``(package, description_md5, synopsis, long_description)`` for each stanza of a Translation-en file.

    Stanzas without ``Package`` or ``Description-en`` are skipped; a missing ``Description-md5`` is ``""``.
    """
    for stanza in iter_stanzas(text):
        package = stanza.get("Package", "")
        full = stanza.get("Description-en")
        if not package or full is None:
            continue
        synopsis, _, rest = full.partition("\n")
        yield package, stanza.get("Description-md5", ""), synopsis.strip(), long_description(rest)


def parse_sections(text: str) -> dict[str, str]:
    """``{package: section}`` from a Packages file; ``contrib/net`` becomes ``net``.

    A package listed more than once (several versions) keeps its first section.
    """
    sections: dict[str, str] = {}
    # Packages files are large (~100 MB for main): look only at the two fields instead of parsing stanzas
    for block in text.split("\n\n"):
        package = section = ""
        for line in block.splitlines():
            if line.startswith("Package:"):
                package = line[8:].strip()
            elif line.startswith("Section:"):
                section = line[8:].strip().rpartition("/")[2]
        if package and section:
            sections.setdefault(package, section)
    return sections
