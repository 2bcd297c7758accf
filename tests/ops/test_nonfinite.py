"""inf and NaN in, inf and NaN out, without NumPy's warnings; 0-d inputs give 0-d arrays (found by fuzzing).

Every op of the gradient-check table, given an input holding inf and NaN, returns outputs and gradients
of the right shapes (NaN where torch gives NaN) with NumPy's default error handling and no
``RuntimeWarning`` (pytest makes one an error); losses refuse non-finite scores, naming them. A caller's
``np.errstate(..., 'raise')`` is kept: code that catches ``FloatingPointError`` still sees it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from scratchnn import ops
from scratchnn.gradcheck import split_forward
from scratchnn.gradcheck.rows import OP_ROWS, OpRow

OPS = [row for row in OP_ROWS if not row.loss]
LOSSES = [row for row in OP_ROWS if row.loss]


def _nonfinite_name(arrays: dict[str, np.ndarray]) -> str:
    """The array that gets inf and NaN: the first floating array (``x``, attention's ``q``, or the embedding
    table when x is integer ids)."""
    return next(k for k, v in arrays.items() if v.dtype.kind == "f")


def _with_nonfinite(row: OpRow) -> dict[str, np.ndarray]:
    arrays = row.make(np.random.default_rng(0))
    name = _nonfinite_name(arrays)
    x = arrays[name].copy()
    x.flat[0], x.flat[-1] = np.nan, np.inf
    x.flat[x.size // 2] = -np.inf
    return {**arrays, name: x}


def _call(row: OpRow, arrays: dict[str, np.ndarray]) -> Any:
    kwargs = {k: (dict(v) if isinstance(v, dict) else v) for k, v in row.kwargs.items()}  # bn_param is written
    return row.forward(*arrays.values(), **kwargs)


@pytest.mark.parametrize("row", OPS, ids=[row.id for row in OPS])
def test_inf_and_nan_propagate_without_warnings(row: OpRow) -> None:
    arrays = _with_nonfinite(row)
    with np.errstate(all="warn", under="ignore"):  # NumPy's defaults, as a user has them
        outs, cache = split_forward(_call(row, arrays))  # one output, or several (an RNN's final states)
        # an upstream gradient per floating output: integer and bool ones (random_masking's mask) are indices
        grads = row.backward(*(np.ones_like(o) for o in outs if o.dtype.kind == "f"), cache)
    if _nonfinite_name(arrays) == next(iter(arrays)):  # (an embedding table's NaN rows may be rows no id picks)
        assert not all(np.isfinite(o).all() for o in outs)  # the NaN went somewhere
    grads = grads if isinstance(grads, tuple) else (grads,)
    floats = [(name, a) for name, a in arrays.items() if a.dtype.kind == "f"]  # integer ids get no gradient
    for (name, a), g in zip(floats, grads, strict=False):
        assert g is None or (g.shape == a.shape and g.dtype == a.dtype), name


@pytest.mark.parametrize("row", LOSSES, ids=[row.id for row in LOSSES])
def test_losses_refuse_nonfinite_scores(row: OpRow) -> None:
    with pytest.raises(ValueError, match=r"^Invalid value for `x`: expected finite values \(no NaN or inf\)\."):
        _call(row, _with_nonfinite(row))


def test_a_callers_raise_is_kept() -> None:
    x = np.array([[np.inf, 1.0]])
    with np.errstate(invalid="raise"), pytest.raises(FloatingPointError):
        ops.affine_forward(x, np.ones((2, 1)), np.array([-np.inf]))  # inf + -inf
    with np.errstate(invalid="warn"), pytest.warns(RuntimeWarning):  # numpy's own, outside the library
        _ = x - x


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "sigmoid", "tanh", "gelu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elementwise_ops_keep_a_0d_input_an_array(name: str, dtype: Any) -> None:
    """NumPy's ufuncs give scalars for 0-d arrays, which the next op refused as 'not a numpy.ndarray'."""
    forward, backward = getattr(ops, f"{name}_forward"), getattr(ops, f"{name}_backward")
    out, cache = forward(np.array(0.7, dtype))
    assert type(out) is np.ndarray and out.shape == () and out.dtype == dtype
    dx = backward(np.array(1.0, dtype), cache)
    assert type(dx) is np.ndarray and dx.shape == () and dx.dtype == dtype
    again, _ = forward(out)  # chains
    assert type(again) is np.ndarray


def test_dropout_and_pointwise_losses_keep_a_0d_input_an_array() -> None:
    out, cache = ops.dropout_forward(np.array(2.0), {"p": 0.5, "mode": "train", "seed": 3})
    assert type(out) is np.ndarray and out.shape == ()
    assert type(ops.dropout_backward(np.array(1.0), cache)) is np.ndarray
    for loss in (ops.mse_loss, ops.bce_with_logits_loss):
        _, dx = loss(np.array(0.3), np.array(0.5), reduction="none")
        assert type(dx) is np.ndarray and dx.shape == ()


def test_a_dloss_number_out_of_the_dtype_range_is_refused() -> None:
    """1e100 in float32 would be inf, with NumPy's overflow warning; inf itself is taken as it is."""
    x, y = np.ones((2, 3), np.float32), np.array([0, 2])
    text = "Invalid value for `dloss`: expected a number within float32's range, |dloss| <= 3.403e+38. "
    for big in (1e100, -(10**400)):
        with pytest.raises(ValueError, match="^" + text.replace("|", r"\|").replace("+", r"\+").replace(".", r"\.")):
            ops.softmax_loss(x, y, dloss=big)
    _, dx = ops.softmax_loss(x.astype(np.float64), y, dloss=1e100)  # fits float64
    assert np.isfinite(dx).all()
    with np.errstate(all="warn"):
        _, dx = ops.svm_loss(x, y, dloss=np.inf)
    assert dx.dtype == np.float32
