"""Pooling ops: fast equals the loop reference (ties included), adaptive windows follow torch's formula.

Gradient checks are rows of scratchnn/gradcheck/rows/spatial.py; torch twins in tests/nn/twins/test_pooling.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from scratchnn import ops

# (pool_param, input shape): tiling, cropped tiling, overlapping, padded, non-square
POOLS: list[tuple[dict[str, Any], tuple[int, ...]]] = [
    ({"pool_height": 2, "pool_width": 2, "stride": 2}, (2, 3, 6, 8)),
    ({"pool_height": 2, "pool_width": 2, "stride": 2}, (2, 2, 7, 5)),
    ({"pool_height": 3, "pool_width": 3, "stride": 1}, (2, 2, 6, 5)),
    ({"pool_height": 3, "pool_width": 3, "stride": 2, "pad": 1}, (1, 3, 7, 6)),
    ({"pool_height": 2, "pool_width": 3, "stride": (1, 2), "pad": (1, 1)}, (2, 2, 5, 7)),
    ({"pool_height": 4, "pool_width": 2, "stride": 3}, (1, 2, 9, 6)),
]


def integer_ties(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Values in {0, 1, 2}: most windows have several maxima, so the choice of the first one is tested."""
    return np.random.default_rng(seed).integers(0, 3, shape).astype(np.float64)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("param,shape", POOLS, ids=[f"pool{i}" for i in range(len(POOLS))])
def test_max_pool_fast_equals_naive(param: dict[str, Any], shape: tuple[int, ...], ties: bool) -> None:
    rng = np.random.default_rng(0)
    x = integer_ties(shape, 1) if ties else rng.standard_normal(shape)
    out_n, cache_n = ops.max_pool_forward_naive(x, param)
    out_f, cache_f = ops.max_pool_forward_fast(x, param)
    np.testing.assert_array_equal(out_f, out_n)
    dout = rng.standard_normal(out_n.shape)
    np.testing.assert_allclose(
        ops.max_pool_backward_fast(dout, cache_f), ops.max_pool_backward_naive(dout, cache_n), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("param,shape", POOLS, ids=[f"pool{i}" for i in range(len(POOLS))])
def test_avg_pool_fast_equals_naive(param: dict[str, Any], shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    out_n, cache_n = ops.avg_pool_forward_naive(x, param)
    kernel = (param["pool_height"], param["pool_width"])
    out_f, cache_f = ops.avg_pool_forward(x, kernel, param["stride"], param.get("pad", 0))
    np.testing.assert_allclose(out_f, out_n, rtol=0, atol=1e-12)
    dout = rng.standard_normal(out_n.shape)
    np.testing.assert_allclose(
        ops.avg_pool_backward(dout, cache_f), ops.avg_pool_backward_naive(dout, cache_n), rtol=0, atol=1e-12
    )


def test_max_pool_gradient_goes_to_the_first_maximum() -> None:
    """A window of equal values routes its gradient to its top-left entry (row-major first), as torch."""
    x = np.array([[[[1.0, 1.0, 0.0, 2.0],
                    [1.0, 1.0, 2.0, 2.0]]]])  # fmt: skip
    out, cache = ops.max_pool_forward(x, 2)
    np.testing.assert_array_equal(out, [[[[1.0, 2.0]]]])
    dx = ops.max_pool_backward(np.array([[[[10.0, 20.0]]]]), cache)
    np.testing.assert_array_equal(dx, [[[[10.0, 0.0, 0.0, 20.0],
                                         [0.0, 0.0, 0.0, 0.0]]]])  # fmt: skip


def test_overlapping_windows_accumulate_into_a_shared_maximum() -> None:
    x = np.array([[[[0.0, 5.0, 0.0]]]])  # both 1x2 windows (stride 1) pick the middle entry
    out, cache = ops.max_pool_forward(x, (1, 2), 1)
    np.testing.assert_array_equal(out, [[[[5.0, 5.0]]]])
    np.testing.assert_array_equal(ops.max_pool_backward(np.array([[[[1.5, 2.0]]]]), cache), [[[[0.0, 3.5, 0.0]]]])


def test_max_pool_padding_is_minus_infinity() -> None:
    x = -np.ones((1, 1, 2, 2))
    out, _ = ops.max_pool_forward(x, 2, 1, 1)  # every window holds at least one real -1 and padding
    np.testing.assert_array_equal(out, -np.ones((1, 1, 3, 3)))


def test_avg_pool_divisor_options() -> None:
    x = np.ones((1, 1, 2, 2))
    with_pad, _ = ops.avg_pool_forward(x, 2, 1, 1)  # corner windows hold one real entry of 4
    without, _ = ops.avg_pool_forward(x, 2, 1, 1, count_include_pad=False)
    override, _ = ops.avg_pool_forward(x, 2, 1, 1, divisor_override=2)
    np.testing.assert_array_equal(with_pad[0, 0], [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]])
    np.testing.assert_array_equal(without, np.ones((1, 1, 3, 3)))
    np.testing.assert_array_equal(override, 2 * with_pad)


@pytest.mark.parametrize("size,out_size", [((7, 10), (3, 4)), ((5, 5), (5, 5)), ((6, 8), (2, None)), ((4, 4), 1)])
def test_adaptive_windows_follow_torch_formula(size: tuple[int, int], out_size: Any) -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, *size))
    out, cache = ops.adaptive_avg_pool_forward(x, out_size)
    Ho, Wo = out.shape[2:]
    H, W = size
    dout = rng.standard_normal(out.shape)
    dx = np.zeros_like(x)
    for i in range(Ho):
        for j in range(Wo):
            h0, h1 = (i * H) // Ho, -(-(i + 1) * H // Ho)  # floor and ceil
            w0, w1 = (j * W) // Wo, -(-(j + 1) * W // Wo)
            np.testing.assert_allclose(out[:, :, i, j], x[:, :, h0:h1, w0:w1].mean(axis=(2, 3)), rtol=1e-12)
            dx[:, :, h0:h1, w0:w1] += dout[:, :, i : i + 1, j : j + 1] / ((h1 - h0) * (w1 - w0))
    np.testing.assert_allclose(ops.adaptive_avg_pool_backward(dout, cache), dx, rtol=1e-12)


