"""The ops contract: float32 stays float32, inputs are never mutated, bad input raises the template."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from scratchnn import ops

R = np.random.default_rng(0)
X = R.standard_normal((4, 3))
Y4 = np.array([0, 2, 1, 2])
W3 = np.array([0.5, 1.0, 2.0])
W65, B5 = R.standard_normal((6, 5)), R.standard_normal(5)
Q, K, V = R.standard_normal((2, 2, 3, 4)), R.standard_normal((2, 2, 5, 4)), R.standard_normal((2, 2, 5, 3))
KPM, KEEP = np.array([[False] * 5, [False, False, True, True, True]]), R.random((2, 2, 3, 5)) > 0.3
ATTN = {"attn_mask": R.standard_normal((3, 5)), "key_padding_mask": KPM, "is_causal": True}

# name -> (forward, backward or None for a loss, positional arrays, keyword arguments)
CASES: dict[str, tuple[Callable[..., Any], Callable[..., Any] | None, tuple[np.ndarray, ...], dict[str, Any]]] = {
    "affine": (ops.affine_forward, ops.affine_backward, (R.standard_normal((4, 2, 3)), W65, B5), {}),
    "affine_relu": (ops.affine_relu_forward, ops.affine_relu_backward, (X, W65[:3], B5), {}),
    "relu": (ops.relu_forward, ops.relu_backward, (X,), {}),
    "leaky_relu": (ops.leaky_relu_forward, ops.leaky_relu_backward, (X,), {"negative_slope": 0.1}),
    "sigmoid": (ops.sigmoid_forward, ops.sigmoid_backward, (50 * X,), {}),
    "tanh": (ops.tanh_forward, ops.tanh_backward, (X,), {}),
    "gelu": (ops.gelu_forward, ops.gelu_backward, (5 * X,), {}),
    "gelu_tanh": (ops.gelu_forward, ops.gelu_backward, (5 * X,), {"approximate": "tanh"}),
    "softmax": (ops.softmax_forward, ops.softmax_backward, (X,), {"axis": 0}),
    "softmax_loss": (ops.softmax_loss, None, (X, Y4), {"weight": W3, "label_smoothing": 0.1, "ignore_index": 1}),
    "softmax_loss_none": (ops.softmax_loss, None, (X, Y4), {"reduction": "none", "dloss": X[:, 0]}),
    "svm_loss": (ops.svm_loss, None, (X, Y4), {}),
    "multi_margin_loss": (ops.multi_margin_loss, None, (X, Y4), {"p": 2, "weight": W3, "reduction": "sum"}),
    "mse_loss": (ops.mse_loss, None, (X, X[::-1].copy()), {"reduction": "none", "dloss": X}),
    "bce_with_logits_loss": (ops.bce_with_logits_loss, None, (30 * X, np.abs(X) / 3),
                             {"weight": X[:1], "pos_weight": W3}),
    "word_embedding": (ops.word_embedding_forward, ops.word_embedding_backward, (np.array([[0, 2], [2, 3]]), X), {}),
    "temporal_affine": (ops.temporal_affine_forward, ops.temporal_affine_backward,
                        (R.standard_normal((2, 3, 6)), W65, B5), {}),
    "temporal_softmax_loss": (ops.temporal_softmax_loss, None, (X.reshape(2, 2, 3), Y4.reshape(2, 2) % 3,
                              np.array([[True, False], [True, True]])), {}),
    "scaled_dot_product_attention": (ops.scaled_dot_product_attention_forward,
                                     ops.scaled_dot_product_attention_backward, (Q, K, V), ATTN),
    "scaled_dot_product_attention-dropout": (ops.scaled_dot_product_attention_forward,
                                             ops.scaled_dot_product_attention_backward, (Q, K, V),
                                             {"dropout_p": 0.3, "dropout_mask": KEEP, "scale": 1.0}),
    "scaled_dot_product_attention_naive": (ops.scaled_dot_product_attention_forward_naive,
                                           ops.scaled_dot_product_attention_backward_naive, (Q, K, V),
                                           {**ATTN, "dropout_p": 0.3, "rng": np.random.default_rng(0)}),
}  # fmt: skip


def cast(value: Any, dtype: Any) -> Any:
    return value.astype(dtype) if isinstance(value, np.ndarray) and value.dtype.kind == "f" else value


def run(name: str, dtype: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Run forward (and backward) on fresh ``dtype`` copies; return (every array passed in, every array produced)."""
    forward, backward, args, kwargs = CASES[name]
    args = tuple(cast(a, dtype) for a in args)
    kwargs = {k: cast(v, dtype) for k, v in kwargs.items()}
    given = [*args, *(v for v in kwargs.values() if isinstance(v, np.ndarray))]
    out, second = forward(*args, **kwargs)
    if backward is None:  # a loss: (loss, dx)
        return given, [np.asarray(out), second]
    dout = np.full_like(out, 0.5)
    grads = backward(dout, second)
    return [*given, dout], [out, *(grads if isinstance(grads, tuple) else (grads,))]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(name: str, dtype: Any) -> None:
    _, produced = run(name, dtype)
    assert [a.dtype for a in produced] == [np.dtype(dtype)] * len(produced)


