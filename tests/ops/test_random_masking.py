"""random_masking / restore (ops/random_masking.py): the MAE reference's per-image shuffle (against a torch version of
it on the same noise), restore(shuffle(x)) == x, mask tokens restored in the right order, the kept count, the
gradients against torch autograd, and bad input raising the template error."""

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


def torch_random_masking(x: torch.Tensor, mask_ratio: float, noise: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The MAE reference's random_masking, with the noise passed in."""
    N, L, D = x.shape
    len_keep = int(L * (1 - mask_ratio))
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    ids_keep = ids_shuffle[:, :len_keep]
    x_masked = torch.gather(x, dim=1, index=ids_keep.unsqueeze(-1).repeat(1, 1, D))
    mask = torch.ones([N, L], dtype=x.dtype)
    mask[:, :len_keep] = 0
    mask = torch.gather(mask, dim=1, index=ids_restore)
    return x_masked, mask, ids_restore


@pytest.mark.parametrize("ratio", [0.0, 0.25, 0.5, 0.75, 0.9])
def test_matches_the_reference_on_the_same_noise(ratio: float) -> None:
    rng = np.random.default_rng(0)
    x, noise = rng.standard_normal((4, 16, 3)), rng.random((4, 16))
    tx = torch.tensor(x, requires_grad=True)
    x_visible, mask, ids_restore, cache = ops.random_masking_forward(x, ratio, noise=noise)
    t_visible, t_mask, t_ids = torch_random_masking(tx, ratio, torch.from_numpy(noise))
    np.testing.assert_array_equal(x_visible, t_visible.detach().numpy())
    np.testing.assert_array_equal(mask, t_mask.numpy() == 1)
    np.testing.assert_array_equal(ids_restore, t_ids.numpy())
    dv = rng.standard_normal(x_visible.shape)
    t_visible.backward(torch.from_numpy(dv))
    np.testing.assert_array_equal(ops.random_masking_backward(dv, cache), tx.grad.numpy())


@pytest.mark.parametrize("L,ratio", [(16, 0.75), (49, 0.75), (10, 0.5), (7, 0.3), (10, 0.9), (5, 0.0), (1, 0.99)])
def test_mask_marks_exactly_the_dropped_tokens(L: int, ratio: float) -> None:
    """int(L (1 - ratio)) tokens kept per image (the reference's count: L = 10 at 0.9 gives int(0.999...) = 0),
    the mask True exactly at the others, x_visible the kept tokens in shuffled order."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, L, 2))
    x_visible, mask, ids_restore, _ = ops.random_masking_forward(x, ratio, rng=rng)
    keep = int(L * (1 - ratio))
    assert x_visible.shape == (5, keep, 2) and mask.dtype == np.bool_ and mask.shape == (5, L)
    assert (mask.sum(axis=1) == L - keep).all()
    ids_shuffle = np.argsort(ids_restore, axis=1)
    for n in range(5):
        kept = ids_shuffle[n, :keep]
        assert not mask[n, kept].any() and mask[n, ids_shuffle[n, keep:]].all()
        np.testing.assert_array_equal(x_visible[n], x[n, kept])
        assert sorted(ids_restore[n]) == list(range(L))


def test_restore_undoes_the_shuffle_exactly() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 12, 4))
    _, _, ids_restore, _ = ops.random_masking_forward(x, 0.75, rng=rng)
    shuffled = np.take_along_axis(x, np.argsort(ids_restore, axis=1)[:, :, None], axis=1)
    restored, _ = ops.restore_forward(shuffled, ids_restore)
    np.testing.assert_array_equal(restored, x)
    assert not np.array_equal(shuffled, x)


def test_mask_tokens_land_on_the_masked_positions() -> None:
    """The MAE decoder's use: visible tokens then mask tokens, restored: each visible token back at its own position,
    the mask token at exactly the masked ones (the course code's bug: wrong order, off by one)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 16, 5))
    x_visible, mask, ids_restore, _ = ops.random_masking_forward(x, 0.75, rng=rng)
    token = rng.standard_normal(5)
    full = np.concatenate([x_visible, np.broadcast_to(token, (4, 16 - 4, 5))], axis=1)  # (N, L, D), shuffled order
    restored, _ = ops.restore_forward(full, ids_restore)
    np.testing.assert_array_equal(restored[~mask], x[~mask])
    np.testing.assert_array_equal(restored[mask], np.broadcast_to(token, (int(mask.sum()), 5)))


def test_each_image_gets_its_own_mask_and_the_rng_decides_it() -> None:
    x = np.zeros((64, 16, 1))
    _, mask, _, _ = ops.random_masking_forward(x, 0.75, rng=np.random.default_rng(4))
    assert len({m.tobytes() for m in mask}) > 60  # C(16, 12) = 1820 masks: few repeats among 64 images
    _, again, _, _ = ops.random_masking_forward(x, 0.75, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(mask, again)
    _, many, _, _ = ops.random_masking_forward(np.zeros((2000, 16, 1)), 0.75, rng=np.random.default_rng(5))
    assert np.abs(many.mean(axis=0) - 0.75).max() < 0.05  # every position equally likely masked (5 sd: 0.048)


def test_noise_order_decides_which_tokens_stay() -> None:
    x = np.arange(6.0).reshape(1, 6, 1)
    noise = np.array([[0.9, 0.1, 0.5, 0.3, 0.8, 0.2]])
    x_visible, mask, ids_restore, _ = ops.random_masking_forward(x, 0.5, noise=noise)
    np.testing.assert_array_equal(x_visible[0, :, 0], [1.0, 5.0, 3.0])  # the three smallest noises, ascending
    np.testing.assert_array_equal(mask[0], [True, False, True, False, True, False])
    np.testing.assert_array_equal(ids_restore[0], [5, 0, 3, 2, 4, 1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_against_torch_autograd(dtype: Any) -> None:
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 10, 4)).astype(dtype)
    x_visible, mask, ids_restore, cache = ops.random_masking_forward(x, 0.6, rng=rng)
    dv = rng.standard_normal(x_visible.shape).astype(dtype)
    dx = ops.random_masking_backward(dv, cache)
    assert dx.dtype == dtype and x_visible.dtype == dtype
    assert not dx[mask].any()  # the masked tokens get nothing

    shuffled = rng.standard_normal((3, 10, 4)).astype(dtype)
    t_shuffled = torch.tensor(shuffled, requires_grad=True)
    out, cache = ops.restore_forward(shuffled, ids_restore)
    index = torch.from_numpy(ids_restore)[:, :, None].expand(3, 10, 4)
    t_out = torch.gather(t_shuffled, 1, index)
    np.testing.assert_array_equal(out, t_out.detach().numpy())
    dout = rng.standard_normal(out.shape).astype(dtype)
    t_out.backward(torch.from_numpy(dout))
    d_shuffled = ops.restore_backward(dout, cache)
    assert d_shuffled.dtype == dtype
    np.testing.assert_array_equal(d_shuffled, t_shuffled.grad.numpy())


def test_restore_keeps_its_own_copy_of_the_ids() -> None:
    x = np.random.default_rng(7).standard_normal((1, 4, 2))
    ids = np.array([[2, 0, 3, 1]])
    _, cache = ops.restore_forward(x, ids)
    ids[0] = [0, 1, 2, 3]  # the caller reuses its array: the backward still routes through the forward's permutation
    dout = np.arange(8.0).reshape(1, 4, 2)
    np.testing.assert_array_equal(ops.restore_backward(dout, cache)[0, [2, 0, 3, 1]], dout[0])


X = np.zeros((2, 6, 3))


@pytest.mark.parametrize(
    "call,exc,text",
    [
        (lambda: ops.random_masking_forward(X, 1.0), ValueError,
         "Invalid value for `mask_ratio`: expected a float in [0, 1). Received: mask_ratio=1.0"),
        (lambda: ops.random_masking_forward(X, -0.1), ValueError,
         "Invalid value for `mask_ratio`: expected a float in [0, 1). Received: mask_ratio=-0.1"),
        (lambda: ops.random_masking_forward(X[0], 0.5), ValueError,
         "Invalid shape for `x`: expected a 3-D array. Received: x.shape=(6, 3)"),
        (lambda: ops.random_masking_forward(X, 0.5, noise=np.zeros((2, 5))), ValueError,
         "Invalid shape for `noise`: expected (2, 6) to match x. Received: noise.shape=(2, 5)"),
        (lambda: ops.random_masking_forward(X, 0.5, noise=np.zeros((2, 6)), rng=np.random.default_rng(0)), ValueError,
         "Invalid value for `rng`: expected None when noise is given. Received: rng=Generator(PCG64) at 0x*"),
        (lambda: ops.random_masking_forward(X, 0.5, rng=0), TypeError,
         "Invalid type for `rng`: expected a numpy.random.Generator or None. Received: rng=int"),
        (lambda: ops.restore_forward(X, np.array([[0, 1, 2, 3, 4, 4], [0, 1, 2, 3, 4, 5]])), ValueError,
         "Invalid value for `ids_restore`: expected a permutation of 0 .. 5 in each row. "
         "Received: ids_restore=array(shape=(2, 6), dtype=int64)"),
        (lambda: ops.restore_forward(X, np.zeros((2, 5), np.int64)), ValueError,
         "Invalid shape for `ids_restore`: expected (2, 6) to match x. Received: ids_restore.shape=(2, 5)"),
        (lambda: ops.restore_forward(X, np.zeros((2, 6))), TypeError,
         "Invalid type for `ids_restore`: expected an integer numpy.ndarray, not dtype float64. "
         "Received: ids_restore of type ndarray"),
    ],
)  # fmt: skip
def test_bad_input_raises_the_template(call: Callable[[], Any], exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=msg(text).replace(re.escape("0x*"), "0x[0-9A-F]+")):
        call()
