"""Transposed convolution ops: the fast pair equals the loop reference and is the adjoint of conv; bad input fails.

Gradient checks against central differences are rows of scratchnn/gradcheck/rows/spatial.py; torch
comparisons are in tests/nn/twins/test_conv_transpose.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from scratchnn import ops
from scratchnn.ops._spatial import pair
from scratchnn.ops.conv import col2im, im2col


def random_configs(count: int, seed: int) -> list[dict[str, Any]]:
    """Non-square inputs and kernels, strides 1-3, pads 0-2, every output_padding < stride, bias on and off."""
    rng = np.random.default_rng(seed)
    configs = []
    while len(configs) < count:
        i = len(configs)
        kh, kw = (int(k) for k in rng.integers(1, 5, 2))
        sh, sw = (int(s) for s in rng.integers(1, 4, 2))
        ph, pw = (int(p) for p in rng.integers(0, 3, 2))
        oh, ow = int(rng.integers(0, sh)), int(rng.integers(0, sw))
        H, W = (int(n) for n in rng.integers(1, 6, 2))
        if (H - 1) * sh - 2 * ph + kh + oh < 1 or (W - 1) * sw - 2 * pw + kw + ow < 1:
            continue  # no output
        square = i % 3 == 1 and sh == sw and ph == pw and oh == ow  # ints as well as pairs
        configs.append(
            dict(
                N=int(rng.integers(1, 4)), C=int(rng.integers(1, 4)), F=int(rng.integers(1, 5)), H=H, W=W,
                kh=kh, kw=kw, bias=bool(i % 2),
                param={"stride": sh if square else (sh, sw), "pad": ph if square else (ph, pw),
                       "output_padding": oh if square else (oh, ow)},
            )
        )  # fmt: skip
    return configs


# edges: windows that tile the output exactly (stride == kernel, no pad: col2im writes without zeroing), that do
# not overlap (stride > kernel) with the output padding beyond them, a pad that crops whole stamps, a 1x1 input,
# the conv autoencoder's layer (64 -> 32 in the benchmark; small here), defaults
EDGES = [
    dict(N=2, C=2, F=3, H=3, W=2, kh=2, kw=2, bias=True, param={"stride": 2}),
    dict(N=1, C=2, F=2, H=3, W=4, kh=2, kw=1, bias=False, param={"stride": 3, "output_padding": (2, 1)}),
    dict(N=2, C=1, F=2, H=4, W=3, kh=2, kw=2, bias=True, param={"stride": (3, 2), "pad": 2, "output_padding": 1}),
    dict(N=2, C=3, F=2, H=1, W=1, kh=3, kw=3, bias=True, param={"stride": 2, "pad": 1, "output_padding": 1}),
    dict(N=3, C=6, F=4, H=4, W=4, kh=3, kw=3, bias=True, param={"stride": 2, "pad": 1, "output_padding": 1}),
    dict(N=1, C=2, F=2, H=2, W=3, kh=2, kw=3, bias=False, param={}),
]
CONFIGS = random_configs(20, seed=7) + EDGES


def make(cfg: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    x = rng.standard_normal((cfg["N"], cfg["C"], cfg["H"], cfg["W"]))
    w = rng.standard_normal((cfg["C"], cfg["F"], cfg["kh"], cfg["kw"]))
    return x, w, rng.standard_normal(cfg["F"]) if cfg["bias"] else None


@pytest.mark.parametrize("cfg", CONFIGS, ids=[f"cfg{i}" for i in range(len(CONFIGS))])
def test_fast_equals_naive(cfg: dict[str, Any]) -> None:
    rng = np.random.default_rng(0)
    x, w, b = make(cfg, rng)
    out_n, cache_n = ops.conv_transpose_forward_naive(x, w, b, cfg["param"])
    out_f, cache_f = ops.conv_transpose_forward(x, w, b, cfg["param"])
    np.testing.assert_allclose(out_f, out_n, rtol=0, atol=1e-10)
    dout = rng.standard_normal(out_n.shape)
    grads_n = ops.conv_transpose_backward_naive(dout, cache_n)
    grads_f = ops.conv_transpose_backward(dout, cache_f)
    for got, want in zip(grads_f, grads_n, strict=True):
        if want is None:
            assert got is None
        else:
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)


@pytest.mark.parametrize("cfg", CONFIGS, ids=[f"cfg{i}" for i in range(len(CONFIGS))])
def test_output_size_is_torchs_formula(cfg: dict[str, Any]) -> None:
    x, w, b = make(cfg, np.random.default_rng(1))
    (sh, sw), (ph, pw) = pair(cfg["param"].get("stride", 1), "s"), pair(cfg["param"].get("pad", 0), "p")
    oh, ow = pair(cfg["param"].get("output_padding", 0), "op")
    out, _ = ops.conv_transpose_forward(x, w, b, cfg["param"])
    want = (cfg["H"] - 1) * sh - 2 * ph + cfg["kh"] + oh, (cfg["W"] - 1) * sw - 2 * pw + cfg["kw"] + ow
    assert out.shape == (cfg["N"], cfg["F"], *want)


@pytest.mark.parametrize("cfg", CONFIGS, ids=[f"cfg{i}" for i in range(len(CONFIGS))])
def test_forward_is_the_adjoint_of_conv(cfg: dict[str, Any]) -> None:
    """<conv_transpose(x, w), y> == <x, conv(y, w)>: the definition, with the conv's (F_conv, C_conv) = (C, F)."""
    rng = np.random.default_rng(2)
    x, w, _ = make(cfg, rng)
    out, _ = ops.conv_transpose_forward(x, w, None, cfg["param"])
    y = rng.standard_normal(out.shape)
    conv_param = {k: v for k, v in cfg["param"].items() if k != "output_padding"}
    conv_y, _ = ops.conv_forward_naive(y, w, None, conv_param)  # (N, F, Ho, Wo) -> (N, C, H, W)
    assert conv_y.shape == x.shape
    assert np.isclose(np.sum(out * y), np.sum(x * conv_y), rtol=1e-12)


