"""What the fuzz suite shares: arrays of any dtype, shape and layout, bad argument values, and the three checks.

(a) :func:`assert_library_error`: a failure is the library's ``ValueError`` / ``TypeError`` in its one
template, ``Invalid <value|type|shape|dtype> for `<arg>`: expected ... Received: ...``;
(b) :func:`snapshot` / :func:`assert_unchanged`: nothing passed in is modified (values bit for bit, dtype,
shape, strides and flags); (c) is each test file's own (output shapes, dtypes, finiteness, gradients).

:func:`fuzz` is ``hypothesis.given`` under the suite's profile (tests/fuzz/conftest.py) that also counts
every case it runs, runs it with NumPy's default error handling (so a floating-point problem the library
does not handle is a ``RuntimeWarning``, which pytest turns into a failure) and fails a case that runs
longer than :data:`HANG_SECONDS` instead of hanging the suite.
"""

from __future__ import annotations

import functools
import math
import re
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchnn import nn

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
BAD_DTYPES = tuple(
    np.dtype(d)
    for d in (np.bool_, np.int8, np.uint8, np.int32, np.int64, np.float16, np.complex64, np.complex128, object)
)
ANY_DTYPE = FLOATS + BAD_DTYPES
LAYOUTS = ("C", "F", "transposed", "strided", "reversed", "readonly", "broadcast")
# finite value kinds, then the non-finite ones; "big" stays far from float32's overflow when squared and summed
FINITE_VALUES = ("normal", "normal", "normal", "big", "tiny", "zeros", "integers")
VALUES = FINITE_VALUES + ("nan", "inf")
HANG_SECONDS = 20
CASES = {"n": 0}  # every case run, printed by the summary hook in conftest.py

TEMPLATE = re.compile(r"Invalid (value|type|shape|dtype) for `(?P<arg>[^`]+)`: expected .+\. Received: .+", re.DOTALL)


class Hang(Exception):
    """A case ran longer than HANG_SECONDS (an infinite loop in the library)."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def alarm(signum: int, frame: Any) -> None:
        raise Hang(f"the case ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def fuzz(*strategies: Any, **kw_strategies: Any) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """``@given(...)`` under the 'scratchnn-fuzz' profile, counting each case, with a time limit per case."""

    def decorate(test: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(test)
        def counted(*args: Any, **kwargs: Any) -> None:
            CASES["n"] += 1
            # NumPy's defaults, as a user has them (the suite's conftest raises instead): what the library
            # leaves unhandled shows as a RuntimeWarning, an error under pytest's filterwarnings
            with time_limit(HANG_SECONDS), np.errstate(all="warn", under="ignore"):
                test(*args, **kwargs)

        return settings(settings.get_profile("scratchnn-fuzz"))(given(*strategies, **kw_strategies)(counted))

    return decorate


# ---------------------------------------------------------------------------------------------- (a) errors
def assert_library_error(exc: BaseException, *names: str) -> str:
    """``exc`` is the library's ValueError/TypeError in the template; returns the argument it names.

    ``names``: when given, the named argument must start with one of them (``betas`` covers ``betas[1]``).
    """
    library = isinstance(exc, (ValueError, TypeError)) and not isinstance(exc, (ArithmeticError, LookupError))
    match = TEMPLATE.fullmatch(str(exc)) if library else None
    if match is None:
        raise AssertionError(f"not the library's error: {type(exc).__name__}: {exc}") from exc
    arg = match["arg"]
    if names and not any(arg.startswith(n) for n in names):
        raise AssertionError(f"the error names `{arg}`, expected one of {names}: {exc}") from exc
    return arg


def attempt(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[bool, Any]:
    """``(True, result)``, or ``(False, argument named)`` after the library's error; anything else fails."""
    try:
        return True, fn(*args, **kwargs)
    except Hang:
        raise
    except Exception as e:  # noqa: BLE001 - every failure is judged here
        return False, assert_library_error(e)


# ---------------------------------------------------------------------------------------------- (b) unchanged
def _freeze(value: Any, depth: int = 0) -> Any:
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            data: Any = tuple(id(v) for v in value.ravel(order="K"))
        else:
            data = np.ascontiguousarray(value).tobytes()
        f = value.flags
        return (
            "ndarray",
            value.dtype.str,
            value.shape,
            value.strides,
            f.c_contiguous,
            f.f_contiguous,
            f.writeable,
            data,
        )
    if isinstance(value, nn.Param):
        return ("Param", _freeze(value.data), _freeze(value.grad))
    if depth < 4 and isinstance(value, dict):
        return ("dict", tuple((k, _freeze(v, depth + 1)) for k, v in value.items()))
    if depth < 4 and isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_freeze(v, depth + 1) for v in value))
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.generic, Fraction)):
        return ("scalar", type(value).__name__, repr(value))
    return ("object", id(value))


def snapshot(value: Any) -> Any:
    """A frozen copy of ``value`` (arrays, Params, dicts and lists of them) to compare after a call."""
    return _freeze(value)


