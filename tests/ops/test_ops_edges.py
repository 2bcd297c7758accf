"""The ops at the edges (docs/dtypes.md), over every row of the gradient-check table (gradcheck/rows/).

An empty batch gives empty outputs and input gradients and zero parameter gradients, or the library's
error (batch statistics, per-sample weights); a wrong ``dout`` fails with the template; x, the
parameters and ``dout`` / ``dloss`` share one dtype, float32 or float64.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import numpy as np
import pytest

from scratchnn import ops
from scratchnn.gradcheck import split_forward
from scratchnn.gradcheck.rows import OP_ROWS, OpRow

OPS = [row for row in OP_ROWS if not row.loss]
LOSSES = [row for row in OP_ROWS if row.loss]
# the arguments with a batch axis (recurrent states, sequence lengths and masks too; attention's queries, keys,
# values and its per-sample masks; the token masking's noise and ids_restore); the others are parameters
BATCHED = (
    "x",
    "y",
    "h0",
    "c0",
    "prev_h",
    "prev_c",
    "lengths",
    "mask",
    "q",
    "k",
    "v",
    "key_padding_mask",
    "dropout_mask",
    "noise",
    "ids_restore",
)
BAD_DTYPES = [np.float16, np.int32, np.complex128, object, np.bool_]


def _first(arrays: dict[str, np.ndarray]) -> str:
    """The name of the forward's first array: ``x``, or ``q`` (attention)."""
    return next(iter(arrays))


# rows whose x is integer ids (word_embedding): x has no gradient, its dtype checks are its own (test_embedding.py)
FLOAT_X = [row for row in OP_ROWS if next(iter(row.make(np.random.default_rng(0)).values())).dtype.kind == "f"]


def _ids(rows: list[OpRow]) -> list[str]:
    return [row.id for row in rows]


def _inputs(row: OpRow, n: int | None = None) -> dict[str, np.ndarray]:
    """The row's arrays in float64 (labels kept), the batched ones cut to their first ``n`` samples."""
    arrays = row.make(np.random.default_rng(0))
    arrays = {k: v.astype(np.float64) if v.dtype.kind == "f" else v for k, v in arrays.items()}
    return {k: v[:n] if k in BATCHED and n is not None else v for k, v in arrays.items()}


def _cast(value: Any, dtype: Any) -> Any:
    """A copy of ``value`` (of dicts too: train mode writes into ``bn_param``), its float arrays in ``dtype``."""
    if isinstance(value, dict):
        return {k: _cast(v, dtype) for k, v in value.items()}
    return value.astype(dtype) if isinstance(value, np.ndarray) and value.dtype.kind == "f" else value


