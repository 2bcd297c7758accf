"""Linear probing: how linearly separable the classes are in a frozen encoder's features.

    result = linear_probe(model, (X_train, y_train), (X_test, y_test), epochs=20, num_labels=1000)
    result.test_accuracy, result.history

The protocol (the autoencoder course project's, done carefully): the encoder is put in eval mode (no
corruption, no dropout; its mode is restored afterwards), every input is encoded ONCE, in batches, and the
features cached; a fresh ``nn.Linear`` is trained on them with ``optim.Adam`` and ``CrossEntropyLoss`` for
``epochs`` epochs of shuffled minibatches (an explicit ``rng``), on all the training examples or on the
first ``num_labels`` (the few-labels regime where pretrained features matter most); the result is its test
accuracy. Nothing flows back into the encoder: its parameters and their ``.grad`` stay bit for bit as they
were (only the activations cached by its layers' last forward change).

``encoder`` is a model with ``.encode`` (an :class:`~scratchnn.models.Autoencoder`), any Module, or any
callable from arrays to 2-D features: ``lambda X: X`` probes the raw inputs, a
:class:`~scratchnn.analysis.pca.PCAEncoder` the PCA baseline, through the same function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._config import get_rng
from .._validate import check_array, check_float, check_int, check_labels, invalid_shape, invalid_type
from ..nn.linear import Linear
from ..nn.loss import CrossEntropyLoss
from ..nn.module import Module
from ..optim.adam import Adam

__all__ = ["ProbeResult", "linear_probe", "encode_batched"]


@dataclass(frozen=True)
class ProbeResult:
    """A probe's outcome: accuracies, the labels it saw, per-epoch history (mean ``loss``, ``train_acc``), the probe."""

    test_accuracy: float
    train_accuracy: float
    num_labels: int
    history: list[dict[str, float]] = field(repr=False)
    probe: Linear = field(repr=False)


