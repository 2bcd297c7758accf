"""Gradient clipping against torch.nn.utils: clip_grad_norm_ (p = 2, 1, inf, 3) and clip_grad_value_."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import torch

from scratchnn.nn import Param
from scratchnn.nn.utils import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm

SHAPES = [(4, 3), (5,), (), (2, 2, 3)]
TOL = {np.float64: dict(rtol=1e-12, atol=1e-14), np.float32: dict(rtol=2e-6, atol=1e-7)}


def pair(dtype: Any, seed: int = 0) -> tuple[list[Param], list[torch.nn.Parameter]]:
    rng = np.random.default_rng(seed)
    ps, tps = [], []
    for s in SHAPES:
        p = Param(rng.standard_normal(s).astype(dtype))
        p.grad[...] = rng.standard_normal(s) * 3
        tp = torch.nn.Parameter(torch.from_numpy(p.data.copy()))
        tp.grad = torch.from_numpy(np.array(p.grad, copy=True))
        ps.append(p)
        tps.append(tp)
    return ps, tps


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), "inf", 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e4], ids=["clips", "no-op"])
def test_clip_grad_norm_matches_torch(norm_type: Any, max_norm: float, dtype: Any) -> None:
    ps, tps = pair(dtype)
    before = [p.grad.copy() for p in ps]
    total = clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type=norm_type, foreach=False)
    assert isinstance(total, float)
    np.testing.assert_allclose(total, t_total.item(), **TOL[dtype])
    for p, tp in zip(ps, tps):
        assert p.grad.dtype == np.dtype(dtype)
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), **TOL[dtype])
    if max_norm == 0.5:  # the clipped gradients have the target norm (up to the 1e-6 guard)
        assert get_total_norm([p.grad for p in ps], norm_type) == pytest.approx(max_norm, rel=1e-5)
    else:
        for p, b in zip(ps, before):
            np.testing.assert_allclose(p.grad, b, rtol=1e-15)


def test_clip_grad_norm_accepts_one_param_and_generators() -> None:
    ps, tps = pair(np.float64)
    total = clip_grad_norm_(ps[0], 0.1)
    t_total = torch.nn.utils.clip_grad_norm_(tps[0], 0.1, foreach=False)
    np.testing.assert_allclose(total, t_total.item(), rtol=1e-12)
    np.testing.assert_allclose(ps[0].grad, tps[0].grad.numpy(), rtol=1e-12)
    assert clip_grad_norm_((p for p in ps), 1e9) > 0
    assert clip_grad_norm_([], 1.0) == 0.0


def test_nonfinite_total_norm() -> None:
    ps, _ = pair(np.float64)
    ps[1].grad[2] = np.inf
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is non-finite"):
        clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    assert np.isinf(ps[1].grad[2]), "an error leaves the gradients untouched"
    with np.errstate(all="warn"):  # inf * 0 is NaN, in torch as well, without NumPy's warning (found by fuzzing)
        assert clip_grad_norm_(ps, 1.0, norm_type="inf", error_if_nonfinite=False) == np.inf
    assert np.isnan(ps[1].grad[2]) and np.all(ps[0].grad == 0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("clip_value", [0.5, 2.0, 100.0])
def test_clip_grad_value_matches_torch(clip_value: float, dtype: Any) -> None:
    ps, tps = pair(dtype)
    clip_grad_value_(ps, clip_value)
    torch.nn.utils.clip_grad_value_(tps, clip_value, foreach=False)
    for p, tp in zip(ps, tps):
        assert p.grad.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(p.grad, tp.grad.numpy())
        assert np.all(np.abs(p.grad) <= clip_value)


@pytest.mark.parametrize(
    "call,error,message",
    [
        (
            lambda ps: clip_grad_norm_(ps, -1.0),
            ValueError,
            "Invalid value for `max_norm`: expected a float in [0, inf]",
        ),
        (
            lambda ps: clip_grad_norm_(ps, 1.0, norm_type=0),
            ValueError,
            "Invalid value for `norm_type`: expected a float in (0, inf]",
        ),
        (
            lambda ps: clip_grad_norm_(ps, 1.0, norm_type="two"),
            TypeError,
            "Invalid type for `norm_type`: expected a float > 0 or inf",
        ),
        (
            lambda ps: clip_grad_norm_([ps[0].grad], 1.0),
            TypeError,
            "Invalid type for `parameters`: expected a Param or an iterable of Params",
        ),
        (  # found by fuzzing: Python's "'NoneType' object is not iterable"
            lambda ps: clip_grad_norm_(None, 1.0),
            TypeError,
            "Invalid type for `parameters`: expected a Param or an iterable of Params. Received: parameters of type "
            "NoneType",
        ),
        (  # found by fuzzing: float("x") was Python's ValueError
            lambda ps: clip_grads_with_norm_(ps, 1.0, "x"),
            TypeError,
            "Invalid type for `total_norm`: expected a float >= 0 (a norm, NaN allowed). "
            "Received: total_norm of type str",
        ),
        (
            lambda ps: clip_grads_with_norm_(ps, 1.0, -2.0),
            ValueError,
            "Invalid value for `total_norm`: expected a float >= 0 (a norm, NaN allowed). Received: total_norm=-2.0",
        ),
        (  # found by fuzzing: NumPy's "ufunc 'absolute' did not contain a loop"
            lambda ps: get_total_norm(["abc"]),
            TypeError,
            "Invalid type for `tensors[i]`: expected a numpy.ndarray. Received: tensors[i] of type str",
        ),
        (
            lambda ps: get_total_norm([np.ones(3, np.float16)]),
            TypeError,
            "Invalid type for `tensors[i]`: expected a floating numpy.ndarray (float32 or float64), not dtype float16",
        ),
        (
            lambda ps: clip_grad_norm_(ps, 1.0, error_if_nonfinite="no"),
            TypeError,
            "Invalid type for `error_if_nonfinite`: expected a bool. Received: error_if_nonfinite of type str",
        ),
        (
            lambda ps: clip_grad_value_(ps, -0.5),
            ValueError,
            "Invalid value for `clip_value`: expected a float in [0, inf]. Received: clip_value=-0.5",
        ),
    ],
)
def test_bad_arguments(call: Any, error: type, message: str) -> None:
    ps, _ = pair(np.float64)
    with pytest.raises(error, match=re.escape(message)):
        call(ps)


@pytest.mark.parametrize("scale", [1e-30, 1e20])
def test_the_2_norm_of_tiny_or_huge_float32_gradients(scale: float) -> None:
    """Found by fuzzing: the squares of 1e-30 underflow to 0 in float32 (a total norm of 0), those of 1e20 overflow."""
    g = np.array([3.0, 4.0], np.float32) * np.float32(scale)
    assert get_total_norm([g]) == pytest.approx(5 * scale, rel=1e-6)
    p = Param(np.zeros(2, np.float32))
    p.grad = g.copy()
    max_norm = 1.0 if scale < 1 else 2.5 * scale  # torch's +1e-6 in the divisor dwarfs a total of 5e-30
    assert clip_grad_norm_(p, max_norm) == pytest.approx(5 * scale, rel=1e-6)
    np.testing.assert_allclose(p.grad, g if scale < 1 else g / 2, rtol=1e-5)


def test_an_order_of_1e300_is_the_maximum_not_an_overflow() -> None:
    g = np.array([0.5, -2.0, 1.5])
    assert get_total_norm([g], norm_type=1e300) == 2.0
    assert get_total_norm([g], norm_type=1e-3) == np.inf  # (sum |g|^p)^(1/p) with 1/p = 1000