def assert_unchanged(before: Any, value: Any, what: str = "an argument") -> None:
    assert _freeze(value) == before, f"{what} was modified by the call"


# ---------------------------------------------------------------------------------------------- arrays
def make_array(
    shape: tuple[int, ...], dtype: Any, layout: str = "C", values: str = "normal", seed: int = 0
) -> np.ndarray:
    """An array of ``shape`` and ``dtype`` laid out as ``layout`` (see LAYOUTS), its values of kind ``values``."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    v = np.array(rng.standard_normal(shape), dtype=np.float64, ndmin=0)  # 0-d too: in-place ops keep it an array
    v *= 2
    if values == "big":
        v *= 1e14
    elif values == "tiny":
        v *= 1e-30
    elif values == "zeros":
        v[...] = 0
    elif values == "integers":
        np.round(v, out=v)
    elif values in ("nan", "inf") and v.size:
        special = np.array([np.nan] if values == "nan" else [np.inf, -np.inf])
        picks = rng.random(shape) < 0.3
        picks.flat[rng.integers(v.size)] = True  # at least one
        v[picks] = rng.choice(special, size=int(picks.sum()))
    a = np.asarray(_cast(v, dtype))
    if layout == "F":
        return np.array(a, order="F")
    if layout == "transposed":
        return np.array(a.T, order="C").T  # C-ordered data read in reverse axis order
    if layout == "strided":
        big = np.zeros(tuple(2 * n for n in shape), dtype=a.dtype)
        view = big[(*(slice(None, None, 2) for _ in shape), ...)]
        view[...] = a
        return view
    if layout == "reversed" and a.ndim:
        return np.array(a[::-1], order="C")[::-1]  # negative strides on axis 0
    if layout == "readonly":
        a.flags.writeable = False
        return a
    if layout == "broadcast" and a.ndim and a.shape[0] > 1:
        return np.broadcast_to(a[:1], a.shape)  # every row the first one: a stride-0, read-only view
    return a


def _cast(v: np.ndarray, dtype: np.dtype[Any]) -> np.ndarray:
    if dtype.kind == "f":
        with np.errstate(over="ignore"):  # 'big' values in float16
            return v.astype(dtype)
    if dtype.kind == "c":
        c = v.astype(np.complex128)
        if v.ndim:
            c.imag = v[::-1]
        return c.astype(dtype)
    if dtype.kind == "O":
        return v.astype(object)  # Python floats
    finite = np.nan_to_num(v, nan=0.0, posinf=1.0, neginf=-1.0)
    if dtype.kind == "b":
        return finite > 0
    info = np.iinfo(dtype)
    return np.clip(np.round(finite), info.min, info.max).astype(dtype)


@st.composite
def arrays(
    draw: st.DrawFn,
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]],
    dtype: Any = FLOATS,
    *,
    values: tuple[str, ...] = VALUES,
    layouts: tuple[str, ...] = LAYOUTS,
) -> np.ndarray:
    """An array of the given (or drawn) shape, one of ``dtype`` (a dtype or a tuple), any layout and values."""
    shp = draw(shape) if isinstance(shape, st.SearchStrategy) else tuple(shape)
    dtypes = dtype if isinstance(dtype, tuple) else (dtype,)
    dt = draw(st.sampled_from(dtypes))
    return make_array(
        shp, dt, draw(st.sampled_from(layouts)), draw(st.sampled_from(values)), draw(st.integers(0, 2**32 - 1))
    )


def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 0, max_side: int = 4) -> st.SearchStrategy[Any]:
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


# ---------------------------------------------------------------------------------------------- bad values
class Opaque:
    """An object of no kind the library knows."""

    def __repr__(self) -> str:
        return "Opaque()"


JUNK: tuple[Any, ...] = (
    None, "", "abc", "1", "mean", "inf", [], [1], [1, 2], (2, 2), (1, 2, 3), [0.5, "x"], {}, {"a": 1},
    Opaque(), True, False, 0, 1, -1, 2, 3, 2**40, 2**70, -(2**70), 0.0, -0.0, -0.5, 0.5, 1.0, 1.5, 3.7,
    1e300, -1e300, 1e-300, math.inf, -math.inf, math.nan, np.float64(0.5), np.float32("nan"), np.float16(2),
    np.int64(2), np.int8(-1), np.uint8(3), np.bool_(True), np.array(2), np.array(0.5), np.array([1, 2]),
    np.ones((2, 2)), 1 + 2j, Fraction(1, 3), b"x", range(3), np.float64("inf"),
)  # fmt: skip


def junk() -> st.SearchStrategy[Any]:
    """A value of any kind an argument could wrongly receive (numbers of every size and sign included)."""
    return st.one_of(
        st.sampled_from(JUNK),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-5, 10),
        arrays(shapes(0, 3), ANY_DTYPE),
    )


def is_finite(value: Any) -> bool:
    return bool(np.all(np.isfinite(np.asarray(value))))
