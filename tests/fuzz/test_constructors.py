"""The constructor arguments of every Module class and model (the rows of module_specs.py).

One argument replaced by anything: the library's template error, NotImplementedError for an option
the class documents as not implemented (Conv2d's dilation, ...), or a module whose parameters and
buffers are finite float32/float64 arrays, that prints, round-trips its state_dict, and left the
arguments it was given as they were.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .calls import Draw
from .module_specs import SPECS, ModuleSpec
from .props import CASES, FINITE_VALUES, FLOATS, JUNK, assert_library_error, assert_unchanged, fuzz, junk, snapshot

IDS = [s.cls.__name__ for s in SPECS]


def _construct(spec: ModuleSpec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = _try_construct(spec, args, kwargs)
    for w in caught:  # a documented UserWarning (nn.RNN's dropout with one layer, as torch's) is no failure
        assert issubclass(w.category, UserWarning), f"{w.category.__name__}: {w.message}"
    return m


def _try_construct(spec: ModuleSpec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        return spec.cls(*args, **kwargs)
    except NotImplementedError as e:
        unimplemented = [k for k in spec.not_implemented if k in kwargs]
        assert unimplemented, f"NotImplementedError for an implemented option: {e}"
        assert str(e).startswith(f"{spec.cls.__name__}(") or "not implement" in str(e), str(e)
        return None
    except MemoryError:  # a size like 2**40: NumPy cannot allocate the parameter (its message says how much)
        sizes = [v for v in kwargs.values() if isinstance(v, int) and not isinstance(v, bool) and v >= 2**20]
        assert sizes, "MemoryError for a small module"
        return None
    except Exception as e:  # noqa: BLE001
        assert_library_error(e)
        return None


def _check_module(m: Any) -> None:
    text = repr(m)
    assert text.startswith(type(m).__name__), text
    for name, p in m.named_parameters():
        assert p.data.dtype in FLOATS and p.grad.shape == p.data.shape, name
        assert np.isfinite(p.data).all(), f"{name} is not finite"
    for name, b in m.named_buffers():
        assert b.dtype in FLOATS or b.dtype.kind in "iu", name
        assert np.isfinite(b).all(), f"buffer {name} is not finite"
    state = m.state_dict()
    m.load_state_dict(state)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@fuzz(data=st.data())
def test_one_argument_replaced(spec: ModuleSpec, data: Any) -> None:
    case = spec.make(Draw(data.draw, np.dtype(np.float32), FINITE_VALUES))
    kwargs, args = dict(case.kwargs), case.args
    keys = list(kwargs) + ["dtype"] * (spec.cls.__name__ not in _NO_DTYPE)
    if args and data.draw(st.booleans()):
        i = data.draw(st.integers(0, len(args) - 1))
        args = (*args[:i], data.draw(junk()), *args[i + 1 :])
    elif keys:
        key = data.draw(st.sampled_from(keys))
        kwargs[key] = data.draw(junk())
    before = snapshot((args, kwargs))
    m = _construct(spec, args, kwargs)
    assert_unchanged(before, (args, kwargs), "a constructor argument")
    if m is not None:
        _check_module(m)


# the classes without a ``dtype`` argument (no parameters, or torch has none)
_NO_DTYPE = {
    "Identity", "Flatten", "Sequential", "ModuleList", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softmax",
    "Dropout", "CrossEntropyLoss", "MultiMarginLoss", "MSELoss", "BCEWithLogitsLoss", "MaxPool2d", "AvgPool2d",
    "AdaptiveAvgPool2d", "ReconstructionLoss", "TransformerEncoder", "TransformerDecoder",
    "ViTClassifier",  # its head takes its encoder's dtype
}  # fmt: skip


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@fuzz(data=st.data(), extra=st.sampled_from(["bogus", "rng", "seed"]), value=st.sampled_from(JUNK))
def test_unknown_or_keyword_only_argument(spec: ModuleSpec, data: Any, extra: str, value: Any) -> None:
    """An unknown keyword is Python's own TypeError (as for any function); ``rng`` junk is the template."""
    case = spec.make(Draw(data.draw, np.dtype(np.float32), FINITE_VALUES))
    kwargs = {**case.kwargs, extra: value}
    try:
        m = spec.cls(*case.args, **kwargs)
    except TypeError as e:
        if "unexpected keyword argument" in str(e) or "positional argument" in str(e):
            return
        assert_library_error(e, extra, "seed", "rng")
    except Exception as e:  # noqa: BLE001
        assert_library_error(e, extra, "seed", "rng")
    else:
        _check_module(m)


# the values every numeric or flag argument is tried with, one at a time, in every class (deterministic: the
# hypothesis tests above draw from a wider set, and rarely hit one particular (argument, value) pair)
SPECIAL = (None, "1", [1], (1, 1, 1), np.array([1, 2]), np.array(2), 0, -1, 2**70, 0.0, -0.5, 0.5, 1.0,
           1e300, 1e-300, math.inf, -math.inf, math.nan, np.float64(math.nan), True, np.float16(1), 1 + 1j)  # fmt: skip


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@settings(settings.get_profile("scratchnn-fuzz"), max_examples=2)  # two base cases, each swept in full
@given(data=st.data())
def test_every_argument_with_every_special_value(spec: ModuleSpec, data: Any) -> None:
    case = spec.make(Draw(data.draw, np.dtype(np.float32), FINITE_VALUES))
    for key in [*case.kwargs, *(["dtype"] if spec.cls.__name__ not in _NO_DTYPE else [])]:
        for value in SPECIAL:
            CASES["n"] += 1
            kwargs = {**case.kwargs, key: value}
            with np.errstate(all="warn", under="ignore"):
                m = _construct(spec, case.args, kwargs)
            if m is not None:
                _check_module(m)