@pytest.mark.parametrize("name", CASES)
def test_inputs_are_not_mutated(name: str) -> None:
    given, _ = run(name, np.float32)
    _, _, args, kwargs = CASES[name]
    originals = [cast(a, np.float32) for a in (*args, *kwargs.values()) if isinstance(a, np.ndarray)]
    assert len(given) >= len(originals)
    for a, b in zip(given, originals):  # forward's arrays, then dout (all 0.5) if there is a backward
        assert np.array_equal(a, b), f"{name} mutated an input"
    if len(given) > len(originals):
        assert np.all(given[-1] == 0.5), f"{name} backward mutated dout"


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


Y_BAD = np.array([0, 3, 1, 2])
BAD: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("list", lambda: ops.relu_forward([1.0]), TypeError,
     "Invalid type for `x`: expected a numpy.ndarray. Received: x of type list"),
    ("int dtype", lambda: ops.tanh_forward(Y4), TypeError,
     "Invalid type for `x`: expected a floating numpy.ndarray (float32 or float64), not dtype int64. "
     "Received: x of type ndarray"),
    ("slope", lambda: ops.leaky_relu_forward(X, "0.1"), TypeError,
     "Invalid type for `negative_slope`: expected a float in (-inf, inf). Received: negative_slope of type str"),
    ("approximate", lambda: ops.gelu_forward(X, "fast"), ValueError,
     "Invalid value for `approximate`: expected one of 'none', 'tanh'. Received: approximate='fast'"),
    ("axis", lambda: ops.softmax_forward(X, axis=2), ValueError,
     "Invalid value for `axis`: expected an int in [-2, 1]. Received: axis=2"),
    ("scalar softmax", lambda: ops.softmax_forward(np.array(1.0)), ValueError,
     "Invalid shape for `x`: expected an array with at least one axis. Received: x.shape=()"),
    ("x rank", lambda: ops.softmax_loss(X[0], Y4), ValueError,
     "Invalid shape for `x`: expected a 2-D array. Received: x.shape=(3,)"),
    ("no classes", lambda: ops.svm_loss(X[:, :0], Y4), ValueError,
     "Invalid shape for `x`: expected (N, C) with at least one class. Received: x.shape=(4, 0)"),
    ("nan", lambda: ops.softmax_loss(np.where(X > 1, np.nan, X), Y4), ValueError,
     "Invalid value for `x`: expected finite values (no NaN or inf). Received: x=array(shape=(4, 3), dtype=float64)"),
    ("label range", lambda: ops.softmax_loss(X, Y_BAD), ValueError,
     "Invalid value for `y`: expected class labels in [0, 3). Received: a label 3"),
    ("ignored label is no label", lambda: ops.softmax_loss(X, Y_BAD, ignore_index=-100), ValueError,
     "Invalid value for `y`: expected class labels in [0, 3). Received: a label 3"),
    ("float labels", lambda: ops.svm_loss(X, Y4.astype(float)), TypeError,
     "Invalid type for `y`: expected integer class labels, not dtype float64. Received: y of type ndarray"),
    ("label shape", lambda: ops.multi_margin_loss(X, Y4[:3]), ValueError,
     "Invalid shape for `y`: expected (4,) to match the scores' batch size. Received: y.shape=(3,)"),
    ("weight shape", lambda: ops.softmax_loss(X, Y4, weight=W3[:2]), ValueError,
     "Invalid shape for `weight`: expected (3,), one weight per class. Received: weight.shape=(2,)"),
    ("reduction", lambda: ops.softmax_loss(X, Y4, reduction="avg"), ValueError,
     "Invalid value for `reduction`: expected one of 'mean', 'sum', 'none'. Received: reduction='avg'"),
    ("label_smoothing", lambda: ops.softmax_loss(X, Y4, label_smoothing=1.5), ValueError,
     "Invalid value for `label_smoothing`: expected a float in [0, 1]. Received: label_smoothing=1.5"),
    ("ignore_index", lambda: ops.softmax_loss(X, Y4, ignore_index=1.0), TypeError,
     "Invalid type for `ignore_index`: expected an int. Received: ignore_index of type float"),
    ("dloss shape", lambda: ops.softmax_loss(X, Y4, reduction="none", dloss=np.ones(3)), ValueError,
     "Invalid shape for `dloss`: expected (4,) (the loss's shape) or a scalar. Received: dloss.shape=(3,)"),
    ("dloss for mean", lambda: ops.mse_loss(X, X, dloss=np.ones(3)), ValueError,
     "Invalid shape for `dloss`: expected () (the loss's shape) or a scalar. Received: dloss.shape=(3,)"),
    ("p", lambda: ops.multi_margin_loss(X, Y4, p=3), ValueError,
     "Invalid value for `p`: expected an int in [1, 2]. Received: p=3"),
    ("margin", lambda: ops.multi_margin_loss(X, Y4, margin="1"), TypeError,
     "Invalid type for `margin`: expected a float in (-inf, inf). Received: margin of type str"),
    ("mse shapes", lambda: ops.mse_loss(X, X[:2]), ValueError,
     "Invalid shape for `y`: expected (4, 3) to match x. Received: y.shape=(2, 3)"),
    ("nan target", lambda: ops.bce_with_logits_loss(X, np.full_like(X, np.nan)), ValueError,
     "Invalid value for `y`: expected finite values (no NaN or inf). Received: y=array(shape=(4, 3), dtype=float64)"),
    ("pos_weight", lambda: ops.bce_with_logits_loss(X, X, pos_weight=np.ones(4)), ValueError,
     "Invalid shape for `pos_weight`: expected a shape that broadcasts to the input's (4, 3). "
     "Received: pos_weight.shape=(4,)"),
    ("bce weight grows the shape", lambda: ops.bce_with_logits_loss(X, X, weight=np.ones((2, 4, 3))), ValueError,
     "Invalid shape for `weight`: expected a shape that broadcasts to the input's (4, 3). "
     "Received: weight.shape=(2, 4, 3)"),
    ("attention mask", lambda: ops.scaled_dot_product_attention_forward(Q, K, V, attn_mask=np.ones((3, 4), bool)),
     ValueError, "Invalid shape for `attn_mask`: expected a shape that broadcasts to (N, H, L, S) = (2, 2, 3, 5). "
     "Received: attn_mask.shape=(3, 4)"),
    ("attention features", lambda: ops.scaled_dot_product_attention_forward(Q, K[..., :3], V), ValueError,
     "Invalid shape for `k`: expected (N, H, S, E) with (N, H) = (2, 2) and E = 4 to match q. "
     "Received: k.shape=(2, 2, 5, 3)"),
    ("attention dropout", lambda: ops.scaled_dot_product_attention_forward_naive(Q, K, V, dropout_p=1), ValueError,
     "Invalid value for `dropout_p`: expected a float in [0, 1). Received: dropout_p=1"),
]  # fmt: skip


