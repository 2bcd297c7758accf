"""Every public Module class of ``scratchnn.nn`` and ``scratchnn.models`` under random inputs.

(a) any input or upstream gradient: a result or the library's template error; (b) forward and backward
leave their arguments, and forward the parameters, as they were (BatchNorm's running statistics in
training are the one documented change); (c) a valid input gives the documented output shape and the
parameters' dtype, finite for finite input, and backward gives an input gradient of the input's shape
and dtype and parameter gradients of the parameters' shapes and dtypes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import assume
from hypothesis import strategies as st

from scratchnn import models, nn

from .calls import Draw
from .module_specs import SPECS, Case, ModuleSpec
from .props import (
    BAD_DTYPES,
    FINITE_VALUES,
    FLOATS,
    VALUES,
    assert_library_error,
    assert_unchanged,
    attempt,
    fuzz,
    is_finite,
    junk,
    shapes,
    snapshot,
)

WITH_FORWARD = [s for s in SPECS if s.cls is not nn.ModuleList]
IDS = [s.cls.__name__ for s in WITH_FORWARD]


def _public_module_classes() -> list[type]:
    found = []
    for package in (nn, models):
        for name in package.__all__:
            obj = getattr(package, name)
            if isinstance(obj, type) and issubclass(obj, nn.Module) and obj is not nn.Module:
                found.append(obj)
    return found


def test_every_module_class_has_a_fuzz_spec() -> None:
    """A new public Module (an RNN, attention, a model, ...) needs a row in tests/fuzz/module_specs.py."""
    covered = {spec.cls for spec in SPECS}
    missing = [cls.__name__ for cls in _public_module_classes() if cls not in covered]
    assert not missing, f"Module classes without a fuzz spec in tests/fuzz/module_specs.py: {missing}"


def _build(data: Any, spec: ModuleSpec, values: tuple[str, ...] = FINITE_VALUES) -> tuple[nn.Module, Case, Draw]:
    d = Draw(data.draw, np.dtype(data.draw(st.sampled_from(FLOATS))), values)
    case = spec.make(d)
    m = spec.cls(*case.args, **case.kwargs).to(d.dtype)
    m.train(data.draw(st.booleans()) if case.train is None else case.train)
    return m, case, d


def _params(m: nn.Module) -> dict[str, np.ndarray]:
    return {k: p.data for k, p in m.named_parameters()}


def _check_grads(m: nn.Module, x: Any, dx: Any, dtype: np.dtype[Any], finite: bool) -> None:
    assert isinstance(dx, np.ndarray) and dx.shape == x.shape and dx.dtype == dtype, (type(dx), np.shape(dx))
    assert not finite or is_finite(dx), "a non-finite input gradient for finite input"
    for name, p in m.named_parameters():
        assert p.grad.shape == p.data.shape and p.grad.dtype == p.data.dtype == dtype, name
        assert not finite or is_finite(p.grad), f"a non-finite gradient of {name} for finite input"


def _backward(m: nn.Module, spec: ModuleSpec, out: Any, d: Draw) -> tuple[Any, Any]:
    """An upstream gradient of the output's shape and dtype (any layout) and the input gradient."""
    if spec.loss:
        g = d.pick([None, d.float(-2, 2), "array"])
        g = d.array(np.shape(out), ("normal",)) if g == "array" else g
    else:
        g = d.array(out.shape, ("normal",))
    before = snapshot(g)
    m.zero_grad()
    dx = m.backward(g)
    assert_unchanged(before, g, "grad_out")
    return g, dx


