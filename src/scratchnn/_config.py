"""Process-wide defaults: the floating dtype new parameters get and the random generator.

Randomness is always an argument (``rng: np.random.Generator | None``); ``None`` means the
generator that :func:`manual_seed` installs here. Nothing in scratchnn calls ``np.random.*``'s
legacy global state.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

_state: dict[str, Any] = {
    "dtype": np.dtype(np.float32),
    "rng": np.random.default_rng(),
}


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the default generator (like ``torch.manual_seed``) and return it."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"Invalid value for `seed`: expected a non-negative int. Received: seed={seed!r}")
    _state["rng"] = np.random.default_rng(int(seed))
    return _state["rng"]


def default_rng() -> np.random.Generator:
    """The generator used wherever ``rng=None`` is passed."""
    rng: np.random.Generator = _state["rng"]
    return rng


def get_rng(rng: np.random.Generator | None = None) -> np.random.Generator:
    """Return ``rng`` itself, or the default generator when it is ``None``."""
    if rng is None:
        return default_rng()
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"Invalid type for `rng`: expected a numpy.random.Generator or None. Received: rng={type(rng).__name__}"
        )
    return rng


def get_rng_state() -> dict[str, Any]:
    """The default generator's bit-generator state (a JSON-able dict), for checkpoints."""
    return dict(default_rng().bit_generator.state)


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the default generator's state saved by :func:`get_rng_state`."""
    default_rng().bit_generator.state = state


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype of newly created parameters (float32 unless changed; gradchecks use float64)."""
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"Invalid value for `dtype`: expected float32 or float64. Received: dtype={dt}")
    _state["dtype"] = dt


def get_default_dtype() -> np.dtype[Any]:
    """The dtype newly created parameters get."""
    dt: np.dtype[Any] = _state["dtype"]
    return dt


@contextmanager
def canonical_state() -> Iterator[None]:
    """Run a block from the same global state every time: the default generator seeded with 0, the
    default dtype float32; the caller's generator (the same object, in the same state) and dtype
    are back afterwards, whatever the block did to them. Like ``torch.random.fork_rng``."""
    saved, rng_state = dict(_state), get_rng_state()
    try:
        manual_seed(0)
        _state["dtype"] = np.dtype(np.float32)
        yield
    finally:
        _state.update(saved)
        set_rng_state(rng_state)  # the block may have drawn from it through a reference taken earlier
