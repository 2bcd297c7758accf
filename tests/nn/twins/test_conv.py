"""Conv2d against torch.nn.Conv2d over random configurations, plus its init, options and errors."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
import torch

from scratchnn import nn

from .twins import compare_module


def random_configs(count: int, seed: int) -> list[dict[str, Any]]:
    """Non-square inputs and kernels, strides 1-3, paddings 0-2 (ints and pairs), with and without bias."""
    rng = np.random.default_rng(seed)
    configs = []
    for i in range(count):
        kh, kw = (int(k) for k in rng.integers(1, 5, 2))
        stride: Any = (int(rng.integers(1, 4)), int(rng.integers(1, 4))) if i % 3 == 0 else 1 + i % 3
        padding: Any = (int(rng.integers(0, 3)), int(rng.integers(0, 3))) if i % 4 == 1 else i % 3
        configs.append(
            dict(
                C=int(rng.integers(1, 5)),
                F=int(rng.integers(1, 6)),
                kernel_size=(kh, kw),
                stride=stride,
                padding=padding,
                bias=i % 2 == 0,
                shape=(int(rng.integers(1, 4)), int(kh + rng.integers(0, 7)), int(kw + rng.integers(0, 7))),
            )
        )
    return configs


# and two with more than 64 im2col rows (C*kh*kw + bias), which take conv's single-GEMM path rather than per-image
CONFIGS = random_configs(24, seed=11) + [
    dict(C=8, F=5, kernel_size=(3, 3), stride=1, padding=1, bias=True, shape=(2, 6, 7)),
    dict(C=6, F=3, kernel_size=(4, 3), stride=(2, 1), padding=(2, 0), bias=False, shape=(3, 8, 5)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cfg", CONFIGS, ids=[f"cfg{i}" for i in range(len(CONFIGS))])
def test_conv2d_matches_torch(cfg: dict[str, Any], dtype: Any) -> None:
    rng = np.random.default_rng(0)
    N, H, W = cfg["shape"]
    x = rng.standard_normal((N, cfg["C"], H, W))
    args = (cfg["C"], cfg["F"], cfg["kernel_size"], cfg["stride"], cfg["padding"])
    ours = nn.Conv2d(*args, bias=cfg["bias"], rng=rng)
    # two steps: the second forward reuses the first one's im2col workspace, and grads accumulate
    compare_module(ours, torch.nn.Conv2d(*args, bias=cfg["bias"]), [x], dtype=dtype, steps=2)


def test_configurations_cover_the_issue() -> None:
    strides = {s for c in CONFIGS for s in (c["stride"] if isinstance(c["stride"], tuple) else (c["stride"],))}
    pads = {p for c in CONFIGS for p in (c["padding"] if isinstance(c["padding"], tuple) else (c["padding"],))}
    assert strides == {1, 2, 3} and pads == {0, 1, 2}
    assert any(c["kernel_size"][0] != c["kernel_size"][1] for c in CONFIGS)
    assert any(c["shape"][1] != c["shape"][2] for c in CONFIGS)
    assert {c["bias"] for c in CONFIGS} == {True, False}


@pytest.mark.parametrize("padding,kernel", [("same", (3, 5)), ("valid", (2, 3)), ((0, 2), 3)])
def test_string_and_pair_padding_match_torch(padding: Any, kernel: Any) -> None:
    x = np.random.default_rng(1).standard_normal((2, 3, 6, 7))
    compare_module(nn.Conv2d(3, 4, kernel, padding=padding), torch.nn.Conv2d(3, 4, kernel, padding=padding), [x])


def test_input_grad_false_returns_none_and_same_param_grads() -> None:
    rng = np.random.default_rng(2)
    a = nn.Conv2d(3, 4, 3, padding=1, dtype=np.float64, rng=rng)
    b = nn.Conv2d(3, 4, 3, padding=1, dtype=np.float64, rng=rng)
    b.load_state_dict(a.state_dict())
    x = rng.standard_normal((2, 3, 5, 5))
    dout = rng.standard_normal((2, 4, 5, 5))
    a(x)
    b(x)
    assert a.backward(dout) is not None and b.backward(dout, input_grad=False) is None
    np.testing.assert_array_equal(a.weight.grad, b.weight.grad)
    np.testing.assert_array_equal(a.bias.grad, b.bias.grad)


def test_default_init_is_torch_bound() -> None:
    """kaiming_uniform_(a=sqrt(5)) and the bias both draw from U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    m = nn.Conv2d(16, 64, (3, 2), rng=np.random.default_rng(3))
    bound = 1 / math.sqrt(16 * 3 * 2)
    assert m.weight.shape == (64, 16, 3, 2) and m.bias.shape == (64,)
    assert np.abs(m.weight.data).max() <= bound and np.abs(m.bias.data).max() <= bound
    assert m.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)  # U(-a, a) has std a / sqrt(3)
    assert m.weight.dtype == np.float32
    again = nn.Conv2d(16, 64, (3, 2), rng=np.random.default_rng(3))
    np.testing.assert_array_equal(again.weight.data, m.weight.data)


