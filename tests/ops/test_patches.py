"""patchify / unpatchify (ops/patches.py): the MAE reference's order, exact round trips, backward as the inverse map
(against torch autograd of the reference's einsum), and bad input raising the template error."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from scratchnn import ops


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


def loop_patchify(x: np.ndarray, p: int) -> np.ndarray:
    """Patch (i, j) row-major; inside it pixel rows a, then columns b, then channels c: one value at a time."""
    N, C, H, W = x.shape
    out = np.zeros((N, (H // p) * (W // p), p * p * C))
    for n in range(N):
        for i in range(H // p):
            for j in range(W // p):
                for a in range(p):
                    for b in range(p):
                        for c in range(C):
                            out[n, i * (W // p) + j, (a * p + b) * C + c] = x[n, c, i * p + a, j * p + b]
    return out


def torch_patchify(x: torch.Tensor, p: int) -> torch.Tensor:
    """The MAE reference's patchify, generalised to H != W."""
    N, C, H, W = x.shape
    x = x.reshape(N, C, H // p, p, W // p, p)
    return torch.einsum("nchpwq->nhwpqc", x).reshape(N, (H // p) * (W // p), p * p * C)


SHAPES = [((2, 3, 4, 6), 2), ((1, 1, 6, 3), 3), ((2, 2, 5, 5), 1), ((3, 3, 8, 8), 4), ((0, 2, 4, 4), 2)]


@pytest.mark.parametrize("shape,p", SHAPES)
def test_patchify_is_the_mae_order(shape: tuple[int, ...], p: int) -> None:
    x = np.random.default_rng(0).standard_normal(shape)
    out, _ = ops.patchify_forward(x, p)
    np.testing.assert_array_equal(out, loop_patchify(x, p))
    np.testing.assert_array_equal(out, torch_patchify(torch.from_numpy(x), p).numpy())


def test_a_patch_row_is_the_block_in_channels_last_order() -> None:
    """Patch (1, 0) of a 2-channel 4x4 image with p = 2 is rows 2-3, columns 0-1, as (a, b, c)."""
    x = np.arange(32.0).reshape(1, 2, 4, 4)
    out, _ = ops.patchify_forward(x, 2)
    block = x[0, :, 2:4, 0:2]  # (C, p, p)
    np.testing.assert_array_equal(out[0, 2], block.transpose(1, 2, 0).ravel())  # L index 1 * (4 / 2) + 0 = 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,p", SHAPES)
def test_round_trips_are_exact(shape: tuple[int, ...], p: int, dtype: Any) -> None:
    N, C, H, W = shape
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    patches, _ = ops.patchify_forward(x, p)
    assert patches.dtype == dtype and not np.shares_memory(patches, x)
    for size in [(H, W), (C, H, W), [H, W]] + ([H] if H == W else []):
        back, _ = ops.unpatchify_forward(patches, p, size)
        assert back.dtype == dtype and back.shape == shape
        np.testing.assert_array_equal(back, x)
    rows = np.random.default_rng(2).standard_normal(patches.shape).astype(dtype)
    np.testing.assert_array_equal(ops.patchify_forward(ops.unpatchify_forward(rows, p, (H, W))[0], p)[0], rows)


@pytest.mark.parametrize("shape,p", SHAPES[:4])
def test_backward_is_the_inverse_map_and_torch_autograd(shape: tuple[int, ...], p: int) -> None:
    N, C, H, W = shape
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    tx = torch.tensor(x, requires_grad=True)
    out, cache = ops.patchify_forward(x, p)
    dout = rng.standard_normal(out.shape)
    dx = ops.patchify_backward(dout, cache)
    torch_patchify(tx, p).backward(torch.from_numpy(dout))
    np.testing.assert_array_equal(dx, tx.grad.numpy())
    np.testing.assert_array_equal(dx, ops.unpatchify_forward(dout, p, (H, W))[0])

    images, cache = ops.unpatchify_forward(out, p, (C, H, W))
    dimages = rng.standard_normal(images.shape)
    np.testing.assert_array_equal(ops.unpatchify_backward(dimages, cache), ops.patchify_forward(dimages, p)[0])


def test_inputs_are_not_modified_and_views_are_accepted() -> None:
    x = np.random.default_rng(4).standard_normal((2, 3, 8, 12))[:, :, ::2, ::2]  # a strided view, (2, 3, 4, 6)
    x.flags.writeable = False
    out, cache = ops.patchify_forward(x, 2)
    np.testing.assert_array_equal(out, loop_patchify(np.ascontiguousarray(x), 2))
    dout = np.asfortranarray(np.ones_like(out))
    dout.flags.writeable = False
    np.testing.assert_array_equal(ops.patchify_backward(dout, cache), np.ones(x.shape))


X = np.zeros((2, 3, 4, 6))
P = np.zeros((2, 6, 12))


@pytest.mark.parametrize(
    "call,exc,text",
    [
        (lambda: ops.patchify_forward(X, 4), ValueError,
         "Invalid shape for `x`: expected (N, C, H, W) with H and W multiples of patch_size=4. "
         "Received: x.shape=(2, 3, 4, 6)"),
        (lambda: ops.patchify_forward(X, 0), ValueError,
         "Invalid value for `patch_size`: expected an int in [1, 6]. Received: patch_size=0"),
        (lambda: ops.patchify_forward(np.zeros((1, 1, 0, 0)), 2), ValueError,  # no pixels: only p = 1 fits
         "Invalid value for `patch_size`: expected an int in [1, 1]. Received: patch_size=2"),
        (lambda: ops.unpatchify_forward(np.zeros((1, 0, 4)), 2, 0), ValueError,
         "Invalid value for `patch_size`: expected an int in [1, 1] for 0x0 images. Received: patch_size=2"),
        (lambda: ops.unpatchify_forward(np.zeros((1, 0, 1)), 1, (0, 2**62)), ValueError,
         "Invalid value for `image_size`: expected a size whose images fit in memory. Received: image_size=(0, "
         "4611686018427387904)"),
        (lambda: ops.patchify_forward(X[0], 2), ValueError,
         "Invalid shape for `x`: expected a 4-D array. Received: x.shape=(3, 4, 6)"),
        (lambda: ops.patchify_forward(X.astype(np.int64), 2), TypeError,
         "Invalid type for `x`: expected a floating numpy.ndarray (float32 or float64), not dtype int64. "
         "Received: x of type ndarray"),
        (lambda: ops.unpatchify_forward(P, 2, (4, 5)), ValueError,
         "Invalid value for `image_size`: expected H and W multiples of patch_size=2. Received: image_size=(4, 5)"),
        (lambda: ops.unpatchify_forward(P, 2, (4, 8)), ValueError,
         "Invalid shape for `x`: expected (N, 8, C * 4): the patches of 4x8 images. Received: x.shape=(2, 6, 12)"),
        (lambda: ops.unpatchify_forward(P, 2, (2, 4, 6)), ValueError,
         "Invalid shape for `x`: expected (N, 6, 2 * 4): the patches of 4x6 images. Received: x.shape=(2, 6, 12)"),
        (lambda: ops.unpatchify_forward(P[:, :, :10], 2, (4, 6)), ValueError,
         "Invalid shape for `x`: expected (N, 6, C * 4): the patches of 4x6 images. Received: x.shape=(2, 6, 10)"),
        (lambda: ops.unpatchify_forward(P, 2, (1, 2, 3, 4)), TypeError,
         "Invalid type for `image_size`: expected an int, (H, W) or (C, H, W). Received: image_size of type tuple"),
        (lambda: ops.unpatchify_forward(P, 2, (4, -6)), ValueError,
         "Invalid value for `image_size`: expected an int >= 0. Received: image_size=-6"),
        (lambda: ops.patchify_backward(np.zeros((2, 6, 11)), ops.patchify_forward(X, 2)[1]), ValueError,
         "Invalid shape for `dout`: expected (2, 6, 12), the forward output's shape. Received: dout.shape=(2, 6, 11)"),
    ],
)  # fmt: skip
def test_bad_input_raises_the_template(call: Callable[[], Any], exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=msg(text)):
        call()
