"""Optimizer.load_state_dict checks everything before it changes anything, and names what does not fit."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from scratchnn import optim
from scratchnn.nn import Param

from .test_optimizer_api import params


def _stepped(cls: type, **kwargs: Any) -> optim.Optimizer:
    ps = params((2, 3), (4,), (5,))
    opt = cls([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.5}], **kwargs)
    for p in ps:
        p.grad[...] = 0.5
    opt.step()
    return opt


def _assert_untouched(opt: optim.Optimizer, load: Callable[[], None], error: type, match: str) -> None:
    groups, state, before = opt.param_groups, opt.state, copy.deepcopy(opt.state_dict())
    with pytest.raises(error, match=match):
        load()
    assert opt.param_groups is groups and opt.state is state
    after = opt.state_dict()
    assert json.dumps(after, default=np.ndarray.tolist) == json.dumps(before, default=np.ndarray.tolist)


@pytest.mark.parametrize(
    ("saved_by", "kwargs", "loaded_into", "into_kwargs", "match"),
    [
        (
            optim.Adam,
            {},
            optim.SGD,
            {"momentum": 0.9},
            r"SGD's hyperparameters, not lacking \['momentum', 'dampening', 'nesterov'\]",
        ),
        (optim.SGD, {"momentum": 0.9}, optim.Adam, {}, r"not lacking \['betas', 'eps', 'amsgrad'"),
        (optim.Adam, {}, optim.AdamW, {"amsgrad": True}, None),  # AdamW loads Adam's state, as torch
        (optim.RMSprop, {"momentum": 0.9}, optim.RMSprop, {}, None),  # the saved hyperparameters win
    ],
)
def test_another_optimizer_types_state_is_refused(
    saved_by: type, kwargs: dict[str, Any], loaded_into: type, into_kwargs: dict[str, Any], match: str | None
) -> None:
    sd = _stepped(saved_by, **kwargs).state_dict()
    target = _stepped(loaded_into, **into_kwargs)
    if match is None:
        target.load_state_dict(sd)
        return
    _assert_untouched(target, lambda: target.load_state_dict(sd), ValueError, match)


def test_state_keys_must_be_the_types_own_for_the_groups_hyperparameters() -> None:
    adam = _stepped(optim.Adam)
    sd = adam.state_dict()
    sd["state"][2] = {"momentum_buffer": np.zeros(5)}  # the last param: SGD's state in Adam's groups
    match = re.escape("`state_dict['state'][2]`: expected the state Adam keeps with its group's hyperparameters, ")
    _assert_untouched(adam, lambda: adam.load_state_dict(sd), ValueError, match + r"keys \['exp_avg', 'exp_avg_sq'")
    sd = adam.state_dict()
    sd["param_groups"][1]["amsgrad"] = True  # amsgrad needs max_exp_avg_sq, which the state lacks
    _assert_untouched(adam, lambda: adam.load_state_dict(sd), ValueError, r"Received: keys \['exp_avg', 'exp_avg_sq'")


@pytest.mark.parametrize(
    ("edit", "error", "match"),
    [
        (lambda sd: sd["state"][2].update(step=-1), ValueError, r"`state_dict\['state'\]\[2\]\['step'\]`: expected a"),
        (lambda sd: sd["state"][2].update(step=1.5), ValueError, r"expected a step count"),
        (lambda sd: sd["state"][2].update(exp_avg=np.zeros(5, np.int64)), TypeError, r"expected a floating array"),
        (lambda sd: sd["state"][2].update(exp_avg=None), TypeError, r"\['exp_avg'\]`: expected a floating array"),
        (lambda sd: sd["state"][2].update(exp_avg=np.zeros(4)), ValueError, r"Invalid shape for `state_dict"),
        (lambda sd: sd["state"].update({"x": {}}), ValueError, r"`state_dict\['state'\]`: expected keys in \[0, 3\)"),
        (lambda sd: sd["state"].update({7: {}}), ValueError, r"expected keys in \[0, 3\)"),
        (lambda sd: sd["param_groups"][1].update(params=[1]), ValueError, r"\['params'\]`: expected distinct int"),
        (lambda sd: sd["param_groups"][1].update(lr=-1.0), ValueError, r"Invalid value for `lr`"),
        (lambda sd: sd.update(param_groups=[1, 2]), ValueError, r"`state_dict\['param_groups'\]`: expected a list"),
        (lambda sd: sd.update(state=[]), TypeError, r"`state_dict\['state'\]`: expected a mapping"),
        (lambda sd: sd["state"].update({0: [1]}), TypeError, r"`state_dict\['state'\]\[0\]`: expected a dict"),
    ],
)
def test_a_bad_field_anywhere_changes_nothing(edit: Callable[[dict[str, Any]], Any], error: type, match: str) -> None:
    adam = _stepped(optim.Adam)
    sd = adam.state_dict()
    for s in sd["state"].values():
        s["exp_avg"] = s["exp_avg"] + 1  # all the other values are new
    edit(sd)
    _assert_untouched(adam, lambda: adam.load_state_dict(sd), error, match)


def test_torch_style_fields_load() -> None:
    sgd = optim.SGD([Param(np.zeros(3))], lr=0.1)
    sd = {"state": {0: {"momentum_buffer": None}}, "param_groups": [{**sgd.param_groups[0], "params": [0]}]}
    sd["param_groups"][0]["foreach"] = None  # torch's extra keys are kept, unused
    sgd.load_state_dict(sd)
    adam = _stepped(optim.Adam)
    sd = adam.state_dict()
    sd["state"][0]["step"] = np.array(1.0, np.float32)  # torch's float tensor step
    adam.load_state_dict(json.loads(json.dumps(sd, default=np.ndarray.tolist)))
    assert adam.state[adam.param_groups[0]["params"][0]]["step"] == 1