def test_attributes_mirror_torch() -> None:
    ours, theirs = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), torch.nn.Conv2d(3, 8, 3, 2, 1, bias=False)
    for name in (
        "in_channels",
        "out_channels",
        "kernel_size",
        "stride",
        "padding",
        "dilation",
        "groups",
        "padding_mode",
    ):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.bias is None and [n for n, _ in ours.named_parameters()] == ["weight"]
    assert repr(ours) == "Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)"


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


def test_wrong_channel_count() -> None:
    with pytest.raises(
        ValueError,
        match=msg(
            "Invalid shape for `input`: expected (N, 3, H, W) with in_channels=3. Received: input.shape=(2, 4, 5, 5)"
        ),
    ):
        nn.Conv2d(3, 2, 3)(np.zeros((2, 4, 5, 5), np.float32))


def test_missing_batch_axis() -> None:
    with pytest.raises(
        ValueError,
        match=msg(
            "Invalid shape for `input`: expected a 4-D array (N, C, H, W) "
            "(a single image needs a batch axis: x[None]). "
            "Received: input.shape=(3, 5, 5)"
        ),
    ):
        nn.Conv2d(3, 2, 3)(np.zeros((3, 5, 5), np.float32))


def test_kernel_larger_than_padded_input() -> None:
    with pytest.raises(
        ValueError,
        match=msg(
            "Invalid shape for `input`: expected a padded size (H + 2*1, W + 2*1) "
            "of at least the kernel size (5, 5); the padded input is (4, 9). "
            "Received: input.shape=(1, 3, 2, 7)"
        ),
    ):
        nn.Conv2d(3, 2, 5, padding=1)(np.zeros((1, 3, 2, 7), np.float32))


def test_dtype_mismatch() -> None:
    with pytest.raises(TypeError, match=r"Invalid dtype for `input`: expected float32 to match Conv2d's parameters"):
        nn.Conv2d(3, 2, 3)(np.zeros((1, 3, 5, 5), np.float64))


@pytest.mark.parametrize("kwargs,text", [
    ({"dilation": 2}, "Conv2d(dilation=2) is not implemented in scratchnn; only dilation=1 is supported"),
    ({"groups": 3}, "Conv2d(groups=3) is not implemented in scratchnn; only groups=1 is supported"),
    ({"padding_mode": "reflect"},
     "Conv2d(padding_mode='reflect') is not implemented in scratchnn; only padding_mode='zeros' is supported"),
    ({"kernel_size": 2, "padding": "same"},
     "Conv2d(padding='same') with the even kernel_size=(2, 2) needs asymmetric padding, which scratchnn does not "
     "implement; pad explicitly or use an odd kernel"),
])  # fmt: skip
def test_unsupported_options_raise_not_implemented(kwargs: dict[str, Any], text: str) -> None:
    kwargs = {"kernel_size": 3, **kwargs}
    with pytest.raises(NotImplementedError, match=msg(text)):
        nn.Conv2d(3, 3, **kwargs)


@pytest.mark.parametrize("kwargs,exc,text", [
    ({"padding": "full"}, ValueError,
     "Invalid value for `padding`: expected an int, a pair (h, w), 'valid' or 'same'. Received: padding='full'"),
    ({"padding": "same", "stride": 2}, ValueError,
     "Invalid value for `padding`: expected an int or a pair with stride != 1 ('same' needs stride=1, as in torch). "
     "Received: padding='same'"),
    ({"kernel_size": (3, 0)}, ValueError,
     "Invalid value for `kernel_size`: expected an int >= 1 or a pair (h, w) of them. Received: kernel_size=(3, 0)"),
    ({"in_channels": 0}, ValueError, "Invalid value for `in_channels`: expected an int >= 1. Received: in_channels=0"),
    ({"padding_mode": "mirror"}, ValueError,
     "Invalid value for `padding_mode`: expected one of 'zeros', 'reflect', 'replicate', 'circular'. "
     "Received: padding_mode='mirror'"),
    ({"stride": 1.5}, TypeError,
     "Invalid type for `stride`: expected an int >= 1 or a pair (h, w) of them. Received: stride of type float"),
])  # fmt: skip
def test_bad_arguments(kwargs: dict[str, Any], exc: type[Exception], text: str) -> None:
    kwargs = {"in_channels": 3, "out_channels": 2, "kernel_size": 3, **kwargs}
    with pytest.raises(exc, match=msg(text)):
        nn.Conv2d(**kwargs)
