"""Constructor arguments at the edges (found by fuzzing): sizes no array can have, 0-d arrays for lists, and
infinite numbers that give inf or NaN outputs for finite inputs."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from scratchnn import models, nn, ops


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


@pytest.mark.parametrize("build,name,value", [
    (lambda: nn.Linear(3, 2**70), "out_features", 2**70),  # NumPy: "Maximum allowed dimension exceeded"
    (lambda: nn.Linear(2**40, 3), "in_features", 2**40),  # MemoryError (12 TiB)
    (lambda: nn.Conv2d(2**31, 2**31, 2**31), "in_channels", 2**31),  # "array is too big"
    (lambda: nn.BatchNorm1d(2**62, affine=False), "num_features", 2**62),  # a buffer
    (lambda: nn.LayerNorm((3, 2**62)), "normalized_shape", (3, 2**62)),
    (lambda: nn.GroupNorm(1, 2**62), "num_channels", 2**62),
    (lambda: models.FullyConnectedNet([2**40], input_dim=3), "hidden_dims", [2**40]),
    (lambda: models.ThreeLayerConvNet(input_dim=(3, 2**20, 2**20)), "input_dim", (3, 2**20, 2**20)),
    (lambda: nn.Embedding(2**40, 3), "num_embeddings", 2**40),
    (lambda: nn.RNN(3, 2**70), "hidden_size", 2**70),
    (lambda: nn.LSTM(2**40, 3), "input_size", 2**40),
    (lambda: nn.GRU(3, 4, num_layers=2**40), "num_layers", 2**40),  # before a loop over 2**40 layers
    (lambda: nn.RNNCell(2**40, 3), "input_size", 2**40),
    (lambda: nn.LSTMCell(3, 2**62), "hidden_size", 2**62),
    (lambda: nn.GRUCell(3, 2**70), "hidden_size", 2**70),
])  # fmt: skip
def test_a_size_no_array_can_have(build: Callable[[], Any], name: str, value: Any) -> None:
    pattern = f"^Invalid value for `{name}`: expected a size whose array of shape .* fits in memory \\(it needs "
    with pytest.raises(ValueError, match=pattern + r".* GiB\)\. Received: " + re.escape(f"{name}={value!r}") + "$"):
        build()


def test_module_list_of_a_0d_array() -> None:
    text = "Invalid type for `modules`: expected an iterable of Modules or None. Received: modules of type ndarray"
    with pytest.raises(TypeError, match=msg(text)):
        nn.ModuleList(np.array(2))
    with pytest.raises(TypeError, match=msg(text.replace(" or None", "").replace("of type ndarray", "of type str"))):
        nn.ModuleList().extend("ab")


@pytest.mark.parametrize("build,name,value,interval", [
    (lambda v: nn.LeakyReLU(v), "negative_slope", math.inf, "(-inf, inf)"),
    (lambda v: ops.leaky_relu_forward(np.zeros(2), v), "negative_slope", -math.inf, "(-inf, inf)"),
    (lambda v: nn.MultiMarginLoss(margin=v), "margin", math.inf, "(-inf, inf)"),
    (lambda v: ops.multi_margin_loss(np.zeros((1, 2)), np.array([0]), margin=v), "margin", math.inf, "(-inf, inf)"),
    (lambda v: models.FullyConnectedNet([3], input_dim=2, reg=v), "reg", math.inf, "[0, inf)"),
    (lambda v: models.FullyConnectedNet([3], input_dim=2, weight_scale=v), "weight_scale", math.inf, "[0, inf)"),
    (lambda v: models.ThreeLayerConvNet(weight_scale=v), "weight_scale", math.inf, "[0, inf)"),
])  # fmt: skip
def test_an_infinite_number_that_would_make_finite_inputs_inf(
    build: Callable[[Any], Any], name: str, value: float, interval: str
) -> None:
    """LeakyReLU(inf) made 0 * inf = NaN at x = 0; weight_scale=inf made inf weights; reg=inf an inf loss."""
    text = f"Invalid value for `{name}`: expected a float in {interval}. Received: {name}={value!r}"
    with pytest.raises(ValueError, match=msg(text)):
        build(value)


@pytest.mark.parametrize("cls", [models.FullyConnectedNet, models.ThreeLayerConvNet])
def test_a_weight_scale_that_overflows_float32_names_it(cls: Any) -> None:
    """1e300 passed the old check, then NumPy warned 'overflow encountered in cast' and the weights were inf."""
    text = (
        "Invalid value for `weight_scale`: expected a scale whose weights float32 holds. Received: weight_scale=1e+300"
    )
    args = () if cls is models.ThreeLayerConvNet else ([3], 2)
    with pytest.raises(ValueError, match=msg(text)):
        cls(*args, weight_scale=1e300)
    assert np.isfinite(cls(*args, weight_scale=1e300, dtype=np.float64).params["W1"]).all()  # float64 holds it
