"""nn.init against torch.nn.init: same gains, fans, bounds and standard deviations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from scratchnn import nn
from scratchnn.nn import init

SHAPES = [(300, 200), (64, 32, 3, 3)]


@pytest.mark.parametrize(
    "nonlinearity,param",
    [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("selu", None),
    ],
)
def test_calculate_gain_matches_torch(nonlinearity: str, param: float | None) -> None:
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15
    )


def _torch_std_and_max(fn_name: str, shape: tuple[int, ...], **kw: object) -> tuple[float, float]:
    t = torch.empty(shape, dtype=torch.float64)
    getattr(torch.nn.init, fn_name)(t, **kw)
    return float(t.std()), float(t.abs().max())


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "fn_name,kw",
    [
        ("xavier_uniform_", {}),
        ("xavier_uniform_", {"gain": 2.0}),
        ("xavier_normal_", {}),
        ("kaiming_uniform_", {}),
        ("kaiming_uniform_", {"a": math.sqrt(5)}),
        ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
        ("kaiming_normal_", {"nonlinearity": "relu"}),
        ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "tanh"}),
        ("uniform_", {"a": -0.3, "b": 0.3}),
        ("normal_", {"mean": 0.0, "std": 0.02}),
    ],
)
def test_distribution_matches_torch(fn_name: str, kw: dict[str, object], shape: tuple[int, ...]) -> None:
    ours = np.empty(shape)
    getattr(init, fn_name)(ours, **kw, rng=np.random.default_rng(0))
    t_std, t_max = _torch_std_and_max(fn_name, shape, **kw)
    # >= 60,000 draws each: sample stds agree to well under 2%
    assert ours.std() == pytest.approx(t_std, rel=0.02)
    if "uniform" in fn_name:  # same bound: both maxima sit just below it
        assert np.abs(ours).max() == pytest.approx(t_max, rel=0.01)


def test_trunc_normal_stays_in_bounds() -> None:
    w = np.empty((200, 300))
    init.trunc_normal_(w, mean=0.5, std=1.0, a=-0.5, b=1.0, rng=np.random.default_rng(0))
    assert w.min() >= -0.5 and w.max() <= 1.0
    t = torch.empty(200, 300, dtype=torch.float64)
    torch.nn.init.trunc_normal_(t, mean=0.5, std=1.0, a=-0.5, b=1.0)
    assert w.mean() == pytest.approx(float(t.mean()), abs=0.01)
    assert w.std() == pytest.approx(float(t.std()), rel=0.02)


@pytest.mark.parametrize("shape", [(20, 50), (50, 20), (8, 4, 3, 3)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape: tuple[int, ...]) -> None:
    w = np.empty(shape)
    init.orthogonal_(w, gain=2.0, rng=np.random.default_rng(0))
    flat = w.reshape(shape[0], -1) / 2.0
    gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(gram, np.eye(gram.shape[0]), atol=1e-12)


def test_constant_ones_zeros() -> None:
    w = np.empty((3, 4), np.float32)
    assert (init.constant_(w, 0.25) == 0.25).all()
    assert (init.ones_(w) == 1).all() and w.dtype == np.float32
    assert (init.zeros_(nn.Param(w)).data == 0).all()


def test_linear_default_init_matches_torch_bounds() -> None:
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) gives gain*sqrt(3/fan_in) = 1/sqrt(fan_in)
    assert np.abs(lin.weight.data).max() <= bound and np.abs(lin.weight.data).max() > 0.99 * bound
    assert np.abs(lin.bias.data).max() <= bound
    assert lin.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)


def test_initializers_use_the_given_rng() -> None:
    a, b = np.empty((5, 5)), np.empty((5, 5))
    init.xavier_uniform_(a, rng=np.random.default_rng(42))
    init.xavier_uniform_(b, rng=np.random.default_rng(42))
    np.testing.assert_array_equal(a, b)


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(ValueError, match=r"Invalid value for `nonlinearity`: expected one of"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match=r"Invalid value for `mode`: expected one of 'fan_in', 'fan_out'"):
        init.kaiming_normal_(np.empty((3, 3)), mode="fan_avg")
    with pytest.raises(ValueError, match=r"Invalid shape for `tensor`: expected at least 2 dimensions"):
        init.xavier_uniform_(np.empty(5))
    with pytest.raises(
        TypeError, match=r"Invalid type for `tensor`: expected a float32 or float64 numpy.ndarray or a Param"
    ):
        init.normal_(np.zeros((2, 2), dtype=np.int64))