def test_known_values() -> None:
    """x = [[1, 2]] stamps the kernel [[1, 2], [3, 4]] at columns 0 and stride: overlapping sums at stride 1."""
    x = np.array([[[[1.0, 2.0]]]])  # (1, 1, 1, 2)
    w = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])  # (1, 1, 2, 2)
    out, _ = ops.conv_transpose_forward(x, w, np.array([0.5]), {"stride": 1})
    np.testing.assert_array_equal(out[0, 0], [[1.5, 4.5, 4.5], [3.5, 10.5, 8.5]])
    out, _ = ops.conv_transpose_forward(x, w, None, {"stride": 2, "output_padding": 1})
    np.testing.assert_array_equal(out[0, 0], [[1, 2, 2, 4, 0], [3, 4, 6, 8, 0], [0, 0, 0, 0, 0]])
    out, _ = ops.conv_transpose_forward(x, w, None, {"stride": 2, "pad": (0, 1)})  # crops the first and last column
    np.testing.assert_array_equal(out[0, 0], [[2, 2], [4, 6]])


@pytest.mark.parametrize("shape,kernel,stride,pad", [((3, 2, 5, 6), (3, 2), (2, 1), (1, 1)),
                                                     ((2, 3, 4, 4), (2, 2), (2, 2), (0, 0)),
                                                     ((2, 1, 3, 5), (2, 3), (3, 2), (2, 0))])  # fmt: skip
