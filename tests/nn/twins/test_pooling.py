"""MaxPool2d, AvgPool2d and AdaptiveAvgPool2d against torch, and a small conv-BN-ReLU-pool-linear network."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import torch

from scratchnn import nn

from .twins import compare_module

# (kernel_size, stride, padding, input shape): tiling, cropped tiling, overlapping, padded, non-square
WINDOWS: list[tuple[Any, Any, Any, tuple[int, ...]]] = [
    (2, None, 0, (2, 3, 8, 6)),
    (2, None, 0, (2, 2, 7, 9)),
    (3, 1, 0, (2, 2, 6, 5)),
    (3, 2, 1, (1, 3, 7, 8)),
    ((2, 3), (1, 2), (1, 1), (2, 2, 5, 7)),
    (2, 1, 1, (1, 2, 4, 4)),
    ((4, 2), 3, (2, 0), (1, 2, 9, 6)),
]
IDS = [f"win{i}" for i in range(len(WINDOWS))]


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel,stride,padding,shape", WINDOWS, ids=IDS)
def test_max_pool_matches_torch(
    kernel: Any, stride: Any, padding: Any, shape: tuple[int, ...], dtype: Any, ties: bool
) -> None:
    rng = np.random.default_rng(0)
    # small integers make most windows hold several maxima: torch sends the gradient to the first one
    x = rng.integers(0, 3, shape).astype(np.float64) if ties else rng.standard_normal(shape)
    compare_module(
        nn.MaxPool2d(kernel, stride, padding), torch.nn.MaxPool2d(kernel, stride, padding), [x], dtype=dtype, steps=2
    )


@pytest.mark.parametrize("options", [{}, {"count_include_pad": False}, {"divisor_override": 3}])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel,stride,padding,shape", WINDOWS, ids=IDS)
def test_avg_pool_matches_torch(
    kernel: Any, stride: Any, padding: Any, shape: tuple[int, ...], dtype: Any, options: dict[str, Any]
) -> None:
    x = np.random.default_rng(1).standard_normal(shape)
    compare_module(
        nn.AvgPool2d(kernel, stride, padding, **options),
        torch.nn.AvgPool2d(kernel, stride, padding, **options),
        [x],
        dtype=dtype,
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("output_size,shape", [
    (1, (2, 4, 5, 5)), ((3, 4), (2, 2, 7, 10)), ((2, None), (1, 3, 6, 5)), (4, (2, 2, 8, 8)), ((5, 3), (1, 2, 4, 3)),
])  # fmt: skip
def test_adaptive_avg_pool_matches_torch(output_size: Any, shape: tuple[int, ...], dtype: Any) -> None:
    x = np.random.default_rng(2).standard_normal(shape)
    compare_module(nn.AdaptiveAvgPool2d(output_size), torch.nn.AdaptiveAvgPool2d(output_size), [x], dtype=dtype)


def small_cnn(lib: Any, **kwargs: Any) -> Any:
    """conv-BN-ReLU-pool twice, then linear: the same architecture in scratchnn and torch."""
    return lib.Sequential(
        lib.Conv2d(3, 6, 3, padding=1, **kwargs),
        lib.BatchNorm2d(6),
        lib.ReLU(),
        lib.MaxPool2d(2),
        lib.Conv2d(6, 8, (3, 2), stride=(1, 2), **kwargs),
        lib.BatchNorm2d(8),
        lib.ReLU(),
        lib.AvgPool2d(2, 1),
        lib.AdaptiveAvgPool2d((2, 1)),
        lib.Flatten(),
        lib.Linear(16, 5),
    )


@pytest.mark.parametrize("train", [True, False])
def test_small_network_matches_torch(train: bool) -> None:
    x = np.random.default_rng(3).standard_normal((4, 3, 10, 12))
    compare_module(small_cnn(nn, rng=np.random.default_rng(4)), small_cnn(torch.nn), [x], train=train, steps=3)


@pytest.mark.parametrize("args", [(2,), (3, 2, 1), ((2, 3), 1, (1, 0)), ([2, 3],)])
def test_attributes_and_repr_mirror_torch(args: tuple[Any, ...]) -> None:
    for ours, theirs in [(nn.MaxPool2d(*args), torch.nn.MaxPool2d(*args)),
                         (nn.AvgPool2d(*args), torch.nn.AvgPool2d(*args))]:  # fmt: skip
        for name in ("kernel_size", "stride", "padding", "ceil_mode"):
            assert getattr(ours, name) == getattr(theirs, name), name
        assert repr(ours) == repr(theirs)
    assert nn.MaxPool2d(*args).dilation == 1 and nn.MaxPool2d(*args).return_indices is False
    assert repr(nn.AdaptiveAvgPool2d((2, None))) == repr(torch.nn.AdaptiveAvgPool2d((2, None)))


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


@pytest.mark.parametrize("make,exc,text", [
    (lambda: nn.MaxPool2d(2, dilation=2), NotImplementedError,
     "MaxPool2d(dilation=2) is not implemented in scratchnn; only dilation=1 is supported"),
    (lambda: nn.MaxPool2d(2, return_indices=True), NotImplementedError,
     "MaxPool2d(return_indices=True) is not implemented in scratchnn; only return_indices=False is supported"),
    (lambda: nn.AvgPool2d(2, ceil_mode=True), NotImplementedError,
     "AvgPool2d(ceil_mode=True) is not implemented in scratchnn; only ceil_mode=False is supported"),
    (lambda: nn.MaxPool2d(3, padding=2), ValueError,
     "Invalid value for `padding`: expected at most half the kernel size (3, 3), i.e. <= (1, 1). Received: padding=2"),
    (lambda: nn.AvgPool2d(2, divisor_override=0), ValueError,
     "Invalid value for `divisor_override`: expected an int >= 1. Received: divisor_override=0"),
    (lambda: nn.AdaptiveAvgPool2d((2, 0)), ValueError,
     "Invalid value for `output_size`: expected an int >= 1. Received: output_size=0"),
])  # fmt: skip
def test_bad_arguments(make: Any, exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=msg(text)):
        make()


@pytest.mark.parametrize("module", [nn.MaxPool2d(2), nn.AvgPool2d(3, 1, 1), nn.AdaptiveAvgPool2d(2)])
def test_missing_batch_axis(module: nn.Module) -> None:
    with pytest.raises(
        ValueError,
        match=msg(
            "Invalid shape for `input`: expected a 4-D array (N, C, H, W) "
            "(a single image needs a batch axis: x[None]). "
            "Received: input.shape=(3, 5, 5)"
        ),
    ):
        module(np.zeros((3, 5, 5), np.float32))


def test_window_larger_than_input() -> None:
    with pytest.raises(
        ValueError,
        match=msg(
            "Invalid shape for `input`: expected a padded size (H + 2*0, W + 2*0) "
            "of at least the kernel size (3, 3); the padded input is (2, 6). "
            "Received: input.shape=(1, 1, 2, 6)"
        ),
    ):
        nn.MaxPool2d(3)(np.zeros((1, 1, 2, 6), np.float32))
