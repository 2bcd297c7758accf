"""Every data test runs in isolation from this machine's files and network.

``$SCRATCHNN_DATA`` is unset, the user cache lives in ``tmp_path``, the Debian folder and every mirror
point at paths that do not exist, so a test only sees the files it wrote itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from scratchnn.data import cifar, mnist


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    nowhere = tmp_path / "nowhere"
    monkeypatch.delenv("SCRATCHNN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for key, spec in list(mnist.SPECS.items()):
        source = dataclasses.replace(
            spec.source, mirror=(nowhere / "mirror").as_uri() + "/", system_dirs=(nowhere / "debian",)
        )
        monkeypatch.setitem(mnist.SPECS, key, dataclasses.replace(spec, source=source))
    monkeypatch.setattr(cifar, "SOURCE", dataclasses.replace(cifar.SOURCE, mirror=(nowhere / "mirror").as_uri() + "/"))
    yield tmp_path
