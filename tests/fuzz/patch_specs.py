"""Fuzz specs of the masked-image autoencoder's token ops: patchify / unpatchify of images of any size that the
patch divides, and the per-image random masking and its restore (any mask ratio in [0, 1), the noise drawn
from a generator or given, ids_restore a permutation of any integer dtype). The masking's mask and ids_restore
are index outputs: bool and integer, without a gradient."""

from __future__ import annotations

from typing import Any

import numpy as np

from .calls import Call, Draw


def _grid(d: Draw) -> tuple[int, int, int, int, int]:
    """N, C, the patch size p and the patch grid h x w; an image without pixels takes only p = 1."""
    N, C, h, w = d.int(0, 2), d.int(1, 2), d.int(0, 3), d.int(0, 3)
    return N, C, (d.int(1, 3) if h or w else 1), h, w


def patchify(d: Draw) -> Call:
    N, C, p, h, w = _grid(d)
    x = d.x((N, C, h * p, w * p))
    return Call({"x": x, "patch_size": p}, {}, (N, h * w, p * p * C))


def unpatchify(d: Draw) -> Call:
    N, C, p, h, w = _grid(d)
    H, W = h * p, w * p
    size: Any = d.pick([(H, W), [H, W], (C, H, W)] + ([H] if H == W else []))
    x = d.x((N, h * w, p * p * C))
    return Call({"x": x, "patch_size": p, "image_size": size}, {}, (N, C, H, W))


def random_masking(d: Draw) -> Call:
    N, L, D = d.int(0, 3), d.int(0, 6), d.int(0, 3)
    ratio = d.pick([0.0, 0.75, d.float(0, 0.99)])
    kwargs: dict[str, Any] = {}
    if d.pick([True, False]):
        kwargs["noise"] = np.asarray(d.array((N, L), ("normal",), dtype=d.pick([np.float32, np.float64])))
    else:
        kwargs["rng"] = d.pick([None, np.random.default_rng(d.int(0, 9))])
    keep = int(L * (1 - ratio))
    return Call({"x": d.x((N, L, D)), "mask_ratio": ratio}, kwargs, (N, keep, D), state_shapes=((N, L), (N, L)),
                index_outputs=(1, 2))  # fmt: skip


def restore(d: Draw) -> Call:
    N, L, D = d.int(0, 3), d.int(0, 6), d.int(0, 3)
    ids = np.argsort(d.p((N, L)), axis=1, kind="stable").astype(d.pick([np.int64, np.int32, np.uint8]))
    return Call({"x": d.x((N, L, D)), "ids_restore": ids}, {}, (N, L, D))
