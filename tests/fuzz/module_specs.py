"""One fuzz spec per public Module class of ``scratchnn.nn`` and ``scratchnn.models``: valid constructor
arguments, a valid input for them, and the documented output shape.

``test_nn.py`` fails for a public Module class that has no spec here, so a new area (RNN, attention, ...)
adds its rows (the sequence modules' are in recurrent_module_specs.py, the Transformer's in
transformer_module_specs.py). A spec's ``make`` draws a :class:`Case`; ``inputs`` are the forward's
arguments (a loss's input and target), ``refuse`` marks a valid-looking case the library must refuse.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

from scratchnn import models, nn

from .autoencoder_module_specs import SPECS as AUTOENCODER_SPECS
from .calls import Case, Draw, ModuleSpec, Shape
from .mae_module_specs import SPECS as MAE_SPECS
from .positional_module_specs import SPECS as POSITIONAL_SPECS
from .recurrent_module_specs import SPECS as RECURRENT_SPECS
from .spatial_specs import transpose_geometry
from .transformer_module_specs import SPECS as TRANSFORMER_SPECS


def _lead(d: Draw, max_dims: int = 2) -> Shape:
    return tuple(d.draw(st.lists(st.integers(0, 3), max_size=max_dims)))


def _nonfinite(*arrays: Any) -> bool:
    return any(isinstance(a, np.ndarray) and a.size and not np.isfinite(a).all() for a in arrays)


def linear(d: Draw) -> Case:
    i, o = d.int(1, 4), d.int(1, 4)
    lead = _lead(d)
    return Case({"in_features": i, "out_features": o, "bias": d.pick([True, False])}, [d.x((*lead, i))], (*lead, o))


def same_shape(kwargs: Callable[[Draw], dict[str, Any]], min_dims: int = 0) -> Callable[[Draw], Case]:
    def make(d: Draw) -> Case:
        shape = tuple(d.draw(st.lists(st.integers(0, 4), min_size=min_dims, max_size=4)))
        return Case(kwargs(d), [d.x(shape)], shape)

    return make


def flatten(d: Draw) -> Case:
    shape = tuple(d.draw(st.lists(st.integers(0, 3), min_size=1, max_size=4)))
    n = len(shape)
    a, b = sorted((d.int(0, n - 1), d.int(0, n - 1)))
    start, end = d.pick([a, a - n]), d.pick([b, b - n])
    out = (*shape[:a], math.prod(shape[a : b + 1]), *shape[b + 1 :])
    return Case({"start_dim": start, "end_dim": end}, [d.x(shape)], out)


def sequential(d: Draw) -> Case:
    i, h, o, N = d.int(1, 4), d.int(1, 4), d.int(1, 3), d.int(0, 3)
    kind = d.pick(["mlp", "dict", "empty"])
    if kind == "empty":
        shape = _lead(d, 3)
        return Case({}, [d.x(shape)], shape)
    layers = [nn.Linear(i, h), nn.ReLU(), nn.Linear(h, o)]
    args = (OrderedDict(zip(("fc1", "act", "fc2"), layers)),) if kind == "dict" else tuple(layers)
    return Case({}, [d.x((N, i))], (N, o), args=args)


def module_list(d: Draw) -> Case:
    return Case({"modules": d.pick([None, [], [nn.ReLU(), nn.Linear(2, 3)]])}, [], None)


def softmax(d: Draw) -> Case:
    shape = tuple(d.draw(st.lists(st.integers(0, 4), min_size=1, max_size=4)))
    return Case({"dim": d.int(-len(shape), len(shape) - 1)}, [d.x(shape)], shape)


def _reduction(d: Draw) -> str:
    return str(d.pick(["mean", "sum", "none"]))


def cross_entropy(d: Draw) -> Case:
    C, N, extra = d.int(1, 4), d.int(0, 3), _lead(d, 1)
    kind = d.pick(["unbatched", "batched", "spatial"])
    x_shape, t_shape = {"unbatched": ((C,), ()), "batched": ((N, C), (N,)), "spatial": ((N, C, *extra), (N, *extra))}[
        kind
    ]
    kwargs: dict[str, Any] = {"reduction": _reduction(d), "ignore_index": d.pick([-100, 0]),
                              "label_smoothing": d.float(0, 1)}  # fmt: skip
    if d.pick([True, False]):
        kwargs["weight"] = np.abs(d.p((C,)))
    x, target = d.x(x_shape), d.labels(t_shape, C)
    none = kwargs["reduction"] == "none"
    all_ignored = target.size == 0 or bool((target == kwargs["ignore_index"]).all())
    return Case(kwargs, [x, target], t_shape if none else (), refuse=_nonfinite(x),
                finite=none or not all_ignored)  # fmt: skip


def multi_margin(d: Draw) -> Case:
    C, N = d.int(1, 4), d.int(0, 3)
    x_shape, t_shape = d.pick([((C,), ()), ((N, C), (N,))])
    kwargs: dict[str, Any] = {"p": d.pick([1, 2]), "margin": d.float(-2, 2), "reduction": _reduction(d)}
    if d.pick([True, False]):
        kwargs["weight"] = np.abs(d.p((C,)))
    x = d.x(x_shape)
    none = kwargs["reduction"] == "none"
    return Case(kwargs, [x, d.labels(t_shape, C)], t_shape if none else (), refuse=_nonfinite(x),
                finite=none or x.shape[0] > 0 or x.ndim == 1)  # fmt: skip


def pointwise_loss(bce: bool) -> Callable[[Draw], Case]:
    def make(d: Draw) -> Case:
        shape = tuple(d.draw(st.lists(st.integers(0, 3), max_size=3)))
        kwargs: dict[str, Any] = {"reduction": _reduction(d)}
        if bce:
            for name in ("weight", "pos_weight"):
                if d.pick([True, False]):
                    kwargs[name] = np.asarray(np.abs(d.p(shape[d.int(0, len(shape)) :])))
        x = d.x(shape)
        target = np.asarray(d.p(shape) % 1.0) if bce else d.p(shape)
        none = kwargs["reduction"] == "none"
        return Case(kwargs, [x, target], shape if none else (), refuse=_nonfinite(x),
                    finite=none or math.prod(shape) > 0)  # fmt: skip

    return make


def _images(d: Draw, C: int, max_side: int = 6) -> np.ndarray:
    return d.x((d.int(0, 2), C, d.int(1, max_side), d.int(1, max_side)))


def _pair(d: Draw, v: tuple[int, int]) -> Any:
    return v[0] if v[0] == v[1] and d.pick([True, False]) else d.pick([v, list(v)])


def conv2d(d: Draw) -> Case:
    C, F = d.int(1, 3), d.int(1, 3)
    x = _images(d, C)
    N, _, H, W = x.shape
    kh, kw = d.pick([1, 3]), d.pick([1, 3])
    kwargs: dict[str, Any] = {"in_channels": C, "out_channels": F, "bias": d.pick([True, False])}
    if d.pick([True, False]):
        kwargs.update(kernel_size=_pair(d, (kh, kw)), padding="same")
        return Case(kwargs, [x], (N, F, H, W))
    stride, pad = (d.int(1, 3), d.int(1, 3)), (d.int(0, 2), d.int(0, 2))
    kh, kw = min(kh, H + 2 * pad[0]), min(kw, W + 2 * pad[1])
    kwargs.update(kernel_size=_pair(d, (kh, kw)), stride=_pair(d, stride), padding=_pair(d, pad))
    return Case(kwargs, [x], (N, F, (H + 2 * pad[0] - kh) // stride[0] + 1, (W + 2 * pad[1] - kw) // stride[1] + 1))


def conv_transpose2d(d: Draw) -> Case:
    C, F = d.int(1, 3), d.int(1, 3)
    x = _images(d, C)
    N, _, H, W = x.shape
    kernel, stride, pad, output_padding, (Ho, Wo) = transpose_geometry(d, H, W)
    kwargs: dict[str, Any] = {"in_channels": C, "out_channels": F, "kernel_size": _pair(d, kernel),
                              "stride": _pair(d, stride), "padding": _pair(d, pad),
                              "output_padding": _pair(d, output_padding), "bias": d.pick([True, False])}  # fmt: skip
    return Case(kwargs, [x], (N, F, Ho, Wo))


def pool2d(avg: bool) -> Callable[[Draw], Case]:
    def make(d: Draw) -> Case:
        x = _images(d, d.int(1, 3))
        N, C, H, W = x.shape
        kh, kw = d.int(1, 3), d.int(1, 3)
        ph, pw = d.int(0, kh // 2), d.int(0, kw // 2)
        kh, kw = min(kh, H + 2 * ph), min(kw, W + 2 * pw)
        ph, pw = min(ph, kh // 2), min(pw, kw // 2)
        stride = d.pick([None, (d.int(1, 3), d.int(1, 3))])
        sh, sw = (kh, kw) if stride is None else stride
        kwargs: dict[str, Any] = {"kernel_size": _pair(d, (kh, kw)), "stride": stride, "padding": _pair(d, (ph, pw))}
        if avg:
            kwargs.update(count_include_pad=d.pick([True, False]), divisor_override=d.pick([None, d.int(1, 9)]))
        return Case(kwargs, [x], (N, C, (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1))

    return make


def adaptive(d: Draw) -> Case:
    x = _images(d, d.int(1, 3))
    N, C, H, W = x.shape
    Ho, Wo = d.int(1, 7), d.int(1, 7)
    size = d.pick([(Ho, Wo), [Ho, Wo], (None, Wo), (Ho, None)] + ([Ho] if Ho == Wo else []))
    if not isinstance(size, int):
        Ho, Wo = H if size[0] is None else Ho, W if size[1] is None else Wo
    return Case({"output_size": size}, [x], (N, C, Ho, Wo))


def batchnorm(spatial: bool) -> Callable[[Draw], Case]:
    def make(d: Draw) -> Case:
        C, N = d.int(1, 3), d.int(0, 3)
        rest = (d.int(1, 3), d.int(1, 3)) if spatial else _lead(d, 1)
        kwargs: dict[str, Any] = {"num_features": C, "eps": d.float(1e-6, 1), "momentum": d.pick([None, d.float(0, 1)]),
                                  "affine": d.pick([True, False]), "track_running_stats": d.pick([True, False]),
                                  "bias": d.pick([True, False])}  # fmt: skip
        x = d.x((N, C, *rest))
        train = d.pick([True, False])
        batch_stats = train or not kwargs["track_running_stats"]  # no running stats: batch statistics in eval too
        return Case(kwargs, [x], x.shape, train=train, refuse=batch_stats and N * math.prod(rest) <= 1)

    return make


def layernorm(d: Draw) -> Case:
    norm = tuple(d.draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    x = d.x((*_lead(d), *norm))
    shape_arg = norm[0] if len(norm) == 1 and d.pick([True, False]) else d.pick([norm, list(norm)])
    kwargs = {"normalized_shape": shape_arg, "eps": d.float(1e-6, 1), "elementwise_affine": d.pick([True, False]),
              "bias": d.pick([True, False])}  # fmt: skip
    return Case(kwargs, [x], x.shape)


def groupnorm(d: Draw) -> Case:
    G, per = d.int(1, 3), d.int(1, 2)
    x = d.x((d.int(0, 3), G * per, *_lead(d, 2)))
    kwargs = {"num_groups": G, "num_channels": G * per, "eps": d.float(1e-6, 1), "affine": d.pick([True, False]),
              "bias": d.pick([True, False])}  # fmt: skip
    return Case(kwargs, [x], x.shape)


def fc_net(d: Draw) -> Case:
    hidden = d.draw(st.lists(st.integers(1, 4), max_size=2))
    D, C, N = d.int(1, 4), d.int(1, 4), d.int(0, 3)
    norm = d.pick([None, "batchnorm", "layernorm"])
    kwargs = {"hidden_dims": hidden, "input_dim": D, "num_classes": C, "dropout": d.pick([0.0, d.float(0, 0.9)]),
              "normalization": norm, "reg": d.float(0, 1), "weight_scale": d.float(0, 1),
              "weight_init": d.pick(["normal", "he", "xavier"]), "seed": d.pick([None, d.int(0, 99)])}  # fmt: skip
    x = d.x((N, D)) if d.pick([True, False]) else d.x((N, 1, D))
    train = d.pick([True, False])
    return Case(kwargs, [x], (N, C), train=train, refuse=train and norm == "batchnorm" and bool(hidden) and N < 2)


def three_layer(d: Draw) -> Case:
    C, H, W, k = d.int(1, 2), d.int(2, 6), d.int(2, 6), d.pick([1, 3])
    kwargs = {"input_dim": (C, H, W), "num_filters": d.int(1, 3), "filter_size": k, "hidden_dim": d.int(1, 4),
              "num_classes": d.int(1, 4), "weight_scale": d.float(0, 1), "reg": d.float(0, 1),
              "seed": d.pick([None, d.int(0, 99)])}  # fmt: skip
    N = d.int(0, 2)
    return Case(kwargs, [d.x((N, C, H, W))], (N, kwargs["num_classes"]))


def convnet(d: Draw) -> Case:
    C, H, W = d.int(1, 2), d.int(2, 8), d.int(2, 8)
    blocks = 1 if min(H, W) < 4 else d.int(1, 2)
    hidden = d.draw(st.lists(st.integers(1, 3), max_size=1))
    kwargs = {"in_channels": C, "num_classes": d.int(1, 4), "channels": [d.int(1, 3) for _ in range(blocks)],
              "input_size": (H, W), "kernel_size": d.pick([1, 3]), "hidden": hidden, "dropout": d.float(0, 0.9),
              "batchnorm": d.pick([True, False]), "pool": d.pick(["max", "avg"])}  # fmt: skip
    N = d.int(0, 3)
    train = d.pick([True, False])
    refuse = train and kwargs["batchnorm"] and N == 0  # batch statistics of no values
    return Case(kwargs, [d.x((N, C, H, W))], (N, kwargs["num_classes"]), train=train, refuse=refuse)


def _none(d: Draw) -> dict[str, Any]:
    return {}


SPECS: list[ModuleSpec] = [
    ModuleSpec(nn.Linear, linear),
    ModuleSpec(nn.Identity, same_shape(_none)),
    ModuleSpec(nn.Flatten, flatten),
    ModuleSpec(nn.Sequential, sequential),
    ModuleSpec(nn.ModuleList, module_list),
    ModuleSpec(nn.ReLU, same_shape(lambda d: {"inplace": d.pick([True, False])})),
    ModuleSpec(
        nn.LeakyReLU, same_shape(lambda d: {"negative_slope": d.float(-2, 2), "inplace": d.pick([True, False])})
    ),
    ModuleSpec(nn.Sigmoid, same_shape(_none)),
    ModuleSpec(nn.Tanh, same_shape(_none)),
    ModuleSpec(nn.GELU, same_shape(lambda d: {"approximate": d.pick(["none", "tanh"])})),
    ModuleSpec(nn.Softmax, softmax),
    ModuleSpec(nn.Dropout, same_shape(lambda d: {"p": d.float(0, 0.99), "inplace": d.pick([True, False])})),
    ModuleSpec(nn.CrossEntropyLoss, cross_entropy, loss=True),
    ModuleSpec(nn.MultiMarginLoss, multi_margin, loss=True),
    ModuleSpec(nn.MSELoss, pointwise_loss(False), loss=True),
    ModuleSpec(nn.BCEWithLogitsLoss, pointwise_loss(True), loss=True),
    ModuleSpec(nn.Conv2d, conv2d, not_implemented=("dilation", "groups", "padding_mode", "padding")),
    ModuleSpec(nn.ConvTranspose2d, conv_transpose2d, not_implemented=("dilation", "groups")),
    ModuleSpec(nn.MaxPool2d, pool2d(False), not_implemented=("dilation", "return_indices", "ceil_mode")),
    ModuleSpec(nn.AvgPool2d, pool2d(True), not_implemented=("ceil_mode",)),
    ModuleSpec(nn.AdaptiveAvgPool2d, adaptive),
    ModuleSpec(nn.BatchNorm1d, batchnorm(False)),
    ModuleSpec(nn.BatchNorm2d, batchnorm(True)),
    ModuleSpec(nn.LayerNorm, layernorm),
    ModuleSpec(nn.GroupNorm, groupnorm),
    ModuleSpec(models.FullyConnectedNet, fc_net),
    ModuleSpec(models.ThreeLayerConvNet, three_layer),
    ModuleSpec(models.ConvNet, convnet),
    *RECURRENT_SPECS,
    *AUTOENCODER_SPECS,
    *POSITIONAL_SPECS,
    *TRANSFORMER_SPECS,
    *MAE_SPECS,
]
