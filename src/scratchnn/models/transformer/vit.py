"""A Vision Transformer encoder over image patches (``ViTEncoder``) and its classifier on the CLS token
(``ViTClassifier``): the encoder of the masked-image autoencoder (:mod:`.mae`) and its fine-tuning model.

    tokens = patchify(images) W_e^T + b_e + E_pos[1:]              (N, L, D): patch i at position 1 + i
    tokens = random_masking(tokens)                                 (N, K, D): the visible ones (MAE only)
    x = [cls + E_pos[0]; tokens]                                    (N, 1 + K, D): the CLS token PREPENDED
    latent = LayerNorm(blocks(x))                                   pre-LN Transformer layers, a final LayerNorm
    code = latent[:, 0]                                             the CLS token, at index 0

The course code appended the CLS token at the end and read index 0, a patch; here it is prepended, every
reader takes index 0, and ``tests/models/transformer/test_mae.py`` holds both to it. The layers are pre-LN
(``norm_first=True``), GELU, no dropout, as ViT and MAE; positions are learned and added before masking,
so every visible token keeps its own position whatever order the shuffle gives it.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..._config import get_default_dtype, get_rng
from ..._validate import (
    check_array,
    check_dtype_matches,
    check_float,
    check_float_dtype,
    check_int,
    invalid_shape,
    invalid_type,
    invalid_value,
    size_error,
)
from ...nn import init
from ...nn.linear import Linear
from ...nn.module import Module
from ...nn.normalization import LayerNorm
from ...nn.parameter import Param, new_array
from ...nn.transformer import TransformerEncoder, TransformerEncoderLayer
from ...ops.patches import patchify_backward, patchify_forward
from ...ops.random_masking import random_masking_backward, random_masking_forward

__all__ = ["ViTEncoder", "ViTClassifier", "transformer_stack", "check_stack", "check_heads"]

LAYER_NORM_EPS = 1e-6  # the MAE reference's LayerNorm eps (torch's default is 1e-5)


MAX_WEIGHTS = 2**40  # more weights than any memory holds: a size error before a layer is copied


def check_stack(d: int, depth: int, mlp_ratio: float, names: tuple[str, str]) -> int:
    """The feed-forward width of a stack of ``depth`` layers of width ``d``, or the template error for a stack
    too big to build, naming ``mlp_ratio`` or the larger of ``names`` (the constructor's names of ``d`` and
    ``depth``). Checked before anything is built: copying 2**40 layers one by one would never end."""
    if 4 * d * d > MAX_WEIGHTS:  # one layer's attention
        raise size_error({names[0]: d}, "a size whose layers' weights fit in memory")
    ff = max(1, round(mlp_ratio * d))
    if 2 * d * ff > MAX_WEIGHTS:
        raise invalid_value("mlp_ratio", "a ratio whose feed-forward weights fit in memory", mlp_ratio)
    if depth * (4 * d * d + 2 * d * ff) > MAX_WEIGHTS:  # the attention's and the feed-forward's weights
        raise size_error(dict(zip(names, (d, depth), strict=True)), "a size whose layers' weights fit in memory")
    return ff


def check_heads(value: Any, name: str, d: int, d_name: str) -> int:
    """A head count that divides the width ``d`` (the error names the constructor's own arguments)."""
    heads = check_int(value, name, low=1)
    if d % heads:
        raise invalid_value(name, f"a divisor of {d_name} = {d}", value)
    return heads


def transformer_stack(
    d: int, depth: int, nhead: int, mlp_ratio: float, dtype: Any, rng: Any, names: tuple[str, str]
) -> TransformerEncoder:
    """``depth`` pre-LN layers of width ``d`` (GELU feed-forward ``mlp_ratio * d`` wide, no dropout), a final
    LN; ``names`` as :func:`check_stack`'s."""
    ff = check_stack(d, depth, mlp_ratio, names)
    layer = TransformerEncoderLayer(
        d, nhead, dim_feedforward=ff, dropout=0.0, activation="gelu",
        layer_norm_eps=LAYER_NORM_EPS, batch_first=True, norm_first=True, dtype=dtype, rng=rng,
    )  # fmt: skip
    return TransformerEncoder(layer, depth, norm=LayerNorm(d, eps=LAYER_NORM_EPS, dtype=dtype))


def image_size_hw(image_size: Any, patch_size: int) -> tuple[int, int]:
    """(H, W) from an int side or an (H, W) pair, both multiples of ``patch_size``."""
    if isinstance(image_size, numbers.Integral) and not isinstance(image_size, bool):
        sizes: tuple[Any, ...] = (image_size, image_size)
    elif isinstance(image_size, (tuple, list)) and len(image_size) == 2:
        sizes = tuple(image_size)
    else:
        raise invalid_type("image_size", "an int or an (H, W) pair", image_size)
    H, W = (check_int(s, "image_size", low=1) for s in sizes)
    if H % patch_size or W % patch_size:
        raise invalid_value("image_size", f"H and W multiples of patch_size={patch_size}", image_size)
    return H, W


class ViTEncoder(Module):
    """The ViT encoder of the module docstring; ``forward`` optionally keeps a random part of the patches.

    Args:
        image_size: an int (square images) or (H, W), multiples of ``patch_size``.
        patch_size: p, the side of the square patches; L = (H/p)(W/p) patches of p*p*C values.
        in_chans: C, the image channels.
        embed_dim, depth, num_heads, mlp_ratio: D, the layers, their heads and feed-forward width / D.
        dtype, rng: parameter dtype (None: the default dtype) and initialization generator (None: the default).

    The CLS token and the position table start N(0, 0.02^2) (ViT's); the layers keep their modules' torch init.

    After a forward, :attr:`mask` (True: dropped) and :attr:`ids_restore` (the inverse shuffle) hold its
    masking: indices, with no gradient, so ``forward`` returns the latent alone, as every module its output.

    Shape:
        images: (N, C, H, W);  latent: (N, 1 + K, D), K = L unmasked or int(L (1 - mask_ratio));
        mask, ids_restore: (N, L)
    """

    def __init__(
        self,
        image_size: Any = 28,
        patch_size: int = 7,
        in_chans: int = 1,
        embed_dim: int = 64,
        depth: int = 4,
        num_heads: int = 4,
        mlp_ratio: float = 4.0,
        *,
        dtype: Any = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        p = self.patch_size = check_int(patch_size, "patch_size", low=1)
        self.image_size = image_size_hw(image_size, p)
        C = self.in_chans = check_int(in_chans, "in_chans", low=1)
        D = self.embed_dim = check_int(embed_dim, "embed_dim", low=1)
        self.mlp_ratio = check_float(mlp_ratio, "mlp_ratio", low=0.0, low_open=True, finite=True)
        depth = check_int(depth, "depth", low=1)
        heads = check_heads(num_heads, "num_heads", D, "embed_dim")
        check_stack(D, depth, self.mlp_ratio, ("embed_dim", "depth"))  # before the patch embedding is made
        if p * p * C * D > MAX_WEIGHTS:
            raise size_error({"in_chans": C, "patch_size": p}, "a size whose patch embedding fits in memory")
        dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
        rng = get_rng(rng)
        L = self.num_patches = (self.image_size[0] // p) * (self.image_size[1] // p)
        self.patch_embed = Linear(p * p * C, D, dtype=dt, rng=rng)
        self.cls_token = Param(new_array((1, 1, D), dt, {"embed_dim": D}))
        self.pos_embed = Param(new_array((1, 1 + L, D), dt, {"embed_dim": D, "image_size": image_size}))
        init.normal_(self.cls_token, std=0.02, rng=rng)
        init.normal_(self.pos_embed, std=0.02, rng=rng)
        self.blocks = transformer_stack(D, depth, heads, self.mlp_ratio, dt, rng, ("embed_dim", "depth"))
        self.__dict__["_mask"] = self.__dict__["_ids_restore"] = None

    @property
    def mask(self) -> np.ndarray | None:
        """The last forward's mask, True at the dropped patches (all False unmasked; None before any).  (N, L)."""
        return self._mask

    @property
    def ids_restore(self) -> np.ndarray | None:
        """The last forward's inverse shuffle: patch i sat at ids_restore[n, i] in the shuffled order.  (N, L)."""
        return self._ids_restore

    def check_images(self, images: Any) -> np.ndarray:
        """``images`` as this encoder takes them, else the template error naming ``input``."""
        check_array(images, "input")
        C, (H, W) = self.in_chans, self.image_size
        if images.ndim != 4 or images.shape[1:] != (C, H, W):
            raise invalid_shape("input", f"(N, {C}, {H}, {W}) images", images.shape)
        check_dtype_matches(images, "input", self.patch_embed.weight.dtype, type(self).__name__)
        return images

    def forward(  # type: ignore[override]
        self,
        images: np.ndarray,
        mask_ratio: float = 0.0,
        *,
        noise: np.ndarray | None = None,
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """The latent tokens, CLS first. With ``mask_ratio`` > 0 only the patches that
        :func:`~scratchnn.ops.random_masking_forward` keeps (its ``noise``, or one drawn from ``rng``) are
        encoded, and :attr:`mask` and :attr:`ids_restore` say which; with 0 every patch is, in order."""
        self.check_images(images)
        ratio = check_float(mask_ratio, "mask_ratio", low=0.0, high=1.0, high_open=True)
        if ratio == 0.0 and noise is not None:
            raise invalid_value("noise", "None when mask_ratio is 0 (nothing is masked)", noise)
        N, L, D = images.shape[0], self.num_patches, self.embed_dim
        patches, patch_cache = patchify_forward(images, self.patch_size)  # (N, C, H, W) -> (N, L, p*p*C)
        x = self.patch_embed(patches) + self.pos_embed.data[:, 1:]  # (N, L, p*p*C) -> (N, L, D)
        mask_cache = None
        if ratio > 0.0:
            x, mask, ids_restore, mask_cache = random_masking_forward(x, ratio, rng=rng, noise=noise)  # (N, K, D)
        else:
            mask, ids_restore = np.zeros((N, L), bool), np.tile(np.arange(L), (N, 1))  # (N, L) each
        cls = self.cls_token.data + self.pos_embed.data[:, :1]  # (1, 1, D): the CLS token at position 0
        x = np.concatenate([np.broadcast_to(cls, (N, 1, D)), x], axis=1)  # (N, K, D) -> (N, 1 + K, D)
        latent: np.ndarray = self.blocks(x)  # (N, 1 + K, D)
        self.__dict__["_mask"], self.__dict__["_ids_restore"] = mask, ids_restore
        self._save((patch_cache, mask_cache), latent)
        return latent

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """d images from d latent; every parameter accumulates its gradient."""
        patch_cache, mask_cache = self._saved(grad_out)
        dx = self.blocks.backward(grad_out)  # (N, 1 + K, D)
        assert dx is not None  # the stack's input gradient is always asked for: the patches need it
        dcls = dx[:, :1].sum(axis=0, keepdims=True)  # (N, 1, D) -> (1, 1, D)
        self.cls_token.accumulate_grad(dcls)
        dtokens = dx[:, 1:]  # (N, K, D)
        if mask_cache is not None:
            dtokens = random_masking_backward(np.ascontiguousarray(dtokens), mask_cache)  # (N, K, D) -> (N, L, D)
        self.pos_embed.accumulate_grad(np.concatenate([dcls, dtokens.sum(axis=0, keepdims=True)], axis=1))
        dpatches = self.patch_embed.backward(dtokens, input_grad=input_grad)  # (N, L, D) -> (N, L, p*p*C)
        return None if dpatches is None else patchify_backward(dpatches, patch_cache)  # -> (N, C, H, W)

    def extra_repr(self) -> str:
        return f"image_size={self.image_size}, patch_size={self.patch_size}, num_patches={self.num_patches}"


class ViTClassifier(Module):
    """``logits = head(encoder(images)[:, 0])``: a linear head on the CLS token only, nothing masked.

    For fine-tuning a pretrained encoder end to end (:meth:`MaskedImageAutoencoder.classifier` shares its
    encoder), or training a ViT from scratch (``ViTClassifier(ViTEncoder(...))``). The head has torch's
    default Linear init from ``rng``. The other tokens reach the logits only through attention into the
    CLS token: their rows of the latent get a zero gradient from the head.

    Shape:
        images: (N, C, H, W);  logits: (N, num_classes)
    """

    def __init__(self, encoder: ViTEncoder, num_classes: int = 10, *, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        if not isinstance(encoder, ViTEncoder):
            raise invalid_type("encoder", "a scratchnn.models.ViTEncoder", encoder)
        self.num_classes = check_int(num_classes, "num_classes", low=1)
        self.encoder = encoder
        dt = encoder.patch_embed.weight.dtype
        self.head = Linear(encoder.embed_dim, self.num_classes, dtype=dt, rng=get_rng(rng))

    def forward(self, images: np.ndarray) -> np.ndarray:
        latent = self.encoder(images)  # (N, 1 + L, D), every patch
        logits: np.ndarray = self.head(latent[:, 0])  # the CLS token: (N, D) -> (N, num_classes)
        self._save(latent.shape, logits)
        return logits

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        shape = self._saved(grad_out)
        dlatent = np.zeros(shape, dtype=grad_out.dtype)  # (N, 1 + L, D): the patch rows fed no logit
        dlatent[:, 0] = self.head.backward(grad_out)  # (N, num_classes) -> (N, D)
        return self.encoder.backward(dlatent, input_grad=input_grad)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}"
