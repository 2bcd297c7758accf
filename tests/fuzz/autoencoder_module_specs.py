"""Fuzz specs of the autoencoder area's modules: the MLP, denoising, masked and conv autoencoders and their loss.

An MLP model's input is (N, D), the conv model's (N, C, H, W) with any sides, N possibly 0, in either mode
(training draws noise or a mask); the loss module takes (input, target) of one (N, *) shape (its optional
mask is checked in tests/models/test_autoencoder_loss.py: a bool array, which the dtype fuzz would call a
wrong target dtype).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

from scratchnn import models
from scratchnn.models.autoencoder.mlp import ACTIVATIONS

from .calls import Case, Draw, ModuleSpec


def autoencoder(kind: str) -> Callable[[Draw], Case]:
    def make(d: Draw) -> Case:
        D, N = d.int(1, 4), d.int(0, 3)
        hidden = d.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
        kwargs: dict[str, Any] = {"input_size": D, "hidden_sizes": d.pick([hidden, tuple(hidden)]),
                                  "activation": d.pick([*ACTIVATIONS, None]),
                                  "reduction": d.pick(["sum_per_sample", "mean"])}  # fmt: skip
        if kind == "denoising":
            kwargs["noise_std"] = d.float(0, 2)
        if kind == "masked":
            kwargs["loss_on"] = d.pick(["all", "masked"])
            kwargs["mask_ratio"] = d.float(0.01 if kwargs["loss_on"] == "masked" else 0.0, 0.99)
        return Case(kwargs, [d.x((N, D))], (N, D))

    return make


def conv_autoencoder(d: Draw) -> Case:
    C, H, W, N = d.int(1, 2), d.int(1, 9), d.int(1, 9), d.int(0, 3)
    channels = d.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    loss_on = d.pick(["all", "masked"])
    kwargs: dict[str, Any] = {"in_channels": C, "code_size": d.int(1, 4),
                              "channels": d.pick([channels, tuple(channels)]),
                              "input_size": d.pick([(H, W), [H, W]]) if H != W else d.pick([H, (H, H)]),
                              "activation": d.pick([*ACTIVATIONS, None]), "noise_std": d.pick([0.0, d.float(0, 2)]),
                              "mask_ratio": d.float(0.01 if loss_on == "masked" else 0.0, 0.99), "loss_on": loss_on,
                              "reduction": d.pick(["sum_per_sample", "mean"])}  # fmt: skip
    return Case(kwargs, [d.x((N, C, H, W))], (N, C, H, W))


def reconstruction_loss(d: Draw) -> Case:
    shape = (d.int(0, 3), *d.draw(st.lists(st.integers(0, 3), max_size=2)))
    reduction = d.pick(["sum_per_sample", "mean"])
    x, target = d.x(shape), d.p(shape)
    counted = shape[0] if reduction == "sum_per_sample" else math.prod(shape)  # the divisor: none gives NaN
    nonfinite = x.size > 0 and not np.isfinite(x).all()
    return Case({"reduction": reduction}, [x, target], (), refuse=nonfinite, finite=counted > 0)


SPECS: list[ModuleSpec] = [
    ModuleSpec(models.Autoencoder, autoencoder("plain")),
    ModuleSpec(models.DenoisingAutoencoder, autoencoder("denoising")),
    ModuleSpec(models.MaskedAutoencoder, autoencoder("masked")),
    ModuleSpec(models.ConvAutoencoder, conv_autoencoder),
    ModuleSpec(models.ReconstructionLoss, reconstruction_loss, loss=True),
]
