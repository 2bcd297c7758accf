"""Every ops pair and loss of ``scratchnn.ops`` under random shapes, dtypes, layouts, values and arguments.

(a) whatever is passed, a failure is the library's template error; (b) no argument is modified (the
course's ``bn_param`` in train mode gets new running statistics, its one documented side effect, but the
arrays in it are untouched); (c) a valid call returns the documented shape and dtype, finite for finite
input, and every backward returns gradients of the shapes and dtypes of what they differentiate.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from scratchnn import ops

from .calls import differentiable, split
from .op_specs import SPECS, Call, Draw, OpSpec, Path
from .props import (
    BAD_DTYPES,
    CASES,
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

IDS = [spec.name for spec in SPECS]
BACKWARD = [spec for spec in SPECS if spec.backward]
DELETE = object()  # a dict entry removed instead of replaced


def test_every_op_has_a_fuzz_spec() -> None:
    """A new op in ``scratchnn.ops.__all__`` needs a row in tests/fuzz/op_specs.py."""
    covered = {id(f) for spec in SPECS for f in (spec.forward, *spec.backward)}
    missing = [name for name in ops.__all__ if id(getattr(ops, name)) not in covered]
    assert not missing, f"ops without a fuzz spec in tests/fuzz/op_specs.py: {missing}"


def _draw(data: Any, spec: OpSpec, values: tuple[str, ...] = FINITE_VALUES) -> tuple[Call, Draw]:
    d = Draw(data.draw, np.dtype(data.draw(st.sampled_from(FLOATS))), values)
    return spec.make(d), d


def _forward(spec: OpSpec, call: Call) -> Any:
    return spec.forward(*call.args.values(), **call.kwargs)


def _frozen(call: Call) -> tuple[Any, list[tuple[np.ndarray, Any]]]:
    """The call's arguments frozen, and each array in them (by identity) with its frozen state."""
    arrays = [v for v in _leaves(call) if isinstance(v, np.ndarray)]
    mutable = call.args.get("bn_param") if isinstance(call.args.get("bn_param"), dict) else None
    kept = {k: v for k, v in call.args.items() if v is not mutable}  # train mode rebinds bn_param's entries
    return snapshot((kept, call.kwargs)), [(a, snapshot(a)) for a in arrays]


def _check_unchanged(call: Call, frozen: tuple[Any, list[tuple[np.ndarray, Any]]]) -> None:
    whole, arrays = frozen
    mutable = call.args.get("bn_param") if isinstance(call.args.get("bn_param"), dict) else None
    assert_unchanged(whole, ({k: v for k, v in call.args.items() if v is not mutable}, call.kwargs), "an argument")
    for a, before in arrays:
        assert_unchanged(before, a, f"an array argument of shape {a.shape}")


def _leaves(call: Call) -> list[Any]:
    return [call.get(p) for p in call.paths()]


def _check_result(spec: OpSpec, call: Call, result: Any, dtype: np.dtype[Any], finite: bool) -> None:
    if spec.loss:
        x = call.args["x"]
        loss, dx = np.asarray(result[0]), result[1]
        assert loss.shape == call.out_shape and loss.dtype == dtype, (loss.shape, loss.dtype)
        assert isinstance(dx, np.ndarray) and dx.shape == x.shape and dx.dtype == dtype, (dx.shape, dx.dtype)
        assert not finite or (is_finite(loss) and is_finite(dx)), "a non-finite loss for finite input"
        return
    outs, _ = split(result)  # the output, and an RNN's final states
    want = (call.out_shape, *call.state_shapes)
    assert len(outs) == len(want), f"{len(outs)} outputs, expected {len(want)}"
    for i, (out, shape) in enumerate(zip(outs, want, strict=True)):
        assert isinstance(out, np.ndarray), type(out)
        kind_ok = out.dtype.kind in "biu" if i in call.index_outputs else out.dtype == dtype
        assert out.shape == shape and kind_ok, (out.shape, out.dtype, shape)
        assert not finite or is_finite(out), "a non-finite output for finite input"


