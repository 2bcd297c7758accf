"""Loading the package descriptions (data/debian.py): merging suites, sections, deduplication, the cache.

Every test writes its own small lists in tmp_path (tests/data/debian_fakes.py) and passes ``lists_dir``;
none reads this machine's /var/lib/apt/lists. The user cache is tmp_path's (tests/data/conftest.py).
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from scratchnn.data import DatasetNotFoundError, DebianRecord, debian, load_debian_descriptions
from scratchnn.data.debian import debian_cache_file

from .debian_fakes import (
    BASE_TRANSLATIONS,
    SUITES,
    compress,
    packages_stanza,
    translation_stanza,
    write_fake_lists,
    write_list,
)

EXPECTED = [
    DebianRecord("0ad", "Real-time strategy game", "0 A.D. is a game of ancient warfare.\nIt is free.", "games"),
    DebianRecord("aa-dup", "same text", "Shared description.", "oldlibs"),  # zz-dup's copy merged into it
    DebianRecord("libfoo-dev", "foo parser - development files",
                 "Foo is a library for\nparsing foo files quickly.\n\nThis package has the headers.", "libdevel"),
    DebianRecord("libfoo1", "foo parser - runtime", "Foo is a library for\nparsing foo files quickly.", "libs"),
    DebianRecord("newpkg", "new package", "Brand new.", "unknown"),  # in no Packages list
    DebianRecord("short", "only a synopsis", "", "unknown"),
    DebianRecord("tool", "a tool", "Fixed text.", "utils"),  # the -security text ...
    DebianRecord("tool", "a tool", "Lists:\n\n * first item\n * second item\n\nEnd.", "utils"),  # ... and the old one
]  # fmt: skip


@pytest.mark.parametrize("how", ["plain", "gz", "lz4"])
def test_three_suites_merge_into_deduplicated_records_sorted_by_package(tmp_path: Path, how: str) -> None:
    lists = write_fake_lists(tmp_path / "lists", how)
    assert load_debian_descriptions(lists_dir=lists, cache=False) == EXPECTED


@pytest.mark.parametrize("how", ["xz", "bz2", "plain"])
def test_path_reads_one_translation_file_with_sections_from_the_lists(tmp_path: Path, how: str) -> None:
    lists = tmp_path / "lists"
    write_list(lists, SUITES[0], "Packages", [packages_stanza("0ad", "contrib/games")])
    one = tmp_path / f"Translation-en{'.' + how if how != 'plain' else ''}"
    one.write_bytes(compress("\n".join(BASE_TRANSLATIONS[:2]).encode(), how))
    records = load_debian_descriptions(one, lists_dir=lists, cache=False)
    assert [(r.package, r.section) for r in records] == [("0ad", "games"), ("libfoo1", "unknown")]
    assert records[1].description == "Foo is a library for\nparsing foo files quickly."


def test_without_lists_the_error_says_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError) as err:
        load_debian_descriptions(lists_dir=tmp_path / "empty")
    message = str(err.value)
    assert str(tmp_path / "empty") in message and "*_i18n_Translation-en*" in message
    assert "apt-get -o Acquire::Languages=en update" in message and "as root" in message and "path=" in message
    assert isinstance(err.value, FileNotFoundError)
    with pytest.raises(DatasetNotFoundError, match=rf"{tmp_path / 'nope.xz'} does not exist"):
        load_debian_descriptions(tmp_path / "nope.xz", lists_dir=tmp_path)


def test_a_list_without_descriptions_is_named(tmp_path: Path) -> None:
    wrong = write_list(tmp_path, SUITES[0], "Translation-en", [packages_stanza("a", "net")])  # a Packages file
    with pytest.raises(ValueError, match=rf"{wrong} holds no package description"):
        load_debian_descriptions(lists_dir=tmp_path, cache=False)


def _cache_files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "cache" / "scratchnn" / "debian"  # XDG_CACHE_HOME is tmp_path/cache (conftest)
    return sorted(folder.iterdir()) if folder.is_dir() else []


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = []
    real = debian.parse_lists

    def counting(*args: object) -> list[DebianRecord]:
        calls.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(debian, "parse_lists", counting)
    return calls


def test_the_cache_is_hit_on_the_second_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lists = write_fake_lists(tmp_path / "lists", "lz4")
    parses = _count_parses(monkeypatch)
    first = load_debian_descriptions(lists_dir=lists)
    (cache_file,) = _cache_files(tmp_path)
    assert cache_file == debian_cache_file(lists_dir=lists) and cache_file.name.endswith(".jsonl.gz")
    second = load_debian_descriptions(lists_dir=lists)
    assert first == second == EXPECTED and len(parses) == 1
    assert _cache_files(tmp_path) == [cache_file]


def test_the_cache_is_gzip_json_lines_not_pickle(tmp_path: Path) -> None:
    lists = write_fake_lists(tmp_path / "lists")
    load_debian_descriptions(lists_dir=lists)
    (cache_file,) = _cache_files(tmp_path)
    lines = gzip.decompress(cache_file.read_bytes()).decode().splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "scratchnn.debian-descriptions" and header["records"] == len(EXPECTED)
    assert len(header["sources"]) == 5  # three Translation-en lists and two Packages lists
    assert [DebianRecord(*json.loads(line)) for line in lines[1:]] == EXPECTED
    assert b"pickle" not in cache_file.read_bytes() and not cache_file.read_bytes().startswith(b"\x80")


@pytest.mark.parametrize("change", ["mtime", "size"])
def test_a_newer_list_invalidates_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    lists = write_fake_lists(tmp_path / "lists")
    parses = _count_parses(monkeypatch)
    load_debian_descriptions(lists_dir=lists)
    (updates,) = lists.glob(f"*_{SUITES[1]}_main_i18n_Translation-en*")
    if change == "mtime":
        st = updates.stat()
        os.utime(updates, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # same bytes, touched by apt
        expected = EXPECTED
    else:
        stanzas = [translation_stanza("newpkg", "new package", ["Brand new."]), translation_stanza("z", "zed", ["Z."])]
        updates.write_bytes(compress("\n".join(stanzas).encode(), "gz"))
        expected = [*EXPECTED, DebianRecord("z", "zed", "Z.", "unknown")]
    assert load_debian_descriptions(lists_dir=lists) == expected
    assert len(parses) == 2 and len(_cache_files(tmp_path)) == 2
    assert load_debian_descriptions(lists_dir=lists) == expected and len(parses) == 2  # the new cache is hit


def test_cache_false_writes_nothing_and_a_folder_caches_there(tmp_path: Path) -> None:
    lists = write_fake_lists(tmp_path / "lists")
    load_debian_descriptions(lists_dir=lists, cache=False)
    assert _cache_files(tmp_path) == [] and debian_cache_file(lists_dir=lists, cache=False) is None
    mine = tmp_path / "mine"
    assert load_debian_descriptions(lists_dir=lists, cache=mine) == EXPECTED
    assert [p.name for p in mine.iterdir()] == [debian_cache_file(lists_dir=lists, cache=mine).name]  # type: ignore[union-attr]
    assert _cache_files(tmp_path) == []


def test_cache_must_be_a_bool_or_a_folder(tmp_path: Path) -> None:
    lists = write_fake_lists(tmp_path / "lists")
    with pytest.raises(TypeError, match="Invalid type for `cache`: expected a bool or a folder"):
        load_debian_descriptions(lists_dir=lists, cache=1)  # type: ignore[arg-type]


def test_a_corrupt_cache_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lists = write_fake_lists(tmp_path / "lists")
    load_debian_descriptions(lists_dir=lists)
    (cache_file,) = _cache_files(tmp_path)
    lines = gzip.decompress(cache_file.read_bytes()).decode().splitlines(keepends=True)
    cache_file.write_bytes(gzip.compress("".join(lines[:3]).encode()))  # our header, records missing
    parses = _count_parses(monkeypatch)
    assert load_debian_descriptions(lists_dir=lists) == EXPECTED and len(parses) == 1
    assert load_debian_descriptions(lists_dir=lists) == EXPECTED and len(parses) == 1  # rewritten whole
    assert _cache_files(tmp_path) == [cache_file]


def test_a_foreign_file_at_the_cache_name_is_left_alone(tmp_path: Path) -> None:
    lists = write_fake_lists(tmp_path / "lists")
    cache_file = debian_cache_file(lists_dir=lists)
    assert cache_file is not None
    cache_file.parent.mkdir(parents=True)
    cache_file.write_text("someone's notes")
    with pytest.warns(UserWarning, match="not a scratchnn cache file; it was left untouched"):
        assert load_debian_descriptions(lists_dir=lists) == EXPECTED
    assert cache_file.read_text() == "someone's notes" and _cache_files(tmp_path) == [cache_file]


def test_an_unwritable_cache_costs_only_the_cache(tmp_path: Path) -> None:
    lists = write_fake_lists(tmp_path / "lists")
    blocker = tmp_path / "a-file"
    blocker.write_text("x")  # the cache folder would have to be inside a file
    with pytest.warns(UserWarning, match="Cannot write the cache"):
        assert load_debian_descriptions(lists_dir=lists, cache=blocker / "sub") == EXPECTED
    assert blocker.read_text() == "x"