def _call(row: OpRow, arrays: dict[str, np.ndarray], dtype: Any = np.float64, **extra: Any) -> Any:
    kwargs = _cast(row.kwargs, dtype)
    n = arrays[_first(arrays)].shape[0]
    kwargs = {k: v[:n] if k in BATCHED and isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    return row.forward(*arrays.values(), **kwargs, **extra)


def _dout_name(row: OpRow) -> str:
    """What the backward calls its (first) upstream gradient: ``dout``, or ``dh`` / ``dnext_h`` (recurrent ops)."""
    return next(iter(inspect.signature(row.backward).parameters))  # type: ignore[arg-type]


def _floating(outs: Any) -> list[np.ndarray]:
    """The outputs a backward takes an upstream gradient for: the floating ones, not index or mask outputs."""
    return [o for o in outs if o.dtype.kind == "f"]


def _needs_samples(row: OpRow) -> bool:
    """Batch statistics need more than one value per channel; per-sample weights need the samples."""
    bn = row.kwargs.get("bn_param")
    if bn is not None and (bn.get("mode") == "train" or bn.get("track_running_stats") is False):
        return True
    weight = row.kwargs.get("weight")
    return isinstance(weight, np.ndarray) and weight.ndim == 2


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


@pytest.mark.parametrize("row", OP_ROWS, ids=_ids(OP_ROWS))
def test_empty_batch(row: OpRow) -> None:
    arrays = _inputs(row, 0)
    if _needs_samples(row):
        with pytest.raises(ValueError, match=r"^Invalid shape for `(x|weight)`: expected .*\(0, "):
            _call(row, arrays)
        return
    if row.loss:
        loss, dx = _call(row, arrays)
        reduction = row.kwargs.get("reduction", "mean")
        if reduction in ("mean", "sum_per_sample"):  # (the reconstruction loss's is a mean over the samples)
            assert np.isnan(loss)  # 0 / 0, as torch
        elif reduction == "sum":
            assert loss == 0
        else:
            assert loss.shape == arrays["y"].shape  # (0,) labels, or the input's shape
        assert dx.shape == arrays["x"].shape and dx.dtype == np.float64
        return
    outs, cache = split_forward(_call(row, arrays))
    outs = _floating(outs)  # (random_masking's mask and ids_restore are indices: no gradient)
    assert all(out.shape[0] == 0 and out.dtype == np.float64 for out in outs)
    grads = row.backward(*(np.zeros_like(out) for out in outs), cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    # one gradient per array, or per floating array when integer ids have none (as check_op pairs them)
    named = [(k, a) for k, a in arrays.items() if len(grads) == len(arrays) or a.dtype.kind == "f"]
    for (name, a), g in zip(named, grads, strict=False):
        if name in BATCHED:
            assert g.shape == a.shape and g.dtype == np.float64, name
        elif g is not None:
            assert g.shape == a.shape and not g.any(), name  # no samples: zero parameter gradients


@pytest.mark.parametrize("row", OPS, ids=_ids(OPS))
def test_wrong_dout_shape(row: OpRow) -> None:
    (out, *rest), cache = split_forward(_call(row, _inputs(row)))
    name, others = _dout_name(row), [np.zeros_like(o) for o in _floating(rest)]  # the others' gradients are right
    text = f"Invalid shape for `{name}`: expected {out.shape}, the forward output's shape. Received: {name}.shape="
    for bad in [(out.shape[0] + 1, *out.shape[1:]), out.shape[::-1] + (1,), (out.size,)]:
        with pytest.raises(ValueError, match=msg(text + str(bad))):
            row.backward(np.zeros(bad), *others, cache)


@pytest.mark.parametrize("dtype", [*BAD_DTYPES, np.float32], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("row", OPS, ids=_ids(OPS))
def test_wrong_dout_dtype(row: OpRow, dtype: Any) -> None:
    (out, *rest), cache = split_forward(_call(row, _inputs(row)))  # float64: a float32 dout is as wrong as an int one
    name, others = _dout_name(row), [np.zeros_like(o) for o in _floating(rest)]
    text = f"Invalid dtype for `{name}`: expected float64, the forward output's dtype. Received: {name}.dtype="
    with pytest.raises(TypeError, match=msg(text + np.dtype(dtype).name)):
        row.backward(np.zeros(out.shape, dtype), *others, cache)
    with pytest.raises(TypeError, match=rf"^Invalid type for `{name}`: expected a numpy.ndarray .* of type list$"):
        row.backward(out.tolist(), *others, cache)


@pytest.mark.parametrize("dtype", BAD_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("row", FLOAT_X, ids=_ids(FLOAT_X))
def test_x_of_another_dtype_is_a_type_error(row: OpRow, dtype: Any) -> None:
    arrays = _inputs(row)
    x = _first(arrays)
    arrays[x] = arrays[x].astype(dtype)
    text = (
        f"Invalid type for `{x}`: expected a floating numpy.ndarray (float32 or float64), not dtype {np.dtype(dtype)}."
    )
    with pytest.raises(TypeError, match=msg(text + f" Received: {x} of type ndarray")):
        _call(row, arrays)


MIXED = [row for row in FLOAT_X if any(k not in BATCHED for k in row.make(np.random.default_rng(0)))]


@pytest.mark.parametrize("row", MIXED, ids=_ids(MIXED))
def test_mixed_dtypes_are_a_type_error_not_an_upcast(row: OpRow) -> None:
    """x (and the other batched arrays) float32 with float64 parameters: the first parameter is named (NumPy would
    upcast the output)."""
    arrays = _inputs(row)
    arrays |= {k: _cast(v, np.float32) for k, v in arrays.items() if k in BATCHED}
    first = next(k for k in arrays if k not in BATCHED)
    text = f"Invalid dtype for `{first}`: expected float32 to match x. Received: {first}.dtype=float64"
    with pytest.raises(TypeError, match=msg(text)):
        _call(row, arrays)
    outs, _ = split_forward(_call(row, _cast(arrays, np.float32), np.float32))
    assert all(out.dtype == np.float32 for out in outs)


@pytest.mark.parametrize("row", LOSSES, ids=_ids(LOSSES))
def test_dloss_has_the_loss_dtype(row: OpRow) -> None:
    arrays = _inputs(row)
    loss, dx = _call(row, arrays)
    np.testing.assert_allclose(_call(row, arrays, dloss=2.0)[1], 2 * dx, rtol=1e-15)  # a Python number
    for bad in (np.float32, np.int64, np.float16):
        text = f"Invalid dtype for `dloss`: expected float64, the loss's dtype. Received: dloss.dtype={np.dtype(bad)}"
        with pytest.raises(TypeError, match=msg(text)):
            _call(row, arrays, dloss=np.ones(np.shape(loss), bad))
    with pytest.raises(TypeError, match=r"^Invalid type for `dloss`: expected None, a real number or "):
        _call(row, arrays, dloss="1")


X4 = np.ones((1, 1, 3, 3))
HUGE: list[tuple[Any, str]] = [
    (lambda: ops.conv_forward(X4, np.ones((1, 1, 2, 2)), None, padding=2**40), "padding"),
    (lambda: ops.conv_forward_fast(X4, np.ones((1, 1, 2, 2)), None, {"pad": 2**40}), "padding"),
    (lambda: ops.conv_forward_naive(X4, np.ones((1, 1, 2, 2)), None, {"pad": 2**40}), "pad"),
    (lambda: ops.conv_transpose_forward(X4, np.ones((1, 1, 2, 2)), None, {"stride": 2**40}), "stride"),
    (lambda: ops.conv_transpose_forward_naive(X4, np.ones((1, 1, 2, 2)), None, {"stride": (1, 2**40)}), "stride"),
    (lambda: ops.max_pool_forward(X4, 2**41, padding=2**40), "kernel_size"),
    (lambda: ops.avg_pool_forward(X4, 2**41, padding=2**40), "kernel_size"),
    (lambda: ops.adaptive_avg_pool_forward(X4, 2**40), "output_size"),
]


@pytest.mark.parametrize("call,name", HUGE, ids=[f"{i}-{name}" for i, (_, name) in enumerate(HUGE)])
def test_sizes_no_array_can_have_are_the_template_error(call: Any, name: str) -> None:
    """Found by fuzzing: NumPy's "Maximum allowed dimension exceeded", a TypeError from np.pad, or MemoryError."""
    with pytest.raises(ValueError, match=rf"^Invalid value for `{name}`: expected an? .* fits? in memory\. Received: "):
        call()


def test_layernorm_over_normalized_dimensions_of_size_0() -> None:
    """Found by fuzzing: reshaping (2, 0) to (-1, 0) was NumPy's 'cannot reshape array of size 0'."""
    with pytest.raises(ValueError, match=msg("Invalid shape for `x`: expected normalized dimensions of size >= 1. "
                                             "Received: x.shape=(2, 0)")):  # fmt: skip
        ops.layernorm_forward(np.ones((2, 0)), None, None, {})
