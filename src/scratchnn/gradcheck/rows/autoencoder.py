"""Gradient-check rows of the autoencoder area: the reconstruction loss (ops/pointwise_losses.py), the MLP and
convolutional autoencoders and their loss module (models/autoencoder/).

The denoising and masked models corrupt their input in training mode with fresh noise or a fresh mask on
every forward; their training rows rewind the model's generator before each forward, so every call of the
finite differences sees the same corruption (as ``FixedMaskDropout`` does for dropout). Every ReLU input is
kept away from the kink at 0 (the rows redraw until it is).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from ... import nn, ops
from ...models.autoencoder import (
    Autoencoder,
    ConvAutoencoder,
    DenoisingAutoencoder,
    MaskedAutoencoder,
    ReconstructionLoss,
)
from .base import F64, ModuleRow, OpRow, args

MASK45 = np.arange(20).reshape(4, 5) % 3 != 1  # a fixed (4, 5) mask: 13 elements count, 7 do not


def _pair_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"x": 2 * rng.standard_normal((4, 5)), "y": rng.standard_normal((4, 5))}


OP_ROWS = [
    OpRow(f"reconstruction_loss-{red}-mask{masked}", ops.reconstruction_loss, None, _pair_inputs,
          {"reduction": red, "mask": MASK45 if masked else None}, loss=True)
    for red, masked in itertools.product(("sum_per_sample", "mean"), (False, True))
]  # fmt: skip


class _Rewound:
    """A mixin for the corrupting models: the generator is rewound before every forward (one fixed corruption)."""

    rng: np.random.Generator | None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.rng = np.random.default_rng(7)
        out: np.ndarray = super().forward(x)  # type: ignore[misc]
        return out


class FixedNoiseDenoisingAutoencoder(_Rewound, DenoisingAutoencoder):
    """The same noise on every training forward."""


class FixedMaskMaskedAutoencoder(_Rewound, MaskedAutoencoder):
    """The same mask on every training forward."""


class FixedCorruptionConvAutoencoder(_Rewound, ConvAutoencoder):
    """The same noise and mask on every training forward."""


def _relu_inputs(model: nn.Module, x: np.ndarray) -> float:
    """The smallest |input| of any ReLU of ``model`` in one forward of ``x`` (inf without a ReLU)."""
    gaps: list[float] = []
    handles = [
        m.register_forward_hook(lambda _m, inputs, _out: gaps.append(float(np.abs(inputs[0]).min())))
        for m in model.modules()
        if isinstance(m, nn.ReLU)
    ]
    model(x)
    for h in handles:
        h.remove()
    return min(gaps, default=np.inf)


def autoencoder(
    build: Callable[[np.random.Generator], Autoencoder], train: bool = True
) -> Callable[[np.random.Generator], tuple[nn.Module, tuple[np.ndarray, ...]]]:
    """A row maker: a float64 model from ``build`` (random biases, so the decoder's ReLUs see both signs), in
    training or eval mode, and an input whose every ReLU input is away from 0."""

    def make(r: np.random.Generator) -> tuple[nn.Module, tuple[np.ndarray, ...]]:
        while True:
            model = build(r).train(train)
            for name, p in model.named_parameters():
                if name.endswith("bias"):
                    p.data[...] = 0.5 * r.standard_normal(p.shape)
            size = model.input_size  # D, or the conv model's (C, H, W)
            x = r.standard_normal((4, *size) if isinstance(size, tuple) else (4, size))
            if _relu_inputs(model, x) > 1e-3:
                return model, (x,)

    return make


def _masked_loss_inputs(r: np.random.Generator) -> tuple[np.ndarray, ...]:
    return (*args(_pair_inputs(r)), MASK45)


MODULE_ROWS = [
    ModuleRow("Autoencoder-relu", autoencoder(lambda r: Autoencoder(6, [5, 3], dtype=F64, rng=r))),
    ModuleRow("Autoencoder-linear", autoencoder(lambda r: Autoencoder(6, [3], None, dtype=F64, rng=r))),
    ModuleRow("Autoencoder-tanh-3_layers",
              autoencoder(lambda r: Autoencoder(6, [5, 4, 2], "tanh", dtype=F64, rng=r))),
    ModuleRow("DenoisingAutoencoder-train-fixed_noise",
              autoencoder(lambda r: FixedNoiseDenoisingAutoencoder(6, [5, 3], noise_std=0.5, dtype=F64, rng=r))),
    ModuleRow("DenoisingAutoencoder-eval",
              autoencoder(lambda r: DenoisingAutoencoder(6, [5, 3], dtype=F64, rng=r), train=False)),
    ModuleRow("MaskedAutoencoder-train-fixed_mask",
              autoencoder(lambda r: FixedMaskMaskedAutoencoder(6, [5, 3], mask_ratio=0.5, dtype=F64, rng=r)), tol=2e-6),
    ModuleRow("MaskedAutoencoder-eval",
              autoencoder(lambda r: MaskedAutoencoder(6, [5, 3], "gelu", dtype=F64, rng=r), train=False)),
    # the conv models' input gradients have entries 1e-4 of the largest (pixels that feed few outputs): there
    # the central difference's rounding (~1e-11 absolute) is a relative error near 1e-6, the rest agree to 1e-9
    ModuleRow("ConvAutoencoder-relu",
              autoencoder(lambda r: ConvAutoencoder(1, 3, (2, 3), (5, 6), dtype=F64, rng=r))),
    ModuleRow("ConvAutoencoder-tanh-2_channels-8x8",
              autoencoder(lambda r: ConvAutoencoder(2, 2, (3,), 8, "tanh", dtype=F64, rng=r)), tol=2e-6),
    ModuleRow("ConvAutoencoder-train-fixed_noise_and_mask",
              autoencoder(lambda r: FixedCorruptionConvAutoencoder(1, 3, (2, 2), (6, 5), noise_std=0.5,
                                                                   mask_ratio=0.5, dtype=F64, rng=r)), tol=2e-6),
    # losses: (input, target[, mask]); check_module differentiates the input only
    ModuleRow("ReconstructionLoss", lambda r: (ReconstructionLoss(), args(_pair_inputs(r)))),
    ModuleRow("ReconstructionLoss-mean", lambda r: (ReconstructionLoss("mean"), args(_pair_inputs(r)))),
    ModuleRow("ReconstructionLoss-masked", lambda r: (ReconstructionLoss(), _masked_loss_inputs(r))),
    ModuleRow("ReconstructionLoss-mean-masked", lambda r: (ReconstructionLoss("mean"), _masked_loss_inputs(r))),
]  # fmt: skip
