"""Every optimizer of ``scratchnn.optim`` under random params, gradients, groups and hyperparameters.

Valid hyperparameters step to finite params of unchanged shape and dtype without touching the gradients;
any hyperparameter replaced by anything raises the template error or steps without a warning (to finite
params where the value is in the valid range drawn below); an impossible hyperparameter (a negative,
infinite or NaN lr, a decay outside [0, 1), eps <= 0, a value the params' dtype cannot hold, Nesterov
without momentum or with dampening, ...) must raise, naming it. Schedulers: test_lr_scheduler.py.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

from scratchnn import nn, optim

from .props import FLOATS, arrays, assert_library_error, assert_unchanged, attempt, fuzz, junk, shapes, snapshot

SAFE_VALUES = ("normal", "zeros", "integers", "tiny")  # |x| <~ 10: a step's size is the hyperparameters' doing
RATE = st.floats(0, 10)
UNIT = st.floats(0, 0.999)
FLAG = st.booleans()
EPS = st.floats(1e-8, 1)
# optimizer -> its hyperparameters with valid values
VALID: dict[type, dict[str, st.SearchStrategy[Any]]] = {
    optim.SGD: {"lr": RATE, "momentum": UNIT, "dampening": st.floats(0, 1), "weight_decay": RATE, "nesterov": FLAG,
                "maximize": FLAG},
    optim.Adagrad: {"lr": RATE, "lr_decay": RATE, "weight_decay": RATE, "initial_accumulator_value": RATE, "eps": EPS,
                    "maximize": FLAG},
    optim.RMSprop: {"lr": RATE, "alpha": UNIT, "eps": EPS, "weight_decay": RATE, "momentum": UNIT, "centered": FLAG,
                    "maximize": FLAG},
    optim.Adam: {"lr": RATE, "betas": st.tuples(UNIT, UNIT), "eps": EPS, "weight_decay": RATE, "amsgrad": FLAG,
                 "maximize": FLAG, "decoupled_weight_decay": FLAG},
    optim.AdamW: {"lr": RATE, "betas": st.tuples(UNIT, UNIT), "eps": EPS, "weight_decay": RATE, "amsgrad": FLAG,
                  "maximize": FLAG},
}  # fmt: skip
NOT_A_NUMBER = st.sampled_from([None, "0.1", [0.1], np.array([0.1, 0.2]), True, 1 + 1j, object()])
NEGATIVE = st.floats(max_value=-1e-300, allow_infinity=True)
NON_FINITE = st.sampled_from([math.inf, math.nan, -math.inf, np.float64("nan"), np.float32("inf")])
TOO_BIG_FOR_F32 = st.floats(3.5e38, 1e308)
# hyperparameter -> values that can never give finite params (for float32 params): each must be refused
IMPOSSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "lr": st.one_of(NEGATIVE, NON_FINITE, TOO_BIG_FOR_F32, NOT_A_NUMBER),
    "weight_decay": st.one_of(NEGATIVE, NON_FINITE, TOO_BIG_FOR_F32, NOT_A_NUMBER),
    "lr_decay": st.one_of(NEGATIVE, NON_FINITE, NOT_A_NUMBER),
    "initial_accumulator_value": st.one_of(NEGATIVE, NON_FINITE, NOT_A_NUMBER),
    "eps": st.one_of(NEGATIVE, NON_FINITE, st.just(0.0), st.floats(1e-300, 1e-39), NOT_A_NUMBER),
    "momentum": st.one_of(NEGATIVE, NON_FINITE, st.floats(1, 1e300), NOT_A_NUMBER),
    "alpha": st.one_of(NEGATIVE, NON_FINITE, st.floats(1, 1e300), NOT_A_NUMBER),
    "dampening": st.one_of(NEGATIVE, NON_FINITE, st.floats(1.0001, 1e300), NOT_A_NUMBER),
    "betas": st.one_of(
        st.tuples(st.one_of(NEGATIVE, NON_FINITE, st.floats(1, 10)), UNIT).map(lambda b: b[::-1] if b[1] > 0.5 else b),
        st.sampled_from([None, 0.9, (0.9,), (0.9, 0.99, 0.999), "ab", (0.9, None)]),
    ),
    "nesterov": st.sampled_from([None, 1, "yes", np.array(True)]),
    "maximize": st.sampled_from([None, 0, "no", [True]]),
    "amsgrad": st.sampled_from([None, 1, "yes"]),
    "centered": st.sampled_from([None, 1.0, "yes"]),
    "decoupled_weight_decay": st.sampled_from([None, 0, "yes"]),
}


def test_every_optimizer_has_a_fuzz_row() -> None:
    public = [getattr(optim, n) for n in optim.__all__]
    classes = [c for c in public if isinstance(c, type) and issubclass(c, optim.Optimizer) and c is not optim.Optimizer]
    missing = [c.__name__ for c in classes if c not in VALID]
    assert not missing, f"optimizers without a row in VALID (tests/fuzz/test_optim.py): {missing}"


def _params(data: Any) -> list[nn.Param]:
    params = []
    for _ in range(data.draw(st.integers(1, 3))):
        p = nn.Param(data.draw(arrays(shapes(0, 3), FLOATS, values=SAFE_VALUES)))
        p.grad = data.draw(arrays(st.just(p.shape), p.dtype, values=SAFE_VALUES, layouts=("C", "F", "transposed")))
        params.append(p)
    return params


def _hyper(data: Any, cls: type) -> dict[str, Any]:
    kwargs = {k: data.draw(v) for k, v in VALID[cls].items()}
    if kwargs.get("nesterov"):  # Nesterov needs momentum and no dampening
        kwargs.update(momentum=data.draw(st.floats(0.01, 0.99)), dampening=0.0)
    if kwargs.get("centered"):  # the centered second moment of alpha ~ 0 is ~0: steps of g / eps (1e8 g)
        kwargs["alpha"] = max(kwargs["alpha"], 0.5)
    return kwargs


def _steps(opt: Any, params: list[nn.Param], n: int = 3) -> None:
    grads = snapshot([p.grad for p in params])
    shapes_before = [(p.data.shape, p.data.dtype) for p in params]
    for _ in range(n):
        opt.step()
    assert_unchanged(grads, [p.grad for p in params], "a gradient (a step only reads them)")
    assert [(p.data.shape, p.data.dtype) for p in params] == shapes_before


@pytest.mark.parametrize("cls", list(VALID), ids=[c.__name__ for c in VALID])
@fuzz(data=st.data())
def test_valid_hyperparameters_step_to_finite_params(cls: type, data: Any) -> None:
    params = _params(data)
    kwargs = _hyper(data, cls)
    if len(params) > 1 and data.draw(st.booleans()):  # param groups, the second with its own hyperparameters
        groups: Any = [{"params": params[:1]}, {"params": params[1:], **_hyper(data, cls)}]
    else:
        groups = params if data.draw(st.booleans()) else iter(params)  # a list or a generator
    opt = cls(groups, **kwargs)
    _steps(opt, params)
    for p in params:
        assert np.isfinite(p.data).all(), f"{cls.__name__} stepped to non-finite params with {kwargs}"
        for name, value in opt.state[p].items():
            if isinstance(value, np.ndarray):
                assert value.shape == p.shape and value.dtype == p.dtype, name


@pytest.mark.parametrize("cls", list(VALID), ids=[c.__name__ for c in VALID])
@fuzz(data=st.data())
def test_any_hyperparameter_value(cls: type, data: Any) -> None:
    """One hyperparameter replaced by anything: the template error naming it, or steps without a warning."""
    params = _params(data)
    kwargs = _hyper(data, cls)
    name = data.draw(st.sampled_from(sorted(kwargs)))
    kwargs[name] = data.draw(junk())
    before = snapshot(kwargs)
    ok, opt = attempt(cls, params, **kwargs)
    assert_unchanged(before, kwargs, "a hyperparameter")
    if not ok:  # a momentum or dampening that Nesterov cannot take is named as nesterov (the rule is its)
        assert opt.startswith(name) or (opt == "nesterov" and kwargs.get("nesterov") is True), (opt, name)
        return
    _steps(opt, params)
    value, valid = kwargs[name], VALID[cls][name]
    in_range = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 10
    if in_range and name not in ("momentum", "alpha", "betas") and not kwargs.get("nesterov"):
        assert all(np.isfinite(p.data).all() for p in params), f"non-finite params with {name}={value!r} ({valid})"


@pytest.mark.parametrize("cls", list(VALID), ids=[c.__name__ for c in VALID])
@fuzz(data=st.data())
def test_impossible_hyperparameter_is_refused(cls: type, data: Any) -> None:
    params = [nn.Param(np.ones((2, 3), np.float32))]
    kwargs = _hyper(data, cls)
    name = data.draw(st.sampled_from(sorted(k for k in kwargs if k in IMPOSSIBLE)))
    kwargs[name] = data.draw(IMPOSSIBLE[name])
    try:
        cls(params, **kwargs)
    except Exception as e:  # noqa: BLE001
        assert_library_error(e, name)
    else:
        raise AssertionError(f"{cls.__name__} accepted the impossible {name}={kwargs[name]!r}")


@fuzz(momentum=st.floats(0, 0.99), dampening=st.floats(0, 1), lr=RATE)
def test_nesterov_needs_momentum_and_no_dampening(momentum: float, dampening: float, lr: float) -> None:
    params = [nn.Param(np.zeros(3))]
    ok, result = attempt(optim.SGD, params, lr=lr, momentum=momentum, dampening=dampening, nesterov=True)
    assert ok == (momentum > 0 and dampening == 0), (momentum, dampening, result)
    assert ok or result == "nesterov"


@pytest.mark.parametrize("cls", list(VALID), ids=[c.__name__ for c in VALID])
@fuzz(data=st.data())
def test_params_of_any_kind(cls: type, data: Any) -> None:
    """None, a number, a Param, arrays, an empty list, groups without 'params', a param listed twice, ..."""
    p = nn.Param(np.zeros(2))
    params = data.draw(
        st.one_of(
            junk(),
            st.sampled_from(
                [
                    [],
                    [p, p],
                    [{"lr": 0.1}],
                    [{"params": None}],
                    [{"params": [p]}, {"params": [p]}],
                    [{"params": 3}],
                    [{"params": {p}}],
                    [p, {"params": [p]}],
                    (p,),
                    {"params": [p]},
                    [p],
                ]
            ),
        )  # fmt: skip
    )
    ok, opt = attempt(cls, params)
    if ok:
        opt.step()
        assert np.isfinite(p.data).all()


@pytest.mark.parametrize("cls", list(VALID), ids=[c.__name__ for c in VALID])
@fuzz(data=st.data())
def test_load_state_dict_with_one_entry_replaced(cls: type, data: Any) -> None:
    """A saved state with one hyperparameter or state entry replaced: the template error and the optimizer as it
    was, or a state that steps without a warning."""
    params = _params(data)
    opt = cls(params, **_hyper(data, cls))
    _steps(opt, params, 1)
    sd = opt.state_dict()
    leaves = [("param_groups", 0, k) for k in sd["param_groups"][0] if k != "params"]
    leaves += [("state", i, k) for i, s in sd["state"].items() for k in s]
    where = data.draw(st.sampled_from(leaves))
    sd[where[0]][where[1]][where[2]] = data.draw(st.one_of(junk(), arrays(shapes(0, 3), FLOATS)))
    before = snapshot(opt.state_dict())
    ok, _ = attempt(opt.load_state_dict, sd)
    if not ok:
        assert_unchanged(before, opt.state_dict(), "the optimizer after a failed load")
        return
    _steps(opt, params, 1)
