"""The shared checks of ``scratchnn._validate`` on values the modules' own tests do not reach (found by fuzzing)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from scratchnn import nn, ops
from scratchnn._validate import check_choice, check_float, check_iterable, size_error


@pytest.mark.parametrize("value", [np.array(["tanh", "none"]), np.ones(2), [1], {"a": 1}, True, np.bool_(False)])
def test_check_choice_refuses_arrays_containers_and_bools_with_the_template(value: Any) -> None:
    """An array once failed in ``value in choices`` with NumPy's "truth value ... is ambiguous"; True passed as 1."""
    text = "Invalid value for `p`: expected one of 1, 2. Received: p="
    with pytest.raises(ValueError, match="^" + re.escape(text)):
        check_choice(value, "p", (1, 2))


def test_check_choice_keeps_equal_numbers_and_bool_choices() -> None:
    assert check_choice(np.int64(2), "p", (1, 2)) == 2
    assert check_choice(False, "flag", (True, False)) is False
    assert check_choice(None, "normalization", (None, "batchnorm")) is None


def test_array_modes_and_choices_reach_the_template() -> None:
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"^Invalid value for `bn_param\['mode'\]`: expected one of 'train', 'test'"):
        ops.batchnorm_forward(x, None, None, {"mode": np.array(["train", "test"])})
    with pytest.raises(ValueError, match=r"^Invalid value for `approximate`: expected one of 'none', 'tanh'"):
        ops.gelu_forward(x, np.array(["none", "tanh"]))
    with pytest.raises(ValueError, match=r"^Invalid value for `p`: expected one of 1, 2. Received: p=True$"):
        nn.MultiMarginLoss(p=True)


@pytest.mark.parametrize(
    "value,kind", [(None, "NoneType"), (3, "int"), ("ab", "str"), (b"ab", "bytes"), (np.array(2), "ndarray")]
)
def test_check_iterable_refuses_what_cannot_be_a_list(value: Any, kind: str) -> None:
    """A 0-d array passes isinstance(Iterable) and then fails to iterate; a str iterates its characters."""
    with pytest.raises(TypeError, match=f"^Invalid type for `xs`: expected a list. Received: xs of type {kind}$"):
        check_iterable(value, "xs", "a list")
    assert check_iterable(np.array([1, 2]), "xs", "a list") == [1, 2]
    assert check_iterable((i for i in range(2)), "xs", "a list") == [0, 1]


def test_check_float_finite_closes_the_missing_bounds_at_inf() -> None:
    assert check_float(-1e308, "x", finite=True) == -1e308
    for bad in (float("inf"), -float("inf")):
        with pytest.raises(ValueError, match=re.escape("Invalid value for `x`: expected a float in (-inf, inf).")):
            check_float(bad, "x", finite=True)
    with pytest.raises(ValueError, match=re.escape("Invalid value for `x`: expected a float in [0, inf).")):
        check_float(float("inf"), "x", low=0.0, finite=True)


def test_size_error_names_the_largest_size() -> None:
    e = size_error({"a": 3, "b": [2, 2**40], "c": "x"}, "a size that fits")
    assert str(e) == "Invalid value for `b`: expected a size that fits. Received: b=[2, 1099511627776]"
