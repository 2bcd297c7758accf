"""The README's Python examples run as written (on small stand-in data instead of Fashion-MNIST)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import scratchnn.data

README = Path(__file__).resolve().parents[1] / "README.md"


def _fake_fashion_mnist(root: object = None, *, download: bool = True, flatten: bool = False) -> tuple:
    rng = np.random.default_rng(0)
    X = rng.random((5200, 784), dtype=np.float32)
    y = rng.integers(0, 10, 5200)
    X_test, y_test = X[:100].copy(), y[:100].copy()
    if not flatten:
        X, X_test = X.reshape(-1, 1, 28, 28), X_test.reshape(-1, 1, 28, 28)
    return X, y, X_test, y_test


def test_readme_python_blocks_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 4
    monkeypatch.setattr(scratchnn.data, "load_fashion_mnist", _fake_fashion_mnist)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
    assert (tmp_path / "mlp.safetensors").is_file()
    assert set(namespace["grads"]) == {"W1", "b1", "W2", "b2", "W3", "b3"}  # type: ignore[arg-type]
    assert "'accuracy'" in capsys.readouterr().out