def test_batch_last_layout_is_a_permutation_of_the_columns(shape: Any, kernel: Any, stride: Any, pad: Any) -> None:
    """im2col/col2im with batch_last: the same columns ordered (i, j, n), and col2im still the adjoint of im2col."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    N, K = shape[0], shape[1] * kernel[0] * kernel[1]
    std = im2col(x, kernel, stride, pad)  # (K, N*Ho*Wo)
    last = im2col(np.asfortranarray(x), kernel, stride, pad, batch_last=True)  # (K, Ho*Wo*N), any input layout
    np.testing.assert_array_equal(last, std.reshape(K, N, -1).transpose(0, 2, 1).reshape(K, -1))
    c = rng.standard_normal(last.shape)
    back = col2im(c, shape, kernel, stride, pad, batch_last=True)
    assert back.shape == shape
    np.testing.assert_allclose(back, col2im(c.reshape(K, -1, N).transpose(0, 2, 1).reshape(K, -1), shape,
                                            kernel, stride, pad), rtol=0, atol=1e-12)  # fmt: skip
    assert np.isclose(np.sum(last * c), np.sum(x * back), rtol=1e-12)


def test_need_dx_false_skips_only_dx() -> None:
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(2)
    out, cache = ops.conv_transpose_forward(x, w, b, {"stride": 2, "pad": 1, "output_padding": 1})
    dout = rng.standard_normal(out.shape)
    dx, dw, db = ops.conv_transpose_backward(dout, cache)
    none, dw2, db2 = ops.conv_transpose_backward(dout, cache, need_dx=False)
    assert none is None and dx is not None and dx.shape == x.shape
    np.testing.assert_array_equal(dw2, dw)
    np.testing.assert_array_equal(db2, db)


@pytest.mark.parametrize("naive", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_kept_inputs_not_mutated_and_any_layout_read(naive: bool, dtype: Any) -> None:
    rng = np.random.default_rng(5)
    x, w, b = (a.astype(dtype) for a in (rng.standard_normal((2, 3, 4, 3)), rng.standard_normal((3, 2, 2, 3)),
                                         rng.standard_normal(2)))  # fmt: skip
    param = {"stride": (2, 1), "pad": 1, "output_padding": (1, 0)}
    forward, backward = ((ops.conv_transpose_forward_naive, ops.conv_transpose_backward_naive) if naive
                         else (ops.conv_transpose_forward, ops.conv_transpose_backward))  # fmt: skip
    want, cache = forward(x, w, b, param)
    want_grads = backward(np.full_like(want, 0.5), cache)
    xs, ws = np.asfortranarray(x), w[:, ::-1].copy()[:, ::-1]  # other layouts, the same values
    copies = [a.copy() for a in (xs, ws, b)]
    out, cache = forward(xs, ws, b, param)
    dout = np.full(out.shape[::-1], 0.5, dtype).T  # a transposed (non-contiguous) upstream gradient
    grads = backward(dout, cache)
    assert [a.dtype for a in (out, *grads)] == [np.dtype(dtype)] * 4
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for got, ref in zip((out, *grads), (want, *want_grads), strict=True):
        np.testing.assert_allclose(got, ref, rtol=tol, atol=tol)
    for a, c in zip((xs, ws, b), copies):
        np.testing.assert_array_equal(a, c)
    assert np.all(dout == 0.5)


def test_empty_batch_and_no_input_channels() -> None:
    rng = np.random.default_rng(6)
    out, cache = ops.conv_transpose_forward(np.zeros((0, 2, 3, 3)), rng.standard_normal((2, 3, 2, 2)),
                                            np.ones(3), {"stride": 2})  # fmt: skip
    dx, dw, db = ops.conv_transpose_backward(np.zeros(out.shape), cache)
    assert out.shape == (0, 3, 6, 6) and dx.shape == (0, 2, 3, 3) and not dw.any() and not db.any()
    out, cache = ops.conv_transpose_forward(np.zeros((2, 0, 3, 3)), np.zeros((0, 3, 2, 2)), np.ones(3), {})
    np.testing.assert_array_equal(out, np.ones((2, 3, 4, 4)))  # the bias alone
    dx, dw, db = ops.conv_transpose_backward(np.ones(out.shape), cache)
    assert dx.shape == (2, 0, 3, 3) and dw.shape == (0, 3, 2, 2) and db.tolist() == [32.0] * 3


X = np.zeros((2, 3, 4, 4))
W3 = np.zeros((3, 4, 3, 3))
FWD, NAIVE = ops.conv_transpose_forward, ops.conv_transpose_forward_naive
BAD: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("missing batch axis", lambda: FWD(X[0], W3, None, {}), ValueError,
     "Invalid shape for `x`: expected a 4-D array (N, C, H, W) (a single image needs a batch axis: x[None]). "
     "Received: x.shape=(3, 4, 4)"),
    ("channels", lambda: FWD(X, W3[:2], None, {}), ValueError,
     "Invalid shape for `w`: expected (3, F, HH, WW) to match x's 3 channels. Received: w.shape=(2, 4, 3, 3)"),
    ("conv's layout", lambda: NAIVE(X, W3.transpose(1, 0, 2, 3), None, {}), ValueError,
     "Invalid shape for `w`: expected (3, F, HH, WW) to match x's 3 channels. Received: w.shape=(4, 3, 3, 3)"),
    ("bias", lambda: FWD(X, W3, np.zeros(3), {}), ValueError,
     "Invalid shape for `b`: expected (4,), one bias per output channel. Received: b.shape=(3,)"),
    ("output_padding >= stride", lambda: FWD(X, W3, None, {"stride": 2, "output_padding": (1, 2)}), ValueError,
     "Invalid value for `output_padding`: expected an int >= 0 or a pair (h, w) of them, smaller than "
     "stride=(2, 2). Received: output_padding=(1, 2)"),
    ("output_padding without stride", lambda: NAIVE(X, W3, None, {"output_padding": 1}), ValueError,
     "Invalid value for `output_padding`: expected an int >= 0 or a pair (h, w) of them, smaller than "
     "stride=(1, 1). Received: output_padding=1"),
    ("no output", lambda: FWD(X[:, :, :1], W3[:, :, :1], None, {"pad": 1}), ValueError,
     "Invalid shape for `x`: expected an output size ((H - 1)*1 - 2*1 + 1 + 0, (W - 1)*1 - 2*1 + 3 + 0) of at "
     "least (1, 1); it would be (-1, 4). Received: x.shape=(2, 3, 1, 4)"),
    ("stride 0", lambda: FWD(X, W3, None, {"stride": 0}), ValueError,
     "Invalid value for `stride`: expected an int >= 1 or a pair (h, w) of them. Received: stride=0"),
    ("float pad", lambda: NAIVE(X, W3, None, {"pad": 1.0}), TypeError,
     "Invalid type for `pad`: expected an int >= 0 or a pair (h, w) of them. Received: pad of type float"),
    ("conv_param", lambda: FWD(X, W3, None, 1), TypeError,  # type: ignore[arg-type]
     "Invalid type for `conv_param`: expected a dict with keys 'stride', 'pad' and 'output_padding'. "
     "Received: conv_param of type int"),
    ("misspelt key", lambda: FWD(X, W3, None, {"padding": 1}), ValueError,
     "Invalid value for `conv_param`: expected keys among 'stride', 'pad', 'output_padding'. "
     "Received: conv_param='padding'"),
    ("w dtype", lambda: FWD(X, W3.astype(np.float32), None, {}), TypeError,
     "Invalid dtype for `w`: expected float64 to match x. Received: w.dtype=float32"),
]  # fmt: skip


@pytest.mark.parametrize("call,exc,text", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_input_raises_template(call: Callable[[], Any], exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match="^" + re.escape(text) + "$"):
        call()


@pytest.mark.parametrize("naive", [True, False])
def test_bad_upstream_gradient(naive: bool) -> None:
    forward, backward = ((NAIVE, ops.conv_transpose_backward_naive) if naive
                         else (FWD, ops.conv_transpose_backward))  # fmt: skip
    out, cache = forward(X, W3, None, {"stride": 2})
    assert out.shape == (2, 4, 9, 9)
    with pytest.raises(ValueError, match=re.escape("Invalid shape for `dout`: expected (2, 4, 9, 9)")):
        backward(np.zeros((2, 4, 8, 8)), cache)
    with pytest.raises(TypeError, match=re.escape("Invalid dtype for `dout`: expected float64")):
        backward(np.zeros(out.shape, np.float32), cache)
