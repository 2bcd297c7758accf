"""Elementwise activations. (Placeholder: relu only; the rest is being written.)"""

from __future__ import annotations

from typing import Any

import numpy as np


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, Any]:
    """out = max(x, 0).  Backward: dx = dout * [x > 0]."""
    out = np.maximum(x, 0)
    return out, x


def relu_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    x = cache
    return dout * (x > 0)
