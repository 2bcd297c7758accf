"""One fuzz spec per ops pair (and loss) of ``scratchnn.ops``: how to draw a valid call, and what it returns.

A spec names its forward, the backwards that take that forward's cache, and a ``make`` that draws a
valid call (:class:`~.calls.Call`): the forward's arguments, the documented output shape, the arguments the
backward's results differentiate, and the paths of the float arrays that carry the call's dtype. Dense and
normalization ops here, convolution and pooling in spatial_specs.py, the embedding, temporal and recurrent
ops in recurrent_specs.py, attention in attention_specs.py, the patch and token-masking ops in patch_specs.py.
``test_ops.py`` fails for an op of
``scratchnn.ops.__all__`` that no spec covers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

from scratchnn import ops

from .attention_specs import SPECS as ATTENTION_SPECS
from .calls import Call, Draw, OpSpec, Path, nonfinite
from .patch_specs import patchify, random_masking, restore, unpatchify
from .recurrent_specs import SPECS as RECURRENT_SPECS
from .spatial_specs import adaptive, conv, conv_transpose, pool

__all__ = ["SPECS", "Call", "Draw", "OpSpec", "Path"]


# ---------------------------------------------------------------------------------------------- dense
def affine(d: Draw) -> Call:
    N, dims, M = d.int(0, 3), tuple(d.draw(st.lists(st.integers(0, 3), max_size=2))), d.int(1, 3)
    x, w, b = d.x((N, *dims)), d.p((math.prod(dims), M)), d.p((M,))
    return Call({"x": x, "w": w, "b": b}, {}, (N, M), ("x", "w", "b"), (("args", "x"), ("args", "w"), ("args", "b")))


def elementwise(kwargs: Callable[[Draw], dict[str, Any]]) -> Callable[[Draw], Call]:
    def make(d: Draw) -> Call:
        shape = tuple(d.draw(st.lists(st.integers(0, 4), max_size=4)))
        return Call({"x": d.x(shape)}, kwargs(d), shape)

    return make


def softmax(d: Draw) -> Call:
    shape = tuple(d.draw(st.lists(st.integers(0, 4), min_size=1, max_size=4)))
    return Call({"x": d.x(shape)}, {"axis": d.int(-len(shape), len(shape) - 1)}, shape)


def _reduction(d: Draw, N_shape: tuple[int, ...]) -> tuple[str, tuple[int, ...]]:
    r = d.pick(["mean", "sum", "none"])
    return r, N_shape if r == "none" else ()


def _dloss(d: Draw, shape: tuple[int, ...]) -> Any:
    kind = d.pick(["none", "number", "array"])
    return None if kind == "none" else d.float(-3, 3) if kind == "number" else d.p(shape)


def reconstruction(d: Draw) -> Call:
    shape = (d.int(0, 3), *d.draw(st.lists(st.integers(0, 3), max_size=2)))
    x, y = d.x(shape), d.p(shape)
    reduction = d.pick(["sum_per_sample", "mean"])
    mask = d.pick([None, "bool", "int"])
    kwargs: dict[str, Any] = {"reduction": reduction, "dloss": _dloss(d, ())}
    if mask is not None:
        kwargs["mask"] = np.asarray(d.p(shape) > 0).astype(bool if mask == "bool" else d.pick([np.int64, np.uint8]))
    floats: tuple[Path, ...] = (("args", "x"),)  # y is a target: cast to x's dtype, as mse_loss's
    if isinstance(kwargs["dloss"], np.ndarray):
        floats += (("kwargs", "dloss"),)
    counted = np.count_nonzero(kwargs["mask"]) if mask is not None else math.prod(shape)
    divisor = shape[0] if reduction == "sum_per_sample" else counted  # none: NaN, as torch's mean of nothing
    return Call({"x": x, "y": y}, kwargs, (), ("x",), floats, finite=divisor > 0, refuse=nonfinite(x))


def class_loss(kind: str) -> Callable[[Draw], Call]:
    def make(d: Draw) -> Call:
        N, C = d.int(0, 4), d.int(1, 4)
        x, y = d.x((N, C)), d.labels((N,), C)
        kwargs: dict[str, Any] = {}
        reduction, shape = ("mean", ()) if kind == "svm" else _reduction(d, (N,))
        floats: tuple[Path, ...] = (("args", "x"),)
        if kind == "softmax":
            kwargs = {"ignore_index": d.pick([-100, 0]), "label_smoothing": d.float(0, 1)}
        if kind == "margin":
            kwargs = {"p": d.pick([1, 2]), "margin": d.float(-2, 2)}
        if kind != "svm":
            kwargs["reduction"] = reduction
            if d.pick([True, False]):
                kwargs["weight"] = np.abs(d.p((C,)))
        empty = reduction == "mean" and (N == 0 or (kind == "softmax" and bool((y == kwargs["ignore_index"]).all())))
        kwargs["dloss"] = _dloss(d, shape)
        if isinstance(kwargs["dloss"], np.ndarray):
            floats += (("kwargs", "dloss"),)
        return Call({"x": x, "y": y}, kwargs, shape, ("x",), floats, finite=not empty, refuse=nonfinite(x))

    return make


def pointwise_loss(kind: str) -> Callable[[Draw], Call]:
    def make(d: Draw) -> Call:
        shape = tuple(d.draw(st.lists(st.integers(0, 3), max_size=3)))
        x = d.x(shape)
        y = d.p(shape) if kind == "mse" else np.asarray(d.array(shape, ("normal",)) % 1.0)
        reduction, loss_shape = _reduction(d, shape)
        kwargs: dict[str, Any] = {"reduction": reduction}
        floats: tuple[Path, ...] = (("args", "x"),)
        if kind == "bce":
            for name in ("weight", "pos_weight"):
                if d.pick([True, False]):  # a trailing part of the shape broadcasts
                    kwargs[name] = np.asarray(np.abs(d.p(shape[d.int(0, len(shape)) :])))
        kwargs["dloss"] = _dloss(d, loss_shape)
        if isinstance(kwargs["dloss"], np.ndarray):
            floats += (("kwargs", "dloss"),)
        empty = reduction == "mean" and math.prod(shape) == 0
        return Call({"x": x, "y": y}, kwargs, loss_shape, ("x",), floats, finite=not empty, refuse=nonfinite(x))

    return make


# ---------------------------------------------------------------------------------------------- normalization
def batchnorm(spatial: bool) -> Callable[[Draw], Call]:
    def make(d: Draw) -> Call:
        N, C = d.int(0, 3), d.int(1, 3)
        rest = (d.int(1, 3), d.int(1, 3)) if spatial else tuple(d.draw(st.lists(st.integers(0, 3), max_size=1)))
        x = d.x((N, C, *rest))
        affine = d.pick([True, False])
        gamma, beta = (d.p((C,)), d.p((C,))) if affine else (None, None)
        track = d.pick([True, False])
        bn: dict[str, Any] = {"mode": d.pick(["train", "test"]), "eps": d.float(1e-6, 1), "track_running_stats": track}
        if d.pick([True, False]):
            bn["momentum"] = d.pick([None, d.float(0, 1)])
        floats: tuple[Path, ...] = (("args", "x"),) + ((("args", "gamma"), ("args", "beta")) if affine else ())
        if track and d.pick([True, False]):
            bn.update(running_mean=d.p((C,)), running_var=np.abs(d.p((C,))), num_batches_tracked=d.int(0, 5))
            floats += (("args", "bn_param", "running_mean"), ("args", "bn_param", "running_var"))
        m = N * math.prod(rest)
        batch_stats = bn["mode"] == "train" or not track
        return Call({"x": x, "gamma": gamma, "beta": beta, "bn_param": bn}, {}, x.shape, ("x", "gamma", "beta"),
                    floats, refuse=batch_stats and m <= 1)  # fmt: skip

    return make


def layernorm(d: Draw) -> Call:
    lead, norm = (
        d.draw(st.lists(st.integers(0, 3), max_size=2)),
        d.draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)),
    )
    x = d.x((*lead, *norm))
    ln: dict[str, Any] = {"eps": d.float(1e-6, 1)}
    if d.pick([True, False]):
        ln["normalized_shape"] = tuple(norm)
    affine = d.pick([True, False])
    gamma, beta = (d.p(tuple(norm)), d.p(tuple(norm))) if affine else (None, None)
    floats: tuple[Path, ...] = (("args", "x"),) + ((("args", "gamma"), ("args", "beta")) if affine else ())
    return Call({"x": x, "gamma": gamma, "beta": beta, "ln_param": ln}, {}, x.shape, ("x", "gamma", "beta"), floats)


def groupnorm(d: Draw) -> Call:
    N, G, per, rest = d.int(0, 3), d.int(1, 3), d.int(1, 2), tuple(d.draw(st.lists(st.integers(0, 3), max_size=2)))
    C = G * per
    x = d.x((N, C, *rest))
    affine = d.pick([True, False])
    pshape = (C,) if d.pick([True, False]) else (1, C) + (1,) * len(rest)
    gamma, beta = (d.p(pshape), d.p(pshape)) if affine else (None, None)
    floats: tuple[Path, ...] = (("args", "x"),) + ((("args", "gamma"), ("args", "beta")) if affine else ())
    args = {"x": x, "gamma": gamma, "beta": beta, "G": G, "gn_param": {"eps": d.float(1e-6, 1)}}
    return Call(args, {}, x.shape, ("x", "gamma", "beta"), floats)


def dropout(d: Draw) -> Call:
    x = d.x(tuple(d.draw(st.lists(st.integers(0, 4), max_size=4))))
    param: dict[str, Any] = {"p": d.float(0, 0.99), "mode": d.pick(["train", "test"])}
    kwargs: dict[str, Any] = {}
    if d.pick([True, False]):
        param["seed"] = d.int(0, 2**31)
    else:
        kwargs["rng"] = np.random.default_rng(d.int(0, 9))
    return Call({"x": x, "dropout_param": param}, kwargs, x.shape)


def _spec(name: str, make: Callable[[Draw], Call], *backward: str, fwd: str = "", **kw: Any) -> OpSpec:
    fwd = fwd or name + "_forward"
    return OpSpec(name, getattr(ops, fwd), tuple(getattr(ops, b) for b in backward), make, **kw)


def _slope(d: Draw) -> dict[str, Any]:
    return {"negative_slope": d.float(-2, 2)}


SPECS: list[OpSpec] = [
    _spec("affine", affine, "affine_backward"),
    _spec("affine_relu", affine, "affine_relu_backward"),
    _spec("relu", elementwise(lambda d: {}), "relu_backward"),
    _spec("leaky_relu", elementwise(_slope), "leaky_relu_backward"),
    _spec("sigmoid", elementwise(lambda d: {}), "sigmoid_backward"),
    _spec("tanh", elementwise(lambda d: {}), "tanh_backward"),
    _spec("gelu", elementwise(lambda d: {"approximate": d.pick(["none", "tanh"])}), "gelu_backward"),
    _spec("softmax", softmax, "softmax_backward"),
    _spec("softmax_loss", class_loss("softmax"), fwd="softmax_loss", loss=True, labels=(("args", "y"),)),
    _spec("svm_loss", class_loss("svm"), fwd="svm_loss", loss=True, labels=(("args", "y"),)),
    _spec("multi_margin_loss", class_loss("margin"), fwd="multi_margin_loss", loss=True, labels=(("args", "y"),)),
    _spec("mse_loss", pointwise_loss("mse"), fwd="mse_loss", loss=True),
    _spec("bce_with_logits_loss", pointwise_loss("bce"), fwd="bce_with_logits_loss", loss=True),
    _spec("reconstruction_loss", reconstruction, fwd="reconstruction_loss", loss=True),
    _spec("batchnorm", batchnorm(False), "batchnorm_backward", "batchnorm_backward_alt"),
    _spec("spatial_batchnorm", batchnorm(True), "spatial_batchnorm_backward", "batchnorm_backward"),
    _spec("layernorm", layernorm, "layernorm_backward"),
    _spec("spatial_groupnorm", groupnorm, "spatial_groupnorm_backward"),
    _spec("dropout", dropout, "dropout_backward"),
    _spec("conv", conv("plain"), "conv_backward"),
    _spec("conv_fast", conv("dict"), "conv_backward_fast", fwd="conv_forward_fast"),
    _spec("conv_naive", conv("dict"), "conv_backward_naive", fwd="conv_forward_naive"),
    _spec("conv_transpose", conv_transpose, "conv_transpose_backward"),
    _spec("conv_transpose_naive", conv_transpose, "conv_transpose_backward_naive", fwd="conv_transpose_forward_naive"),
    _spec("max_pool", pool("plain"), "max_pool_backward"),
    _spec("max_pool_fast", pool("dict"), "max_pool_backward_fast", fwd="max_pool_forward_fast"),
    _spec("max_pool_naive", pool("dict"), "max_pool_backward_naive", fwd="max_pool_forward_naive"),
    _spec("avg_pool", pool("avg"), "avg_pool_backward"),
    _spec("avg_pool_naive", pool("dict"), "avg_pool_backward_naive", fwd="avg_pool_forward_naive"),
    _spec("adaptive_avg_pool", adaptive, "adaptive_avg_pool_backward"),
    _spec("patchify", patchify, "patchify_backward"),
    _spec("unpatchify", unpatchify, "unpatchify_backward"),
    _spec("random_masking", random_masking, "random_masking_backward"),
    _spec("restore", restore, "restore_backward", labels=(("args", "ids_restore"),)),
    *RECURRENT_SPECS,
    *ATTENTION_SPECS,
]
