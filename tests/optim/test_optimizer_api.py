"""The Optimizer contract: param groups, zero_grad, closures, dtypes, load_state_dict checks, bad hyperparameters."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import torch

from scratchnn import optim
from scratchnn.nn import Param

from .test_optim_torch import Pair


def params(*shapes: tuple[int, ...], dtype: Any = np.float64) -> list[Param]:
    rng = np.random.default_rng(0)
    return [Param(rng.standard_normal(s).astype(dtype)) for s in shapes]


BAD_HYPERPARAMETERS = [
    (optim.SGD, dict(lr=-0.1), "Invalid value for `lr`: expected a float in [0, inf). Received: lr=-0.1"),
    (
        optim.SGD,
        dict(momentum=-0.5),
        "Invalid value for `momentum`: expected a float in [0, 1). Received: momentum=-0.5",
    ),
    (optim.SGD, dict(weight_decay=-1), "Invalid value for `weight_decay`: expected a float in [0, inf)"),
    (optim.SGD, dict(nesterov=True), "Invalid value for `nesterov`: expected False unless momentum > 0 and dampening"),
    (optim.SGD, dict(momentum=0.9, dampening=0.1, nesterov=True), "Received: nesterov=True"),
    (optim.Adagrad, dict(lr_decay=-0.1), "Invalid value for `lr_decay`: expected a float in [0, inf)"),
    (optim.Adagrad, dict(initial_accumulator_value=-1.0), "Invalid value for `initial_accumulator_value`"),
    (optim.Adagrad, dict(eps=-1e-10), "Invalid value for `eps`: expected a float in (0, inf). Received: eps=-1e-10"),
    (optim.RMSprop, dict(alpha=-0.1), "Invalid value for `alpha`: expected a float in [0, 1). Received: alpha=-0.1"),
    (optim.RMSprop, dict(momentum=-0.1), "Invalid value for `momentum`"),
    (optim.RMSprop, dict(eps=-1.0), "Invalid value for `eps`"),
    (optim.Adam, dict(lr=-1e-3), "Invalid value for `lr`: expected a float in [0, inf). Received: lr=-0.001"),
    (
        optim.Adam,
        dict(betas=(1.0, 0.999)),
        "Invalid value for `betas[0]`: expected a float in [0, 1). Received: betas[0]=1.0",
    ),
    (
        optim.Adam,
        dict(betas=(0.9, -0.1)),
        "Invalid value for `betas[1]`: expected a float in [0, 1). Received: betas[1]=-0.1",
    ),
    (optim.Adam, dict(eps=-1e-8), "Invalid value for `eps`: expected a float in (0, inf). Received: eps=-1e-08"),
    (optim.AdamW, dict(weight_decay=-0.01), "Invalid value for `weight_decay`: expected a float in [0, inf)"),
    (optim.AdamW, dict(betas=(0.9, 1.0)), "Invalid value for `betas[1]`: expected a float in [0, 1)"),
]

# hyperparameters torch accepts that can only give inf or NaN parameters: scratchnn is stricter
IMPOSSIBLE_HYPERPARAMETERS = [
    (optim.SGD, dict(lr=float("inf")), "Invalid value for `lr`: expected a float in [0, inf). Received: lr=inf"),
    (optim.SGD, dict(lr=float("nan")), "Invalid value for `lr`: expected a float in [0, inf). Received: lr=nan"),
    (optim.SGD, dict(momentum=1.0), "Invalid value for `momentum`: expected a float in [0, 1). Received: momentum=1.0"),
    (optim.SGD, dict(momentum=0.9, dampening=2), "Invalid value for `dampening`: expected a float in [0, 1]"),
    (optim.SGD, dict(weight_decay=float("inf")), "Invalid value for `weight_decay`: expected a float in [0, inf)"),
    (optim.RMSprop, dict(alpha=2), "Invalid value for `alpha`: expected a float in [0, 1). Received: alpha=2"),
    (optim.RMSprop, dict(momentum=1.5), "Invalid value for `momentum`: expected a float in [0, 1)"),
    (optim.RMSprop, dict(eps=0), "Invalid value for `eps`: expected a float in (0, inf). Received: eps=0"),
    (optim.Adam, dict(eps=0), "Invalid value for `eps`: expected a float in (0, inf). Received: eps=0"),
    (optim.Adam, dict(eps=float("inf")), "Invalid value for `eps`: expected a float in (0, inf)"),
    (optim.AdamW, dict(lr=float("inf")), "Invalid value for `lr`: expected a float in [0, inf). Received: lr=inf"),
    (optim.AdamW, dict(weight_decay=float("inf")), "Invalid value for `weight_decay`: expected a float in [0, inf)"),
    (optim.Adagrad, dict(eps=0.0), "Invalid value for `eps`: expected a float in (0, inf). Received: eps=0.0"),
    (optim.Adagrad, dict(lr_decay=float("inf")), "Invalid value for `lr_decay`: expected a float in [0, inf)"),
    (optim.Adagrad, dict(initial_accumulator_value=float("inf")), "Invalid value for `initial_accumulator_value`"),
]


@pytest.mark.parametrize("cls,kwargs,message", BAD_HYPERPARAMETERS + IMPOSSIBLE_HYPERPARAMETERS)
def test_bad_hyperparameters_raise_the_template_error(cls: type, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        cls(params((2, 3)), **kwargs)


@pytest.mark.parametrize(
    "cls,kwargs,message",
    [
        (optim.SGD, dict(lr="0.1"), "Invalid type for `lr`: expected a float in [0, inf). Received: lr of type str"),
        (optim.Adam, dict(amsgrad=1), "Invalid type for `amsgrad`: expected a bool. Received: amsgrad of type int"),
        (optim.Adam, dict(betas=0.9), "Invalid type for `betas`: expected a pair of floats (beta1, beta2)"),
        (optim.RMSprop, dict(centered="yes"), "Invalid type for `centered`: expected a bool"),
    ],
)
def test_bad_hyperparameter_types_raise_type_errors(cls: type, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=re.escape(message)):
        cls(params((2,)), **kwargs)


@pytest.mark.parametrize("cls,kwargs,message", IMPOSSIBLE_HYPERPARAMETERS)
def test_torch_accepts_what_scratchnn_refuses(cls: type, kwargs: dict[str, Any], message: str) -> None:
    # the docstrings say so: torch builds these optimizers; their steps give inf or NaN parameters
    getattr(torch.optim, cls.__name__)([torch.nn.Parameter(torch.zeros(2))], **kwargs)


def test_group_hyperparameters_are_validated_too() -> None:
    with pytest.raises(
        ValueError, match=re.escape("Invalid value for `lr`: expected a float in [0, inf). Received: lr=-1")
    ):
        optim.SGD([{"params": params((2,))}, {"params": params((3,)), "lr": -1}], lr=0.1)


def test_bad_params_arguments() -> None:
    (p,) = params((2,))
    with pytest.raises(ValueError, match="Invalid value for `params`: expected a non-empty iterable"):
        optim.SGD([])
    with pytest.raises(TypeError, match="Invalid type for `params`: expected an iterable of Params"):
        optim.SGD(p)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected scratchnn.nn.Param objects. Received: params of type ndarray"):
        optim.SGD([p.data])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="expected Params that are in no other parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}])
    with pytest.raises(ValueError, match="expected each Param once"):
        optim.SGD([p, p])
    with pytest.raises(TypeError, match="an ordered collection of Params"):
        optim.SGD([{"params": {p}}])


def test_param_groups_take_defaults_and_generators_work() -> None:
    ps = params((2,), (3,))
    opt = optim.Adam([{"params": iter(ps[:1])}, {"params": ps[1], "lr": 0.5, "betas": [0.8, 0.9]}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["betas"] == (0.9, 0.999)
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["betas"] == (0.8, 0.9)
    assert opt.param_groups[1]["params"] == [ps[1]]
    assert optim.SGD(p for p in ps).param_groups[0]["params"] == ps
    assert "Parameter Group 1" in repr(opt) and "lr: 0.5" in repr(opt)


def test_zero_grad_and_closure() -> None:
    ps = params((2, 2), (3,))
    for p in ps:
        p.grad[...] = 1.0
    opt = optim.SGD(ps, lr=0.1)
    calls = []
    loss = opt.step(lambda: calls.append(1) or 3.5)
    assert loss == 3.5 and calls == [1]
    assert opt.step() is None
    opt.zero_grad()
    assert all(np.all(p.grad == 0) for p in ps)


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adagrad, optim.RMSprop, optim.Adam, optim.AdamW])
def test_float32_params_and_state_stay_float32_with_numpy_float64_hyperparameters(cls: type) -> None:
    ps = params((4, 3), dtype=np.float32)
    ps[0].grad[...] = 0.5
    opt = cls(ps, lr=np.float64(0.01))
    opt.param_groups[0]["lr"] = np.float64(0.02)  # as a user or a scheduler might set it
    opt.step()
    assert ps[0].data.dtype == np.float32
    for value in opt.state.get(ps[0], {}).values():
        assert not isinstance(value, np.ndarray) or value.dtype == np.float32


def test_add_param_group_midway_matches_torch() -> None:
    pair = Pair("Adam", dict(lr=0.01, weight_decay=0.1), np.float64, shapes=[(3, 2), (4,)])
    pair.step(5)
    extra = np.random.default_rng(5).standard_normal((2, 2))
    pair.ps.append(Param(extra))
    pair.tps.append(torch.nn.Parameter(torch.from_numpy(extra.copy())))
    pair.ours.add_param_group({"params": [pair.ps[-1]], "lr": 0.03, "amsgrad": True})
    pair.theirs.add_param_group({"params": [pair.tps[-1]], "lr": 0.03, "amsgrad": True})
    pair.step(10)


def test_adagrad_state_is_created_at_construction_like_torch() -> None:
    pair = Pair("Adagrad", dict(initial_accumulator_value=0.25), np.float64)
    ours, theirs = pair.ours.state_dict(), pair.theirs.state_dict()
    assert sorted(ours["state"]) == sorted(theirs["state"]) == [0, 1, 2, 3]
    assert ours["state"][0]["step"] == 0 and float(theirs["state"][0]["step"]) == 0
    np.testing.assert_array_equal(ours["state"][0]["sum"], theirs["state"][0]["sum"].numpy())


def test_adamw_is_adam_with_decoupled_decay_and_stays_decoupled_after_loading() -> None:
    a, b = params((3, 3)), params((3, 3))
    for p in a + b:
        p.grad[...] = 0.3
    adamw = optim.AdamW(a, lr=0.1, weight_decay=0.2)
    adam = optim.Adam(b, lr=0.1, weight_decay=0.2, decoupled_weight_decay=True)
    for _ in range(3):
        adamw.step()
        adam.step()
    np.testing.assert_array_equal(a[0].data, b[0].data)
    coupled = optim.Adam(params((3, 3)), lr=0.1, weight_decay=0.2)
    adamw.load_state_dict(coupled.state_dict())
    assert adamw.param_groups[0]["decoupled_weight_decay"] is True


def test_load_state_dict_checks_groups_params_and_shapes() -> None:
    opt = optim.Adam([{"params": params((2, 3), (4,))}, {"params": params((5,))}])
    for p in opt.param_groups[0]["params"]:
        p.grad[...] = 1.0
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match=re.escape("Invalid value for `len(state_dict['param_groups'])`: expected 1")):
        optim.Adam(params((2, 3), (4,), (5,))).load_state_dict(sd)
    other = optim.Adam([{"params": params((2, 3))}, {"params": params((4,), (5,))}])
    with pytest.raises(ValueError, match=re.escape("`len(state_dict['param_groups'][0]['params'])`: expected 1")):
        other.load_state_dict(sd)
    wrong_shape = optim.Adam([{"params": params((3, 2), (4,))}, {"params": params((5,))}])
    with pytest.raises(ValueError, match=re.escape("Invalid shape for `state_dict['state'][0]['exp_avg']`: expected")):
        wrong_shape.load_state_dict(sd)
    with pytest.raises(TypeError, match="expected a mapping with 'state' and 'param_groups' keys"):
        opt.load_state_dict({"state": {}})
    assert opt.state_dict()["param_groups"][1]["params"] == [2]


def test_state_dict_is_a_copy() -> None:
    ps = params((3,))
    ps[0].grad[...] = 1.0
    opt = optim.SGD(ps, lr=0.1, momentum=0.9)
    opt.step()
    sd = opt.state_dict()
    saved = sd["state"][0]["momentum_buffer"].copy()
    opt.step()
    np.testing.assert_array_equal(sd["state"][0]["momentum_buffer"], saved)
    sd["param_groups"][0]["lr"] = 5.0
    assert opt.param_groups[0]["lr"] == 0.1


def test_num_threads_setting() -> None:
    assert optim.get_num_threads() == 1  # the default: threads are opt-in
    try:
        optim.set_num_threads(3)
        assert optim.get_num_threads() == 3
        with pytest.raises(ValueError, match=re.escape("`num_threads`: expected an int >= 1. Received: num_threads=0")):
            optim.set_num_threads(0)
    finally:
        optim.set_num_threads(None)
    assert optim.get_num_threads() == 1


def test_worker_threads_see_the_callers_errstate() -> None:
    # conftest runs every test under np.errstate(all="raise"); the overflow happens in the chunk a worker updates
    p = Param(np.ones(4 * 2**15, dtype=np.float32))
    p.grad[2**16 :] = 1e30  # the second half: the worker's chunk
    opt = optim.Adam([p])
    try:
        optim.set_num_threads(2)
        with pytest.raises(FloatingPointError, match="overflow"):
            opt.step()
        q = Param(np.ones_like(p.data))
        q.grad[...] = p.grad
        with np.errstate(over="ignore"):  # allowed here, so no warning (an error under pytest) from the worker
            optim.Adam([q]).step()
        assert np.all(np.isfinite(q.data))
    finally:
        optim.set_num_threads(None)
