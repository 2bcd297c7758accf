"""Loss modules against their torch.nn twins: loss value and input gradient for every option combination.

Buffers go from ours to torch through ``load_state_dict`` (interchangeable state dicts); the upstream
gradient is random: a scalar for 'mean'/'sum', an array of the loss's shape for 'none'.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import torch

from scratchnn import nn

from .twins import assert_close, to_torch_state

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["mean", "sum", "none"]


def tensor(a: np.ndarray | None) -> torch.Tensor | None:
    return None if a is None else torch.from_numpy(np.array(a, copy=True))


def compare_loss(ours: nn.Module, theirs: torch.nn.Module, x: np.ndarray, target: np.ndarray, dtype: Any) -> None:
    dtype = np.dtype(dtype)
    ours.to(dtype)
    theirs.to(torch.float64 if dtype == np.float64 else torch.float32)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict(to_torch_state(ours.state_dict()))
    x = x.astype(dtype)
    target = target.astype(dtype) if target.dtype.kind == "f" else target
    tx = torch.tensor(x, requires_grad=True)

    loss = ours(x, target)
    tloss = theirs(tx, torch.tensor(target))
    assert np.asarray(loss).dtype == dtype
    assert_close(loss, tloss, "loss", dtype)

    g = np.random.default_rng(3).standard_normal(np.shape(loss)).astype(dtype)
    dx = ours.backward(g)
    tloss.backward(torch.tensor(g))
    assert dx.dtype == dtype
    assert_close(dx, tx.grad, "grad of input", dtype)

    tx.grad = None
    theirs(tx, torch.tensor(target)).sum().backward()  # grad_out=None means 1 (all ones for 'none')
    assert_close(ours.backward(), tx.grad, "grad of input, grad_out=None", dtype)


def class_targets(rng: np.random.Generator, shape: tuple[int, ...], num_classes: int, ignore: str) -> tuple[Any, int]:
    """Labels and an ignore_index: none ignored, some, all but one, or all (mean is NaN, as in torch)."""
    y = rng.integers(0, num_classes, shape)
    if ignore == "none":
        return y, -100
    if ignore == "some":
        y.flat[::3] = 1
        return y, 1
    if ignore == "all_but_one":
        y[...] = -1
        y.flat[0] = 2
        return y, -1
    return np.zeros_like(y), 0


W5 = np.array([0.3, 1.0, 2.5, 0.8, 1.7])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "weighted,ignore,smoothing,reduction",
    list(itertools.product([False, True], ["none", "some", "all_but_one", "all"], [0.0, 0.1], REDUCTIONS)),
)
def test_cross_entropy(weighted: bool, ignore: str, smoothing: float, reduction: str, dtype: type) -> None:
    rng = np.random.default_rng(1)
    x = 2 * rng.standard_normal((6, 5))
    y, ignore_index = class_targets(rng, (6,), 5, ignore)
    w = W5 if weighted else None
    ours = nn.CrossEntropyLoss(w, ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing)
    theirs = torch.nn.CrossEntropyLoss(
        tensor(w), ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing
    )
    compare_loss(ours, theirs, x, y, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,target_shape", [((3, 5, 2, 4), (3, 2, 4)), ((5,), ())], ids=["K-dim", "unbatched"])
def test_cross_entropy_shapes(
    shape: tuple[int, ...], target_shape: tuple[int, ...], reduction: str, dtype: type
) -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape)
    y, ignore_index = class_targets(rng, target_shape, 5, "some" if target_shape else "none")
    ours = nn.CrossEntropyLoss(W5, ignore_index=ignore_index, reduction=reduction, label_smoothing=0.2)
    theirs = torch.nn.CrossEntropyLoss(tensor(W5), ignore_index=ignore_index, reduction=reduction, label_smoothing=0.2)
    compare_loss(ours, theirs, x, y, dtype)


SEQ_GRID = list(itertools.product([False, True], [0.0, 0.1], REDUCTIONS, ["padded", "all_padding"], DTYPES))


@pytest.mark.parametrize(
    "weighted,smoothing,reduction,padding,dtype",
    SEQ_GRID,
    ids=[f"w{int(w)}-ls{s}-{r}-{p}-{np.dtype(d).name}" for w, s, r, p, d in SEQ_GRID],
)
def test_cross_entropy_over_padded_sequences(
    weighted: bool, smoothing: float, reduction: str, padding: str, dtype: type
) -> None:
    """The summarizer's loss: logits (N, V, T) with torch's default ignore_index=-100 marking the padding of
    label sequences, label smoothing and class weights together; and the same tokens flattened to (N*T, V).

    With every label padding, torch's 'mean' is NaN (0 / 0) with a zero input gradient; ours is the same."""
    rng = np.random.default_rng(8)
    N, V, T = 3, 40, 6
    x = 3 * rng.standard_normal((N, V, T))
    y = rng.integers(0, V, (N, T))
    if padding == "padded":
        y[0, 4:], y[1, 1:] = -100, -100  # right-padded label sequences of lengths 4, 1 and 6
    else:
        y[...] = -100
    w = rng.uniform(0.2, 2.0, V) if weighted else None
    for scores, target in [(x, y), (np.moveaxis(x, 1, -1).reshape(N * T, V), y.reshape(N * T))]:
        ours = nn.CrossEntropyLoss(w, reduction=reduction, label_smoothing=smoothing)
        theirs = torch.nn.CrossEntropyLoss(tensor(w), reduction=reduction, label_smoothing=smoothing)
        assert ours.ignore_index == theirs.ignore_index == -100
        compare_loss(ours, theirs, scores, target, dtype)
        if padding == "all_padding":
            loss = np.asarray(ours(scores.astype(dtype), target))
            assert np.isnan(loss).all() if reduction == "mean" else not loss.any()  # 'sum' 0, 'none' zeros
            assert not ours.backward().any()  # zeros, not NaN, as torch
    flat = nn.CrossEntropyLoss(w, reduction=reduction, label_smoothing=smoothing)
    seq = nn.CrossEntropyLoss(w, reduction=reduction, label_smoothing=smoothing)
    flat_loss = flat(np.moveaxis(x, 1, -1).reshape(N * T, V), y.reshape(N * T))
    seq_loss = seq(x, y)  # the K-dimensional form is the flattened one, reshaped
    np.testing.assert_allclose(np.reshape(seq_loss, -1), np.reshape(flat_loss, -1), rtol=1e-12)
    np.testing.assert_allclose(np.moveaxis(seq.backward(), 1, -1).reshape(N * T, V), flat.backward(), rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "p,margin,weighted,reduction", list(itertools.product([1, 2], [1.0, 0.7], [False, True], REDUCTIONS))
)
def test_multi_margin(p: int, margin: float, weighted: bool, reduction: str, dtype: type) -> None:
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((6, 5)), rng.integers(0, 5, 6)
    w = W5 if weighted else None
    compare_loss(
        nn.MultiMarginLoss(p, margin, w, reduction=reduction),
        torch.nn.MultiMarginLoss(p, margin, tensor(w), reduction=reduction),
        x,
        y,
        dtype,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multi_margin_unbatched(reduction: str) -> None:
    x = np.random.default_rng(5).standard_normal(5)
    compare_loss(
        nn.MultiMarginLoss(2, weight=W5, reduction=reduction),
        torch.nn.MultiMarginLoss(2, weight=tensor(W5), reduction=reduction),
        x,
        np.array(3),
        np.float64,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 4)])
