"""ConvNet: layout and names, torch agreement of a conv-BN-ReLU-pool-linear network, overfitting, errors."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import pytest
import torch

from scratchnn import nn, optim
from scratchnn.data import make_bars
from scratchnn.models import ConvNet

from ..nn.twins.twins import compare_module, to_torch_state


def torch_twin(model: ConvNet) -> torch.nn.Module:
    """The same layers in torch, in a Sequential of two Sequentials named like ours."""
    features: list[torch.nn.Module] = []
    c_in = model.in_channels
    for c in model.channels:
        k = model.kernel_size
        features.append(torch.nn.Conv2d(c_in, c, k, padding=k // 2, bias=not model.batchnorm))
        if model.batchnorm:
            features.append(torch.nn.BatchNorm2d(c))
        features += [torch.nn.ReLU(), torch.nn.MaxPool2d(2) if model.pool == "max" else torch.nn.AvgPool2d(2)]
        c_in = c
    H, W = model.input_size
    width = c_in * (H >> len(model.channels)) * (W >> len(model.channels))
    classifier: list[torch.nn.Module] = [torch.nn.Flatten()]
    for h in model.hidden:
        classifier += [torch.nn.Dropout(model.dropout), torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    classifier += [torch.nn.Dropout(model.dropout), torch.nn.Linear(width, model.num_classes)]
    return torch.nn.Sequential(
        OrderedDict(features=torch.nn.Sequential(*features), classifier=torch.nn.Sequential(*classifier))
    )


CONFIGS: list[dict[str, Any]] = [
    dict(in_channels=2, num_classes=5, channels=[3, 4], input_size=(9, 10), hidden=[6]),  # odd sizes: floor pools
    dict(in_channels=1, num_classes=3, channels=[4], input_size=(6, 6), kernel_size=5, pool="avg"),
    dict(in_channels=3, num_classes=4, channels=[2, 3], input_size=(8, 8), batchnorm=False),
]


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("cfg", CONFIGS, ids=["bn-hidden", "avg-k5", "no-bn"])
def test_matches_torch(cfg: dict[str, Any], train: bool) -> None:
    ours = ConvNet(**cfg, dropout=0.0, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((4, cfg["in_channels"], *cfg["input_size"]))
    # forward, input grads, every parameter's grad and the BatchNorm buffers over 2 steps
    compare_module(ours, torch_twin(ours), [x], dtype=np.float64, train=train, steps=2)


def test_float32_training_step_matches_torch() -> None:
    """One cross-entropy step in float32 on the demo layout (BN running stats included)."""
    ours = ConvNet(channels=[4, 8], hidden=[16], dropout=0.0, rng=np.random.default_rng(0))
    theirs = torch_twin(ours)
    theirs.load_state_dict(to_torch_state(ours.state_dict()))
    x, y = make_bars(16, size=28, rng=np.random.default_rng(2))
    y = y % 10
    crit = nn.CrossEntropyLoss()
    loss = crit(ours(x), y)
    ours.backward(crit.backward())
    tloss = torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y))
    tloss.backward()
    assert abs(float(loss) - tloss.item()) < 1e-5
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        grad = tparams[name].grad
        assert grad is not None
        np.testing.assert_allclose(p.grad, grad.numpy(), rtol=1e-3, atol=1e-5, err_msg=name)
    tbuffers = dict(theirs.named_buffers())
    for name, b in ours.named_buffers():
        np.testing.assert_allclose(b, tbuffers[name].numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_layout_and_state_dict_names() -> None:
    model = ConvNet(hidden=[128])
    assert [type(m).__name__ for m in model.features] == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"] * 2
    assert [type(m).__name__ for m in model.classifier] == ["Flatten", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    assert model.first_conv.weight.shape == (32, 1, 3, 3) and model.first_conv.bias is None  # BN shifts instead
    assert model.classifier[2].weight.shape == (128, 64 * 7 * 7)
    assert list(model.state_dict()) == list(torch_twin(model).state_dict())
    out = model(np.zeros((3, 1, 28, 28), np.float32))
    assert out.shape == (3, 10) and out.dtype == np.float32


def test_input_grad_false_skips_only_the_input_gradient() -> None:
    x = np.random.default_rng(0).standard_normal((3, 2, 6, 6))
    a = ConvNet(in_channels=2, num_classes=3, channels=[3], input_size=(6, 6), dropout=0.0, dtype=np.float64)
    b = ConvNet(in_channels=2, num_classes=3, channels=[3], input_size=(6, 6), dropout=0.0, dtype=np.float64)
    b.load_state_dict(a.state_dict())
    dout = np.random.default_rng(1).standard_normal((3, 3))
    a(x)
    assert a.backward(dout).shape == x.shape  # type: ignore[union-attr]
    b(x)
    assert b.backward(dout, input_grad=False) is None
    for (name, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.grad, pb.grad, err_msg=name)
    b.zero_grad()
    np.testing.assert_array_equal(b.backward(dout), a.backward(dout))  # the default again: nothing was left switched


def test_overfits_a_small_batch() -> None:
    X, y = make_bars(64, size=12, rng=np.random.default_rng(0))
    model = ConvNet(num_classes=4, channels=[8, 16], input_size=(12, 12), dropout=0.0, rng=np.random.default_rng(0))
    crit = nn.CrossEntropyLoss()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(40):
        crit(model(X), y)
        model.zero_grad()
        model.backward(crit.backward())
        opt.step()
    model.eval()
    assert np.mean(np.argmax(model(X), axis=1) == y) == 1.0


def test_dropout_draws_from_the_given_rng() -> None:
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype(np.float32)
    kw: dict[str, Any] = dict(channels=[2], input_size=(4, 4), dropout=0.5)
    a, b = ConvNet(**kw, rng=np.random.default_rng(5)), ConvNet(**kw, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a(x), b(x))  # same init and the same masks
    assert not np.array_equal(a(x), a.eval()(x))  # train mode drops, eval does not


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(ValueError, match=r"Invalid value for `channels`: expected at least one entry"):
        ConvNet(channels=[])
    with pytest.raises(TypeError, match=r"Invalid type for `channels`: expected a sequence of ints"):
        ConvNet(channels=32)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Invalid value for `kernel_size`: expected an odd int"):
        ConvNet(kernel_size=4)
    with pytest.raises(ValueError, match=r"Invalid value for `pool`: expected one of 'max', 'avg'"):
        ConvNet(pool="min")
    with pytest.raises(ValueError, match=r"Invalid value for `dropout`: expected a float in \[0, 1\)"):
        ConvNet(dropout=1.0)
    with pytest.raises(ValueError, match=r"Invalid value for `channels`: expected at most as many blocks as 2x2"):
        ConvNet(channels=[4, 4, 4], input_size=(4, 4))
    with pytest.raises(ValueError, match=r"Invalid shape for `input`: expected \(N, 1, 28, 28\)"):
        ConvNet()(np.zeros((2, 1, 28, 27), np.float32))
