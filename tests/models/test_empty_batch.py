"""The models on an empty batch (docs/dtypes.md): (0, C) scores from forward, ``loss(X)`` and ``Trainer.predict``,
as torch would give; training statistics over no samples are the library's error."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from scratchnn import models, nn, optim
from scratchnn.train import Trainer

MODELS: list[tuple[str, Callable[[], nn.Module], tuple[int, ...], bool]] = [
    # (name, factory, one sample's shape, has the course's loss(X, y) contract)
    ("ConvNet", lambda: models.ConvNet(1, 3, channels=[2], input_size=(6, 6), hidden=[4]), (1, 6, 6), False),
    ("FullyConnectedNet", lambda: models.FullyConnectedNet([5], input_dim=6, num_classes=3, seed=0), (2, 3), True),
    ("FullyConnectedNet-layernorm", lambda: models.FullyConnectedNet([5], 6, 3, normalization="layernorm"), (6,), True),
    ("ThreeLayerConvNet", lambda: models.ThreeLayerConvNet((1, 6, 6), 2, 3, 4, 3, seed=0), (1, 6, 6), True),
    ("MLP", lambda: nn.Sequential(nn.Flatten(), nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 3)), (2, 3), False),
]
IDS = [m[0] for m in MODELS]


@pytest.mark.parametrize("name,factory,sample,course", MODELS, ids=IDS)
def test_predict_on_an_empty_batch_gives_empty_scores(
    name: str, factory: Callable[[], nn.Module], sample: tuple[int, ...], course: bool
) -> None:
    model = factory()
    criterion = None if course else nn.CrossEntropyLoss()
    trainer = Trainer(model, criterion, optim.SGD(model.parameters(), lr=0.1), batch_size=4, verbose=False)
    X = np.random.default_rng(0).standard_normal((7, *sample)).astype(np.float32)
    full = trainer.predict(X)
    assert full.shape == (7, 3)
    empty = trainer.predict(X[:0])
    assert empty.shape == (0, 3) and empty.dtype == np.float32
    assert model.training  # predict restores the mode
    with pytest.raises(TypeError, match=r"^Invalid dtype for `(input|X)`: expected float32 "):
        trainer.predict(X[:0].astype(np.float64))  # the empty batch is still checked


@pytest.mark.parametrize("name,factory,sample,course", [m for m in MODELS if m[3]], ids=[m[0] for m in MODELS if m[3]])
def test_course_loss_on_an_empty_batch(
    name: str, factory: Callable[[], nn.Module], sample: tuple[int, ...], course: bool
) -> None:
    """Scores (0, C); the data loss is a mean over no samples, NaN as in torch, and the data gradients are zero."""
    model = factory()
    X = np.zeros((0, *sample), np.float32)
    assert model.loss(X).shape == (0, 3)
    loss, grads = model.loss(X, np.zeros(0, np.int64))
    assert np.isnan(loss)
    assert set(grads) == set(model.params)
    for k, g in grads.items():
        assert g.shape == model.params[k].shape and not g.any(), k  # reg = 0: nothing but the data's zero


def test_batchnorm_models_refuse_an_empty_training_batch_and_take_it_in_eval() -> None:
    fc = models.FullyConnectedNet([5], input_dim=6, num_classes=3, normalization="batchnorm", seed=0)
    X = np.zeros((0, 6), np.float32)
    text = r"^Invalid shape for `X`: expected \(N, \.\.\.\) with N >= 2 for batchnorm's batch statistics in training"
    with pytest.raises(ValueError, match=text + r"\. Received: X.shape=\(0, 6\)$"):
        fc(X)
    with pytest.raises(ValueError, match=text):
        fc.loss(X[:1] + np.ones((1, 6), np.float32), np.zeros(1, np.int64))
    assert fc.eval()(X).shape == (0, 3)
    net = models.ConvNet(1, 3, channels=[2], input_size=(6, 6))
    with pytest.raises(ValueError, match=r"^Invalid shape for `input`: expected more than one value per channel"):
        net(np.zeros((0, 1, 6, 6), np.float32))
    assert net.eval()(np.zeros((0, 1, 6, 6), np.float32)).shape == (0, 3)