@pytest.mark.parametrize("spec", WITH_FORWARD, ids=IDS)
@fuzz(data=st.data())
def test_valid_input(spec: ModuleSpec, data: Any) -> None:
    m, case, d = _build(data, spec, data.draw(st.sampled_from([FINITE_VALUES, VALUES])))
    finite = case.finite and all(is_finite(a) for a in case.inputs if isinstance(a, np.ndarray))
    inputs, params, buffers = snapshot(case.inputs), snapshot(_params(m)), snapshot(dict(m.named_buffers()))
    ok, out = attempt(m, *case.inputs)
    assert_unchanged(inputs, case.inputs, "the input")
    assert_unchanged(params, _params(m), "a parameter")
    if not m.training or not ok:
        assert_unchanged(buffers, dict(m.named_buffers()), "a buffer")
    if case.refuse:
        assert not ok, "an input the library must refuse went through"
        return
    assert ok, f"a valid input was refused, naming `{out}`"
    shape, dtype = np.shape(out), np.asarray(out).dtype
    assert shape == case.out_shape and dtype == d.dtype, (shape, dtype, case.out_shape)
    assert spec.loss or isinstance(out, np.ndarray), type(out)
    assert not finite or is_finite(out), "a non-finite output for finite input"
    _, dx = _backward(m, spec, out, d)
    _check_grads(m, case.inputs[0], dx, d.dtype, finite)
    assert_unchanged(inputs, case.inputs, "the input")
    if not spec.loss:
        assert m.backward(d.array(out.shape, ("normal",)), input_grad=False) is None


def _good_target_dtype(spec: ModuleSpec, t: np.dtype[Any]) -> bool:
    """Class-index targets are integers; other targets floats (cast to the input's dtype)."""
    classes = spec.cls in (nn.CrossEntropyLoss, nn.MultiMarginLoss)
    return t.kind in "iu" if classes else t in FLOATS


@pytest.mark.parametrize("spec", WITH_FORWARD, ids=IDS)
@fuzz(data=st.data())
def test_input_of_another_dtype(spec: ModuleSpec, data: Any) -> None:
    """float16, bool, int, complex, object, or the other float dtype: a TypeError naming the input."""
    m, case, d = _build(data, spec)
    assume(not case.refuse)
    i = data.draw(st.sampled_from(range(len(case.inputs))))
    old = case.inputs[i]
    # the other float dtype is wrong next to parameters or running statistics (a parameterless module takes both)
    strict = any(True for _ in m.parameters()) or (not spec.loss and any(True for _ in m.buffers()))
    if i == 0:
        options = [t for t in BAD_DTYPES + FLOATS if t != d.dtype and (strict or t not in FLOATS)]
    else:
        options = [t for t in BAD_DTYPES + FLOATS if not _good_target_dtype(spec, t)]
    bad = data.draw(st.sampled_from(options))
    case.inputs[i] = d.array(old.shape, ("normal",), dtype=bad)
    try:
        m(*case.inputs)
    except Exception as e:  # noqa: BLE001
        assert_library_error(e, "input", "X", "x", "target")
        assert isinstance(e, TypeError), f"{type(e).__name__} for a dtype: {e}"
    else:
        raise AssertionError(f"an input of dtype {bad} was accepted")


@pytest.mark.parametrize("spec", WITH_FORWARD, ids=IDS)
@fuzz(data=st.data())
def test_any_input(spec: ModuleSpec, data: Any) -> None:
    """An input replaced by anything (junk, any shape, any dtype): the library's error or a result."""
    m, case, d = _build(data, spec)
    i = data.draw(st.sampled_from(range(len(case.inputs))))
    case.inputs[i] = data.draw(st.one_of(junk(), shapes(0, 5).map(lambda s: d.array(s))))
    inputs, params = snapshot(case.inputs), snapshot(_params(m))
    ok, out = attempt(m, *case.inputs)
    assert_unchanged(inputs, case.inputs, "the input")
    assert_unchanged(params, _params(m), "a parameter")
    if not ok:
        return
    x = case.inputs[0]
    assert isinstance(x, np.ndarray) and x.dtype in FLOATS, f"an input of type {type(x).__name__} was accepted"
    assert np.asarray(out).dtype == x.dtype  # the parameters' dtype, which a parameterless module does not fix
    _, dx = _backward(m, spec, out, Draw(d.draw, x.dtype, d.values))
    _check_grads(m, x, dx, x.dtype, finite=False)


