"""Optimizers against torch.optim: 25-step trajectories, state buffers, state_dict round trips and interop.

Both sides get the gradient of the same fixed nonquadratic function, each evaluated at its own
weights, so any difference in an update rule feeds back into the next gradients.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import torch

from scratchnn import optim
from scratchnn.nn import Param

TORCH = {name: getattr(torch.optim, name) for name in ("SGD", "Adagrad", "RMSprop", "Adam", "AdamW")}
SHAPES = [(5, 4), (4,), (), (3, 2, 2)]
TOL = {np.float64: dict(rtol=1e-11, atol=1e-13), np.float32: dict(rtol=2e-5, atol=2e-6)}

CASES: list[tuple[str, dict[str, Any]]] = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.05, nesterov=True, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, eps=1e-6, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(momentum=0.9)),
    ("RMSprop", dict(centered=True)),
    ("RMSprop", dict(weight_decay=0.1, alpha=0.9)),
    ("RMSprop", dict(momentum=0.5, centered=True, maximize=True, eps=1e-6)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, maximize=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, maximize=True)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for name, kw in CASES]


def grad_fn(w: np.ndarray, k: int) -> np.ndarray:
    """The gradient both sides follow: nonquadratic in w, different for each param k."""
    return np.asarray(np.tanh(w * (1 + 0.1 * k)) + 0.3 * w * np.cos(w) + 0.05 * (k + 1), dtype=w.dtype)


class Pair:
    """Our optimizer and torch's over equal initial params, stepped with the same gradient function."""

    def __init__(
        self,
        name: str,
        kwargs: dict[str, Any],
        dtype: Any,
        *,
        groups: bool = False,
        shapes: list[tuple[int, ...]] = SHAPES,
        seed: int = 0,
    ) -> None:
        rng = np.random.default_rng(seed)
        init = [rng.standard_normal(s).astype(dtype) for s in shapes]
        self.ps = [Param(a) for a in init]
        self.tps = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in init]
        self.ours = getattr(optim, name)(self._groups(self.ps, kwargs, groups), **kwargs)
        self.theirs = TORCH[name](self._groups(self.tps, kwargs, groups), foreach=False, **kwargs)

    @staticmethod
    def _groups(params: list[Any], kwargs: dict[str, Any], groups: bool) -> Any:
        if not groups:
            return params
        # the second group overrides lr and weight decay; the first keeps the optimizer's defaults
        return [
            {"params": params[:2]},
            {"params": params[2:], "lr": kwargs.get("lr", 0.01) * 0.5, "weight_decay": 0.05},
        ]

    def step(self, n: int = 1, *, check: bool = True) -> None:
        for _ in range(n):
            for k, (p, tp) in enumerate(zip(self.ps, self.tps)):
                p.grad[...] = grad_fn(p.data, k)
                tp.grad = torch.from_numpy(grad_fn(tp.detach().numpy(), k))
            self.ours.step()
            self.theirs.step()
            if check:
                self.assert_params_close()

    def assert_params_close(self) -> None:
        for i, (p, tp) in enumerate(zip(self.ps, self.tps)):
            assert p.data.dtype == tp.detach().numpy().dtype, f"param {i} dtype"
            np.testing.assert_allclose(p.data, tp.detach().numpy(), **TOL[p.data.dtype.type], err_msg=f"param {i}")


def assert_state_matches_torch(ours: dict[str, Any], theirs: dict[str, Any], dtype: Any) -> None:
    """Same state keys per param and equal buffers; our group keys are a subset of torch's, values equal."""
    assert sorted(ours["state"]) == sorted(theirs["state"])
    for i, state in ours["state"].items():
        assert set(state) == set(theirs["state"][i]), f"state keys of param {i}"
        for key, value in state.items():
            t = theirs["state"][i][key]
            t = t.detach().numpy() if isinstance(t, torch.Tensor) else t
            if key == "step":
                assert value == t, f"state[{i}]['step']"
            else:
                np.testing.assert_allclose(value, t, **TOL[dtype], err_msg=f"state[{i}][{key!r}]")
    for g, tg in zip(ours["param_groups"], theirs["param_groups"], strict=True):
        assert set(g) <= set(tg), f"group keys {set(g) - set(tg)} not in torch's"
        for key, value in g.items():
            assert value == tg[key], f"param_groups[...][{key!r}]: {value} != torch {tg[key]}"


