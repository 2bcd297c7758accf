"""linear_probe: accuracy on separable features, a frozen encoder (parameters, .grad and mode), the encoder
kinds (model, Module, callable, PCA), num_labels, determinism, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn import analysis, nn
from scratchnn.models import DenoisingAutoencoder


def _separable(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two classes on either side of a hyperplane through the origin, a gap of 3 between them."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5))
    w = np.array([1.0, -2.0, 0.5, 0.0, 1.0]) / np.sqrt(6.25)
    X += np.outer(np.sign(X @ w) * 1.5, w)  # push every point 1.5 further from the plane
    return X.astype(np.float32), (X @ w > 0).astype(np.int64)


def test_a_linear_map_of_separable_data_is_probed_perfectly() -> None:
    (X, y), (X_t, y_t) = _separable(400), _separable(200, seed=1)
    A = np.random.default_rng(2).standard_normal((5, 8)).astype(np.float32)  # features: an injective linear map

    result = analysis.linear_probe(lambda x: x @ A, (X, y), (X_t, y_t), epochs=60, lr=1e-2,
                                   rng=np.random.default_rng(0))  # fmt: skip
    assert result.test_accuracy == 1.0
    assert result.num_labels == 400 and len(result.history) == 60
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert result.probe.weight.shape == (2, 8)


def test_the_encoder_is_frozen_and_its_mode_restored() -> None:
    """Parameters AND their .grad bit for bit as they were; training mode back; eval mode while encoding
    (the denoising model's noise would make the features random)."""
    rng = np.random.default_rng(0)
    model = DenoisingAutoencoder(5, [4, 3], noise_std=2.0, rng=rng)
    X, y = _separable(64)
    model(X)
    model.backward(np.ones((64, 5), np.float32))  # a gradient sum the probe must not touch
    params = {k: p.data.copy() for k, p in model.named_parameters()}
    grads = {k: p.grad.copy() for k, p in model.named_parameters()}
    seen: list[bool] = []
    model.encoder.register_forward_hook(lambda m, _i, _o: seen.append(m.training))
    analysis.linear_probe(model, (X, y), (X, y), epochs=2, rng=rng)
    assert model.training and seen and not any(seen)
    for k, p in model.named_parameters():
        assert p.data.tobytes() == params[k].tobytes(), k
        assert p.grad.tobytes() == grads[k].tobytes(), k
    model.eval()
    analysis.linear_probe(model.encode, (X, y), (X, y), epochs=1, rng=rng)  # a bound method: its model's mode
    assert not model.training


def test_features_are_encoded_once_in_batches() -> None:
    calls: list[int] = []

    def encoder(x: np.ndarray) -> np.ndarray:
        calls.append(len(x))
        return x

    (X, y), (X_t, y_t) = _separable(250), _separable(30, seed=1)
    analysis.linear_probe(encoder, (X, y), (X_t, y_t), epochs=5, encode_batch_size=100)
    assert calls == [100, 100, 50, 30]  # train then test, never again during the 5 epochs


def test_num_labels_uses_the_first_examples_only() -> None:
    (X, y), test = _separable(300), _separable(50, seed=1)
    y_bad = y.copy()
    y_bad[20:] = 5  # labels beyond the first 20 must never be looked at (5 would be out of range with C=2)
    result = analysis.linear_probe(lambda x: x, (X, y_bad), test, num_labels=20, num_classes=2, epochs=3)
    assert result.num_labels == 20
    a = analysis.linear_probe(lambda x: x, (X, y), test, num_labels=20, epochs=3, rng=np.random.default_rng(4))
    b = analysis.linear_probe(lambda x: x, (X, y), test, num_labels=20, epochs=3, rng=np.random.default_rng(4))
    assert a.history == b.history and a.test_accuracy == b.test_accuracy  # one seed, one result


def test_pca_and_raw_inputs_through_the_same_function() -> None:
    (X, y), test = _separable(300), _separable(100, seed=1)
    enc = analysis.pca(X, 5)  # all of the variance: the same information as the raw inputs
    raw = analysis.linear_probe(lambda x: x, (X, y), test, epochs=40, lr=1e-2, rng=np.random.default_rng(0))
    pca = analysis.linear_probe(enc, (X, y), test, epochs=40, lr=1e-2, rng=np.random.default_rng(0))
    assert raw.test_accuracy == 1.0 and pca.test_accuracy == 1.0
    module = nn.Sequential(nn.Linear(5, 4))  # a plain Module: called, put in eval mode and back
    assert analysis.linear_probe(module, (X, y), test, epochs=1).num_labels == 300 and module.training


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"train": (np.zeros((4, 5), np.float32), np.zeros(3, int))}, ValueError,
         r"^Invalid shape for `train\[1\]`: expected \(4,\), one label per input of train\[0\]"),
        ({"test": (np.zeros((4, 5), np.float32), np.zeros(4))}, TypeError,
         r"^Invalid type for `test\[1\]`: expected a numpy.ndarray of integer class labels"),
        ({"train": np.zeros((4, 5))}, TypeError, r"^Invalid type for `train`: expected a pair \(X, y\)"),
        ({"encoder": lambda x: x.reshape(len(x), 5, 1)}, ValueError,
         r"^Invalid shape for `encoder`: expected 2-D features \(N, H\), one row per input\. Received: an output of "
         r"shape \(\d+, 5, 1\)"),
        ({"encoder": lambda x: x[:2]}, ValueError, r"^Invalid shape for `encoder`: expected 2-D features"),
        ({"encoder": lambda x: x.astype(int)}, TypeError, r"^Invalid type for `encoder`: expected float32 or float64"),
        ({"encoder": 3}, TypeError, r"^Invalid type for `encoder`: expected a model with .encode"),
        ({"num_labels": 0}, ValueError, r"^Invalid value for `num_labels`: expected an int in \[1, 40\]"),
        ({"epochs": 0}, ValueError, r"^Invalid value for `epochs`: expected an int >= 1"),
        ({"lr": -1.0}, ValueError, r"^Invalid value for `lr`"),
        ({"num_classes": 1}, ValueError, r"^Invalid value for `train\[1\]`: expected class labels in \[0, 1\)"),
    ],
)  # fmt: skip
def test_bad_input(change: dict, error: type, message: str) -> None:
    X, y = _separable(40)
    kwargs = {"encoder": lambda x: x, "train": (X, y), "test": (X, y), **change}
    with pytest.raises(error, match=message):
        analysis.linear_probe(kwargs.pop("encoder"), kwargs.pop("train"), kwargs.pop("test"), **kwargs)
