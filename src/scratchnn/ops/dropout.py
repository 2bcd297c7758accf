"""Inverted dropout: in training each value is zeroed with probability p and the survivors scaled by 1 / (1 - p).

``p`` is the DROP probability, as in torch. (The course's ``dropout_param['p']`` was the probability
of KEEPING a unit, which is why its p = 0.25 network dropped three quarters of them.) The scaling keeps
the expected value of every unit, so test time is the identity.

Derivation: docs/derivations/dropout.md
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._config import get_rng
from .._numerics import quiet
from .._validate import check_array, check_float, check_grad, check_int, invalid_value
from .normalization import check_mode, check_param_dict

DROPOUT_PARAM_KEYS = ("p", "mode", "seed")


@quiet
def dropout_forward(
    x: np.ndarray, dropout_param: Any, *, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, Any]:
    """out = x * mask, mask = [u >= p] / (1 - p) with u ~ U[0, 1) per value (train); out = x (test).

    ``dropout_param`` (the course's dict): p, the drop probability in [0, 1) (the course's p was the
    keep probability); mode, 'train' or 'test'; seed (optional): the mask is drawn from a fresh
    ``np.random.default_rng(seed)``, so every call draws the same mask (the course uses this for
    gradient checks). Without a seed the mask comes from ``rng`` (None: scratchnn's default generator).

    Backward: dx = dout * mask (the same mask), dout itself in test mode. The cache is
    ``(mask, x.shape, x.dtype)``, mask None in test mode.

    Shape:
        x, out, mask: any shape

    Derivation: docs/derivations/dropout.md
    """
    check_array(x, "x")
    dropout_param = check_param_dict(dropout_param, "dropout_param", DROPOUT_PARAM_KEYS)
    if "p" not in dropout_param:
        raise invalid_value("dropout_param", "a dict with the drop probability 'p'", dict(dropout_param))
    p = check_float(dropout_param["p"], "p", low=0.0, high=1.0, high_open=True)
    mode = check_mode(dropout_param.get("mode"), "dropout_param")
    seed = dropout_param.get("seed")
    if seed is not None:
        if rng is not None:
            raise invalid_value("rng", "None when dropout_param has a 'seed'", rng)
        rng = np.random.default_rng(check_int(seed, "seed", low=0))
    if mode == "test" or p == 0.0:
        return x.copy(), (None, x.shape, x.dtype)
    keep = draw_keep(get_rng(rng), x.shape, p)
    mask = np.multiply(keep, x.dtype.type(1 / (1 - p)), dtype=x.dtype)  # the inverted scaling, in x's dtype
    return np.asarray(x * mask), (mask, x.shape, x.dtype)  # an array also for 0-d x


# Values drawn per chunk: 256 KiB of float64, a buffer that stays in cache and is reused.
DRAW_CHUNK = 1 << 15


def draw_keep(rng: np.random.Generator, shape: tuple[int, ...], p: float, draw_dtype: Any = np.float64) -> np.ndarray:
    """The keep mask u >= p (True = kept), u ~ U[0, 1) in ``draw_dtype`` from ``rng``, drawn chunk by chunk:
    the same values, so the same mask, as ``rng.random(shape, dtype=draw_dtype) >= p``, without that call's
    array of every u (8 bytes a value in float64: a 1M-value mask spent as long faulting those pages in as
    drawing it).

    Shape: the mask is ``shape``, bool.
    """
    keep = np.empty(shape, dtype=bool)
    flat = keep.reshape(-1)  # (size,) view
    u = np.empty(min(DRAW_CHUNK, flat.size), dtype=draw_dtype)
    for lo in range(0, flat.size, DRAW_CHUNK):
        chunk = u[: min(DRAW_CHUNK, flat.size - lo)]
        rng.random(out=chunk, dtype=draw_dtype)  # the next len(chunk) values of the stream
        np.greater_equal(chunk, p, out=flat[lo : lo + len(chunk)])
    return keep


@quiet
def dropout_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Gradient of :func:`dropout_forward`: dx = dout * mask, the mask of the forward pass."""
    mask, shape, dtype = cache
    check_grad(dout, "dout", shape, dtype)
    return dout.copy() if mask is None else np.asarray(dout * mask)
