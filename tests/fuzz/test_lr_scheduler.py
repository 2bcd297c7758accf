"""Every LR scheduler of ``scratchnn.optim.lr_scheduler`` under random hyperparameters, metrics and states.

Valid hyperparameters give finite lrs >= 0, one per param group, at every step (and the optimizer steps to
finite params); one hyperparameter replaced by anything raises the template error naming it, or schedules
lrs that the optimizer either steps with or refuses with the template error; an impossible one (a negative
or infinite gamma, step_size < 1, a factor outside its interval, ...) must raise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

from scratchnn import nn, optim
from scratchnn.optim import lr_scheduler as sched

from .props import assert_library_error, assert_unchanged, attempt, fuzz, junk, snapshot

EPOCH = st.integers(1, 8)
# scheduler -> its hyperparameters with valid values (the optimizer comes first, positionally)
VALID: dict[type, dict[str, st.SearchStrategy[Any]]] = {
    sched.LambdaLR: {"lr_lambda": st.sampled_from([lambda e: 0.9**e, lambda e: 1.0 / (e + 1), lambda e: float(e % 3)])},
    sched.StepLR: {"step_size": EPOCH, "gamma": st.floats(0, 2)},
    sched.MultiStepLR: {"milestones": st.lists(st.integers(0, 12), max_size=4), "gamma": st.floats(0, 2)},
    sched.ExponentialLR: {"gamma": st.floats(0, 1.5)},
    sched.LinearLR: {"start_factor": st.floats(1e-3, 1), "end_factor": st.floats(0, 1), "total_iters": EPOCH},
    sched.CosineAnnealingLR: {"T_max": EPOCH, "eta_min": st.floats(0, 0.1)},
    sched.ReduceLROnPlateau: {"mode": st.sampled_from(["min", "max"]), "factor": st.floats(0, 0.99),
                              "patience": st.integers(0, 3), "threshold": st.floats(0, 1),
                              "threshold_mode": st.sampled_from(["rel", "abs"]), "cooldown": st.integers(0, 3),
                              "min_lr": st.floats(0, 1e-3), "eps": st.floats(0, 1e-3)},
    sched.SequentialLR: {"milestones": st.just([3])},  # schedulers: a warmup, then a cosine (built below)
}  # fmt: skip
NEG = st.floats(max_value=-1e-9, allow_infinity=True)
BAD_FLOAT = st.one_of(NEG, st.sampled_from([math.inf, math.nan, None, "0.1", [0.1], np.array([0.5, 0.5])]))
BAD_INT = st.one_of(st.integers(max_value=0), st.sampled_from([1.5, None, "2", math.inf, np.array([2, 3])]))
IMPOSSIBLE: dict[tuple[type, str], st.SearchStrategy[Any]] = {
    (sched.StepLR, "step_size"): BAD_INT,
    (sched.StepLR, "gamma"): BAD_FLOAT,
    (sched.MultiStepLR, "gamma"): BAD_FLOAT,
    (sched.MultiStepLR, "milestones"): st.sampled_from([None, 3, "12", [-1], [1.5], np.array(2), [None]]),
    (sched.ExponentialLR, "gamma"): BAD_FLOAT,
    (sched.LinearLR, "start_factor"): st.one_of(BAD_FLOAT, st.just(0.0), st.floats(1.0001, 1e9)),
    (sched.LinearLR, "end_factor"): st.one_of(BAD_FLOAT, st.floats(1.0001, 1e9)),
    (sched.LinearLR, "total_iters"): BAD_INT,
    (sched.CosineAnnealingLR, "T_max"): BAD_INT,
    (sched.CosineAnnealingLR, "eta_min"): BAD_FLOAT,
    (sched.ReduceLROnPlateau, "factor"): st.one_of(BAD_FLOAT, st.floats(1, 1e9)),
    (sched.ReduceLROnPlateau, "patience"): st.one_of(st.integers(max_value=-1), st.sampled_from([None, 1.5])),
    (sched.ReduceLROnPlateau, "min_lr"): st.one_of(BAD_FLOAT.filter(lambda v: not isinstance(v, list)),
                                                   st.sampled_from([[0.1, 0.2, 0.3], [-1.0, -1.0], [math.inf]])),
    (sched.ReduceLROnPlateau, "mode"): st.sampled_from(["mid", None, 0]),
    (sched.LambdaLR, "lr_lambda"): st.sampled_from([None, 0.5, [lambda e: 1.0] * 3, lambda e: "x", lambda e: -1.0,
                                                    lambda e: math.nan, lambda e: None]),
}  # fmt: skip


def test_every_scheduler_has_a_fuzz_row() -> None:
    names = [getattr(sched, n) for n in sched.__all__ if getattr(sched, n) is not sched.LRScheduler]
    missing = [c.__name__ for c in names if c not in VALID]
    assert not missing, f"schedulers without a row in VALID (tests/fuzz/test_lr_scheduler.py): {missing}"


def _optimizer(data: Any) -> tuple[Any, list[nn.Param]]:
    params = [nn.Param(np.ones(3, np.float32)), nn.Param(np.ones((2, 2)))]
    for p in params:
        p.grad = np.full(p.shape, 0.5, p.dtype)
    groups = [{"params": params[:1]}, {"params": params[1:], "lr": data.draw(st.floats(0, 1))}]
    return optim.SGD(groups if data.draw(st.booleans()) else params, lr=data.draw(st.floats(0, 1))), params


def _kwargs(data: Any, cls: type, opt: Any) -> dict[str, Any]:
    kwargs = {k: data.draw(v) for k, v in VALID[cls].items()}
    if cls is sched.SequentialLR:
        kwargs["schedulers"] = [sched.LinearLR(opt, 0.1, total_iters=3), sched.CosineAnnealingLR(opt, T_max=5)]
    return kwargs


def _run(s: Any, opt: Any, params: list[nn.Param], data: Any, epochs: int) -> None:
    """Epochs of optimizer.step() then scheduler.step(); every lr a finite float >= 0, or the optimizer refuses it."""
    for _ in range(epochs):
        ok, _ = attempt(opt.step)
        if not ok:  # an lr the params' dtype cannot hold, from a scheduler given a huge gamma: refused by name
            return
        if isinstance(s, sched.ReduceLROnPlateau):
            metric = data.draw(st.one_of(st.floats(allow_nan=True), st.sampled_from([np.float32(1.0), np.array(2.0)])))
            s.step(metric)
        else:
            s.step()
        lrs = s.get_last_lr()
        assert len(lrs) == len(opt.param_groups) and all(isinstance(lr, float) for lr in lrs), lrs
        assert all(lr >= 0 and not math.isnan(lr) for lr in lrs), lrs
    assert all(np.isfinite(p.data).all() for p in params)


@pytest.mark.parametrize("cls", list(VALID), ids=[c.__name__ for c in VALID])
@fuzz(data=st.data())
def test_valid_hyperparameters_give_finite_lrs(cls: type, data: Any) -> None:
    opt, params = _optimizer(data)
    s = cls(opt, **_kwargs(data, cls, opt))
    _run(s, opt, params, data, data.draw(st.integers(1, 30)))
    assert all(math.isfinite(lr) for lr in s.get_last_lr())


@pytest.mark.parametrize("cls", list(VALID), ids=[c.__name__ for c in VALID])
@fuzz(data=st.data())
def test_any_hyperparameter_value(cls: type, data: Any) -> None:
    opt, params = _optimizer(data)
    kwargs = _kwargs(data, cls, opt)
    name = data.draw(st.sampled_from(sorted(kwargs) + ["last_epoch"] * (cls is not sched.ReduceLROnPlateau)))
    kwargs[name] = data.draw(junk())
    before = snapshot({k: v for k, v in kwargs.items() if k != "schedulers"})
    ok, s = attempt(cls, opt, **kwargs)
    assert_unchanged(before, {k: v for k, v in kwargs.items() if k != "schedulers"}, "a scheduler argument")
    if ok:
        _run(s, opt, params, data, 10)
    else:
        assert s.startswith(name) or s in ("optimizer", "schedulers"), f"names `{s}`, not `{name}`"


@pytest.mark.parametrize("key", list(IMPOSSIBLE), ids=[f"{c.__name__}-{n}" for c, n in IMPOSSIBLE])
@fuzz(data=st.data())
def test_impossible_hyperparameter_is_refused(key: tuple[type, str], data: Any) -> None:
    cls, name = key
    opt, _ = _optimizer(data)
    kwargs = {**_kwargs(data, cls, opt), name: data.draw(IMPOSSIBLE[key])}
    try:
        cls(opt, **kwargs)
    except Exception as e:  # noqa: BLE001
        assert_library_error(e, name)
    else:
        raise AssertionError(f"{cls.__name__} accepted the impossible {name}={kwargs[name]!r}")


@pytest.mark.parametrize("cls", list(VALID), ids=[c.__name__ for c in VALID])
@fuzz(data=st.data())
def test_load_state_dict_with_one_entry_replaced(cls: type, data: Any) -> None:
    """A saved state with one entry replaced: the template error with the scheduler as it was, or lrs as above."""
    opt, params = _optimizer(data)
    s = cls(opt, **_kwargs(data, cls, opt))
    _run(s, opt, params, data, 2)
    sd = s.state_dict()
    key = data.draw(st.sampled_from(sorted(k for k in sd if k != "_schedulers")))
    sd[key] = data.draw(junk())
    before = snapshot({k: v for k, v in s.state_dict().items() if k != "_schedulers"})
    ok, _ = attempt(s.load_state_dict, sd)
    if not ok:
        assert_unchanged(before, {k: v for k, v in s.state_dict().items() if k != "_schedulers"}, "the scheduler")
        return
    _run(s, opt, params, data, 3)
