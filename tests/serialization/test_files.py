"""The file on disk: a broken file is refused naming it, a save is atomic at every step, modes follow the umask."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scratchnn.serialization import load, save

from ..test_serialization import save_version_1

BROKEN = "is truncated, corrupt or not a scratchnn checkpoint"
CHECKSUM = "is corrupt: its arrays do not match the checksum saved with them"


def _obj(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    return {"model": {"w": rng.standard_normal((4, 3)).astype(np.float32), "b": np.zeros(3)}, "epoch": seed}


def _refused(path: Path, *messages: str) -> str:
    """Loading ``path`` raises one ValueError naming it (no chained NumPy/safetensors/JSON traceback)."""
    with pytest.raises(ValueError) as info:
        load(path)
    err = info.value
    text = str(err)
    assert f"path={str(path)!r}" in text and any(m in text for m in messages), text
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)
    return text


# ------------------------------------------------------------------------------------------- broken files
def test_empty_and_random_files(tmp_path: Path) -> None:
    path = tmp_path / "ck.safetensors"
    path.write_bytes(b"")
    assert "it holds 0 bytes" in _refused(path, BROKEN)
    rng = np.random.default_rng(0)
    for n in (3, 8, 100, 5000):
        path.write_bytes(rng.bytes(n))
        _refused(path, BROKEN)
    path.write_bytes((20).to_bytes(8, "little") + b"[1, 2, 3]" + b" " * 11)  # JSON, but not a header
    _refused(path, BROKEN)


def test_truncated_anywhere(tmp_path: Path) -> None:
    path = tmp_path / "ck.safetensors"
    save(_obj(1), path)
    data = path.read_bytes()
    header_end = 8 + int.from_bytes(data[:8], "little")
    for cut in sorted({1, 7, 8, 9, header_end // 2, header_end - 1, header_end, header_end + 5, len(data) - 1}):
        path.write_bytes(data[:cut])
        _refused(path, BROKEN)


def test_a_flipped_bit_in_the_data_fails_the_checksum(tmp_path: Path) -> None:
    path = tmp_path / "ck.safetensors"
    save(_obj(2), path)
    data = bytearray(path.read_bytes())
    header_end = 8 + int.from_bytes(data[:8], "little")
    for pos in (header_end, (header_end + len(data)) // 2, len(data) - 1):
        flipped = data.copy()
        flipped[pos] ^= 0x01
        path.write_bytes(bytes(flipped))
        _refused(path, CHECKSUM)


def test_a_flipped_bit_anywhere_in_the_header_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "ck.safetensors"
    save(_obj(3), path)
    data = bytearray(path.read_bytes())
    header_end = 8 + int.from_bytes(data[:8], "little")
    for pos in range(header_end):  # every byte of the length and the JSON header, a different bit each time
        flipped = data.copy()
        flipped[pos] ^= 1 << (pos % 8)
        path.write_bytes(bytes(flipped))
        _refused(path, BROKEN, CHECKSUM, "was written in format")


def test_broken_version_1_sidecars(tmp_path: Path) -> None:
    path = tmp_path / "ck.safetensors"
    save_version_1(_obj(4), path)
    sidecar = path.with_suffix(".json")
    good = sidecar.read_bytes()
    for broken in (good[: len(good) // 2], b"", b"\xff\xfe{}", b"[1, 2]", json.dumps({"format": "other"}).encode()):
        sidecar.write_bytes(broken)
        assert str(sidecar) in _refused(path, "sidecar")
    tree = json.loads(good)
    tree["tree"]["model"]["w"] = {"__ndarray__": "missing.key"}
    sidecar.write_text(json.dumps(tree))
    assert "names array 'missing.key'" in _refused(path, BROKEN)


def test_big_endian_arrays_round_trip(tmp_path: Path) -> None:
    a = np.arange(6, dtype=">f4").reshape(2, 3)
    save({"a": a, "s": np.array(3, dtype=">i8")}, tmp_path / "be.safetensors")
    back = load(tmp_path / "be.safetensors")
    np.testing.assert_array_equal(back["a"], a)
    assert back["s"] == 3


# ------------------------------------------------------------------------------------------- atomic saves
_STEPS = ("open", "fdopen", "fsync", "replace", "close", "unlink")  # every os call a save makes


def _instrument(monkeypatch: pytest.MonkeyPatch, before: Callable[[str], None]) -> None:
    """Call ``before(name)`` ahead of each os call of a save (it may check the files, or raise)."""
    for name in _STEPS:
        real = getattr(os, name)

        def wrapped(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            before(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(os, name, wrapped)


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, default=lambda x: x.tolist()) == json.dumps(b, default=lambda x: x.tolist())


@pytest.fixture(params=["version 2", "version 1"])
def existing(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """A checkpoint already saved under the name: by this version, or an old pair by version 1."""
    path = tmp_path / "ck.safetensors"
    (save if request.param == "version 2" else save_version_1)(_obj(1), path)
    yield path, _obj(1)


def test_the_name_holds_a_complete_checkpoint_at_every_step(
    existing: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, old = existing
    new, seen = _obj(2), []

    def check(name: str) -> None:
        back = load(path)  # never an error: the old checkpoint or the new one, complete
        seen.append((name, "new" if _same(back, new) else "old" if _same(back, old) else "mixed"))

    _instrument(monkeypatch, check)
    save(new, path, overwrite=True)
    monkeypatch.undo()
    states = [s for _, s in seen]
    assert "mixed" not in states and states[0] == "old" and states[-1] == "new"
    assert states == sorted(states, reverse=True)  # old until the rename, new from then on
    assert _same(load(path), new)


def test_a_save_that_fails_at_any_step_leaves_the_old_or_the_new_checkpoint(
    existing: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, old = existing
    new, outcomes = _obj(2), []
    saved = {p: p.read_bytes() for p in path.parent.iterdir()}
    for step in range(100):  # fail at the first os call, then the second, ... until a save goes through
        for p in path.parent.iterdir():
            p.unlink()
        for p, data in saved.items():
            p.write_bytes(data)
        calls: list[str] = []

        def fail(name: str, step: int = step, calls: list[str] = calls) -> None:
            calls.append(name)
            if len(calls) == step + 1:
                raise OSError(f"disk full at {name}")

        _instrument(monkeypatch, fail)
        try:
            save(new, path, overwrite=True)
        except OSError as e:
            assert "disk full" in str(e)
        monkeypatch.undo()
        back = load(path)
        outcomes.append("new" if _same(back, new) else "old" if _same(back, old) else "mixed")
        assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]  # no temporary file left
        if len(calls) <= step:
            break
    assert len(outcomes) > 5 and outcomes[0] == "old" and outcomes[-1] == "new" and "mixed" not in outcomes


def test_a_process_killed_mid_save_leaves_a_loadable_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "ck.safetensors"
    script = textwrap.dedent(
        f"""
        import numpy as np, sys
        from scratchnn.serialization import save
        big = [np.full((256, 1024), i, dtype=np.float32) for i in range(2)]
        save({{"x": big[0], "i": 0}}, {str(path)!r}, overwrite=True)
        print("ready", flush=True)
        i = 0
        while True:
            i += 1
            save({{"x": big[i % 2], "i": i}}, {str(path)!r}, overwrite=True)
        """
    )
    for delay in (0.05, 0.2, 0.45):
        with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE) as proc:
            try:
                assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
                time.sleep(delay)
            finally:
                proc.kill()  # SIGKILL: no cleanup runs
        back = load(path)
        assert back["i"] > 0 and np.all(back["x"] == back["i"] % 2)


# ------------------------------------------------------------------------------------------- file modes
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_files_get_the_mode_the_umask_gives_new_files(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        save({"x": np.zeros(2)}, tmp_path / "ck.safetensors")
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "ck.safetensors").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == 0o666 & ~umask


def test_messages_name_the_file_and_use_the_template(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / ("a-long-checkpoint-name-" * 4 + ".safetensors")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a checkpoint at all")
    text = _refused(path, BROKEN)
    assert re.match(r"Invalid value for `path`: expected a complete scratchnn checkpoint", text)