POOL_OPS: list[tuple[str, Callable[..., Any], Callable[..., Any], dict[str, Any]]] = [
    ("max_naive", ops.max_pool_forward_naive, ops.max_pool_backward_naive,
     {"pool_param": {"pool_height": 2, "pool_width": 2, "stride": 1, "pad": 1}}),
    ("avg_naive", ops.avg_pool_forward_naive, ops.avg_pool_backward_naive,
     {"pool_param": {"pool_height": 3, "pool_width": 2, "stride": 2}}),
    ("max", ops.max_pool_forward, ops.max_pool_backward, {"kernel_size": 3, "stride": 2, "padding": 1}),
    ("max_tiles", ops.max_pool_forward, ops.max_pool_backward, {"kernel_size": 2}),
    ("avg", ops.avg_pool_forward, ops.avg_pool_backward, {"kernel_size": 3, "stride": 1, "padding": 1,
                                                          "count_include_pad": False}),
    ("adaptive", ops.adaptive_avg_pool_forward, ops.adaptive_avg_pool_backward, {"output_size": (3, 2)}),
    ("adaptive_even", ops.adaptive_avg_pool_forward, ops.adaptive_avg_pool_backward, {"output_size": 2}),
]  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("forward,backward,kwargs", [c[1:] for c in POOL_OPS], ids=[c[0] for c in POOL_OPS])
def test_dtype_kept_and_inputs_not_mutated(
    forward: Callable[..., Any], backward: Callable[..., Any], kwargs: dict[str, Any], dtype: Any
) -> None:
    x = np.random.default_rng(3).standard_normal((2, 3, 6, 4)).astype(dtype)
    x0 = x.copy()
    out, cache = forward(x, **kwargs)
    dout = np.full_like(out, 0.5)
    dx = backward(dout, cache)
    assert out.dtype == dtype and dx.dtype == dtype and dx.shape == x.shape
    assert dx.flags.writeable
    np.testing.assert_array_equal(x, x0)
    assert np.all(dout == 0.5)


