"""Gradient-check rows of the masked-image autoencoder's token ops: patchify / unpatchify (ops/patches.py) and the
per-image random masking and its restore (ops/random_masking.py).

All four are gathers, so their gradients are exact scatters; the rows check the index bookkeeping (patch order,
non-square images, several channels, the kept and masked tokens, the inverse permutation). The masking rows fix
the noise (a keyword argument, not differentiated), so every call of the finite differences keeps the same tokens.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ... import ops
from .base import OpRow

N, L, D = 3, 8, 4
NOISE = np.random.default_rng(11).random((N, L))  # a fixed shuffle per image


def _x(shape: tuple[int, ...]) -> Callable[[np.random.Generator], dict[str, np.ndarray]]:
    return lambda r: {"x": r.standard_normal(shape)}


def _shuffled(r: np.random.Generator) -> dict[str, np.ndarray]:
    """Tokens in shuffled order and the ids_restore that puts them back: a random permutation per row."""
    ids = np.argsort(r.random((N, L)), axis=1)
    return {"x": r.standard_normal((N, L, D)), "ids_restore": ids}


OP_ROWS = [
    OpRow("patchify-2x2-3_channels-4x6", ops.patchify_forward, ops.patchify_backward, _x((2, 3, 4, 6)),
          {"patch_size": 2}),
    OpRow("patchify-3x3-1_channel", ops.patchify_forward, ops.patchify_backward, _x((2, 1, 6, 3)), {"patch_size": 3}),
    OpRow("unpatchify-2x2-HW", ops.unpatchify_forward, ops.unpatchify_backward, _x((2, 6, 12)),
          {"patch_size": 2, "image_size": (4, 6)}),
    OpRow("unpatchify-3x3-CHW", ops.unpatchify_forward, ops.unpatchify_backward, _x((2, 4, 18)),
          {"patch_size": 3, "image_size": (2, 6, 6)}),
    OpRow("random_masking-0.75", ops.random_masking_forward, ops.random_masking_backward, _x((N, L, D)),
          {"mask_ratio": 0.75, "noise": NOISE}),
    OpRow("random_masking-0.4", ops.random_masking_forward, ops.random_masking_backward, _x((N, L, D)),
          {"mask_ratio": 0.4, "noise": NOISE}),
    OpRow("restore", ops.restore_forward, ops.restore_backward, _shuffled),
]  # fmt: skip
