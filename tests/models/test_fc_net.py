"""FullyConnectedNet: the course contract, the Module contract, torch agreement, overfitting."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scratchnn.gradcheck import eval_numerical_gradient, rel_error
from scratchnn.models import FullyConnectedNet


def _data(n: int = 6, d: int = 15, c: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, c, n)


def test_params_are_named_like_the_course() -> None:
    model = FullyConnectedNet([20, 30], input_dim=15, num_classes=4, seed=0)
    assert list(model.params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert model.params["W1"].shape == (15, 20) and model.params["b3"].shape == (4,)
    assert [n for n, _ in model.named_parameters()] == list(model.params)


@pytest.mark.parametrize("reg", [0.0, 3.14])
def test_loss_gradients_match_numerical_gradients(reg: float) -> None:
    X, y = _data()
    model = FullyConnectedNet(
        [20, 30], input_dim=15, num_classes=4, reg=reg, weight_scale=5e-2, dtype=np.float64, seed=0
    )
    loss, grads = model.loss(X, y)
    for name in sorted(grads):
        num = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name], verbose=False, h=1e-5)
        # rel_error is the worst *elementwise* ratio: an entry of size ~1e-8 carries the loss's rounding
        # error (~1e-16 / h = 1e-11) and reaches ~1e-6 on its own; a wrong gradient gives ~1e-1
        assert rel_error(num, grads[name]) < 1e-5, name


def test_reg_adds_half_l2_of_weights_only() -> None:
    X, y = _data()
    a = FullyConnectedNet([10], input_dim=15, num_classes=4, reg=0.0, dtype=np.float64, seed=1)
    b = FullyConnectedNet([10], input_dim=15, num_classes=4, reg=0.7, dtype=np.float64, seed=1)
    b.params["b1"] = np.full(10, 3.0)  # biases must not be penalised
    a.params["b1"] = np.full(10, 3.0)
    expected = 0.5 * 0.7 * (np.sum(a.params["W1"] ** 2) + np.sum(a.params["W2"] ** 2))
    assert abs(b.loss(X, y)[0] - a.loss(X, y)[0] - expected) < 1e-12


def test_initial_loss_is_log_num_classes() -> None:
    X, y = _data(n=200, c=10)
    model = FullyConnectedNet([50], input_dim=15, num_classes=10, weight_scale=1e-3, dtype=np.float64, seed=0)
    assert abs(model.loss(X, y)[0] - np.log(10)) < 1e-3


def test_scores_and_module_path_agree_with_the_course_path() -> None:
    X, y = _data()
    model = FullyConnectedNet([8, 7], input_dim=15, num_classes=4, weight_scale=0.1, dtype=np.float64, seed=0)
    scores = model.loss(X)
    np.testing.assert_array_equal(scores, model(X))
    _, grads = model.loss(X, y)
    # the Module path with the same loss gradient accumulates the same parameter gradients
    from scratchnn.ops import softmax_loss

    _, dscores = softmax_loss(model(X), y)
    model.zero_grad()
    model.backward(dscores)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, grads[name], rtol=1e-12, err_msg=name)


def test_matches_torch_mlp() -> None:
    X, y = _data(n=9, d=12, c=5)
    model = FullyConnectedNet([16, 11], input_dim=12, num_classes=5, weight_init="he", dtype=np.float64, seed=3)
    layers = [
        torch.nn.Linear(12, 16),
        torch.nn.ReLU(),
        torch.nn.Linear(16, 11),
        torch.nn.ReLU(),
        torch.nn.Linear(11, 5),
    ]
    net = torch.nn.Sequential(*layers).double()
    with torch.no_grad():
        for i, lin in enumerate([layers[0], layers[2], layers[4]], start=1):
            lin.weight.copy_(torch.from_numpy(model.params[f"W{i}"].T))  # course (D, M) -> torch (M, D)
            lin.bias.copy_(torch.from_numpy(model.params[f"b{i}"]))
    loss, grads = model.loss(X, y)
    tloss = torch.nn.functional.cross_entropy(net(torch.from_numpy(X)), torch.from_numpy(y))
    tloss.backward()
    assert abs(loss - tloss.item()) < 1e-12
    for i, lin in enumerate([layers[0], layers[2], layers[4]], start=1):
        np.testing.assert_allclose(grads[f"W{i}"], lin.weight.grad.numpy().T, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(grads[f"b{i}"], lin.bias.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("init,std", [("he", np.sqrt(2 / 400)), ("xavier", np.sqrt(2 / 700)), ("normal", 0.05)])
def test_weight_init_std(init: str, std: float) -> None:
    model = FullyConnectedNet([300], input_dim=400, num_classes=10, weight_init=init, weight_scale=0.05, seed=0)
    w = model.params["W1"]
    assert abs(w.std() / std - 1) < 0.02  # 120,000 draws: the sample std is within 0.5% of the true one
    assert not model.params["b1"].any()


def test_seed_makes_init_reproducible() -> None:
    a = FullyConnectedNet([5], input_dim=3, num_classes=2, seed=7)
    b = FullyConnectedNet([5], input_dim=3, num_classes=2, seed=7)
    c = FullyConnectedNet([5], input_dim=3, num_classes=2, seed=8)
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])
    assert not np.array_equal(a.params["W1"], c.params["W1"])


def test_overfits_50_samples() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, 50)
    model = FullyConnectedNet([100, 100], input_dim=3 * 8 * 8, num_classes=10, weight_init="he", seed=0)
    lr = 1e-2
    for _ in range(200):
        _, grads = model.loss(X, y)
        for k, g in grads.items():
            model.params[k] -= lr * g
    acc = np.mean(np.argmax(model.loss(X), axis=1) == y)
    assert acc == 1.0


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(ValueError, match=r"Invalid value for `weight_init`: expected one of 'normal', 'he', "):
        FullyConnectedNet([5], input_dim=3, weight_init="kaiming")
    with pytest.raises(TypeError, match=r"Invalid type for `hidden_dims`"):
        FullyConnectedNet(5, input_dim=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Invalid value for `reg`: expected a float in \[0, inf\)"):
        FullyConnectedNet([5], input_dim=3, reg=-1.0)
    model = FullyConnectedNet([5], input_dim=3, num_classes=2)
    with pytest.raises(ValueError, match=r"Invalid shape for `X`: expected \(N, \.\.\.\) with 3 features"):
        model.loss(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"Invalid value for `y`: expected class labels in \[0, 2\)"):
        model.loss(np.zeros((2, 3), np.float32), np.array([0, 2]))
