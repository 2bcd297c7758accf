"""download_url over file:// URLs: checksum, atomic publish, never overwriting, clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scratchnn.data import download_url
from scratchnn.data.download import publish_new_file

from .fakes import md5

PAYLOAD = bytes(range(256)) * 5000  # 1.28 MB: more than one 1 MiB chunk


@pytest.fixture
def served(tmp_path: Path) -> Path:
    path = tmp_path / "server" / "blob.bin"
    path.parent.mkdir()
    path.write_bytes(PAYLOAD)
    return path


def test_download_with_right_md5(tmp_path: Path, served: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "new" / "sub" / "blob.bin"
    assert download_url(served.as_uri(), dest, md5(PAYLOAD)) == dest
    assert capsys.readouterr() == ("", "")  # the progress bar is silent when stderr is not a terminal
    assert dest.read_bytes() == PAYLOAD
    assert sorted(p.name for p in dest.parent.iterdir()) == ["blob.bin"]  # no temporary file left


def test_md5_is_case_insensitive_and_dest_may_be_str(tmp_path: Path, served: Path) -> None:
    dest = download_url(served.as_uri(), str(tmp_path / "b"), md5(PAYLOAD).upper())
    assert dest == tmp_path / "b" and dest.read_bytes() == PAYLOAD


def test_wrong_md5_raises_and_leaves_nothing(tmp_path: Path, served: Path) -> None:
    dest = tmp_path / "out" / "blob.bin"
    msg = re.escape(f"Checksum mismatch for {served.as_uri()}: expected md5 {'0' * 32}, got {md5(PAYLOAD)}")
    with pytest.raises(ValueError, match=msg):
        download_url(served.as_uri(), dest, "0" * 32)
    assert list(dest.parent.iterdir()) == []


def test_existing_file_with_right_md5_is_kept_without_downloading(tmp_path: Path) -> None:
    dest = tmp_path / "blob.bin"
    dest.write_bytes(PAYLOAD)
    missing_url = (tmp_path / "does-not-exist").as_uri()  # would fail if it were fetched
    assert download_url(missing_url, dest, md5(PAYLOAD)) == dest
    assert dest.read_bytes() == PAYLOAD


def test_existing_different_file_is_never_overwritten(tmp_path: Path, served: Path) -> None:
    dest = tmp_path / "blob.bin"
    dest.write_bytes(b"the user's own file")
    own = md5(b"the user's own file")
    msg = re.escape(
        f"{dest} already exists but its md5 is {own}, not the expected {md5(PAYLOAD)}; it was not overwritten"
    )
    with pytest.raises(FileExistsError, match=msg):
        download_url(served.as_uri(), dest, md5(PAYLOAD))
    assert dest.read_bytes() == b"the user's own file"


def test_unreachable_url_is_an_oserror_naming_it(tmp_path: Path) -> None:
    url = (tmp_path / "gone.bin").as_uri()
    with pytest.raises(OSError, match=re.escape(f"Could not download {url}")):
        download_url(url, tmp_path / "out" / "gone.bin", "0" * 32)
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "ftp://example.com/x"}, "Invalid value for `url`: expected an http://, https:// or file:// URL"),
        ({"md5": "abc"}, "Invalid value for `md5`: expected 32 hexadecimal digits. Received: md5='abc'"),
        ({"timeout": 0}, r"Invalid value for `timeout`: expected a float in \(0, inf\]"),
    ],
)
def test_argument_validation(tmp_path: Path, served: Path, kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"url": served.as_uri(), "dest": tmp_path / "x", "md5": md5(PAYLOAD), **kwargs}
    with pytest.raises(ValueError, match=message):
        download_url(**args)


def test_publish_refuses_a_file_that_appeared_meanwhile(tmp_path: Path) -> None:
    tmp, dest = tmp_path / ".blob.part", tmp_path / "blob"
    tmp.write_bytes(b"new")
    dest.write_bytes(b"someone else's")
    with pytest.raises(FileExistsError, match=re.escape(f"{dest} appeared while it was being written")):
        publish_new_file(tmp, dest)
    assert dest.read_bytes() == b"someone else's" and not tmp.exists()
