"""Small models and data shared by the training tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchnn import nn, optim
from scratchnn._config import get_rng
from scratchnn.data import make_spirals
from scratchnn.train import Trainer


class Noise(nn.Module):
    """x + 0.1 * N(0, 1) in training mode: from its own generator (as a Dropout built with rng=...),
    or with rng=None from scratchnn's default generator, looked up at each call."""

    def __init__(self, *, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.rng = rng

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._save(True)
        if not self.training:
            return x
        return x + (0.1 * get_rng(self.rng).standard_normal(x.shape)).astype(x.dtype)

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        self._saved()
        return grad_out if input_grad else None


def spirals(n_per_class: int = 50) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train and validation spirals (3 classes), float32 features and int64 labels."""
    rng = np.random.default_rng(123)
    X, y = make_spirals(n_per_class, 3, rng=rng)
    Xv, yv = make_spirals(max(n_per_class // 2, 1), 3, rng=rng)
    return X, y, Xv, yv


def mlp(seed: int, hidden: int = 32, noise: bool = False) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    layers: list[nn.Module] = [nn.Linear(2, hidden, rng=rng)]
    if noise:  # one module with its own generator, one on scratchnn's default generator
        layers += [Noise(rng=np.random.default_rng(seed + 1)), nn.ReLU(), Noise()]
    else:
        layers += [nn.ReLU()]
    layers += [nn.Linear(hidden, 3, rng=rng)]
    return nn.Sequential(*layers)


def make_trainer(seed: int = 0, *, lr: float = 1e-2, **kwargs: Any) -> Trainer:
    model = mlp(seed, noise=kwargs.pop("noise", False))
    opt = optim.Adam(model.parameters(), lr=lr)
    kwargs.setdefault("batch_size", 32)
    kwargs.setdefault("verbose", False)
    kwargs.setdefault("rng", np.random.default_rng(seed + 2))
    return Trainer(model, nn.CrossEntropyLoss(), opt, **kwargs)


def params_of(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_tree_equal(a: Any, b: Any, path: str = "") -> None:
    """Bit-for-bit equality of nested dicts/lists of arrays and numbers."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=path)
        assert np.asarray(a).dtype == np.asarray(b).dtype, path
    elif isinstance(a, dict):
        assert isinstance(b, dict) and sorted(map(str, a)) == sorted(map(str, b)), path
        for k in a:
            assert_tree_equal(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_tree_equal(x, y, f"{path}[{i}]")
    else:
        assert a == b or (a != a and b != b), f"{path}: {a!r} != {b!r}"
