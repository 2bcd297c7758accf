"""nn.init at the edges (found by fuzzing): windows far in a tail, empty arrays, values the dtype cannot hold."""

from __future__ import annotations

import math
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

from scratchnn.nn import init


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


@contextmanager
def at_most(seconds: float) -> Iterator[None]:
    """Fail instead of hanging: trunc_normal_ used to redraw forever for a window in a tail."""

    def alarm(signum: int, frame: Any) -> None:
        raise TimeoutError(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _moments(mean: float, std: float, a: float, b: float) -> tuple[float, float]:
    """The mean and standard deviation of N(mean, std^2) truncated to [a, b] (closed form)."""
    al, be = (a - mean) / std, (b - mean) / std
    pdf = lambda t: math.exp(-t * t / 2) / math.sqrt(2 * math.pi) if math.isfinite(t) else 0.0  # noqa: E731
    z = 0.5 * (math.erf(be / math.sqrt(2)) - math.erf(al / math.sqrt(2)))
    shift = (pdf(al) - pdf(be)) / z
    spread = ((al * pdf(al) if math.isfinite(al) else 0) - (be * pdf(be) if math.isfinite(be) else 0)) / z
    return mean + std * shift, std * math.sqrt(1 + spread - shift * shift)


@pytest.mark.parametrize(
    "mean,std,a,b",
    [(0.0, 1.0, -2.0, 2.0), (0.0, 1.0, 4.0, 5.0), (1.0, 0.5, -3.0, -1.5), (0.0, 1.0, 3.0, math.inf),
     (0.0, 1.0, -math.inf, -4.5), (0.0, 1.0, -0.01, 0.02), (2.0, 3.0, 1.0, 1.2)],
)  # fmt: skip
def test_trunc_normal_moments_in_any_window(mean: float, std: float, a: float, b: float) -> None:
    w = np.empty(200_000)
    with at_most(5):
        init.trunc_normal_(w, mean, std, a, b, rng=np.random.default_rng(0))
    assert w.min() >= a and w.max() <= b
    m, s = _moments(mean, std, a, b)
    assert w.mean() == pytest.approx(m, abs=0.01 * s)  # 200k draws: the standard error is 0.0022 s
    assert w.std() == pytest.approx(s, rel=0.01)


@pytest.mark.parametrize("a,b", [(10.0, 11.0), (-1e6 - 1.0, -1e6), (40.0, 1e300), (1e-12, 2e-12)])
def test_trunc_normal_far_in_a_tail_ends(a: float, b: float) -> None:
    """One draw in 10^23 lands in [10, 11]: redrawing the outliers never finished."""
    w = np.empty(10_000, np.float32)
    with at_most(5):
        init.trunc_normal_(w, 0.0, 1.0, a, b, rng=np.random.default_rng(0))
    assert (w >= np.float32(a)).all() and (w <= min(b, 3e38)).all()
    if a > 0 and b - a > 1 / a:  # the tail's exponential decay: the mean sits about 1/a inside
        assert w.mean() == pytest.approx(a + 1 / a, rel=1e-3)


def test_trunc_normal_with_zero_std_is_the_mean_or_an_error() -> None:
    w = np.empty(3)
    np.testing.assert_array_equal(init.trunc_normal_(w, 0.5, 0.0, 0.0, 1.0), 0.5)
    text = "Invalid value for `mean`: expected a mean in [a, b] = [0.0, 1.0] when std=0 (nothing else can be drawn). "
    with pytest.raises(ValueError, match=msg(text + "Received: mean=2.0")):
        init.trunc_normal_(w, 2.0, 0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match=msg("Invalid value for `b`: expected a number > a=1.0. Received: b=0.0")):
        init.trunc_normal_(w, a=1.0, b=0.0)


@pytest.mark.parametrize(
    "fn", [init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_, init.orthogonal_]
)
@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (2, 0, 3, 3)])
def test_empty_arrays_are_left_empty(fn: Any, shape: tuple[int, ...]) -> None:
    """A zero fan divided by zero (ZeroDivisionError), and orthogonal_ split 0 rows into columns."""
    w = np.empty(shape, np.float32)
    assert fn(w, rng=np.random.default_rng(0)) is w


BAD: list[tuple[Any, type[Exception], str]] = [
    (lambda: init.normal_(np.empty(3, np.float16)), TypeError, "Invalid type for `tensor`: expected a float32 or "
     "float64 numpy.ndarray or a Param. Received: tensor of type ndarray"),
    (lambda: init.ones_(np.broadcast_to(np.ones(1), (3,))), ValueError, "Invalid value for `tensor`: expected a "
     "writeable array (it is filled in place). Received: tensor=array(shape=(3,), dtype=float64)"),
    (lambda: init.normal_(np.empty(3, np.float32), std=1e300), ValueError,
     "Invalid value for `std`: expected a value whose draws fit float32 (|x| <= 3.403e+38). Received: std=1e+300"),
    (lambda: init.constant_(np.empty(3), "1"), TypeError,
     "Invalid type for `val`: expected a float in (-inf, inf). Received: val of type str"),
    (lambda: init.uniform_(np.empty(3), -1e308, 1e308), ValueError,
     "Invalid value for `b`: expected a number with b - a finite (a=-1e+308). Received: b=1e+308"),
    (lambda: init.xavier_uniform_(np.empty((3, 3)), gain=-1.0), ValueError,
     "Invalid value for `gain`: expected a float in [0, inf). Received: gain=-1.0"),
    (lambda: init.orthogonal_(np.empty((3, 3)), gain=math.nan), ValueError,
     "Invalid value for `gain`: expected a float in (-inf, inf). Received: gain=nan"),
    (lambda: init.calculate_gain(np.array(["relu"])), TypeError,
     "Invalid type for `nonlinearity`: expected a str, e.g. 'relu' or 'leaky_relu'. Received: nonlinearity of type "
     "ndarray"),
    (lambda: init.kaiming_uniform_(np.empty((3, 3)), a=math.inf), ValueError,
     "Invalid value for `a`: expected a float in (-inf, inf). Received: a=inf"),
]  # fmt: skip


@pytest.mark.parametrize("call,exc,text", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_arguments_are_the_template_error(call: Any, exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=msg(text)):
        call()


def test_a_huge_leaky_slope_gives_gain_zero_not_overflow() -> None:
    assert init.calculate_gain("leaky_relu", 1e200) == 0.0  # slope**2 raised OverflowError
