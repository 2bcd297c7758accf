"""``nn.init.*``, ``nn.utils`` (gradient clipping) and ``Param`` under random arrays and arguments.

An initializer fills the array it is given in place (same object, shape, dtype and strides) with finite
values in its bounds, or raises the template error; clipping leaves every gradient's shape and dtype,
returns a total norm >= 0 and brings the norm down to ``max_norm``; a Param takes float32/float64 data and
a gradient of exactly its shape and dtype.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

from scratchnn import nn
from scratchnn.nn import init, utils

from .props import (
    ANY_DTYPE,
    FINITE_VALUES,
    FLOATS,
    LAYOUTS,
    VALUES,
    arrays,
    assert_library_error,
    assert_unchanged,
    attempt,
    fuzz,
    junk,
    shapes,
    snapshot,
)

NUMBER = st.one_of(st.floats(-3, 3), st.sampled_from([0.0, 1.0, 1e-3, 1e30, -1e30]))
# initializer -> its keyword arguments with valid values (a strategy each)
INITS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "constant_": {"val": NUMBER},
    "ones_": {},
    "zeros_": {},
    "uniform_": {"a": st.floats(-3, 0), "b": st.floats(0, 3)},
    "normal_": {"mean": NUMBER, "std": st.floats(0, 3)},
    "trunc_normal_": {"mean": st.floats(-3, 3), "std": st.floats(0.01, 3), "a": st.floats(-50, 0),
                      "b": st.floats(0.1, 50)},
    "xavier_uniform_": {"gain": st.floats(0, 3)},
    "xavier_normal_": {"gain": st.floats(0, 3)},
    "kaiming_uniform_": {"a": st.floats(-3, 3), "mode": st.sampled_from(["fan_in", "fan_out"]),
                         "nonlinearity": st.sampled_from(["relu", "leaky_relu", "tanh", "linear", "selu"])},
    "kaiming_normal_": {"a": st.floats(-3, 3), "mode": st.sampled_from(["fan_in", "fan_out"]),
                        "nonlinearity": st.sampled_from(["relu", "leaky_relu", "sigmoid", "conv2d"])},
    "orthogonal_": {"gain": st.floats(-3, 3)},
}  # fmt: skip
RANDOM = {"uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
          "kaiming_normal_", "orthogonal_"}  # fmt: skip


def test_every_initializer_has_a_fuzz_row() -> None:
    missing = [name for name in init.__all__ if name != "calculate_gain" and name not in INITS]
    assert not missing, f"initializers without a row in INITS (tests/fuzz/test_init_utils.py): {missing}"


def _check_filled(name: str, arr: np.ndarray, kwargs: dict[str, Any], layout: Any) -> None:
    assert arr.shape == layout[0] and arr.dtype == layout[1] and arr.strides == layout[2], "not filled in place"
    assert np.isfinite(arr).all(), f"{name} wrote non-finite values"
    if name == "uniform_":
        assert (arr >= arr.dtype.type(kwargs.get("a", 0.0))).all() and (
            arr <= arr.dtype.type(kwargs.get("b", 1.0))
        ).all()
    if name == "trunc_normal_" and arr.size:
        assert arr.min() >= arr.dtype.type(kwargs["a"]) and arr.max() <= arr.dtype.type(kwargs["b"])


@pytest.mark.parametrize("name", sorted(INITS))
@fuzz(data=st.data())
def test_initializer(name: str, data: Any) -> None:
    """Valid arguments, or one replaced by anything; any array (float16, read-only, empty, strided, ...)."""
    target = data.draw(arrays(shapes(0, 4), FLOATS if data.draw(st.booleans()) else ANY_DTYPE, values=FINITE_VALUES))
    if data.draw(st.booleans()) and target.dtype in FLOATS:
        target = nn.Param(target)
    kwargs = {k: data.draw(v) for k, v in INITS[name].items()}
    if kwargs and data.draw(st.booleans()):
        kwargs[data.draw(st.sampled_from(sorted(kwargs)))] = data.draw(junk())
    if name in RANDOM and data.draw(st.booleans()):
        kwargs["rng"] = data.draw(st.one_of(st.just(np.random.default_rng(1)), junk()))
    arr = target.data if isinstance(target, nn.Param) else target
    layout, args = (arr.shape, arr.dtype, arr.strides), snapshot(kwargs)
    ok, result = attempt(getattr(init, name), target, **kwargs)
    assert_unchanged(args, kwargs, "an initializer's argument")
    if ok:
        assert result is target
        _check_filled(name, arr, kwargs, layout)


@fuzz(nonlinearity=st.one_of(st.sampled_from(["relu", "leaky_relu", "tanh", "selu", "linear"]), junk()),
      param=st.one_of(st.none(), junk()))  # fmt: skip
def test_calculate_gain(nonlinearity: Any, param: Any) -> None:
    ok, gain = attempt(init.calculate_gain, nonlinearity, param)
    if ok:
        assert isinstance(gain, float) and math.isfinite(gain) and gain >= 0


def _params(data: Any, values: tuple[str, ...]) -> list[nn.Param]:
    params = []
    for _ in range(data.draw(st.integers(0, 3))):
        p = nn.Param(data.draw(arrays(shapes(0, 3), FLOATS, values=FINITE_VALUES)))
        p.grad = data.draw(arrays(st.just(p.shape), p.dtype, values=values, layouts=("C", "F", "transposed")))
        params.append(p)
    return params


@fuzz(data=st.data())
def test_clip_grad_norm(data: Any) -> None:
    params = _params(data, data.draw(st.sampled_from([FINITE_VALUES, VALUES])))
    finite = all(np.isfinite(p.grad).all() for p in params)
    max_norm = data.draw(st.one_of(st.floats(0, 10), junk()))
    norm_type = data.draw(st.one_of(st.sampled_from([1, 2, 2.0, 3.5, 0.5, math.inf, "inf", 1e300, 1e-3]), junk()))
    before = snapshot([(p.data, p.grad.shape, p.grad.dtype) for p in params])
    ok, total = attempt(utils.clip_grad_norm_, params, max_norm, norm_type)
    assert_unchanged(before, [(p.data, p.grad.shape, p.grad.dtype) for p in params], "a param's data or grad layout")
    if not ok:
        return
    assert isinstance(total, float) and (total >= 0 or math.isnan(total)), total
    if finite and math.isfinite(total) and total > 0:
        p = float(utils.clip_grad._norm_type(norm_type))
        after = utils.get_total_norm([q.grad for q in params], p)
        assert after <= max(max_norm, 0) * (1 + 1e-5) + 1e-6 or after <= total * (1 + 1e-5), (after, max_norm, total)


@fuzz(data=st.data())
def test_clip_grad_value_and_total_norm(data: Any) -> None:
    params = _params(data, FINITE_VALUES)
    clip_value = data.draw(st.one_of(st.floats(0, 10), junk()))
    ok, _ = attempt(utils.clip_grad_value_, params, clip_value)
    if ok:
        assert all((np.abs(p.grad) <= clip_value).all() for p in params)
    tensors = data.draw(st.one_of(st.just([p.grad for p in params]), junk(), st.lists(junk(), max_size=2)))
    ok, total = attempt(utils.get_total_norm, tensors)
    if ok:
        flat = np.concatenate([np.ravel(t).astype(np.float64) for t in tensors]) if len(tensors) else np.zeros(0)
        assert total == pytest.approx(float(np.linalg.norm(flat)), rel=1e-4, abs=1e-30)


@fuzz(data=st.data())
def test_param(data: Any) -> None:
    """A Param of any array or value; a gradient of any kind assigned to it."""
    value = data.draw(st.one_of(arrays(shapes(0, 3), ANY_DTYPE, values=VALUES, layouts=LAYOUTS), junk()))
    before = snapshot(value)
    ok, p = attempt(nn.Param, value)
    assert_unchanged(before, value, "the data given to Param")
    if not ok:
        return
    assert p.data.dtype in FLOATS and p.grad.shape == p.data.shape and not p.grad.any()
    assert p.data is not value  # a copy
    grad = data.draw(st.one_of(junk(), arrays(st.just(p.shape), ANY_DTYPE), arrays(shapes(0, 3), p.dtype)))
    try:
        p.grad = grad
    except Exception as e:  # noqa: BLE001
        assert_library_error(e, "grad")
        assert p.grad.shape == p.shape
    else:
        assert p.grad is grad and grad.shape == p.shape and grad.dtype == p.dtype
