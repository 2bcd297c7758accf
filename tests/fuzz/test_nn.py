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
from scratchnn.nn.utils.rnn import PackedSequence

from .calls import Draw, assert_like, leaves
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


def _check_grads(m: nn.Module, like: Any, dx: Any, dtype: np.dtype[Any], finite: bool) -> None:
    """``dx`` is like ``like`` (the input, (input, hx), or None for ids); the parameters' gradients are theirs."""
    assert_like(dx, like, dtype, finite)
    for name, p in m.named_parameters():
        assert p.grad.shape == p.data.shape and p.grad.dtype == p.data.dtype == dtype, name
        assert not finite or is_finite(p.grad), f"a non-finite gradient of {name} for finite input"


def _backward(m: nn.Module, spec: ModuleSpec, out: Any, d: Draw) -> tuple[Any, Any]:
    """Upstream gradients of the outputs' shapes and dtype (any layout; a final state's may be None), the input
    gradient."""
    if spec.loss:
        g = d.pick([None, d.float(-2, 2), "array"])
        gs = [d.array(np.shape(out), ("normal",)) if g == "array" else g]
    else:
        gs = [d.array(o.shape, ("normal",)) if i == 0 or d.pick([True, False]) else None
              for i, o in enumerate(leaves(out))]  # fmt: skip
    before = snapshot(gs)
    m.zero_grad()
    dx = m.backward(*gs)
    assert_unchanged(before, gs, "grad_out")
    return gs, dx


@pytest.mark.parametrize("spec", WITH_FORWARD, ids=IDS)
@fuzz(data=st.data())
def test_valid_input(spec: ModuleSpec, data: Any) -> None:
    m, case, d = _build(data, spec, data.draw(st.sampled_from([FINITE_VALUES, VALUES])))
    finite = case.finite and all(is_finite(a) for a in leaves(case.inputs) if isinstance(a, np.ndarray))
    inputs, params, buffers = snapshot(case.inputs), snapshot(_params(m)), snapshot(dict(m.named_buffers()))
    options = snapshot(case.call_kwargs)
    ok, out = attempt(m, *case.inputs, **case.call_kwargs)
    assert_unchanged(inputs, case.inputs, "the input")
    assert_unchanged(options, case.call_kwargs, "a keyword argument")
    assert_unchanged(params, _params(m), "a parameter")
    if not m.training or not ok:
        assert_unchanged(buffers, dict(m.named_buffers()), "a buffer")
    if case.refuse:
        assert not ok, "an input the library must refuse went through"
        return
    assert ok, f"a valid input was refused, naming `{out}`"
    outs = leaves(out)  # the output (a PackedSequence's data), and the final states
    assert len(outs) == 1 + len(case.state_shapes), f"{len(outs)} outputs"
    for o, want in zip(outs, (case.out_shape, *case.state_shapes), strict=True):
        shape, dtype = np.shape(o), np.asarray(o).dtype
        assert shape == want and dtype == d.dtype, (shape, dtype, want)
        assert spec.loss or isinstance(o, np.ndarray), type(o)
        assert not finite or is_finite(o), "a non-finite output for finite input"
    _, dx = _backward(m, spec, out, d)
    _check_grads(m, case.grad_like(case.inputs), dx, d.dtype, finite)
    assert_unchanged(inputs, case.inputs, "the input")
    assert_unchanged(options, case.call_kwargs, "a keyword argument")
    if not spec.loss:
        assert m.backward(d.array(outs[0].shape, ("normal",)), input_grad=False) is None


def _good_target_dtype(spec: ModuleSpec, t: np.dtype[Any]) -> bool:
    """Class-index targets are integers; other targets floats (cast to the input's dtype)."""
    classes = spec.cls in (nn.CrossEntropyLoss, nn.MultiMarginLoss)
    return t.kind in "iu" if classes else t in FLOATS


def _of_dtype(value: Any, dtype: np.dtype[Any], d: Draw, data: Any) -> Any:
    """``value`` (an array, a PackedSequence, or a tuple of states: one of them) with values of ``dtype``."""
    if isinstance(value, PackedSequence):
        return value._replace(data=d.array(value.data.shape, ("normal",), dtype=dtype))
    if isinstance(value, tuple):
        j = data.draw(st.integers(0, len(value) - 1))
        return (*value[:j], _of_dtype(value[j], dtype, d, data), *value[j + 1 :])
    return d.array(value.shape, ("normal",), dtype=dtype)


