"""Reading apt's lists (data/debian_lists.py): finding them, decompressing them, parsing the stanzas."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from scratchnn.data import debian_lists
from scratchnn.data.debian_lists import (
    find_list_files,
    iter_stanzas,
    long_description,
    parse_sections,
    parse_translation,
    read_list_text,
)

from .debian_fakes import compress, lz4_frame, packages_stanza, translation_stanza, write_list

TEXT = "Package: a\nDescription-md5: 00\nDescription-en: synopsis ü\n first line\n"


def test_translation_stanzas_give_package_md5_synopsis_and_plain_long_description() -> None:
    text = (
        "Package: 0xffff\n"
        "Description-md5: 183c49f6505eb3432d1b069800f1f5b6\n"
        "Description-en: Open Free Fiasco Firmware Flasher\n"
        " The utility implements a free handler\n"
        " for the NOLO bootloader.\n"
        " .\n"
        " Supported operations include:\n"
        "  * generating images   \n"
        "  * flashing\n"
        " .\n"
        "\n"
        "Package: onlysynopsis\n"
        "Description-en:   Just this  \n"
        "\n"
        "Package: nodescription\n"
        "Description-md5: 11\n"
    )
    assert list(parse_translation(text)) == [
        (
            "0xffff",
            "183c49f6505eb3432d1b069800f1f5b6",
            "Open Free Fiasco Firmware Flasher",
            "The utility implements a free handler\nfor the NOLO bootloader.\n\n"
            "Supported operations include:\n * generating images\n * flashing",
        ),
        ("onlysynopsis", "", "Just this", ""),  # no md5 line: "", no long description: ""
    ]


def test_long_description_strips_one_space_and_turns_dot_lines_into_blank_lines() -> None:
    assert long_description(" a\n b\n .\n c") == "a\nb\n\nc"
    assert long_description(" .\n only\n .\n .") == "only"  # leading and trailing breaks dropped
    assert long_description("\tTabbed\n  two spaces") == "Tabbed\n two spaces"


def test_stanzas_keep_continuation_lines_and_split_on_blank_lines() -> None:
    stanzas = list(iter_stanzas("A: 1\nB: x\n  y\n\n\n \nA: 2\n continued-without-field\n"))
    assert stanzas == [{"A": "1", "B": "x\n  y"}, {"A": "2\n continued-without-field"}]
    assert list(iter_stanzas(" stray continuation\nA: 3")) == [{"A": "3"}]


def test_sections_drop_the_area_and_keep_the_first_of_repeated_packages() -> None:
    text = "\n".join(
        [
            packages_stanza("a", "contrib/net"),
            packages_stanza("b", "non-free-firmware/kernel"),
            packages_stanza("c", "games"),
            packages_stanza("c", "utils"),  # a second version of c
            packages_stanza("nosection", None),
            "Section: libs\nPackage: d\n",  # field order does not matter
        ]
    )
    assert parse_sections(text) == {"a": "net", "b": "kernel", "c": "games", "d": "libs"}


def test_find_list_files_takes_exactly_the_lists(tmp_path: Path) -> None:
    plain = write_list(tmp_path, "bookworm", "Translation-en", [TEXT])
    lz4 = write_list(tmp_path, "bookworm-security", "Translation-en", [TEXT], "lz4")
    packages = write_list(tmp_path, "bookworm", "Packages", [packages_stanza("a", "net")], "gz")
    for other in (
        "x_main_i18n_Translation-en_GB",
        "x_main_i18n_Translation-de.lz4",
        "x_binary-amd64_Packages.diff_Index",
    ):
        (tmp_path / other).write_text(TEXT)
    (tmp_path / "partial").mkdir()
    (tmp_path / "partial" / "y_main_i18n_Translation-en").write_text(TEXT)
    (tmp_path / "z_main_i18n_Translation-en.lz4").mkdir()  # not a file
    assert find_list_files(tmp_path, "Translation-en") == sorted([plain, lz4])
    assert find_list_files(tmp_path, "Packages") == [packages]
    assert find_list_files(tmp_path / "missing", "Packages") == []


@pytest.mark.parametrize("how", ["plain", "gz", "bz2", "xz", "lz4"])
def test_every_compression_reads_back_by_its_magic_bytes(tmp_path: Path, how: str) -> None:
    path = tmp_path / f"list.{how}"
    path.write_bytes(compress(TEXT.encode(), how))
    assert read_list_text(path) == TEXT
    renamed = path.rename(tmp_path / "no-suffix")  # a download saved under another name
    assert read_list_text(renamed) == TEXT


def test_stored_block_lz4_frames_decompress_too(tmp_path: Path) -> None:
    # the tests' own lz4 writer, used where no lz4 command is installed, makes frames apt's tools read
    path = tmp_path / "list.lz4"
    path.write_bytes(lz4_frame(TEXT.encode()))
    assert read_list_text(path) == TEXT


def _fake_tool(tmp_path: Path, name: str, output: str | bytes | None) -> str:
    """An executable that prints ``output`` whatever its arguments, or fails with a message."""
    script = tmp_path / name
    data = output.encode() if isinstance(output, str) else output
    body = f"sys.stdout.buffer.write({data!r})" if data is not None else "sys.exit('broken: ' + sys.argv[-1])"
    script.write_text(f"#!{sys.executable}\nimport sys\n{body}\n")
    script.chmod(0o755)
    return str(script)


def test_lz4_falls_back_to_the_next_tool_and_fails_naming_the_file_and_tools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "list.lz4"
    path.write_bytes(lz4_frame(TEXT.encode()))
    broken, fine = _fake_tool(tmp_path, "broken", None), _fake_tool(tmp_path, "fine", TEXT)
    missing = str(tmp_path / "not-installed")
    monkeypatch.setitem(
        debian_lists.EXTERNAL_DECOMPRESSORS, "lz4", [([missing], None), ([broken], None), ([fine], None)]
    )
    assert read_list_text(path) == TEXT

    monkeypatch.setitem(debian_lists.EXTERNAL_DECOMPRESSORS, "lz4", [([missing, "cat-file"], None), ([broken], None)])
    with pytest.raises(OSError, match="Cannot decompress") as err:
        read_list_text(path)
    message = str(err.value)
    assert str(path) in message and missing in message and "broken: " + str(path) in message
    assert "apt-get install lz4" in message


def test_apt_helper_is_only_given_files_named_for_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # apt-helper picks the decompressor by file name: on another name it would print the raw bytes
    path = tmp_path / "renamed"
    path.write_bytes(lz4_frame(TEXT.encode()))
    helper = _fake_tool(tmp_path, "helper", "WRONG")
    monkeypatch.setitem(debian_lists.EXTERNAL_DECOMPRESSORS, "lz4", [([helper], ".lz4")])
    with pytest.raises(OSError, match=r"needs a file name ending in \.lz4"):
        read_list_text(path)
    assert read_list_text(path.rename(tmp_path / "named.lz4")) == "WRONG"


def test_a_tool_that_leaves_the_data_compressed_does_not_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "list.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + b"\x00" * 10)  # zstd magic: routed to the zstd tools
    echo = _fake_tool(tmp_path, "echo-zstd", b"\x28\xb5\x2f\xfd rest")
    monkeypatch.setitem(debian_lists.EXTERNAL_DECOMPRESSORS, "zstd", [([echo], None)])
    with pytest.raises(OSError, match=r"Cannot decompress .*list\.zst \(zstd\)"):
        read_list_text(path)


def test_corrupt_and_non_text_files_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "list.gz"
    bad.write_bytes(compress(TEXT.encode(), "gz")[:-12])  # truncated
    with pytest.raises(ValueError, match=rf"{bad} is not a readable gzip file"):
        read_list_text(bad)
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00 not utf-8")
    with pytest.raises(ValueError, match=rf"{binary} is not UTF-8 text"):
        read_list_text(binary)
    with pytest.raises(FileNotFoundError):
        read_list_text(tmp_path / "missing")


def test_translation_stanza_helper_matches_the_format() -> None:
    # the fakes themselves: written stanzas parse back to what they were built from
    text = translation_stanza("p", "syn", ["one\ntwo", "three"], md5="ab")
    assert text == "Package: p\nDescription-md5: ab\nDescription-en: syn\n one\n two\n .\n three\n"
    assert list(parse_translation(text)) == [("p", "ab", "syn", "one\ntwo\n\nthree")]
