"""Init schemes, per-layer statistics (against torch autograd) and the divergence-reporting training loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from scratchnn.analysis.initialization import deep_mlp, init_weights_, layer_stats, train_until_diverged
from scratchnn.nn import CrossEntropyLoss, Linear, MSELoss
from scratchnn.optim import SGD


@pytest.mark.parametrize(
    ("scheme", "std"),
    [
        ("normal_0.01", 0.01),
        ("normal_1", 1.0),
        ("xavier", math.sqrt(2 / (300 + 200))),
        ("he", math.sqrt(2 / 300)),
        ("uniform_0.03", 0.03 / math.sqrt(3)),
        ("uniform_3", 3 / math.sqrt(3)),
        ("kaiming", math.sqrt(2 / 300)),
    ],
)
def test_scheme_draws_have_the_documented_std(scheme: str, std: float) -> None:
    layer = Linear(300, 200, rng=np.random.default_rng(0))
    init_weights_(layer, scheme, rng=np.random.default_rng(1))
    w = layer.weight.data
    assert w.std() == pytest.approx(std, rel=0.02)
    assert abs(w.mean()) < 0.02 * std
    assert (layer.bias.data == 0).all()
    if scheme.startswith("uniform"):
        bound = float(scheme.split("_")[1])
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound


def test_zeros_scheme_and_bad_scheme() -> None:
    net = init_weights_(
        deep_mlp(5, 8, 3, 2, "tanh", rng=np.random.default_rng(0)), "zeros", rng=np.random.default_rng(0)
    )
    assert all((p.data == 0).all() for p in net.parameters())
    with pytest.raises(ValueError, match="Invalid value for `scheme`: expected one of 'zeros', 'normal_0.01'"):
        init_weights_(net, "lecun", rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="Invalid value for `nonlinearity`"):
        deep_mlp(5, 8, 3, 2, "gelu")


def _torch_twin(net: object, nonlinearity: str) -> torch.nn.Sequential:
    act = torch.nn.Tanh if nonlinearity == "tanh" else torch.nn.ReLU
    layers: list[torch.nn.Module] = []
    for m in net:  # type: ignore[attr-defined]
        if isinstance(m, Linear):
            t = torch.nn.Linear(m.in_features, m.out_features, dtype=torch.float64)
            with torch.no_grad():
                t.weight.copy_(torch.from_numpy(m.weight.data))
                t.bias.copy_(torch.from_numpy(m.bias.data))
            layers.append(t)
        else:
            layers.append(act())
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_layer_stats_match_torch(nonlinearity: str) -> None:
    rng = np.random.default_rng(0)
    net = deep_mlp(6, 16, 4, 3, nonlinearity, rng=rng).double()
    init_weights_(net, "he", rng=rng)
    X, y = rng.standard_normal((40, 6)), rng.integers(0, 3, 40)
    stats = layer_stats(net, CrossEntropyLoss(), X, y)
    twin = _torch_twin(net, nonlinearity)
    h, stds, means = torch.from_numpy(X), [], []
    for m in twin:
        h = m(h)
        if not isinstance(m, torch.nn.Linear):
            stds.append(h.std(unbiased=False).item())
            means.append(h.mean().item())
    loss = torch.nn.functional.cross_entropy(h, torch.from_numpy(y))
    loss.backward()
    norms = [m.weight.grad.norm().item() for m in twin if isinstance(m, torch.nn.Linear)]
    np.testing.assert_allclose(stats.act_std, stds, rtol=1e-10)
    np.testing.assert_allclose(stats.act_mean, means, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(stats.grad_norm, norms, rtol=1e-10)
    assert stats.loss == pytest.approx(loss.item(), rel=1e-12)
    assert len(stats.act_std) == 4 and len(stats.grad_norm) == 5
    assert all((p.grad == 0).all() for p in net.parameters())  # left as it was


def test_training_loop_trains_and_evaluates() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 1)).astype(np.float32)
    y = (np.sin(2 * X) + 0.5).astype(np.float32)
    net = init_weights_(deep_mlp(1, 32, 2, 1, "relu", rng=rng), "kaiming", rng=rng)
    evals = []

    def evaluate() -> dict[str, float]:
        evals.append(1)
        return {"mse": float(MSELoss()(net(X), y))}

    run = train_until_diverged(
        net,
        MSELoss(),
        SGD(net.parameters(), lr=0.05, momentum=0.9),
        X,
        y,
        steps=300,
        batch_size=32,
        rng=rng,
        eval_every=100,
        evaluate=evaluate,
    )
    assert run.diverged_step is None and len(run.losses) == 300
    assert [e["step"] for e in run.evals] == [0, 100, 200, 300]
    assert run.evals[-1]["mse"] < 0.1 * run.evals[0]["mse"]


def test_overflow_is_reported_as_divergence_not_raised() -> None:
    rng = np.random.default_rng(0)
    net = init_weights_(deep_mlp(1, 64, 4, 1, "relu", rng=rng), "uniform_3", rng=rng)
    X = rng.uniform(-1, 1, (256, 1)).astype(np.float32)
    with np.errstate(all="raise"):  # the test suite's setting: an overflow would raise out of a naive loop
        run = train_until_diverged(
            net,
            MSELoss(),
            SGD(net.parameters(), lr=0.01, momentum=0.9),
            X,
            X,
            steps=50,
            batch_size=64,
            rng=rng,
            diverge_factor=1e30,
        )
    assert run.diverged_step is not None and 1 <= run.diverged_step <= 10
    assert len(run.losses) == run.diverged_step - 1
    assert all(math.isfinite(v) for v in run.losses)


def test_loss_above_the_factor_is_divergence() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3)).astype(np.float32)
    net = deep_mlp(3, 8, 1, 1, "tanh", rng=rng)
    # lr far above 2 / lambda_max of the last layer's quadratic: the loss grows geometrically
    run = train_until_diverged(
        net,
        MSELoss(),
        SGD(net.parameters(), lr=30.0),
        X,
        X[:, :1],
        steps=200,
        batch_size=64,
        rng=rng,
        diverge_factor=100.0,
    )
    assert run.diverged_step is not None and run.diverged_step < 200
    assert max(run.losses) <= 100 * run.losses[0]