def _upstream(d: Draw, outs: tuple[Any, ...]) -> list[Any]:
    """A gradient of each floating output, any layout (index outputs get none); those of the final states may be
    None (zero)."""
    floats = differentiable(outs)
    return [d.array(o.shape, ("normal",)) if i == 0 or d.pick([True, False]) else None for i, o in enumerate(floats)]


def _check_grads(call: Call, grads: Any, dtype: np.dtype[Any], finite: bool) -> None:
    grads = grads if isinstance(grads, tuple) else (grads,)
    assert len(grads) == len(call.grads), f"{len(grads)} gradients for {call.grads}"
    for name, g in zip(call.grads, grads, strict=True):
        a = call.args.get(name)
        if not isinstance(a, np.ndarray):
            assert g is None, f"a gradient for the absent {name}"
            continue
        assert isinstance(g, np.ndarray) and g.shape == a.shape and g.dtype == dtype, (name, g.shape, g.dtype)
        assert not finite or is_finite(g), f"a non-finite gradient for {name} from finite input"


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@fuzz(data=st.data())
def test_valid_call(spec: OpSpec, data: Any) -> None:
    """Any shape (empty ones too), layout and value: the documented output, finite for finite input."""
    call, d = _draw(data, spec, data.draw(st.sampled_from([FINITE_VALUES, VALUES])))
    finite = call.finite and all(is_finite(v) for v in _leaves(call) if isinstance(v, np.ndarray))
    frozen = _frozen(call)
    ok, result = attempt(_forward, spec, call)
    _check_unchanged(call, frozen)
    if call.refuse:
        assert not ok, "a call the library must refuse went through"
        return
    assert ok, f"a valid call was refused, naming `{result}`"
    _check_result(spec, call, result, d.dtype, finite)
    outs, cache = split(result)
    for backward in spec.backward:
        douts = _upstream(d, outs)
        before = snapshot(douts)
        _check_grads(call, backward(*douts, cache), d.dtype, finite)
        assert_unchanged(before, douts, "dout")
    _check_unchanged(call, frozen)


def _name(path: Path) -> str:
    return str(path[1]) + "".join(f"[{k!r}]" for k in path[2:])


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@fuzz(data=st.data())
def test_array_of_another_dtype(spec: OpSpec, data: Any) -> None:
    """float16, bool, int, complex, object, or the other float dtype: a TypeError naming an argument."""
    call, d = _draw(data, spec)
    assume(not call.refuse)
    path = data.draw(st.sampled_from(call.floats + spec.labels))
    old = call.get(path)
    labels = path in spec.labels
    mixed = len(call.floats) > 1  # the other float dtype is wrong only next to an array of this one
    other = [t for t in FLOATS if t != d.dtype and mixed] if not labels else list(FLOATS)
    bad = data.draw(st.sampled_from([t for t in BAD_DTYPES if not (labels and t.kind in "iu")] + other))
    call.set(path, d.array(old.shape, ("normal",), dtype=bad))
    try:
        _forward(spec, call)
    except Exception as e:  # noqa: BLE001
        arg = assert_library_error(e)
        assert isinstance(e, TypeError), f"{type(e).__name__} for a dtype: {e}"
        assert bad.kind == "f" and bad.itemsize > 2 or arg == _name(path), f"names `{arg}`, not `{_name(path)}`"
    else:
        raise AssertionError(f"{_name(path)} of dtype {bad} was accepted")


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@fuzz(data=st.data())
def test_any_argument_replaced(spec: OpSpec, data: Any) -> None:
    """One argument (or one entry of a param dict) replaced by anything: the library's error or a result."""
    call, d = _draw(data, spec)
    path = data.draw(st.sampled_from(call.paths()))
    old = call.get(path)
    choices = [junk()]
    if isinstance(old, np.ndarray):
        choices.append(shapes(0, 5).map(lambda s: d.array(s)))  # the right dtype, any shape
    if len(path) == 3:
        choices.append(st.just(DELETE))
    value = data.draw(st.one_of(choices))
    if value is DELETE:
        del call.get(path[:2])[path[2]]
    else:
        call.set(path, value)
    if len(path) == 3 and data.draw(st.booleans()):
        call.get(path[:2])["bogus"] = 1  # an unknown key (a misspelt one) is never silently ignored
    frozen = _frozen(call)
    ok, result = attempt(_forward, spec, call)
    _check_unchanged(call, frozen)
    if not ok:
        return
    x = call.get(call.floats[0])  # x, or the embedding's table W
    assert isinstance(x, np.ndarray) and x.dtype in FLOATS, f"x of type {type(x).__name__} was accepted"
    outs, cache = split(result)
    got = [np.shape(o) for o in outs]
    _check_result(spec, Call(call.args, call.kwargs, got[0], state_shapes=tuple(got[1:]),
                             index_outputs=call.index_outputs), result, x.dtype, finite=False)  # fmt: skip
    if spec.loss:
        return
    for backward in spec.backward:
        ok, grads = attempt(backward, *_upstream(Draw(d.draw, x.dtype, d.values), outs), cache)
        assert ok, f"backward refused its forward's own output gradient, naming `{grads}`"
        _check_grads(call, grads, x.dtype, finite=False)
    _check_unchanged(call, frozen)