def _split(value: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: inputs along axis 0 and integer labels, one per input."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise invalid_type(name, "a pair (X, y) of inputs and integer labels", value)
    X, y = value
    if not isinstance(X, np.ndarray) or X.ndim < 1:
        raise invalid_type(f"{name}[0]", "a numpy.ndarray of inputs (N, ...)", X)
    if not isinstance(y, np.ndarray) or y.dtype.kind not in "iu":
        raise invalid_type(f"{name}[1]", "a numpy.ndarray of integer class labels", y)
    if y.shape != (len(X),):
        raise invalid_shape(f"{name}[1]", f"({len(X)},), one label per input of {name}[0]", y.shape)
    return X, y


def _encode_fn(encoder: Any) -> tuple[Callable[[np.ndarray], Any], Module | None]:
    """The function that makes features, and the Module whose mode to set (None for a plain callable)."""
    fn = getattr(encoder, "encode", None) if not isinstance(encoder, type) else None
    fn = fn if callable(fn) else encoder
    if not callable(fn):
        raise invalid_type("encoder", "a model with .encode, a Module or a callable from arrays to features", encoder)
    owner = encoder if isinstance(encoder, Module) else getattr(fn, "__self__", None)  # model.encode's model
    return fn, owner if isinstance(owner, Module) else None


def encode_batched(fn: Callable[[np.ndarray], Any], X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """``fn`` applied to ``X`` ``batch_size`` rows at a time, the rows joined: 2-D floating features, one row
    per input (else a ValueError or TypeError naming ``encoder``).  Shape: (N, ...) -> (N, H)."""
    batch_size = check_int(batch_size, "batch_size", low=1)
    parts = [np.asarray(fn(X[lo : lo + batch_size])) for lo in range(0, max(len(X), 1), batch_size)]
    for part, lo in zip(parts, range(0, max(len(X), 1), batch_size), strict=True):
        rows = min(batch_size, len(X) - lo)
        if part.ndim != 2 or part.shape[0] != rows:
            raise ValueError(
                f"Invalid shape for `encoder`: expected 2-D features (N, H), one row per input. "
                f"Received: an output of shape {part.shape} for {rows} inputs"
            )
        if part.dtype.kind != "f" or part.dtype.itemsize < 4:
            raise invalid_type("encoder", f"float32 or float64 features, not dtype {part.dtype}", part)
    features = np.concatenate(parts) if len(parts) > 1 else parts[0]  # (N, H)
    return check_array(features, "encoder", finite=True)


def linear_probe(
    encoder: Any,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    *,
    epochs: int = 20,
    batch_size: int = 128,
    lr: float = 1e-3,
    num_labels: int | None = None,
    num_classes: int | None = None,
    encode_batch_size: int = 1024,
    rng: np.random.Generator | None = None,
) -> ProbeResult:
    """Test accuracy of a softmax classifier trained on the frozen features ``encoder`` gives.

    Args:
        encoder: a model with ``.encode``, a Module, or a callable array -> (N, H) features (see the module doc).
        train, test: ``(X, y)`` pairs: inputs (N, ...) the encoder takes and integer labels (N,).
        epochs: passes over the (first ``num_labels``) training features.
        batch_size: features per Adam step.
        lr: Adam's learning rate (the protocol's 1e-3).
        num_labels: train on the first ``num_labels`` training examples only (None: all of them).
        num_classes: C (None: one more than the largest label in train and test).
        encode_batch_size: inputs per encoder call.
        rng: generator for the probe's initialization and the shuffles (None: scratchnn's default generator).

    Returns:
        a :class:`ProbeResult`: test and final train accuracy, and a history entry per epoch.
    """
    (X_train, y_train), (X_test, y_test) = _split(train, "train"), _split(test, "test")
    fn, module = _encode_fn(encoder)
    epochs, batch_size = check_int(epochs, "epochs", low=1), check_int(batch_size, "batch_size", low=1)
    lr = check_float(lr, "lr", low=0.0, low_open=True, finite=True)
    n = len(X_train) if num_labels is None else check_int(num_labels, "num_labels", low=1, high=max(len(X_train), 1))
    if n == 0 or len(X_test) == 0:
        raise invalid_shape("train" if n == 0 else "test", "(X, y) with at least one example", (0,))
    labels = np.concatenate([y_train[:n], y_test])
    C = int(labels.max()) + 1 if num_classes is None else check_int(num_classes, "num_classes", low=1)
    check_labels(y_train[:n], "train[1]", n, C)
    check_labels(y_test, "test[1]", len(y_test), C)
    rng = get_rng(rng)

    was_training = module.training if module is not None else None
    if module is not None:
        module.eval()
    try:  # encode once: the encoder is frozen, so its features never change while the probe trains
        F_train = encode_batched(fn, X_train[:n], encode_batch_size)  # (n, H)
        F_test = encode_batched(fn, X_test, encode_batch_size)  # (N_test, H)
    finally:
        if module is not None:
            module.train(bool(was_training))
    if F_test.shape[1] != F_train.shape[1] or F_test.dtype != F_train.dtype:
        raise invalid_shape("encoder", f"features like the training set's (N, {F_train.shape[1]})", F_test.shape)

    probe = Linear(F_train.shape[1], C, dtype=F_train.dtype, rng=rng)
    optimizer, criterion = Adam(probe.parameters(), lr=lr), CrossEntropyLoss()
    y_fit, history = y_train[:n], []
    for epoch in range(1, epochs + 1):
        perm, total = rng.permutation(n), 0.0
        for lo in range(0, n, batch_size):
            idx = perm[lo : lo + batch_size]
            loss = criterion(probe(F_train[idx]), y_fit[idx])  # (B, H) -> (B, C) -> scalar
            optimizer.zero_grad()
            probe.backward(criterion.backward(), input_grad=False)  # the features are data
            optimizer.step()
            total += float(loss) * len(idx)
        history.append({"epoch": float(epoch), "loss": total / n, "train_acc": _accuracy(probe, F_train, y_fit)})
    return ProbeResult(_accuracy(probe, F_test, y_test), history[-1]["train_acc"], n, history, probe)


def _accuracy(probe: Linear, F: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(probe(F).argmax(axis=1) == y))  # (N, H) -> (N, C) -> (N,)