@pytest.mark.parametrize("call,exc,text", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_input_raises_template(call: Callable[[], Any], exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=msg(text)):
        call()


def test_stable_for_extreme_inputs() -> None:
    """Huge scores neither overflow nor lose the exact limits (errstate raises on overflow in tests)."""
    big = np.array([[1000.0, -1000.0, 0.0], [-800.0, 800.0, 1.0]], dtype=np.float32)
    loss, dx = ops.softmax_loss(big, np.array([1, 1]))
    assert loss == pytest.approx(1000.0) and np.allclose(dx, [[0.5, -0.5, 0.0], [0.0, 0.0, 0.0]])
    out, _ = ops.sigmoid_forward(np.array([-1000.0, 0.0, 1000.0], dtype=np.float32))
    assert out.tolist() == [0.0, 0.5, 1.0]
    loss, dx = ops.bce_with_logits_loss(np.array([800.0, -800.0]), np.array([0.0, 1.0]), reduction="none")
    assert loss.tolist() == [800.0, 800.0] and dx.tolist() == [1.0, -1.0]


def test_all_ignored_mean_is_nan_with_zero_gradient() -> None:
    """torch's 0/0: every target ignored gives a NaN mean and no gradient, and no NumPy warning."""
    loss, dx = ops.softmax_loss(X, np.full(4, -100), label_smoothing=0.2)
    assert np.isnan(loss) and not dx.any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_loss_fast_path_equals_general_path(dtype: Any) -> None:
    """The default call (no weight, smoothing or ignored target) takes a shortcut; unit weights go the general way."""
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((40, 7)) * 4).astype(dtype)
    y = rng.integers(0, 7, 40)
    fast = ops.softmax_loss(x, y)
    general = ops.softmax_loss(x, y, weight=np.ones(7, dtype))
    tol = 1e-14 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(fast[0], general[0], rtol=tol)
    np.testing.assert_allclose(fast[1], general[1], rtol=tol, atol=tol)
    assert fast[1].dtype == dtype