@pytest.mark.parametrize("spec", BACKWARD, ids=[s.name for s in BACKWARD])
@fuzz(data=st.data())
def test_any_upstream_gradient(spec: OpSpec, data: Any) -> None:
    """dout of any kind, shape, dtype or layout: the library's error, or gradients of the right shapes."""
    call, d = _draw(data, spec)
    assume(not call.refuse)
    outs, cache = split(_forward(spec, call))
    douts = _upstream(d, outs)
    i = data.draw(st.integers(0, len(douts) - 1))  # the (floating) output whose gradient is replaced
    out = differentiable(outs)[i]
    other_shape = shapes(0, 5).map(lambda s: d.array(s))
    other_dtype = st.sampled_from(BAD_DTYPES + FLOATS).map(lambda t: d.array(out.shape, dtype=t))
    dout = douts[i] = data.draw(st.one_of(junk(), other_shape, other_dtype, st.just(d.array(out.shape))))
    frozen = _frozen(call)
    before = snapshot(douts)
    backward = data.draw(st.sampled_from(spec.backward))
    ok, grads = attempt(backward, *douts, cache)
    assert_unchanged(before, douts, "dout")
    _check_unchanged(call, frozen)
    if ok:
        valid = isinstance(dout, np.ndarray) and dout.shape == out.shape and dout.dtype == out.dtype
        assert valid or (dout is None and i > 0), f"an upstream gradient {type(dout).__name__} was accepted"
        _check_grads(call, grads, d.dtype, finite=False)


SPECIAL = (None, "1", [1], np.array([1, 2]), np.array(2), 0, -1, 2**70, -0.5, 0.5, 1e300, math.inf, math.nan,
           True, np.float16(1), np.ones((2, 3, 4, 5)), np.zeros(0), DELETE)  # fmt: skip


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@settings(settings.get_profile("scratchnn-fuzz"), max_examples=2)  # two base calls, each swept in full
@given(data=st.data())
def test_every_argument_with_every_special_value(spec: OpSpec, data: Any) -> None:
    """Deterministic: each argument and param-dict entry of a valid call, replaced by each special value in turn."""
    call, d = _draw(data, spec)
    for path in call.paths():
        for value in SPECIAL:
            if value is DELETE and len(path) != 3:
                continue
            CASES["n"] += 1
            trial = copy.deepcopy(call)
            if value is DELETE:
                del trial.get(path[:2])[path[2]]
            else:
                trial.set(path, value)
            frozen = _frozen(trial)
            with np.errstate(all="warn", under="ignore"):
                ok, result = attempt(_forward, spec, trial)
            _check_unchanged(trial, frozen)
            if ok:
                x = trial.get(trial.floats[0])
                first = result[0] if spec.loss else split(result)[0][0]
                assert isinstance(x, np.ndarray) and np.asarray(first).dtype == x.dtype, (path, value)
