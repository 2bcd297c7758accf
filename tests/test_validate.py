"""The shared checks of ``scratchnn._validate`` on values the modules' own tests do not reach (found by fuzzing)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from scratchnn import nn, ops
from scratchnn._validate import check_choice


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
