"""Test-wide settings: NumPy floating-point errors raise, a fresh seed per test."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import scratchnn


@pytest.fixture(autouse=True, scope="session")
def _torch_one_thread() -> None:
    # the twin tests run tiny kernels: torch's thread hand-offs cost more than they save (8x on a busy
    # 2-core machine). Import lazily: the library itself never needs torch.
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _numpy_errors_raise() -> Iterator[None]:
    # overflow, division by zero and invalid operations are bugs in tests, never silent NaNs
    with np.errstate(all="raise", under="ignore"):
        yield


@pytest.fixture(autouse=True)
def _seeded() -> Iterator[None]:
    scratchnn.manual_seed(0)
    scratchnn.set_default_dtype(np.float32)
    yield
    scratchnn.set_default_dtype(np.float32)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
