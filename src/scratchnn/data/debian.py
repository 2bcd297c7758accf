"""English descriptions of Debian packages: real human-written text, offline, from apt's lists.

Each record is one package's one-line synopsis, its long description (a few paragraphs of plain English)
and its archive section (``libs``, ``python``, ``games``, ...): a character corpus for language models,
synopsis -> section for classification, description -> synopsis for summarization.

    records = load_debian_descriptions()              # apt's lists, parsed once, then from the cache
    train, val, test = split_descriptions(records)    # package families never straddle splits

The descriptions come from apt's ``*_i18n_Translation-en*`` lists (there after
``apt-get -o Acquire::Languages=en update``), or from one Translation-en file downloaded from a
mirror (``path=``); the sections from the ``*_Packages*`` lists beside them. See :mod:`.debian_lists`.

Merging and deduplication: a stanza repeated across lists (bookworm, -updates, -security) with the same
``Description-md5`` is read once; then records with the same synopsis and the same long description are
one record, named after the alphabetically first of their packages (``python3-foo`` and a transitional
``python-foo`` that repeat each other's text add nothing but weight). A package whose description
changed between suites keeps both texts.

The parsed records are cached in the user cache (``~/.cache/scratchnn/debian/``) as gzip-compressed JSON
lines, keyed by the source files' paths, sizes and modification times, so the next ``apt-get update``
invalidates the cache without any bookkeeping.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from .._validate import invalid_type
from .debian_lists import APT_LISTS_DIR, find_list_files, parse_sections, parse_translation, read_list_text
from .download import publish_new_file
from .sources import DatasetNotFoundError, user_cache_dir

CACHE_FORMAT = "scratchnn.debian-descriptions"
CACHE_VERSION = 1
UNKNOWN_SECTION = "unknown"


@dataclass(frozen=True, slots=True)
class DebianRecord:
    """One package's English description.

    Attributes:
        package: the package name, e.g. ``"0ad"``.
        synopsis: the one-line summary, e.g. ``"Real-time strategy game of ancient warfare"``.
        description: the long description as plain text, paragraphs separated by a blank line
            (``""`` for the few packages that have only a synopsis).
        section: the archive section without its area (``contrib/net`` -> ``"net"``), or ``"unknown"``.
    """

    package: str
    synopsis: str
    description: str
    section: str


def load_debian_descriptions(
    path: str | os.PathLike[str] | None = None,
    *,
    lists_dir: str | os.PathLike[str] = APT_LISTS_DIR,
    cache: bool | str | os.PathLike[str] = True,
) -> list[DebianRecord]:
    """The English descriptions of Debian packages, deduplicated and sorted by package name.

    Args:
        path: one Translation-en file (plain, .gz, .bz2, .xz, .lz4, .zst) to read instead of apt's lists,
            e.g. ``dists/bookworm/main/i18n/Translation-en.xz`` downloaded from any Debian mirror.
        lists_dir: apt's lists folder: the Translation-en files (unless ``path`` is given) and the Packages
            files that give each package's section (``"unknown"`` where none does).
        cache: ``True`` caches the parsed records in ``<user cache>/debian/``; a folder caches them there;
            ``False`` parses every time and writes nothing.

    Raises:
        DatasetNotFoundError: no Translation-en file in ``lists_dir`` (the message says how to get them),
            or ``path`` does not exist.
        ValueError: a list file is corrupt or holds no description (naming it).
        OSError: an lz4/zstd list and no tool to decompress it (naming the file and the tools tried).
    """
    translations, packages = _list_files(path, lists_dir)
    sources = [_fingerprint(p) for p in translations + packages]
    cache_file = _cache_file(sources, cache)
    if cache_file is not None:
        cached = _read_cache(cache_file, sources)
        if cached is not None:
            return cached
    records = parse_lists(translations, packages)
    if cache_file is not None:
        _write_cache(cache_file, sources, records)
    return records


def debian_cache_file(
    path: str | os.PathLike[str] | None = None,
    *,
    lists_dir: str | os.PathLike[str] = APT_LISTS_DIR,
    cache: bool | str | os.PathLike[str] = True,
) -> Path | None:
    """The cache file that :func:`load_debian_descriptions` with these arguments reads or writes (it may
    not exist yet), or ``None`` for ``cache=False``. Raises as the loader does when there are no lists."""
    translations, packages = _list_files(path, lists_dir)
    return _cache_file([_fingerprint(p) for p in translations + packages], cache)


def _list_files(
    path: str | os.PathLike[str] | None, lists_dir: str | os.PathLike[str]
) -> tuple[list[Path], list[Path]]:
    if path is not None:
        translations = [Path(path).expanduser()]
        if not translations[0].is_file():
            raise DatasetNotFoundError(f"{translations[0]} does not exist (or is not a file); `path` must be a "
                                       "Translation-en file, plain or compressed.")  # fmt: skip
    else:
        translations = find_list_files(lists_dir, "Translation-en")
        if not translations:
            raise DatasetNotFoundError(_no_lists_message(Path(lists_dir)))
    return translations, find_list_files(lists_dir, "Packages")


def _cache_file(sources: list[list[str | int]], cache: bool | str | os.PathLike[str]) -> Path | None:
    if not isinstance(cache, (bool, str, os.PathLike)):
        raise invalid_type("cache", "a bool or a folder (str or path)", cache)
    if cache is False:
        return None
    folder = user_cache_dir() / "debian" if cache is True else Path(cache).expanduser()
    key = hashlib.sha256(json.dumps([CACHE_VERSION, sources]).encode()).hexdigest()[:16]
    return folder / f"descriptions-{key}.jsonl.gz"


def parse_lists(translations: list[Path], packages: list[Path]) -> list[DebianRecord]:
    """Parse Translation-en files and Packages files into deduplicated records sorted by package name."""
    sections: dict[str, str] = {}
    for p in packages:
        for package, section in parse_sections(read_list_text(p)).items():
            sections.setdefault(package, section)
    stanzas: set[tuple[str, str, str]] = set()  # the same stanza in several suites counts once
    for p in translations:
        found = 0
        for package, _md5, synopsis, description in parse_translation(read_list_text(p)):
            stanzas.add((package, synopsis, description))
            found += 1
        if not found:
            raise ValueError(f"{p} holds no package description (no stanza with Package: and Description-en:); "
                             "is it a Translation-en file?")  # fmt: skip
    records: dict[tuple[str, str], DebianRecord] = {}
    for package, synopsis, description in sorted(stanzas):
        # sorted by package: the first package with a given text names the record
        records.setdefault(
            (synopsis, description),
            DebianRecord(package, synopsis, description, sections.get(package, UNKNOWN_SECTION)),
        )
    return list(records.values())


def _no_lists_message(lists_dir: Path) -> str:
    return (
        f"No English package descriptions found: {lists_dir} holds no *_i18n_Translation-en* list. "
        "Run `apt-get -o Acquire::Languages=en update` as root (sudo) to fetch them, or pass `path=` (--path) a "
        "Translation-en file downloaded from a Debian mirror (dists/<suite>/main/i18n/Translation-en.xz)."
    )


def _fingerprint(path: Path) -> list[str | int]:
    st = path.stat()
    return [str(path.resolve()), st.st_size, st.st_mtime_ns]


def _read_cache(cache_file: Path, sources: list[list[str | int]]) -> list[DebianRecord] | None:
    """The cached records, or ``None`` when there is no usable cache file (a corrupt one is replaced later)."""
    try:
        with gzip.open(cache_file, "rt", encoding="utf-8") as f:
            header = json.loads(f.readline())
            if header.get("format") != CACHE_FORMAT or header.get("version") != CACHE_VERSION:
                return None
            if header.get("sources") != sources:
                return None
            records = [DebianRecord(*json.loads(line)) for line in f]
    except FileNotFoundError:
        return None
    except (OSError, EOFError, ValueError, TypeError, AttributeError):  # corrupt: parse again
        return None
    return records if len(records) == header.get("records") else None


def _write_cache(cache_file: Path, sources: list[list[str | int]], records: list[DebianRecord]) -> None:
    """Write the cache atomically: a temporary file beside it, then a rename.

    A file of that name that is not a scratchnn cache is left alone (with a warning, and no cache); a
    corrupt or outdated scratchnn cache of that name is replaced. A cache folder that cannot be written
    only costs the cache: the records are returned all the same, with a warning.
    """
    replace = cache_file.exists()
    if replace and not _is_our_cache(cache_file):
        warnings.warn(f"{cache_file} is not a scratchnn cache file; it was left untouched and nothing was cached.",
                      stacklevel=3)  # fmt: skip
        return
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=cache_file.parent, prefix=f".{cache_file.name}.", suffix=".part")
    except OSError as e:
        warnings.warn(f"Cannot write the cache {cache_file}: {e.strerror or e}; nothing was cached.", stacklevel=3)
        return
    tmp = Path(tmp_name)
    try:
        header = {"format": CACHE_FORMAT, "version": CACHE_VERSION, "records": len(records), "sources": sources}
        lines = [json.dumps(header)]
        lines += [json.dumps([r.package, r.synopsis, r.description, r.section], ensure_ascii=False) for r in records]
        # mtime=0: the same records give the same bytes; level 1 writes 4x faster than 6 for 20% more bytes
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as gz:
            gz.write(("\n".join(lines) + "\n").encode())
        if replace:
            os.replace(tmp, cache_file)
        else:
            publish_new_file(tmp, cache_file)  # never clobbers a file that appeared meanwhile
    except FileExistsError:
        pass  # another process cached the same sources meanwhile: its file is as good as ours
    except OSError as e:
        warnings.warn(f"Cannot write the cache {cache_file}: {e.strerror or e}; nothing was cached.", stacklevel=3)
    finally:
        tmp.unlink(missing_ok=True)


def _is_our_cache(cache_file: Path) -> bool:
    try:
        with gzip.open(cache_file, "rt", encoding="utf-8") as f:
            return bool(json.loads(f.readline()).get("format") == CACHE_FORMAT)
    except (OSError, EOFError, ValueError, AttributeError):
        return False
