"""The gradient-through-time tool: the exact law of a linear orthogonal recurrence, the vanish/explode
boundary at spectral radius 1, and every per-step gradient norm against torch autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import scratchnn
from scratchnn.analysis import module_flow, rnn_flow, rnn_flow_grid, scaled_rnn


@pytest.mark.parametrize("s", [0.5, 0.9, 1.0, 1.1, 2.0])
def test_identity_orthogonal_last_step_follows_the_exact_law(s: float) -> None:
    T = 30
    rng = np.random.default_rng(0)
    W_hh, W_xh, _ = scaled_rnn(16, 4, s, 0.0, rng=rng)
    flow = rnn_flow(rng.standard_normal((3, T, 4)), W_hh, W_xh, np.zeros(16), nonlinearity="identity", rng=rng)
    t = np.arange(1, T + 1)
    expected = s ** (T - t) * flow.grad_norm[-1]  # ||dL/dh_t|| = s^(T-t) ||dL/dh_T||
    np.testing.assert_allclose(flow.grad_norm, expected, rtol=1e-10, atol=0)
    assert flow.spectral_radius == pytest.approx(s, rel=1e-10)


def test_the_boundary_between_vanishing_and_exploding_is_spectral_radius_one() -> None:
    scales = [0.8, 0.95, 0.999, 1.0, 1.001, 1.05, 1.2]
    grid = rnn_flow_grid(scales, [0.0], T=40, nonlinearity="identity")
    ratio = grid["log10_ratio"][:, 0]
    np.testing.assert_allclose(ratio, 39 * np.log10(scales), rtol=1e-9, atol=1e-12)
    assert list(np.sign(np.round(ratio, 12))) == [-1, -1, -1, 0, 1, 1, 1]
    np.testing.assert_allclose(grid["spectral_radius"][:, 0], scales, rtol=1e-10)


def test_a_saturated_tanh_vanishes_where_the_linear_network_explodes() -> None:
    grid = rnn_flow_grid([1.5], [0.0, 4.0], T=40, nonlinearity="tanh")
    linear = rnn_flow_grid([1.5], [4.0], T=40, nonlinearity="identity")
    assert linear["log10_ratio"][0, 0] > 5  # 1.5^39
    assert grid["log10_ratio"][0, 1] < -5  # a bias of 4 saturates tanh: phi' ~ 1e-3
    assert grid["log10_ratio"][0, 1] < grid["log10_ratio"][0, 0]


def _torch_flow(x, W_hh, W_xh, b, c, nonlinearity):  # type: ignore[no-untyped-def]
    phi = {"tanh": torch.tanh, "relu": torch.relu, "identity": lambda a: a}[nonlinearity]
    W = torch.tensor(W_hh, requires_grad=True)  # so that every h_t is part of the graph
    h = torch.zeros(x.shape[0], W_hh.shape[0], dtype=torch.float64)
    hs = []
    for t in range(x.shape[1]):
        h = phi(h @ W + torch.tensor(x[:, t]) @ torch.tensor(W_xh) + torch.tensor(b))
        h.retain_grad()
        hs.append(h)
    loss = sum((torch.tensor(c[:, t]) * hs[t]).sum() for t in range(len(hs)))
    loss.backward()
    h_norm = np.array([h.detach().norm(dim=1).mean().item() for h in hs])
    g_norm = np.array([h.grad.norm(dim=1).mean().item() for h in hs])
    return h_norm, g_norm


@pytest.mark.parametrize("nonlinearity", ["identity", "relu", "tanh"])
@pytest.mark.parametrize("loss_on", ["last", "all"])
def test_every_step_matches_torch_autograd(nonlinearity: str, loss_on: str) -> None:
    rng = np.random.default_rng(1)
    N, T, D, H = 4, 12, 3, 8
    W_hh, W_xh, b = scaled_rnn(H, D, 0.9, 0.3, weights="gaussian", rng=rng)
    x = rng.standard_normal((N, T, D))
    c = rng.standard_normal((N, T, H))
    if loss_on == "last":
        c[:, :-1] = 0
    flow = rnn_flow(x, W_hh, W_xh, b, nonlinearity=nonlinearity, readout=c)
    h_norm, g_norm = _torch_flow(x, W_hh, W_xh, b, c, nonlinearity)
    np.testing.assert_allclose(flow.h_norm, h_norm, rtol=1e-12)
    np.testing.assert_allclose(flow.grad_norm, g_norm, rtol=1e-12)


def test_grid_cells_depend_only_on_the_seed_and_their_scales() -> None:
    big = rnn_flow_grid([0.5, 1.0], [0.0, 1.0], T=10, nonlinearity="tanh", seed=3)
    one = rnn_flow_grid([1.0], [1.0], T=10, nonlinearity="tanh", seed=3)
    np.testing.assert_array_equal(big["grad_norm"][1, 1], one["grad_norm"][0, 0])


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"nonlinearity": "sigmoid"}, "Invalid value for `nonlinearity`: expected one of 'identity', 'relu', 'tanh'"),
        ({"loss_on": "first"}, "Invalid value for `loss_on`: expected one of 'last', 'all'"),
        ({"h0": np.zeros((2, 8))}, "Invalid shape for `h0`: expected (N, H) = (3, 4)"),
        ({"readout": np.zeros((3, 5, 4))}, "Invalid shape for `readout`: expected (N, T, H) = (3, 6, 4)"),
    ],
)
def test_bad_arguments_name_themselves(kwargs: dict[str, object], message: str) -> None:
    rng = np.random.default_rng(0)
    W_hh, W_xh, b = scaled_rnn(4, 2, 1.0, 0.0, rng=rng)
    with pytest.raises(ValueError) as info:
        rnn_flow(np.zeros((3, 6, 2)), W_hh, W_xh, b, **kwargs)  # type: ignore[arg-type]
    assert str(info.value).startswith(message)


def test_bad_shapes_and_scales_name_themselves() -> None:
    with pytest.raises(ValueError, match="Invalid shape for `W_hh`: expected a square"):
        rnn_flow(np.zeros((1, 2, 2)), np.zeros((3, 4)), np.zeros((2, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="Invalid value for `weight_scale`"):
        scaled_rnn(4, 2, -1.0, 0.0)


def test_module_flow_of_an_rnn_equals_the_explicit_recurrence() -> None:
    rng = np.random.default_rng(4)
    rnn = scratchnn.nn.RNN(3, 8, batch_first=True, dtype=np.float64, rng=rng)
    x, c = rng.standard_normal((4, 10, 3)), rng.standard_normal((4, 10, 8))
    ours = module_flow(rnn, x, readout=c)
    b = rnn.bias_ih_l0.data + rnn.bias_hh_l0.data
    explicit = rnn_flow(x, rnn.weight_hh_l0.data.T, rnn.weight_ih_l0.data.T, b, readout=c)
    np.testing.assert_allclose(ours.grad_norm, explicit.grad_norm, rtol=1e-10)
    np.testing.assert_allclose(ours.h_norm, explicit.h_norm, rtol=1e-12)
    assert ours.spectral_radius == pytest.approx(explicit.spectral_radius, rel=1e-12)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_module_flow_of_gated_cells_matches_torch_autograd(kind: str) -> None:
    rng = np.random.default_rng(5)
    N, T, D, H = 3, 9, 2, 5
    module = getattr(scratchnn.nn, kind)(D, H, dtype=np.float64, rng=rng)  # batch_first=False: (T, N, D)
    cell = getattr(torch.nn, kind + "Cell")(D, H).double()
    cell.load_state_dict({k.removesuffix("_l0"): torch.tensor(v) for k, v in module.state_dict().items()})
    x, c = rng.standard_normal((T, N, D)), rng.standard_normal((N, T, H))
    flow = module_flow(module, x, readout=c)
    state, hs = None, []
    for t in range(T):
        state = cell(torch.tensor(x[t]), state)
        h = state[0] if kind == "LSTM" else state
        h.retain_grad()
        hs.append(h)
    sum((torch.tensor(c[:, t]) * hs[t]).sum() for t in range(T)).backward()
    expected = np.array([h.grad.norm(dim=1).mean().item() for h in hs])
    np.testing.assert_allclose(flow.grad_norm, expected, rtol=1e-10)
    assert np.isnan(flow.spectral_radius)


def test_module_flow_refuses_stacks() -> None:
    with pytest.raises(ValueError, match="Invalid value for `module`: expected one layer, one direction"):
        module_flow(scratchnn.nn.GRU(2, 3, num_layers=2), np.zeros((1, 4, 2), dtype=np.float32))
