"""Activation modules against their torch.nn twins (rows of the twin table), plus their edge cases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from scratchnn import nn

from .twins import compare_module

# (id, ours, torch's, input shape)
ROWS: list[tuple[str, Callable[[], nn.Module], Callable[[], torch.nn.Module], tuple[int, ...]]] = [
    ("relu", nn.ReLU, torch.nn.ReLU, (4, 7)),
    ("leaky_relu", nn.LeakyReLU, torch.nn.LeakyReLU, (4, 7)),
    ("leaky_relu_0.2", lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2), (2, 3, 5)),
    ("sigmoid", nn.Sigmoid, torch.nn.Sigmoid, (4, 7)),
    ("tanh", nn.Tanh, torch.nn.Tanh, (3, 2, 4)),
    ("gelu", nn.GELU, torch.nn.GELU, (5, 8)),
    ("gelu_tanh", lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh"), (5, 8)),
    ("softmax_dim1", lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1), (4, 6)),
    ("softmax_dim-1_3d", lambda: nn.Softmax(dim=-1), lambda: torch.nn.Softmax(dim=-1), (2, 3, 5)),
    ("softmax_dim0", lambda: nn.Softmax(dim=0), lambda: torch.nn.Softmax(dim=0), (4, 6)),
    ("softmax_dim-3_4d", lambda: nn.Softmax(dim=-3), lambda: torch.nn.Softmax(dim=-3), (2, 3, 2, 2)),
]  # fmt: skip


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ours,theirs,shape", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_activation_matches_torch(ours: Any, theirs: Any, shape: tuple[int, ...], dtype: type, train: bool) -> None:
    x = 3 * np.random.default_rng(1).standard_normal(shape)  # wide enough to reach GELU's erf tails
    compare_module(ours(), theirs(), [x], dtype=dtype, train=train, steps=2)


@pytest.mark.parametrize("ours,theirs", [r[1:3] for r in ROWS], ids=[r[0] for r in ROWS])
def test_repr_matches_torch(ours: Any, theirs: Any) -> None:
    assert repr(ours()) == repr(theirs())
    assert list(ours().state_dict()) == list(theirs().state_dict()) == []


@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4), (2, 3, 2, 2)])
def test_softmax_implicit_dim_mirrors_torch(shape: tuple[int, ...]) -> None:
    """dim=None picks dim 0 for 0-, 1- and 3-D input, else 1, with torch's deprecation warning."""
    x = np.random.default_rng(2).standard_normal(shape)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        compare_module(nn.Softmax(), torch.nn.Softmax(), [x], dtype=np.float64)


def test_inplace_flag_is_accepted_and_input_untouched() -> None:
    x = np.array([-1.0, 2.0])
    assert repr(nn.ReLU(inplace=True)) == repr(torch.nn.ReLU(inplace=True))
    assert repr(nn.LeakyReLU(0.1, inplace=True)) == repr(torch.nn.LeakyReLU(0.1, inplace=True))
    assert nn.ReLU(inplace=True)(x).tolist() == [0.0, 2.0] and x.tolist() == [-1.0, 2.0]


def test_gelu_extreme_inputs_are_finite_and_exact_in_the_limits() -> None:
    x = np.array([-1e4, -40.0, 40.0, 1e4])
    out = nn.GELU()(x)
    assert np.array_equal(out, [-0.0, -0.0, 40.0, 1e4])  # Phi underflows to 0 below ~-38, no NaN


def test_bad_arguments_raise_the_template() -> None:
    with pytest.raises(ValueError, match=r"Invalid value for `approximate`: expected one of 'none', 'tanh'\. "):
        nn.GELU("fast")
    with pytest.raises(TypeError, match=r"^Invalid type for `negative_slope`: expected a float"):
        nn.LeakyReLU(None)
    # the input's rank is what is wrong, not dim (a constructor argument): found by fuzzing, it named dim
    with pytest.raises(ValueError, match=r"^Invalid shape for `input`: expected an array with axis dim=2\. "):
        nn.Softmax(dim=2)(np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"^Invalid type for `input`: expected a numpy.ndarray"):
        nn.Tanh()([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"Sigmoid.backward\(\) was called before forward\(\)"):
        nn.Sigmoid().backward(np.ones(3))
