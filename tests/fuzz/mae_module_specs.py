"""Fuzz specs of the masked-image autoencoder area (models/transformer/vit.py, mae.py): images (N, C, H, W)
whose sides are multiples of the patch, N possibly 0, in either mode (training draws the masks, eval uses
the fixed eval masks); mask ratios up to 0.99, where no patch may stay visible (int(L (1 - ratio)) = 0)."""

from __future__ import annotations

from typing import Any

from scratchnn import models

from .calls import Case, Draw, ModuleSpec


def _geometry(d: Draw) -> tuple[dict[str, Any], tuple[int, int, int, int], int]:
    """The encoder's constructor arguments, the input's (N, C, H, W) and L."""
    p, C, h, w, N = d.int(1, 3), d.int(1, 2), d.int(1, 3), d.int(1, 3), d.int(0, 3)
    H, W = h * p, w * p
    heads = d.int(1, 2)
    kwargs: dict[str, Any] = {
        "image_size": d.pick([H, (H, W), [H, W]]) if H == W else d.pick([(H, W), [H, W]]),
        "patch_size": p, "in_chans": C, "embed_dim": heads * d.int(1, 2), "depth": d.int(1, 2),
        "num_heads": heads, "mlp_ratio": d.pick([1.0, d.float(0.5, 2.0)]),
    }  # fmt: skip
    return kwargs, (N, C, H, W), h * w


def vit_encoder(d: Draw) -> Case:
    kwargs, shape, L = _geometry(d)
    return Case(kwargs, [d.x(shape)], (shape[0], 1 + L, kwargs["embed_dim"]))


def vit_classifier(d: Draw) -> Case:
    kwargs, shape, _ = _geometry(d)
    num_classes = d.int(1, 4)
    return Case({"encoder": models.ViTEncoder(**kwargs), "num_classes": num_classes}, [d.x(shape)],
                (shape[0], num_classes))  # fmt: skip


def mae(d: Draw) -> Case:
    kwargs, (N, C, H, W), L = _geometry(d)
    heads = d.int(1, 2)
    kwargs.update(decoder_embed_dim=heads * d.int(1, 2), decoder_depth=d.int(1, 2), decoder_num_heads=heads,
                  mask_ratio=d.float(0.01, 0.99), norm_pix_loss=d.pick([True, False]))  # fmt: skip
    return Case(kwargs, [d.x((N, C, H, W))], (N, L, kwargs["patch_size"] ** 2 * C))


SPECS: list[ModuleSpec] = [
    ModuleSpec(models.ViTEncoder, vit_encoder),
    ModuleSpec(models.ViTClassifier, vit_classifier),
    ModuleSpec(models.MaskedImageAutoencoder, mae),
]