X = np.zeros((2, 3, 5, 5))
BAD: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("missing batch axis", lambda: ops.max_pool_forward(X[0], 2), ValueError,
     "Invalid shape for `x`: expected a 4-D array (N, C, H, W) (a single image needs a batch axis: x[None]). "
     "Received: x.shape=(3, 5, 5)"),
    ("kernel larger than input", lambda: ops.avg_pool_forward(X, (6, 2)), ValueError,
     "Invalid shape for `x`: expected a padded size (H + 2*0, W + 2*0) of at least the kernel size (6, 2); "
     "the padded input is (5, 5). Received: x.shape=(2, 3, 5, 5)"),
    ("padding over half the kernel", lambda: ops.max_pool_forward(X, 2, padding=2), ValueError,
     "Invalid value for `padding`: expected at most half the kernel size (2, 2), i.e. <= (1, 1). Received: padding=2"),
    ("kernel 0", lambda: ops.max_pool_forward(X, 0), ValueError,
     "Invalid value for `kernel_size`: expected an int >= 1 or a pair (h, w) of them. Received: kernel_size=0"),
    ("triple", lambda: ops.avg_pool_forward(X, (2, 2, 2)), ValueError,
     "Invalid value for `kernel_size`: expected an int >= 1 or a pair (h, w) of them. Received: kernel_size=(2, 2, 2)"),
    ("pool_param", lambda: ops.max_pool_forward_naive(X, {"stride": 2}), ValueError,
     "Invalid value for `pool_param`: expected a dict with keys 'pool_height', 'pool_width' and 'stride'. "
     "Received: pool_param={'stride': 2}"),
    # found by fuzzing: no rows averaged 0 / 0 (a FloatingPointError; torch refuses H or W = 0 too)
    ("no rows", lambda: ops.adaptive_avg_pool_forward(X[:, :, :0], 2), ValueError,
     "Invalid shape for `x`: expected (N, C, H, W) with H, W >= 1. Received: x.shape=(2, 3, 0, 5)"),
    ("no columns", lambda: ops.avg_pool_forward(X[..., :0], 2, 1, 1, count_include_pad=False), ValueError,
     "Invalid shape for `x`: expected (N, C, H, W) with H, W >= 1. Received: x.shape=(2, 3, 5, 0)"),
    # found by fuzzing: the op took any divisor_override (0: division by zero, a pair: a broadcasting error)
    ("divisor_override 0", lambda: ops.avg_pool_forward(X, 2, divisor_override=0), ValueError,
     "Invalid value for `divisor_override`: expected an int >= 1. Received: divisor_override=0"),
    ("divisor_override pair", lambda: ops.avg_pool_forward(X, 2, divisor_override=(1, 2)), TypeError,
     "Invalid type for `divisor_override`: expected an int >= 1. Received: divisor_override of type tuple"),
    ("count_include_pad", lambda: ops.avg_pool_forward(X, 2, count_include_pad="no"), TypeError,
     "Invalid type for `count_include_pad`: expected a bool. Received: count_include_pad of type str"),
    # found by fuzzing: a misspelt key was ignored (the course's bn_param and dropout_param already refused one)
    ("misspelt pool_param key", lambda: ops.avg_pool_forward_naive(X, {"pool_height": 2, "pool_width": 2,
                                                                        "strides": 1}), ValueError,
     "Invalid value for `pool_param`: expected keys among 'pool_height', 'pool_width', 'stride', 'pad'. "
     "Received: pool_param='strides'"),
    ("output_size", lambda: ops.adaptive_avg_pool_forward(X, 0), ValueError,
     "Invalid value for `output_size`: expected an int >= 1 or a pair (h, w) of them. Received: output_size=0"),
]  # fmt: skip


@pytest.mark.parametrize("call,exc,text", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_input_raises_template(call: Callable[[], Any], exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match="^" + re.escape(text) + "$"):
        call()


def test_max_pool_takes_an_empty_batch() -> None:
    """No images: empty output and gradient of the right shapes (the blocked walk has no block)."""
    out, cache = ops.max_pool_forward(np.zeros((0, 2, 4, 6)), 2)
    assert out.shape == (0, 2, 2, 3)
    assert ops.max_pool_backward(out, cache).shape == (0, 2, 4, 6)
