"""LR schedulers at the edges (found by fuzzing): milestones of any kind, lr functions returning anything, a
group added after the scheduler, lrs that round below 0, and states that do not fit."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest

from scratchnn import nn, optim
from scratchnn.optim import lr_scheduler as sched


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


def _opt(lr: float = 0.1) -> optim.SGD:
    p = nn.Param(np.ones(2, np.float32))
    p.grad = np.ones(2, np.float32)
    return optim.SGD([p], lr=lr)


def test_milestones_of_a_0d_array() -> None:
    """Iterating np.array(2) was NumPy's "iteration over a 0-d array"."""
    text = "Invalid type for `milestones`: expected a list of epochs (ints). Received: milestones of type ndarray"
    with pytest.raises(TypeError, match=msg(text)):
        sched.MultiStepLR(_opt(), milestones=np.array(2))
    assert sched.MultiStepLR(_opt(), milestones=np.array([2, 4])).milestones == [2, 4]


@pytest.mark.parametrize("returned,exc,text", [
    ("x", TypeError, "Invalid type for `lr_lambda`: expected a function returning a number (the lr factor). "
     "Received: lr_lambda of type str"),
    (None, TypeError, "Invalid type for `lr_lambda`: expected a function returning a number (the lr factor). "
     "Received: lr_lambda of type NoneType"),
    (math.nan, ValueError, "Invalid value for `lr_lambda`: expected a function returning a finite number >= 0 (the "
     "lr factor). Received: lr_lambda=nan"),
    (-1.0, ValueError, "Invalid value for `lr_lambda`: expected a function returning a finite number >= 0 (the lr "
     "factor). Received: lr_lambda=-1.0"),
])  # fmt: skip
def test_an_lr_function_returning_no_usable_factor(returned: Any, exc: type, text: str) -> None:
    """base_lr * "x" was Python's TypeError; NaN and -1 became lrs that every later step used."""
    with pytest.raises(exc, match=msg(text)):
        sched.LambdaLR(_opt(), lambda epoch: returned)


def test_a_group_added_after_the_scheduler() -> None:
    opt = _opt()
    s = sched.LambdaLR(opt, lambda epoch: 0.5)
    opt.add_param_group({"params": [nn.Param(np.zeros(1))]})
    text = "Invalid value for `optimizer`: expected the 1 param groups LambdaLR was built with (one was added since). "
    with pytest.raises(ValueError, match=msg(text + "Received: optimizer='2 groups'")):  # was zip()'s message
        s.step()


@pytest.mark.parametrize(
    "make", [lambda o: sched.LinearLR(o, 0.5, end_factor=0.0, total_iters=3), lambda o: sched.CosineAnnealingLR(o, 7)]
)
def test_schedules_to_zero_never_go_below_it(make: Any) -> None:
    """torch's recursion rounds to -1e-18 at the end, which the optimizer now refuses: such lrs are 0."""
    opt = _opt(0.9)
    s = make(opt)
    for _ in range(12):
        opt.step()  # refuses a negative lr
        s.step()
        assert s.get_last_lr()[0] >= 0


@pytest.mark.parametrize("key,value,exc,text", [
    ("gamma", {}, TypeError, "Invalid type for `state_dict['gamma']`: expected a float in [0, inf). "
     "Received: state_dict['gamma'] of type dict"),
    ("last_epoch", range(3), TypeError, "Invalid type for `state_dict['last_epoch']`: expected an int >= -1. "
     "Received: state_dict['last_epoch'] of type range"),
    ("base_lrs", [0.1, 0.2], ValueError, "Invalid value for `state_dict['base_lrs']`: expected a list of 1 lrs, one "
     "per param group. Received: state_dict['base_lrs']=[0.1, 0.2]"),
    ("step_size", 0, ValueError, "Invalid value for `state_dict['step_size']`: expected an int >= 1. "
     "Received: state_dict['step_size']=0"),
])  # fmt: skip
def test_a_state_that_does_not_fit_changes_nothing(key: str, value: Any, exc: type, text: str) -> None:
    """load_state_dict set anything it was given; step() then failed with Python's own errors."""
    s = sched.StepLR(_opt(), step_size=2, gamma=0.5)
    before = s.state_dict()
    sd = {**before, key: value}
    with pytest.raises(exc, match=msg(text)):
        s.load_state_dict(sd)
    assert s.state_dict() == before


def test_sequential_state_with_the_wrong_number_of_milestones() -> None:
    opt = _opt()
    s = sched.SequentialLR(opt, [sched.LinearLR(opt, 0.1, total_iters=2), sched.ExponentialLR(opt, 0.9)], [2])
    sd = {**s.state_dict(), "_milestones": [2, 4]}
    text = "Invalid value for `state_dict['_milestones']`: expected 1 epochs (one fewer than the schedulers). "
    with pytest.raises(ValueError, match=msg(text + "Received: state_dict['_milestones']=[2, 4]")):
        s.load_state_dict(sd)  # an IndexError in step() before
    s.load_state_dict(s.state_dict())