@pytest.mark.parametrize("spec", WITH_FORWARD, ids=IDS)
@fuzz(data=st.data())
def test_input_of_another_dtype(spec: ModuleSpec, data: Any) -> None:
    """float16, bool, int, complex, object, or the other float dtype: a TypeError naming the input."""
    m, case, d = _build(data, spec)
    assume(not case.refuse)
    i = data.draw(st.sampled_from([i for i, a in enumerate(case.inputs) if a is not None]))
    # the other float dtype is wrong next to parameters or running statistics (a parameterless module takes both)
    strict = any(True for _ in m.parameters()) or (not spec.loss and any(True for _ in m.buffers()))
    if case.ids and isinstance(case.inputs[i], np.ndarray) and case.inputs[i].dtype.kind in "iu":  # token ids
        options = [t for t in BAD_DTYPES + FLOATS if t.kind not in "iu"]
    elif i == 0 or case.hx:
        options = [t for t in BAD_DTYPES + FLOATS if t != d.dtype and (strict or t not in FLOATS)]
    else:
        options = [t for t in BAD_DTYPES + FLOATS if not _good_target_dtype(spec, t)]
    bad = data.draw(st.sampled_from(options))
    case.inputs[i] = _of_dtype(case.inputs[i], bad, d, data)
    try:
        m(*case.inputs, **case.call_kwargs)
    except Exception as e:  # noqa: BLE001
        # torch's names: the input, a loss's target, an RNN's hx, attention's query/key/value, a Transformer's
        # src/tgt/memory (a model's src/tgt_in ids)
        assert_library_error(e, "input", "X", "x", "target", "hx", "query", "key", "value", "src", "tgt", "memory")
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
    ok, out = attempt(m, *case.inputs, **case.call_kwargs)
    assert_unchanged(inputs, case.inputs, "the input")
    assert_unchanged(params, _params(m), "a parameter")
    if not ok:
        return
    x = case.inputs[0].data if isinstance(case.inputs[0], PackedSequence) else case.inputs[0]
    kinds = "iu" if case.ids else "f"
    assert isinstance(x, np.ndarray) and x.dtype.kind in kinds, f"an input of type {type(x).__name__} was accepted"
    dtype = d.dtype if case.ids else x.dtype  # the parameters' dtype, which a parameterless module does not fix
    assert all(np.asarray(o).dtype == dtype for o in leaves(out)), [np.asarray(o).dtype for o in leaves(out)]
    _, dx = _backward(m, spec, out, Draw(d.draw, dtype, d.values))
    _check_grads(m, case.grad_like(case.inputs), dx, dtype, finite=False)


@pytest.mark.parametrize("spec", WITH_FORWARD, ids=IDS)
@fuzz(data=st.data())
def test_any_upstream_gradient(spec: ModuleSpec, data: Any) -> None:
    """``grad_out`` of any kind, shape, dtype or layout: the library's error, or gradients of the right shapes."""
    m, case, d = _build(data, spec)
    assume(not case.refuse)
    outs = leaves(m(*case.inputs, **case.call_kwargs))
    gs: list[Any] = [d.array(np.shape(o)) for o in outs]
    i = data.draw(st.integers(0, len(outs) - 1))  # the output whose gradient is replaced
    shape = np.shape(outs[i])
    wrong_shape = shapes(0, 5).map(lambda s: d.array(s))
    wrong_dtype = st.sampled_from(BAD_DTYPES + FLOATS).map(lambda t: d.array(shape, dtype=t))
    gs[i] = data.draw(st.one_of(junk(), wrong_shape, wrong_dtype))
    before = snapshot(gs)
    m.zero_grad()
    ok, dx = attempt(m.backward, *gs)
    assert_unchanged(before, gs, "grad_out")
    if ok:
        _check_grads(m, case.grad_like(case.inputs), dx, d.dtype, finite=False)


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
