"""Numerical gradients: the course's helpers plus ``check_op`` / ``check_module``.

Central differences, df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / 2h, with error O(h^2). Run them
in float64: in float32 the rounding error of f (~1e-7 relative) divided by 2h swamps everything.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .._validate import invalid_type

__all__ = [
    "rel_error",
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "check_op",
    "check_module",
    "split_forward",
]


def rel_error(x: Any, y: Any) -> float:
    """max |x - y| / max(1e-8, |x| + |y|), elementwise (the course's definition)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"Invalid shape for `y`: expected {x.shape} to match x. Received: y.shape={y.shape}")
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def eval_numerical_gradient(
    f: Callable[[np.ndarray], Any], x: np.ndarray, verbose: bool = True, h: float = 0.00001
) -> np.ndarray:
    """Gradient of a scalar function ``f`` at ``x`` (``x`` is perturbed in place and restored)."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])  # type: ignore[list-item]
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        fxph = float(f(x))
        x[ix] = old - h
        fxmh = float(f(x))
        x[ix] = old
        grad[ix] = (fxph - fxmh) / (2 * h)
        if verbose:
            print(ix, grad[ix])
        it.iternext()
    return grad


def eval_numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Gradient of sum(f(x) * df) at ``x``, for an array-valued ``f`` and upstream gradient ``df``."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])  # type: ignore[list-item]
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = np.array(f(x), dtype=np.float64, copy=True)
        x[ix] = old - h
        neg = np.array(f(x), dtype=np.float64, copy=True)
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def _as_float64(name: str, a: Any) -> np.ndarray:
    if not isinstance(a, np.ndarray):
        raise invalid_type(name, "a numpy.ndarray", a)
    return a.astype(np.float64) if a.dtype.kind == "f" else a


def split_forward(result: tuple[Any, ...]) -> tuple[tuple[np.ndarray, ...], Any]:
    """An op forward's result as (outputs, cache).

    Ops return ``(out, cache)``; ops with several outputs return them before the cache,
    ``(next_h, next_c, cache)``, or as one tuple, ``((h, h_n), cache)``; their backward takes one upstream
    gradient per floating output, in order, then the cache: ``backward(dh, dh_n, cache)``. Integer and bool
    outputs (``random_masking_forward``'s mask and ids_restore) are indices, without a gradient.
    """
    *outs, cache = result
    if len(outs) == 1 and isinstance(outs[0], tuple):
        outs = list(outs[0])
    return tuple(outs), cache


def check_op(
    forward: Callable[..., Any],
    backward: Callable[..., Any],
    inputs: Mapping[str, np.ndarray],
    kwargs: Mapping[str, Any] | None = None,
    *,
    loss: bool = False,
    wrt: Sequence[str] | None = None,
    h: float = 1e-6,
    rng: np.random.Generator | None = None,
) -> dict[str, float]:
    """Worst relative error of each analytic gradient of an ops pair against central differences.

    ``inputs`` maps the forward's positional array arguments, in order, to values (cast to
    float64). For an ordinary op, ``backward(dout, cache)`` is checked with a random Gaussian
    ``dout`` (one per floating output for an op with several, :func:`split_forward`, and sum_k dout_k . out_k
    differentiated); for a loss (``loss=True``) the forward returns ``(loss, dx)`` and only the first
    input is differentiated; a loss that takes an upstream gradient ``dloss`` (scratchnn's losses)
    gets a random one of the loss's shape unless ``kwargs`` gives it, and ``sum(dloss * loss)`` is
    differentiated. ``wrt`` limits which inputs are checked (integer labels and ids never are). A
    backward returns a gradient per forward array, or one per floating array when it returns fewer
    (``word_embedding_backward`` returns dW only: the ids have none).
    """
    kwargs = dict(kwargs or {})
    names = list(inputs)
    arrays = {k: _as_float64(k, v) for k, v in inputs.items()}
    rng = np.random.default_rng(0) if rng is None else rng
    if wrt is None:
        wrt = [k for k in names if arrays[k].dtype.kind == "f"]
        if loss:
            wrt = wrt[:1]

    def call() -> Any:
        return forward(*[arrays[k] for k in names], **kwargs)

    errors: dict[str, float] = {}
    if loss:
        if "dloss" in inspect.signature(forward).parameters and kwargs.get("dloss") is None:
            kwargs["dloss"] = rng.standard_normal(np.shape(call()[0]))  # random upstream gradient
        dloss = np.asarray(1.0 if kwargs.get("dloss") is None else kwargs["dloss"])
        _, analytic0 = call()
        analytic = {names[0]: analytic0}
        for k in wrt:
            num = eval_numerical_gradient_array(lambda _: call()[0], arrays[k], dloss, h=h)
            errors[k] = rel_error(analytic[k], num)
        return errors

    outs, cache = split_forward(call())
    differentiable = [i for i, out in enumerate(outs) if np.asarray(out).dtype.kind == "f"]  # not indices, masks
    douts = [rng.standard_normal(np.shape(outs[i])) for i in differentiable]
    grads = backward(*douts, cache)
    if not isinstance(grads, tuple):
        grads = (grads,)
    # a backward returns one gradient per forward array, or (word_embedding_backward) one per floating array
    floats = [k for k in names if arrays[k].dtype.kind == "f"]
    analytic = dict(zip(names if len(grads) == len(names) else floats, grads, strict=False))

    def flat_outputs(_: np.ndarray) -> np.ndarray:  # every floating output, raveled end to end
        outs = split_forward(call())[0]
        return np.concatenate([np.ravel(outs[i]) for i in differentiable])

    dflat = np.concatenate([d.ravel() for d in douts])
    for k in wrt:
        num = eval_numerical_gradient_array(flat_outputs, arrays[k], dflat, h=h)
        errors[k] = rel_error(analytic[k], num)
    return errors


def check_module(
    module: Any,
    *inputs: np.ndarray,
    h: float = 1e-6,
    rng: np.random.Generator | None = None,
    check_inputs: bool = True,
) -> dict[str, float]:
    """Worst relative error of a module's input and parameter gradients against central differences.

    The module is cast to float64 in place (``module.double()``); its output is dotted with a
    random upstream gradient. Keys: ``input0``, ``input1``, ... and parameter names.
    Stochastic modules must be made deterministic by the caller (eval mode or a fixed mask).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    module.double()
    xs = [_as_float64(f"input{i}", x) for i, x in enumerate(inputs)]
    out = module(*xs)
    dout = rng.standard_normal(np.shape(out))
    module.zero_grad()
    dxs = module.backward(dout)
    if not isinstance(dxs, tuple):
        dxs = (dxs,)
    errors: dict[str, float] = {}

    def f(_: np.ndarray) -> np.ndarray:
        return np.asarray(module(*xs))

    if check_inputs:
        for i, (x, dx) in enumerate(zip(xs, dxs, strict=False)):
            if x.dtype.kind == "f" and dx is not None:
                errors[f"input{i}"] = rel_error(dx, eval_numerical_gradient_array(f, x, dout, h=h))
    for name, p in module.named_parameters():
        analytic = p.grad.copy()
        errors[name] = rel_error(analytic, eval_numerical_gradient_array(f, p.data, dout, h=h))
    return errors
