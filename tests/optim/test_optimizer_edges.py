"""Optimizers at the edges (found by fuzzing): what params may be, values the params' dtype cannot hold, lrs set
after construction, overflowing steps, and a centered RMSprop whose variance rounds below 0."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest

from scratchnn import nn, optim


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


def _param(dtype: Any = np.float32, grad: float = 0.5) -> nn.Param:
    p = nn.Param(np.ones(3, dtype))
    p.grad = np.full(3, grad, dtype)
    return p


@pytest.mark.parametrize("params,kind", [(None, "NoneType"), (3, "int"), ("abc", "str"), (np.array(2.0), "ndarray")])
def test_params_that_are_no_iterable_of_params(params: Any, kind: str) -> None:
    """`SGD(None)` was Python's "'NoneType' object is not iterable"; a str iterated its characters."""
    text = "Invalid type for `params`: expected an iterable of Params or of param-group dicts. "
    text += f"Received: params of type {kind}"
    with pytest.raises(TypeError, match=msg(text)):
        optim.SGD(params)


def test_a_group_whose_params_are_none() -> None:
    with pytest.raises(TypeError, match=msg("Invalid type for `params`: expected a Param or an iterable of Params. "
                                            "Received: params of type NoneType")):  # fmt: skip
        optim.Adam([{"params": None}])


@pytest.mark.parametrize(
    "cls,kwargs,name,text",
    [
        (optim.SGD, {"lr": 1e300}, "lr", "<= 3.403e+38"),
        (optim.Adam, {"eps": 1e-40}, "eps", ">= 1.175e-38"),
        (optim.Adagrad, {"initial_accumulator_value": 1e39}, "initial_accumulator_value", "<= 3.403e+38"),
        (optim.RMSprop, {"weight_decay": 1e300}, "weight_decay", "<= 3.403e+38"),
    ],
)
def test_a_value_that_float32_params_cannot_hold(cls: Any, kwargs: dict[str, float], name: str, text: str) -> None:
    """In float32 an lr of 1e300 is inf (0 * inf = NaN, even for a zero gradient), an eps of 1e-40 is 0 (0 / 0)."""
    value = kwargs[name]
    expected = f"Invalid value for `{name}`: expected a float that the params' float32 holds, {text}. "
    expected += f"Received: {name}={value!r}"
    with pytest.raises(ValueError, match=msg(expected)):
        cls([_param()], **kwargs)
    cls([_param(np.float64)], **kwargs)  # float64 holds it


@pytest.mark.parametrize("lr,exc,text", [
    (math.inf, ValueError, "Invalid value for `param_groups[0]['lr']`: expected a float in [0, 3.403e+38] (finite in "
     "the params' dtype). Received: param_groups[0]['lr']=inf"),
    (-0.1, ValueError, "Invalid value for `param_groups[0]['lr']`: expected a float in [0, 3.403e+38] (finite in the "
     "params' dtype). Received: param_groups[0]['lr']=-0.1"),
    ("0.1", TypeError, "Invalid type for `param_groups[0]['lr']`: expected a float >= 0. Received: "
     "param_groups[0]['lr'] of type str"),
])  # fmt: skip
def test_an_lr_set_after_construction_is_checked_at_the_step(lr: Any, exc: type, text: str) -> None:
    p = _param()
    opt = optim.SGD([p], lr=0.1)
    opt.param_groups[0]["lr"] = lr  # as a scheduler or a user does
    with pytest.raises(exc, match=msg(text)):
        opt.step()
    np.testing.assert_array_equal(p.data, 1.0)


def test_an_overflowing_step_is_inf_without_a_warning() -> None:
    p = _param(grad=1e30)
    with np.errstate(all="warn"):  # NumPy's defaults: pytest would turn a RuntimeWarning into an error
        optim.SGD([p], lr=1e10).step()
    assert np.isneginf(p.data).all()


def test_adam_with_a_tiny_lr_in_float32_is_not_nan() -> None:
    """eps / step_size overflowed float32 in torch's order of operations: inf + 0 / 0 = NaN."""
    p = nn.Param(np.array([-3.0, 2.0, 0.0], np.float32))
    p.grad = np.array([-2e-30, 7e-31, 0.0], np.float32)
    opt = optim.Adam([p], lr=1e-154, eps=0.9)
    for _ in range(3):
        opt.step()
    np.testing.assert_array_equal(p.data, [-3.0, 2.0, 0.0])


def test_centered_rmsprop_variance_that_rounds_below_zero() -> None:
    """A constant gradient: square_avg - grad_avg^2 is -0.002 in float32 at step 5, whose root torch makes NaN."""
    p = nn.Param(np.zeros(1, np.float32))
    p.grad = np.array([-160.48346], np.float32)
    opt = optim.RMSprop([p], lr=1e-3, alpha=0.016527636, centered=True)
    for _ in range(6):
        opt.step()
    assert np.isfinite(p.data).all()


def test_a_state_value_beyond_float32_is_refused() -> None:
    p = _param()
    opt = optim.Adam([p])
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["exp_avg"] = np.full(3, 1e300)
    text = "Invalid value for `state_dict['state'][0]['exp_avg']`: expected values that the param's float32 holds. "
    with pytest.raises(
        ValueError, match=msg(text + "Received: state_dict['state'][0]['exp_avg']=array(shape=(3,), dtype=float64)")
    ):
        opt.load_state_dict(sd)