@pytest.mark.parametrize("groups", [False, True], ids=["one-group", "two-groups"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_trajectory_matches_torch(name: str, kwargs: dict[str, Any], dtype: Any, groups: bool) -> None:
    pair = Pair(name, kwargs, dtype, groups=groups)
    pair.step(25)
    assert_state_matches_torch(pair.ours.state_dict(), pair.theirs.state_dict(), dtype)


THREAD_CASES = [
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.1, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.05, nesterov=True, maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(momentum=0.5, centered=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("AdamW", dict(lr=0.01, amsgrad=True)),
]


@pytest.mark.parametrize("name,kwargs", THREAD_CASES, ids=[name for name, _ in THREAD_CASES])
def test_large_params_split_over_threads_match_torch_and_serial_bitwise(name: str, kwargs: dict[str, Any]) -> None:
    results = []
    for threads in (1, 3):  # (330, 300) is cut into 3 chunks, updated on 3 threads
        optim.set_num_threads(threads)
        try:
            pair = Pair(name, kwargs, np.float32, shapes=[(330, 300), (7,)])
            pair.step(5)
        finally:
            optim.set_num_threads(None)
        results.append([p.data.copy() for p in pair.ps])
    for serial, threaded in zip(*results):
        np.testing.assert_array_equal(serial, threaded)


ROUND_TRIP = [CASES[2], CASES[11], CASES[16], CASES[19], CASES[21], CASES[23]]
RT_IDS = ["SGD-momentum", "Adagrad", "RMSprop-centered-momentum", "Adam-L2", "Adam-decoupled-amsgrad", "AdamW-amsgrad"]


def _json_round_trip(sd: dict[str, Any]) -> Any:
    return json.loads(json.dumps(sd, default=lambda a: a.tolist()))


@pytest.mark.parametrize("via_json", [False, True], ids=["dict", "json"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,kwargs", ROUND_TRIP, ids=RT_IDS)
def test_state_dict_round_trip_resumes_exactly(name: str, kwargs: dict[str, Any], dtype: Any, via_json: bool) -> None:
    straight = Pair(name, kwargs, dtype, groups=True)
    straight.step(20, check=False)
    first = Pair(name, kwargs, dtype, groups=True)
    first.step(10, check=False)
    sd = first.ours.state_dict()
    params_at_10 = [p.data.copy() for p in first.ps]
    first.step(3, check=False)  # stepping on must not change the saved copy
    resumed = Pair(name, kwargs, dtype, groups=True)  # a fresh optimizer over fresh params
    for p, saved in zip(resumed.ps, params_at_10):
        p.data[...] = saved
    resumed.ours.load_state_dict(_json_round_trip(sd) if via_json else sd)
    resumed.step(10, check=False)
    for p, q in zip(resumed.ps, straight.ps):
        assert p.data.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(p.data, q.data)
    assert all(s["step"] == 10 for s in sd["state"].values() if "step" in s)


@pytest.mark.parametrize("name,kwargs", ROUND_TRIP, ids=RT_IDS)
def test_torch_state_dict_loads_into_ours_and_ours_into_torch(name: str, kwargs: dict[str, Any]) -> None:
    a = Pair(name, kwargs, np.float64, groups=True)
    a.step(8)
    b = Pair(name, kwargs, np.float64, groups=True, seed=1)
    for p, tp, q in zip(b.ps, b.tps, a.ps):
        p.data[...] = q.data
        with torch.no_grad():
            tp.copy_(torch.from_numpy(q.data.copy()))
    # b's optimizers take the other library's state: ours gets torch's, torch gets ours
    theirs_sd = a.theirs.state_dict()
    b.ours.load_state_dict(
        {
            "state": {
                i: {k: v.numpy() if isinstance(v, torch.Tensor) else v for k, v in s.items()}
                for i, s in theirs_sd["state"].items()
            },
            "param_groups": theirs_sd["param_groups"],
        }
    )
    ours_sd = a.ours.state_dict()
    b.theirs.load_state_dict(
        {
            "state": {
                i: {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in s.items()}
                for i, s in ours_sd["state"].items()
            },
            "param_groups": ours_sd["param_groups"],
        }
    )
    a.step(8)
    b.step(8)
    for p, q in zip(a.ps, b.ps):
        np.testing.assert_allclose(p.data, q.data, **TOL[np.float64])
