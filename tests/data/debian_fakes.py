"""Tiny apt lists written from the format (Debian control stanzas), plain or compressed, for the debian tests."""

from __future__ import annotations

import bz2
import gzip
import lzma
import shutil
import struct
import subprocess
from collections.abc import Sequence
from pathlib import Path

SUITES = ("bookworm", "bookworm-updates", "bookworm-security")


def translation_stanza(package: str, synopsis: str, paragraphs: Sequence[str] = (), md5: str = "0" * 32) -> str:
    """A Translation-en stanza: each paragraph's lines indented by one space, `` .`` between paragraphs."""
    body = "\n .\n".join("\n".join(" " + line for line in p.split("\n")) for p in paragraphs)
    return f"Package: {package}\nDescription-md5: {md5}\nDescription-en: {synopsis}\n" + (body + "\n" if body else "")


def packages_stanza(package: str, section: str | None) -> str:
    """A Packages stanza with the fields around Section that apt's lists have."""
    lines = [f"Package: {package}", "Version: 1.0-1", "Architecture: amd64", "Description: something"]
    lines += [f"Section: {section}"] if section is not None else []
    lines += ["Priority: optional", f"Filename: pool/main/{package[0]}/{package}/{package}_1.0-1_amd64.deb"]
    return "\n".join(lines) + "\n"


def lz4_frame(data: bytes) -> bytes:
    """An LZ4 frame holding ``data`` in stored (uncompressed) blocks: valid for every lz4 reader.

    Frame: magic, FLG (version 1, independent blocks), BD (4 MiB blocks), the header checksum (second
    byte of xxh32 of FLG BD), then blocks whose size has the high bit set (stored), then a 0 end mark.
    """
    descriptor = bytes([0x60, 0x70])
    frame = b"\x04\x22\x4d\x18" + descriptor + bytes([(_xxh32(descriptor) >> 8) & 0xFF])
    for i in range(0, len(data), 4 << 20):
        block = data[i : i + (4 << 20)]
        frame += struct.pack("<I", len(block) | 0x80000000) + block
    return frame + b"\x00\x00\x00\x00"


def _xxh32(data: bytes, seed: int = 0) -> int:
    # xxHash32 for inputs shorter than 16 bytes (all the frame header needs)
    p1, p2, p3, p4, p5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393
    mask = 0xFFFFFFFF

    def rotl(x: int, r: int) -> int:
        return ((x << r) | (x >> (32 - r))) & mask

    assert len(data) < 16
    h = (seed + p5 + len(data)) & mask
    i = 0
    while i + 4 <= len(data):
        h = (rotl((h + struct.unpack_from("<I", data, i)[0] * p3) & mask, 17) * p4) & mask
        i += 4
    for b in data[i:]:
        h = (rotl((h + b * p5) & mask, 11) * p1) & mask
    h ^= h >> 15
    h = (h * p2) & mask
    h ^= h >> 13
    h = (h * p3) & mask
    return h ^ (h >> 16)


def compress(data: bytes, how: str) -> bytes:
    """``data`` as a plain, gz, bz2, xz or lz4 file (lz4 by the ``lz4`` command where there is one)."""
    if how == "plain":
        return data
    if how == "gz":
        return gzip.compress(data)
    if how == "bz2":
        return bz2.compress(data)
    if how == "xz":
        return lzma.compress(data)
    if how == "lz4":
        if shutil.which("lz4"):
            return subprocess.run(["lz4", "-q", "-c"], input=data, capture_output=True, check=True).stdout
        return lz4_frame(data)
    raise ValueError(how)


SUFFIX = {"plain": "", "gz": ".gz", "bz2": ".bz2", "xz": ".xz", "lz4": ".lz4"}


def write_list(lists_dir: Path, suite: str, kind: str, stanzas: Sequence[str], how: str = "plain") -> Path:
    """One apt list file named as apt names it, e.g. ``mirror_debian_dists_bookworm_main_i18n_Translation-en.lz4``."""
    middle = "i18n_Translation-en" if kind == "Translation-en" else "binary-amd64_Packages"
    path = lists_dir / f"mirror.example_debian_dists_{suite}_main_{middle}{SUFFIX[how]}"
    lists_dir.mkdir(parents=True, exist_ok=True)
    path.write_bytes(compress("\n".join(stanzas).encode(), how))
    return path


FOO_INTRO = "Foo is a library for\nparsing foo files quickly."
BASE_TRANSLATIONS = [
    translation_stanza("0ad", "Real-time strategy game", ["0 A.D. is a game of ancient warfare.\nIt is free."]),
    translation_stanza("libfoo1", "foo parser - runtime", [FOO_INTRO]),
    translation_stanza("libfoo-dev", "foo parser - development files", [FOO_INTRO, "This package has the headers."]),
    translation_stanza(
        "tool", "a tool", ["Lists:", " * first item\n * second item", "End."], md5="d943033bedada21853d2ae54a2578a7b"
    ),
    translation_stanza("zz-dup", "same text", ["Shared description."]),
    translation_stanza("aa-dup", "same text", ["Shared description."]),
    translation_stanza("short", "only a synopsis"),
]
BASE_PACKAGES = [
    packages_stanza("0ad", "games"),
    packages_stanza("libfoo1", "libs"),
    packages_stanza("libfoo-dev", "libdevel"),
    packages_stanza("tool", "contrib/utils"),
    packages_stanza("zz-dup", "misc"),
    packages_stanza("aa-dup", "oldlibs"),
]
# -security repeats 0ad unchanged and changes tool's description; -updates adds one package
SECURITY_TRANSLATIONS = [BASE_TRANSLATIONS[0], translation_stanza("tool", "a tool", ["Fixed text."])]
UPDATES_TRANSLATIONS = [translation_stanza("newpkg", "new package", ["Brand new."])]


def write_fake_lists(lists_dir: Path, how: str = "plain") -> Path:
    """Three suites' Translation-en and Packages lists in ``lists_dir`` (the base suite compressed ``how``)."""
    write_list(lists_dir, SUITES[0], "Translation-en", BASE_TRANSLATIONS, how)
    write_list(lists_dir, SUITES[0], "Packages", BASE_PACKAGES, how)
    write_list(lists_dir, SUITES[1], "Translation-en", UPDATES_TRANSLATIONS, "gz")
    write_list(lists_dir, SUITES[2], "Translation-en", SECURITY_TRANSLATIONS, "plain")
    write_list(lists_dir, SUITES[2], "Packages", [packages_stanza("tool", "contrib/utils")], "plain")
    return lists_dir
