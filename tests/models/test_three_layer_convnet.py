"""ThreeLayerConvNet: the course contract, numerical gradients, torch agreement, overfitting."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as tF

from scratchnn import optim
from scratchnn.gradcheck import eval_numerical_gradient, rel_error
from scratchnn.models import ThreeLayerConvNet
from scratchnn.ops import softmax_loss

SMALL = dict(input_dim=(3, 6, 6), num_filters=3, filter_size=3, hidden_dim=7, num_classes=4)


def _data(n: int = 4, shape: tuple[int, ...] = (3, 6, 6), c: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, *shape)), rng.integers(0, c, n)


def _kink_margins(model: ThreeLayerConvNet, X: np.ndarray) -> tuple[float, float, float]:
    """Distances to the kinks a finite difference could cross: conv pre-activations from 0, the gap between the
    two largest values of each pool window with a positive maximum (an all-zero window stays zero), hidden
    pre-activations from 0."""
    p = model.params
    a = tF.conv2d(torch.from_numpy(X), torch.from_numpy(p["W1"]), torch.from_numpy(p["b1"]), padding=model.pad)
    r = torch.relu(a)
    N, F, H, W = r.shape
    windows = r[:, :, : H // 2 * 2, : W // 2 * 2].reshape(N, F, H // 2, 2, W // 2, 2).permute(0, 1, 2, 4, 3, 5)
    top2 = windows.reshape(N, F, H // 2, W // 2, 4).topk(2, dim=-1).values
    pooled = top2[..., 0].reshape(N, -1).numpy()
    hidden = pooled @ p["W2"] + p["b2"]
    gaps = (top2[..., 0] - top2[..., 1])[top2[..., 0] > 0]
    return float(a.abs().min()), float(gaps.min()), float(np.abs(hidden).min())


def test_params_are_named_and_laid_out_like_the_course() -> None:
    model = ThreeLayerConvNet(seed=0)  # the course defaults: 3x32x32, 32 filters of 7x7, hidden 100
    shapes = {k: v.shape for k, v in model.params.items()}
    assert shapes == {
        "W1": (32, 3, 7, 7),
        "b1": (32,),
        "W2": (32 * 16 * 16, 100),
        "b2": (100,),
        "W3": (100, 10),
        "b3": (10,),
    }
    assert [n for n, _ in model.named_parameters()] == list(model.params)
    assert model.pad == 3 and model.params["W1"].dtype == np.float32
    assert abs(model.params["W2"].std() / 1e-3 - 1) < 0.01  # N(0, weight_scale^2): 819,200 draws
    assert not model.params["b1"].any()


@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_loss_gradients_match_numerical_gradients(reg: float) -> None:
    X, y = _data()
    model = ThreeLayerConvNet(**SMALL, weight_scale=0.3, reg=reg, dtype=np.float64, seed=1)  # type: ignore[arg-type]
    assert min(_kink_margins(model, X)) > 1e-3  # h = 1e-6 below can cross no ReLU kink nor a max switch
    loss, grads = model.loss(X, y)
    assert sorted(grads) == sorted(model.params)
    for name in sorted(grads):
        num = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name], verbose=False, h=1e-6)
        assert rel_error(num, grads[name]) < 1e-6, name


def test_initial_loss_is_log_num_classes() -> None:
    X, y = _data(n=50, c=10)
    model = ThreeLayerConvNet(**{**SMALL, "num_classes": 10}, dtype=np.float64, seed=0)  # type: ignore[arg-type]
    assert abs(model.loss(X, y)[0] - np.log(10)) < 1e-4


def test_reg_adds_half_l2_of_the_three_weights() -> None:
    X, y = _data()
    a = ThreeLayerConvNet(**SMALL, weight_scale=0.1, dtype=np.float64, seed=2)  # type: ignore[arg-type]
    b = ThreeLayerConvNet(**SMALL, weight_scale=0.1, reg=0.3, dtype=np.float64, seed=2)  # type: ignore[arg-type]
    for m in (a, b):
        m.params["b2"] = np.full(7, 2.0)  # biases are not penalised
    expected = 0.15 * sum(np.sum(a.params[k] ** 2) for k in ("W1", "W2", "W3"))
    assert abs(b.loss(X, y)[0] - a.loss(X, y)[0] - expected) < 1e-12


def test_matches_torch() -> None:
    X, y = _data(n=5, shape=(2, 9, 7), c=3)
    model = ThreeLayerConvNet(
        input_dim=(2, 9, 7),
        num_filters=4,
        filter_size=5,
        hidden_dim=6,
        num_classes=3,
        weight_scale=0.2,
        dtype=np.float64,
        seed=3,
    )
    t = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    a = tF.conv2d(torch.from_numpy(X), t["W1"], t["b1"], padding=2)  # odd H, W: the pool drops the last row/col
    h = torch.relu(tF.max_pool2d(torch.relu(a), 2).flatten(1) @ t["W2"] + t["b2"])
    tloss = tF.cross_entropy(h @ t["W3"] + t["b3"], torch.from_numpy(y))
    tloss.backward()
    loss, grads = model.loss(X, y)
    assert abs(loss - tloss.item()) < 1e-12
    for k, v in t.items():
        assert v.grad is not None
        np.testing.assert_allclose(grads[k], v.grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=k)


def test_module_path_agrees_with_the_course_path() -> None:
    X, y = _data()
    model = ThreeLayerConvNet(**SMALL, weight_scale=0.2, dtype=np.float64, seed=4)  # type: ignore[arg-type]
    np.testing.assert_array_equal(model(X), model.loss(X))
    _, grads = model.loss(X, y)
    _, dscores = softmax_loss(model(X), y)
    model.zero_grad()
    dX = model.backward(dscores)
    assert dX is not None and dX.shape == X.shape
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, grads[name], rtol=1e-12, err_msg=name)
    model.backward(dscores)  # grads accumulate
    np.testing.assert_allclose(model.W1.grad, 2 * grads["W1"], rtol=1e-12)
    model.zero_grad()
    assert model.backward(dscores, input_grad=False) is None  # the input is data: no dX, the same param grads
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, grads[name], rtol=1e-12, err_msg=name)


def test_float32_stays_float32() -> None:
    X, y = _data()
    model = ThreeLayerConvNet(**SMALL, seed=0)  # type: ignore[arg-type]
    scores = model.loss(X.astype(np.float32))
    loss, grads = model.loss(X.astype(np.float32), y)
    assert scores.dtype == np.float32 and all(g.dtype == np.float32 for g in grads.values())
    with pytest.raises(TypeError, match=r"Invalid dtype for `X`: expected float32"):
        model.loss(X)


def test_overfits_50_samples() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, 50)
    model = ThreeLayerConvNet(
        input_dim=(3, 8, 8), num_filters=8, filter_size=3, hidden_dim=64, weight_scale=5e-2, seed=0
    )
    opt = optim.Adam(model.parameters(), lr=5e-3)
    for _ in range(40):
        _, grads = model.loss(X, y)
        for name, p in model.named_parameters():
            p.grad[...] = grads[name]
        opt.step()
    assert np.mean(np.argmax(model.loss(X), axis=1) == y) == 1.0


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(TypeError, match=r"Invalid type for `input_dim`: expected a sequence \(C, H, W\)"):
        ThreeLayerConvNet(input_dim=(3, 32))
    with pytest.raises(ValueError, match=r"Invalid value for `num_filters`: expected an int"):
        ThreeLayerConvNet(num_filters=0)
    with pytest.raises(ValueError, match=r"Invalid value for `input_dim`: expected an image the 7x7 convolution"):
        ThreeLayerConvNet(input_dim=(1, 1, 1))
    with pytest.raises(ValueError, match=r"Invalid value for `reg`: expected a float in \[0, inf\)"):
        ThreeLayerConvNet(reg=-1.0)
    model = ThreeLayerConvNet(**SMALL, seed=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Invalid shape for `X`: expected \(N, 3, 6, 6\)"):
        model.loss(np.zeros((2, 3, 6, 5), np.float32))
    with pytest.raises(ValueError, match=r"Invalid value for `y`: expected class labels in \[0, 4\)"):
        model.loss(np.zeros((2, 3, 6, 6), np.float32), np.array([0, 4]))
