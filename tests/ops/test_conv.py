"""Convolution ops: the fast pair equals the loop reference, im2col/col2im are adjoint, the contract holds.

Gradient checks against central differences are rows of scratchnn/gradcheck/rows/spatial.py; torch
comparisons are in tests/nn/twins/test_conv.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from scratchnn import nn, ops
from scratchnn.ops._spatial import pair
from scratchnn.ops.conv import col2im, im2col


def random_configs(count: int, seed: int) -> list[dict[str, Any]]:
    """Non-square inputs and kernels, strides 1-3 and paddings 0-2 (ints and pairs), with and without bias."""
    rng = np.random.default_rng(seed)
    configs = []
    for i in range(count):
        kh, kw = (int(k) for k in rng.integers(1, 5, 2))
        stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4))) if i % 3 == 0 else int(rng.integers(1, 4))
        pad = (int(rng.integers(0, 3)), int(rng.integers(0, 3))) if i % 4 == 1 else int(rng.integers(0, 3))
        H, W = int(kh + rng.integers(0, 6)), int(kw + rng.integers(0, 6))
        configs.append(
            dict(
                N=int(rng.integers(1, 4)),
                C=int(rng.integers(1, 4)),
                F=int(rng.integers(1, 5)),
                H=H,
                W=W,
                kh=kh,
                kw=kw,
                stride=stride,
                pad=pad,
                bias=bool(i % 2),
            )
        )
    return configs


# plus edge cases: offsets that see only padding (stride 3 over a 1x1 image), padding wider than the image,
# a 1x1 kernel with stride 2, and windows that do not overlap (stride > kernel)
EDGES = [
    dict(N=2, C=2, F=3, H=1, W=1, kh=3, kw=3, stride=3, pad=1, bias=True),
    dict(N=1, C=2, F=2, H=2, W=1, kh=3, kw=3, stride=2, pad=2, bias=False),
    dict(N=2, C=1, F=2, H=5, W=5, kh=1, kw=1, stride=2, pad=2, bias=True),
    dict(N=2, C=2, F=2, H=8, W=7, kh=2, kw=2, stride=3, pad=0, bias=True),
]
# more than 64 rows of cols (C*kh*kw + bias): the single-GEMM path of conv_forward/backward, not the per-image one
WIDE = [
    dict(N=2, C=8, F=3, H=6, W=5, kh=3, kw=3, stride=1, pad=1, bias=True),
    dict(N=3, C=5, F=4, H=7, W=6, kh=4, kw=4, stride=2, pad=(2, 1), bias=False),
]
CONFIGS = random_configs(16, seed=5) + EDGES + WIDE


def make(cfg: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    x = rng.standard_normal((cfg["N"], cfg["C"], cfg["H"], cfg["W"]))
    w = rng.standard_normal((cfg["F"], cfg["C"], cfg["kh"], cfg["kw"]))
    return x, w, rng.standard_normal(cfg["F"]) if cfg["bias"] else None


@pytest.mark.parametrize("cfg", CONFIGS, ids=[f"cfg{i}" for i in range(len(CONFIGS))])
def test_fast_equals_naive(cfg: dict[str, Any]) -> None:
    rng = np.random.default_rng(0)
    x, w, b = make(cfg, rng)
    param = {"stride": cfg["stride"], "pad": cfg["pad"]}
    out_n, cache_n = ops.conv_forward_naive(x, w, b, param)
    out_f, cache_f = ops.conv_forward_fast(x, w, b, param)
    np.testing.assert_allclose(out_f, out_n, rtol=0, atol=1e-10)
    dout = rng.standard_normal(out_n.shape)
    for got, want in zip(ops.conv_backward_fast(dout, cache_f), ops.conv_backward_naive(dout, cache_n)):
        if want is None:
            assert got is None
        else:
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)


def test_known_values() -> None:
    """A 1x1 image of ones, 3x3 kernel of 1..9, padding 1: each output sums the kernel entries over x."""
    x = np.ones((1, 1, 2, 2))
    w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    out, _ = ops.conv_forward(x, w, np.array([0.5]), padding=1)
    # out[i, j] = sum of w[p, q] with (i + p - 1, j + q - 1) inside the 2x2 image
    np.testing.assert_array_equal(
        out[0, 0], [[5 + 6 + 8 + 9 + 0.5, 4 + 5 + 7 + 8 + 0.5], [2 + 3 + 5 + 6 + 0.5, 1 + 2 + 4 + 5 + 0.5]]
    )


@pytest.mark.parametrize("cfg", CONFIGS[:4] + EDGES, ids=[f"cfg{i}" for i in range(4 + len(EDGES))])
def test_col2im_is_the_adjoint_of_im2col(cfg: dict[str, Any]) -> None:
    """<im2col(x), c> == <x, col2im(c)> for every x and c: col2im is exactly the backward of im2col."""
    rng = np.random.default_rng(1)
    x, w, _ = make(cfg, rng)
    kernel, stride, pad = w.shape[2:], pair(cfg["stride"], "s"), pair(cfg["pad"], "p")
    cols = im2col(x, kernel, stride, pad)
    c = rng.standard_normal(cols.shape)
    assert np.isclose(np.sum(cols * c), np.sum(x * col2im(c, x.shape, kernel, stride, pad)), rtol=1e-12)


def test_workspace_is_reused_and_refilled() -> None:
    rng = np.random.default_rng(2)
    x1, x2, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 3))
    out1, cache1 = ops.conv_forward(x1, w, None, 1, 1)
    out2, cache2 = ops.conv_forward(x2, w, None, 1, 1, workspace=cache1[0])
    assert cache2[0] is cache1[0]
    np.testing.assert_allclose(out2, ops.conv_forward(x2, w, None, 1, 1)[0], rtol=0, atol=0)
    mismatched = np.empty((1, 2, 3), np.float64)  # wrong shape: a fresh array is used instead
    _, cache3 = ops.conv_forward(x2, w, None, 1, 1, workspace=mismatched)
    assert cache3[0] is not mismatched


def test_a_strided_or_read_only_workspace_is_not_filled_and_a_non_array_is_an_error() -> None:
    """Found by fuzzing: a workspace of the right shape in F order was reshaped into a copy, so the cols came
    back unfilled (silently wrong output); a read-only one failed in NumPy; an int failed with AttributeError."""
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 3))
    want, cache = ops.conv_forward(x, w, None, 1, 1)
    strided, read_only = np.asfortranarray(np.zeros_like(cache[0])), np.zeros_like(cache[0])
    read_only.flags.writeable = False
    for workspace in (strided, read_only):
        out, cache = ops.conv_forward(x, w, None, 1, 1, workspace=workspace)
        assert cache[0] is not workspace and not workspace.any()
        np.testing.assert_array_equal(out, want)
    with pytest.raises(TypeError, match=r"^Invalid type for `workspace`: expected None or a numpy.ndarray"):
        ops.conv_forward(x, w, None, 1, 1, workspace=-1)


def test_need_dx_false_skips_only_dx() -> None:
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    out, cache = ops.conv_forward(x, w, b, 2, 1)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = ops.conv_backward(dout, cache)
    none, dw2, db2 = ops.conv_backward(dout, cache, need_dx=False)
    assert none is None and dx is not None
    np.testing.assert_array_equal(dw2, dw)
    np.testing.assert_array_equal(db2, db)


@pytest.mark.parametrize("naive", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_kept_and_inputs_not_mutated(naive: bool, dtype: Any) -> None:
    rng = np.random.default_rng(4)
    x, w, b = (
        a.astype(dtype)
        for a in (rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((2, 3, 2, 3)), rng.standard_normal(2))
    )
    copies = [a.copy() for a in (x, w, b)]
    param = {"stride": (2, 1), "pad": 1}
    out, cache = ops.conv_forward_naive(x, w, b, param) if naive else ops.conv_forward_fast(x, w, b, param)
    dout = np.full_like(out, 0.5)
    grads = ops.conv_backward_naive(dout, cache) if naive else ops.conv_backward_fast(dout, cache)
    assert [a.dtype for a in (out, *grads)] == [np.dtype(dtype)] * 4
    assert [a.shape for a in grads] == [x.shape, w.shape, b.shape]
    for a, c in zip((x, w, b), copies):
        np.testing.assert_array_equal(a, c)
    assert np.all(dout == 0.5)


X = np.zeros((2, 3, 5, 5))
W3 = np.zeros((4, 3, 3, 3))
BAD: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("missing batch axis", lambda: ops.conv_forward(X[0], W3, None), ValueError,
     "Invalid shape for `x`: expected a 4-D array (N, C, H, W) (a single image needs a batch axis: x[None]). "
     "Received: x.shape=(3, 5, 5)"),
    ("channels", lambda: ops.conv_forward(X, W3[:, :2], None), ValueError,
     "Invalid shape for `w`: expected (F, 3, HH, WW) to match x's 3 channels. Received: w.shape=(4, 2, 3, 3)"),
    ("bias", lambda: ops.conv_forward(X, W3, np.zeros(3)), ValueError,
     "Invalid shape for `b`: expected (4,), one bias per filter. Received: b.shape=(3,)"),
    ("kernel larger than padded input", lambda: ops.conv_forward(X[:, :, :2], W3, None, padding=0), ValueError,
     "Invalid shape for `x`: expected a padded size (H + 2*0, W + 2*0) of at least the kernel size (3, 3); "
     "the padded input is (2, 5). Received: x.shape=(2, 3, 2, 5)"),
    ("stride 0", lambda: ops.conv_forward(X, W3, None, stride=0), ValueError,
     "Invalid value for `stride`: expected an int >= 1 or a pair (h, w) of them. Received: stride=0"),
    ("negative pad", lambda: ops.conv_forward_naive(X, W3, None, {"stride": 1, "pad": (1, -1)}), ValueError,
     "Invalid value for `pad`: expected an int >= 0 or a pair (h, w) of them. Received: pad=(1, -1)"),
    ("float padding", lambda: ops.conv_forward(X, W3, None, padding=1.0), TypeError,
     "Invalid type for `padding`: expected an int >= 0 or a pair (h, w) of them. Received: padding of type float"),
    ("conv_param", lambda: ops.conv_forward_fast(X, W3, None, 1), TypeError,  # type: ignore[arg-type]
     "Invalid type for `conv_param`: expected a dict with keys 'stride' and 'pad'. Received: conv_param of type int"),
    # found by fuzzing: a misspelt key was ignored (the course's bn_param and dropout_param already refused one)
    ("misspelt conv_param key", lambda: ops.conv_forward_fast(X, W3, None, {"stride": 1, "padding": 1}), ValueError,
     "Invalid value for `conv_param`: expected keys among 'stride', 'pad'. Received: conv_param='padding'"),
    ("integer x", lambda: ops.conv_forward(X.astype(int), W3, None), TypeError,
     "Invalid type for `x`: expected a floating numpy.ndarray (float32 or float64), not dtype int64. "
     "Received: x of type ndarray"),
]  # fmt: skip


@pytest.mark.parametrize("call,exc,text", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_input_raises_template(call: Callable[[], Any], exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match="^" + re.escape(text) + "$"):
        call()


def test_col2im_takes_per_image_cols() -> None:
    """col2im of cols laid out per image, (N, K, Ho*Wo), equals col2im of the same cols as (K, N*Ho*Wo)."""
    rng = np.random.default_rng(2)
    x_shape, kernel, stride, pad = (3, 2, 5, 6), (3, 2), (2, 1), (1, 1)
    cols = rng.standard_normal(im2col(np.zeros(x_shape), kernel, stride, pad).shape)  # (K, N*Ho*Wo)
    per_image = np.ascontiguousarray(cols.reshape(cols.shape[0], 3, -1).transpose(1, 0, 2))  # (N, K, Ho*Wo)
    want = col2im(cols, x_shape, kernel, stride, pad)
    np.testing.assert_array_equal(col2im(per_image, x_shape, kernel, stride, pad), want)


@pytest.mark.parametrize("stride", [1, 2, (2, 3)])
def test_conv2d_reusing_its_workspace_on_non_contiguous_inputs_matches_the_naive_conv(stride: Any) -> None:
    """A previous fuzzing round found strided convs that wrote into a reused workspace wrongly, or read
    non-contiguous inputs wrongly; each call here follows one with another layout and must equal the loops."""
    conv = nn.Conv2d(3, 4, 3, stride=stride, padding=1, dtype=np.float64, rng=np.random.default_rng(0))
    rng = np.random.default_rng(1)
    base = rng.standard_normal((2, 3, 7, 6))
    layouts = [base, np.asfortranarray(base), base.transpose(0, 1, 3, 2).copy().transpose(0, 1, 3, 2),
               np.pad(base, ((0, 0), (0, 0), (0, 7), (0, 6)))[:, :, ::2, ::2], base[::-1].copy()[::-1]]  # fmt: skip
    for x in layouts:
        expected, _ = ops.conv_forward_naive(x, conv.weight.data, conv.bias.data, {"stride": stride, "pad": 1})
        np.testing.assert_allclose(conv(x), expected, rtol=1e-12, atol=1e-12)
