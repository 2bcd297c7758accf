"""Gradient-check rows of the masked-image autoencoder (models/transformer/mae.py) and the ViT classifier
(models/transformer/vit.py), its encoder inside both.

A training row fixes the mask: its model draws the shuffle noise from a generator rewound before every
forward, so every call of the finite differences drops the same patches. The eval row uses the model's own
fixed eval masks.

Why the output layer is scaled by 1e-6: softmax is unchanged when one constant is added to all of a
query's scores, so the key third of every ``in_proj_bias`` has an exactly zero gradient, and the central
difference returns its rounding noise instead (~1e-10 at unit scale), which ``rel_error``'s 1e-8 floor
turns into a relative error of 1e-2. Scaling the last layer by s scales every gradient but the last
layer's own, and that noise, by s: at s = 1e-6 the noise is ~1e-16, far under the floor, while a wrong
gradient entry still fails unless it is off by less than about 1e-9 of the largest entry (the floor times
the tolerance, 1e-15, against gradients of ~1e-6). The last layer's gradients (upstream times its input)
keep their unit scale and are checked as usual.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ... import nn
from ...models.transformer import MaskedImageAutoencoder, ViTClassifier, ViTEncoder
from .base import F64, ModuleRow

SCALE = 1e-6  # the output layer's scale (see the module docstring)
Maker = Callable[[np.random.Generator], tuple[nn.Module, tuple[np.ndarray, ...]]]


class FixedMaskMaskedImageAutoencoder(MaskedImageAutoencoder):
    """The same shuffle noise on every training forward (a rewound generator)."""

    def forward(self, images: np.ndarray, noise: np.ndarray | None = None) -> np.ndarray:
        self.rng = np.random.default_rng(7)
        return super().forward(images, noise)


def _scaled(layer: nn.Linear) -> None:
    layer.weight.data *= SCALE
    if layer.bias is not None:
        layer.bias.data *= SCALE


def mae_row(
    train: bool, image_size: tuple[int, int], patch_size: int, in_chans: int, mask_ratio: float, depth: int
) -> Maker:
    """A row maker: a float64 MAE (``depth`` encoder layers of width 6, 1 decoder layer of width 4, 2 heads
    each), its output layer scaled, its other parameters away from their init (:func:`_perturb`), two
    images of pixels in [0, 1)."""

    def make(r: np.random.Generator) -> tuple[nn.Module, tuple[np.ndarray, ...]]:
        cls = FixedMaskMaskedImageAutoencoder if train else MaskedImageAutoencoder
        model = cls(image_size, patch_size, in_chans, embed_dim=6, depth=depth, num_heads=2, decoder_embed_dim=4,
                    decoder_depth=1, decoder_num_heads=2, mlp_ratio=1.5, mask_ratio=mask_ratio, dtype=F64,
                    rng=r)  # fmt: skip
        _perturb(model, r)
        _scaled(model.decoder_pred)
        x = r.random((2, in_chans, *image_size))
        return model.train(train), (x,)

    return make


def _perturb(model: nn.Module, r: np.random.Generator) -> None:
    """Biases, LayerNorm affines, tokens and position tables away from their init. The tokens and tables
    start at 0.02 scale: a LayerNorm over a token that small curves so fast that the central difference's
    truncation error (h^2 f''' / 6) reaches 1e-6 of the gradient; at unit scale it is far below."""
    for name, p in model.named_parameters():
        if name.endswith(("token", "pos_embed")):
            p.data[...] = r.standard_normal(p.shape)
        elif name.endswith("bias"):
            p.data[...] = 0.3 * r.standard_normal(p.shape)
        elif "norm" in name:
            p.data[...] = 1 + 0.3 * r.standard_normal(p.shape)


def _classifier(r: np.random.Generator) -> tuple[nn.Module, tuple[np.ndarray, ...]]:
    encoder = ViTEncoder((6, 4), 2, 2, embed_dim=8, depth=1, num_heads=4, mlp_ratio=1.0, dtype=F64, rng=r)
    model = ViTClassifier(encoder, 3, rng=r)
    _perturb(model, r)
    _scaled(model.head)
    return model, (r.random((2, 2, 6, 4)),)


MODULE_ROWS = [
    # 6 patches of 2x2x2, 3 visible; two encoder layers
    ModuleRow("MaskedImageAutoencoder-train-fixed_mask", mae_row(True, (6, 4), 2, 2, 0.5, 2)),
    # 9 patches of 3x3, 2 visible, the model's own eval masks
    ModuleRow("MaskedImageAutoencoder-eval-ratio0.75", mae_row(False, (9, 9), 3, 1, 0.75, 1)),
    ModuleRow("ViTClassifier", _classifier),
]