@pytest.mark.parametrize("spec", WITH_FORWARD, ids=IDS)
@fuzz(data=st.data())
def test_any_upstream_gradient(spec: ModuleSpec, data: Any) -> None:
    """``grad_out`` of any kind, shape, dtype or layout: the library's error, or gradients of the right shapes."""
    m, case, d = _build(data, spec)
    assume(not case.refuse)
    out = m(*case.inputs)
    shape = np.shape(out)
    wrong_shape = shapes(0, 5).map(lambda s: d.array(s))
    wrong_dtype = st.sampled_from(BAD_DTYPES + FLOATS).map(lambda t: d.array(shape, dtype=t))
    g = data.draw(st.one_of(junk(), wrong_shape, wrong_dtype))
    before = snapshot(g)
    m.zero_grad()
    ok, dx = attempt(m.backward, g)
    assert_unchanged(before, g, "grad_out")
    if ok:
        _check_grads(m, case.inputs[0], dx, d.dtype, finite=False)


COURSE_MODELS = [s for s in SPECS if s.cls in (models.FullyConnectedNet, models.ThreeLayerConvNet)]


@pytest.mark.parametrize("spec", COURSE_MODELS, ids=[s.cls.__name__ for s in COURSE_MODELS])
@fuzz(data=st.data())
def test_course_loss(spec: ModuleSpec, data: Any) -> None:
    """``model.loss(X, y)``: a finite loss and a gradient per parameter, or the library's error for bad labels."""
    m, case, d = _build(data, spec)
    X = case.inputs[0]
    assume(X.shape[0] >= 2)
    y = data.draw(st.one_of(st.just(d.labels((X.shape[0],), case.out_shape[1])), junk()))
    before = snapshot((X, y))
    ok, result = attempt(m.loss, X, y)
    assert_unchanged(before, (X, y), "X or y")
    if not ok:
        return
    if y is None:
        assert isinstance(result, np.ndarray) and result.shape == case.out_shape and result.dtype == d.dtype
        return
    loss, grads = result
    assert isinstance(loss, float) and np.isfinite(loss)
    params = dict(m.params)
    assert set(grads) == set(params)
    for k, g in grads.items():
        assert g.shape == params[k].shape and g.dtype == d.dtype and is_finite(g), k


@pytest.mark.parametrize("spec", SPECS, ids=[s.cls.__name__ for s in SPECS])
@fuzz(data=st.data())
def test_module_methods(spec: ModuleSpec, data: Any) -> None:
    """``train(mode)``, ``to(dtype)`` and ``load_state_dict`` with one entry replaced: the template error and the
    module as it was, or a module whose parameters keep their float dtype and finite values."""
    m, case, d = _build(data, spec)
    before = snapshot(m.state_dict())
    method = data.draw(st.sampled_from(["train", "to", "load_state_dict"]))
    if method == "load_state_dict":
        sd = m.state_dict()
        if sd:
            key = data.draw(st.sampled_from(sorted(sd)))
            sd[key] = data.draw(
                st.one_of(junk(), st.just(sd[key].astype(np.float16)), st.just(np.zeros((*sd[key].shape, 1))))
            )
        args: tuple[Any, ...] = (sd,)
    else:
        args = (data.draw(st.one_of(junk(), st.sampled_from([True, False, np.float64, "float32"]))),)
    ok, _ = attempt(getattr(m, method), *args)
    if not ok:
        assert_unchanged(before, m.state_dict(), "the module after a refused call")
        return
    for name, p in m.named_parameters():
        assert p.data.dtype in FLOATS and p.grad.dtype == p.data.dtype and np.isfinite(p.data).all(), name
    assert isinstance(m.training, bool)
