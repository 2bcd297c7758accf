"""LR schedulers against torch.optim.lr_scheduler: 40-step lr sequences, state_dict resume, bad arguments."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as tsched

from scratchnn import optim
from scratchnn.nn import Param
from scratchnn.optim import lr_scheduler as sched

LRS = (0.1, 0.02)  # two param groups with different lrs
STEPS = 40


def _warm(e: int) -> float:
    return min(1.0, (e + 1) / 6)


def _decay(e: int) -> float:
    return 0.93**e


def make_optimizers() -> tuple[optim.SGD, torch.optim.SGD]:
    ours = optim.SGD([{"params": [Param(np.zeros(2))], "lr": LRS[0]}, {"params": [Param(np.zeros(3))], "lr": LRS[1]}])
    tps = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))]
    theirs = torch.optim.SGD([{"params": [tps[0]], "lr": LRS[0]}, {"params": [tps[1]], "lr": LRS[1]}])
    return ours, theirs


def sequential(lib: Any, opt: Any, parts: list[Callable[[Any, Any], Any]], milestones: list[int]) -> Any:
    return lib.SequentialLR(opt, [make(lib, opt) for make in parts], milestones=milestones)


# each case builds a scheduler from a module (ours or torch's) and an optimizer
CASES: dict[str, Callable[[Any, Any], Any]] = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "StepLR-1": lambda m, o: m.StepLR(o, step_size=1),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[12, 5, 12, 30], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    "CosineAnnealingLR-long": lambda m, o: m.CosineAnnealingLR(o, T_max=25),
    "LambdaLR": lambda m, o: m.LambdaLR(o, _decay),
    "LambdaLR-per-group": lambda m, o: m.LambdaLR(o, [_warm, _decay]),
    "LinearLR": lambda m, o: m.LinearLR(o),
    "LinearLR-args": lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=12),
    "SequentialLR-warmup-cosine": lambda m, o: sequential(
        m,
        o,
        [lambda m, o: m.LinearLR(o, start_factor=0.1, total_iters=5), lambda m, o: m.CosineAnnealingLR(o, 30)],
        [5],
    ),
    "SequentialLR-three": lambda m, o: sequential(
        m,
        o,
        [
            lambda m, o: m.ExponentialLR(o, gamma=0.8),
            lambda m, o: m.StepLR(o, step_size=4, gamma=0.5),
            lambda m, o: m.LambdaLR(o, _decay),
        ],
        [6, 20],
    ),
}

PLATEAU_CASES: dict[str, dict[str, Any]] = {
    "min-rel": dict(patience=2),
    "min-abs-cooldown": dict(patience=1, threshold=0.05, threshold_mode="abs", cooldown=2, factor=0.5),
    "max-rel-min_lr": dict(mode="max", patience=0, factor=0.5, min_lr=[0.01, 0.001]),
    "max-abs-eps": dict(mode="max", threshold_mode="abs", threshold=0.01, patience=1, factor=0.9, eps=1e-3),
}
# a noisy metric with plateaus, rising and falling, fed to both libraries
METRICS = [float(x) for x in np.round(np.abs(np.sin(np.arange(STEPS) / 4.0)) + np.arange(STEPS) % 7 * 0.01, 3)]


def lrs_over(opt: Any, scheduler: Any, steps: int, metrics: list[float] | None = None, torch_opt: bool = False) -> list:
    out = [list(scheduler.get_last_lr())]
    for t in range(steps):
        if torch_opt:
            opt.step()  # torch wants optimizer.step() before scheduler.step()
        scheduler.step(metrics[t]) if metrics is not None else scheduler.step()
        out.append(list(scheduler.get_last_lr()) + [g["lr"] for g in opt.param_groups])
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_lr_sequence_equals_torch(case: str) -> None:
    ours_opt, torch_opt = make_optimizers()
    ours = lrs_over(ours_opt, CASES[case](sched, ours_opt), STEPS)
    theirs = lrs_over(torch_opt, CASES[case](tsched, torch_opt), STEPS, torch_opt=True)
    assert ours == theirs  # the same float operations in the same order: equal to the last bit


@pytest.mark.parametrize("case", list(PLATEAU_CASES))
def test_reduce_lr_on_plateau_equals_torch(case: str) -> None:
    ours_opt, torch_opt = make_optimizers()
    ours_s = sched.ReduceLROnPlateau(ours_opt, **PLATEAU_CASES[case])
    theirs_s = tsched.ReduceLROnPlateau(torch_opt, **PLATEAU_CASES[case])
    ours = lrs_over(ours_opt, ours_s, STEPS, METRICS)
    assert ours == lrs_over(torch_opt, theirs_s, STEPS, METRICS, torch_opt=True)
    assert len({tuple(lr) for lr in ours}) > 2, "the metric sequence should trigger several cuts"
    assert (ours_s.best, ours_s.num_bad_epochs, ours_s.cooldown_counter) == (
        theirs_s.best,
        theirs_s.num_bad_epochs,
        theirs_s.cooldown_counter,
    )


def _resume(make: Callable[[Any, Any], Any], metrics: list[float] | None, cut: int = 15) -> tuple[list, list]:
    opt, _ = make_optimizers()
    straight = lrs_over(opt, make(sched, opt), STEPS, metrics)
    opt, _ = make_optimizers()
    first = make(sched, opt)
    head = lrs_over(opt, first, cut, metrics)
    saved_opt = opt.state_dict()
    saved = json.loads(json.dumps(first.state_dict()))  # JSON-able: numbers, strings, lists only
    opt, _ = make_optimizers()
    second = make(sched, opt)  # built first, as in torch: construction overwrites the lrs
    opt.load_state_dict(saved_opt)
    second.load_state_dict(saved)
    tail = lrs_over(opt, second, STEPS - cut, metrics[cut:] if metrics else None)
    return straight, head + tail[1:]


@pytest.mark.parametrize("case", list(CASES))
def test_state_dict_round_trip_mid_sequence(case: str) -> None:
    straight, resumed = _resume(CASES[case], None)
    assert resumed == straight


@pytest.mark.parametrize("case", list(PLATEAU_CASES))
def test_plateau_state_dict_round_trip_mid_sequence(case: str) -> None:
    straight, resumed = _resume(lambda m, o: m.ReduceLROnPlateau(o, **PLATEAU_CASES[case]), METRICS)
    assert resumed == straight


def test_lambda_lr_state_dict_does_not_save_functions() -> None:
    opt, _ = make_optimizers()
    sd = sched.LambdaLR(opt, [_warm, _decay]).state_dict()
    assert sd["lr_lambdas"] == [None, None]
    assert sd["base_lrs"] == list(LRS) and sd["last_epoch"] == 0


def test_closed_form_matches_torch_at_every_epoch() -> None:
    # the closed forms are what SequentialLR uses at milestones; check them on their own
    for case in ("StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR-args"):
        ours_opt, torch_opt = make_optimizers()
        ours, theirs = CASES[case](sched, ours_opt), CASES[case](tsched, torch_opt)
        for epoch in range(STEPS):
            ours.last_epoch = theirs.last_epoch = epoch
            assert ours._get_closed_form_lr() == theirs._get_closed_form_lr(), (case, epoch)


def test_cosine_matches_its_closed_form_within_t_max() -> None:
    opt, _ = make_optimizers()
    s = sched.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    for t in range(1, 11):
        s.step()
        expected = 0.001 + (LRS[0] - 0.001) * (1 + math.cos(math.pi * t / 10)) / 2
        assert s.get_last_lr()[0] == pytest.approx(expected, rel=1e-12)


def test_resuming_with_last_epoch_needs_initial_lr() -> None:
    opt, _ = make_optimizers()
    with pytest.raises(ValueError, match=r"Invalid value for `last_epoch`: expected -1 unless resuming.*initial_lr"):
        sched.StepLR(opt, step_size=3, last_epoch=4)


BAD_ARGS: list[tuple[Callable[[Any], Any], type[Exception], str]] = [
    (
        lambda o: sched.StepLR(o, step_size=0),
        ValueError,
        "Invalid value for `step_size`: expected an int >= 1. Received: step_size=0",
    ),
    (lambda o: sched.StepLR(o, step_size=2.5), TypeError, "Invalid type for `step_size`: expected an int >= 1"),
    (lambda o: sched.StepLR(o, 2, gamma=-0.1), ValueError, "Invalid value for `gamma`: expected a float in [0, inf)"),
    (
        lambda o: sched.MultiStepLR(o, milestones=[3, -1]),
        ValueError,
        "Invalid value for `milestones`: expected an int >= 0",
    ),
    (lambda o: sched.ExponentialLR(o, gamma=-1), ValueError, "Invalid value for `gamma`"),
    (
        lambda o: sched.CosineAnnealingLR(o, T_max=0),
        ValueError,
        "Invalid value for `T_max`: expected an int >= 1. Received: T_max=0",
    ),
    (lambda o: sched.CosineAnnealingLR(o, 5, eta_min=-1e-3), ValueError, "Invalid value for `eta_min`"),
    (
        lambda o: sched.LambdaLR(o, [_warm]),
        ValueError,
        "Invalid value for `lr_lambda`: expected one function or a list of 2",
    ),
    (lambda o: sched.LambdaLR(o, 0.5), TypeError, "Invalid type for `lr_lambda`: expected a function of the epoch"),
    (
        lambda o: sched.LinearLR(o, start_factor=0),
        ValueError,
        "Invalid value for `start_factor`: expected a float in (0, 1]. Received: start_factor=0",
    ),
    (
        lambda o: sched.LinearLR(o, end_factor=1.5),
        ValueError,
        "Invalid value for `end_factor`: expected a float in [0, 1]",
    ),
    (lambda o: sched.LinearLR(o, total_iters=0), ValueError, "Invalid value for `total_iters`: expected an int >= 1"),
    (
        lambda o: sched.StepLR("sgd", 2),
        TypeError,
        "Invalid type for `optimizer`: expected a scratchnn.optim.Optimizer. Received: optimizer of type str",
    ),
    (
        lambda o: sched.ReduceLROnPlateau(o, mode="avg"),
        ValueError,
        "Invalid value for `mode`: expected one of 'min', 'max'. Received: mode='avg'",
    ),
    (
        lambda o: sched.ReduceLROnPlateau(o, threshold_mode="pct"),
        ValueError,
        "Invalid value for `threshold_mode`: expected one of 'rel', 'abs'",
    ),
    (
        lambda o: sched.ReduceLROnPlateau(o, factor=1.0),
        ValueError,
        "Invalid value for `factor`: expected a float in [0, 1). Received: factor=1.0",
    ),
    (
        lambda o: sched.ReduceLROnPlateau(o, patience=-1),
        ValueError,
        "Invalid value for `patience`: expected an int >= 0",
    ),
    (
        lambda o: sched.ReduceLROnPlateau(o, min_lr=[0.1]),
        ValueError,
        "Invalid value for `min_lr`: expected one float or a list of 2",
    ),
    (lambda o: sched.ReduceLROnPlateau(o).step("low"), TypeError, "Invalid type for `metrics`: expected a number"),
    (
        lambda o: sched.SequentialLR(o, [sched.StepLR(o, 2), sched.StepLR(o, 3)], milestones=[]),
        ValueError,
        "Invalid value for `milestones`: expected 1 epochs (one fewer than the schedulers)",
    ),
    (
        lambda o: sched.SequentialLR(o, [sched.StepLR(o, 2), sched.ReduceLROnPlateau(o)], milestones=[3]),
        TypeError,
        "Invalid type for `schedulers[1]`: expected an epoch-indexed LRScheduler",
    ),
    (
        lambda o: sched.SequentialLR(o, [sched.StepLR(make_optimizers()[0], 2)], milestones=[]),
        ValueError,
        "Invalid value for `schedulers[0]`: expected a scheduler of the optimizer passed to SequentialLR",
    ),
    (
        lambda o: sched.SequentialLR(o, [], milestones=[]),
        ValueError,
        "Invalid value for `schedulers`: expected a non-empty list",
    ),
    (
        lambda o: sched.StepLR(o, 2).load_state_dict({"last_epoch": 3}),
        ValueError,
        "Invalid value for `state_dict`: expected a StepLR state_dict with keys",
    ),
]


@pytest.mark.parametrize("build,error,message", BAD_ARGS, ids=range(len(BAD_ARGS)))
def test_bad_arguments_raise_the_template_errors(build: Callable[[Any], Any], error: type, message: str) -> None:
    opt, _ = make_optimizers()
    with pytest.raises(error, match=re.escape(message)):
        build(opt)


def test_numpy_scalars_from_a_lambda_become_python_floats() -> None:
    opt, _ = make_optimizers()
    s = sched.LambdaLR(opt, lambda e: np.float32(0.5) ** e)  # float32 lrs would otherwise leak into the groups
    s.step()
    assert [type(g["lr"]) for g in opt.param_groups] == [float, float]
    assert opt.param_groups[0]["lr"] == pytest.approx(LRS[0] * 0.5, rel=1e-7)
    json.dumps(s.state_dict())