def test_mse(shape: tuple[int, ...], reduction: str, dtype: type) -> None:
    rng = np.random.default_rng(6)
    compare_loss(
        nn.MSELoss(reduction=reduction),
        torch.nn.MSELoss(reduction=reduction),
        rng.standard_normal(shape),
        rng.standard_normal(shape),
        dtype,
    )


BCE_WEIGHTS = {
    "none": None,
    "full": np.linspace(0.2, 2.0, 12).reshape(4, 3),
    "per_class": np.array([0.5, 1.0, 2.0]),
    "per_sample": np.array([[0.5], [1.0], [2.0], [0.1]]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "weight,pos_weighted,reduction", list(itertools.product(BCE_WEIGHTS, [False, True], REDUCTIONS))
)
def test_bce_with_logits(weight: str, pos_weighted: bool, reduction: str, dtype: type) -> None:
    rng = np.random.default_rng(7)
    x = 4 * rng.standard_normal((4, 3))
    x[0] = [-60.0, 60.0, 0.0]  # saturated logits: the stable form must not overflow
    y = rng.uniform(0, 1, (4, 3))
    y[1] = [0.0, 1.0, 1.0]  # hard labels too
    w, pw = BCE_WEIGHTS[weight], (np.array([3.0, 0.5, 1.0]) if pos_weighted else None)
    compare_loss(
        nn.BCEWithLogitsLoss(w, reduction=reduction, pos_weight=pw),
        torch.nn.BCEWithLogitsLoss(tensor(w), reduction=reduction, pos_weight=tensor(pw)),
        x,
        y,
        dtype,
    )


def test_defaults_and_buffers_mirror_torch() -> None:
    for ours, theirs in [
        (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()),
        (nn.MSELoss(), torch.nn.MSELoss()),
        (nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss()),
        (nn.MultiMarginLoss(), torch.nn.MultiMarginLoss()),
    ]:
        for name in ("reduction", "ignore_index", "label_smoothing", "p", "margin"):
            assert getattr(ours, name, None) == getattr(theirs, name, None), name
        assert list(ours._buffers) == list(theirs._buffers)  # weight / pos_weight registered, None until given
        assert ours.state_dict() == {} and list(ours.parameters()) == []
    bce = nn.BCEWithLogitsLoss(np.ones(3), pos_weight=np.full(3, 2.0))
    assert list(bce.state_dict()) == ["weight", "pos_weight"]


X = np.random.default_rng(0).standard_normal((4, 3))


@pytest.mark.parametrize(
    "call,exc,pattern",
    [
        (lambda: nn.CrossEntropyLoss(reduction="avg"), ValueError,
         r"^Invalid value for `reduction`: expected one of 'mean', 'sum', 'none'\. Received: reduction='avg'$"),
        (lambda: nn.CrossEntropyLoss(label_smoothing=-0.1), ValueError,
         r"^Invalid value for `label_smoothing`: expected a float in \[0, 1\]\. Received: label_smoothing=-0\.1$"),
        (lambda: nn.CrossEntropyLoss(np.ones((2, 3))), ValueError,
         r"^Invalid shape for `weight`: expected a 1-D array\. Received: weight\.shape=\(2, 3\)$"),
        (lambda: nn.MultiMarginLoss(p=3), ValueError, r"^Invalid value for `p`: expected one of 1, 2\. Received: p=3$"),
        (lambda: nn.CrossEntropyLoss()(X, np.array([0, 1, 3, 2])), ValueError,
         r"^Invalid value for `target`: expected class labels in \[0, 3\)\. Received: a label 3$"),
        (lambda: nn.CrossEntropyLoss()(X, np.zeros(4)), TypeError,
         r"^Invalid type for `target`: expected integer class labels, not dtype float64\."),
        (lambda: nn.CrossEntropyLoss()(X.reshape(2, 3, 2), np.zeros(2, int)), ValueError,
         r"^Invalid shape for `target`: expected \(2, 2\) to match the input\. Received: target\.shape=\(2,\)$"),
        (lambda: nn.MultiMarginLoss()(X.reshape(2, 3, 2), np.zeros(2, int)), ValueError,
         r"^Invalid shape for `input`: expected \(C,\) or \(N, C\) with C >= 1\. Received: input\.shape=\(2, 3, 2\)$"),
        (lambda: nn.MSELoss()(X, X[:3]), ValueError,
         r"^Invalid shape for `target`: expected \(4, 3\) to match the input\. Received: target\.shape=\(3, 3\)$"),
        (lambda: nn.BCEWithLogitsLoss()(np.full((2, 2), np.nan), np.ones((2, 2))), ValueError,
         r"^Invalid value for `input`: expected finite values \(no NaN or inf\)\."),
        (lambda: nn.MSELoss().backward(), RuntimeError, r"MSELoss\.backward\(\) was called before forward\(\)"),
    ],
)  # fmt: skip
def test_bad_input_raises_the_template(call: Any, exc: type[Exception], pattern: str) -> None:
    with pytest.raises(exc, match=pattern):
        call()


def test_backward_checks_grad_out_and_does_not_alias() -> None:
    crit = nn.CrossEntropyLoss(reduction="none")
    crit(X, np.array([0, 1, 2, 0]))
    with pytest.raises(ValueError, match=r"^Invalid shape for `grad_out`: expected \(4,\) \(the loss's shape\)"):
        crit.backward(np.ones(3))
    first = crit.backward()
    first[...] = 0  # the caller owns the returned array; the cached gradient is untouched
    assert np.abs(crit.backward()).sum() > 0
