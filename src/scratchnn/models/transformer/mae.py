"""``MaskedImageAutoencoder``: the course's masked-image autoencoder (He et al., 2022, "MAE"), made to run.

    latent = encoder(images, mask_ratio)                            (N, 1 + K, D): CLS + the K visible patches
    x = latent W_d^T + b_d                                          (N, 1 + K, Dd)
    y = restore([x[:, 1:]; mask_token x (L - K)], ids_restore)      (N, L, Dd): every patch back at its place
    y = [x[:, :1]; y] + E_dec                                       (N, 1 + L, Dd): the decoder's own positions
    pred = decoder_pred(LayerNorm(decoder_blocks(y)))[:, 1:]        (N, L, p*p*C): pixels of every patch
    loss = sum_{n, i} mask_ni ||pred_ni - t_ni||^2 / (p*p*C sum mask)   the MASKED patches only

with t = patchify(images), or each patch standardized (``norm_pix_loss``: mean 0 and unit variance over its
p*p*C values, the unbiased variance + 1e-6 as in the MAE reference). The encoder is :class:`ViTEncoder`
(pre-LN, CLS prepended at index 0). The four bugs of the course code that this file fixes, each tested in
``tests/models/transformer/test_mae.py``: the mask tokens go AFTER the visible tokens in shuffled order and
``ids_restore`` puts them back (restore(shuffle(x)) == x); the decoder's position table is added; the loss
counts masked patches only; the classifier (:meth:`classifier`) reads the CLS token alone.

Masks: a training forward draws the shuffle noise from ``rng``; an eval forward from a generator seeded
:data:`EVAL_MASK_SEED` on every call, so eval forwards are deterministic (a validation loss comparable from
epoch to epoch); ``forward(images, noise=...)`` fixes the mask (gradient checks, figures).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._config import get_default_dtype, get_rng
from ..._validate import check_bool, check_float, check_float_dtype, check_int
from ...nn import init
from ...nn.linear import Linear
from ...nn.module import Module
from ...nn.parameter import Param, new_array
from ...ops.patches import patchify_forward, unpatchify_forward
from ...ops.pointwise_losses import reconstruction_loss
from ...ops.random_masking import restore_backward, restore_forward
from .vit import ViTClassifier, ViTEncoder, check_heads, check_stack, transformer_stack

__all__ = ["MaskedImageAutoencoder", "EVAL_MASK_SEED", "NORM_PIX_EPS"]

EVAL_MASK_SEED = 0  # an eval forward's masks: the same for the same batch shape, call after call
NORM_PIX_EPS = 1e-6  # the MAE reference's: var + eps under the square root (pixels in [0, 1])


def _patch_stats(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each patch's mean and sqrt(unbiased variance + eps) (the reference's torch ``var``).
    Shape: (N, L, P) -> two (N, L, 1)."""
    mean = t.mean(axis=-1, keepdims=True)  # (N, L, 1)
    var = t.var(axis=-1, keepdims=True, ddof=1) if t.shape[-1] > 1 else np.zeros_like(mean)
    return mean, np.sqrt(var + NORM_PIX_EPS)


class MaskedImageAutoencoder(Module):
    """The MAE of the module docstring: ``forward(images)`` -> predicted pixels of every patch.

    Args:
        image_size, patch_size, in_chans, embed_dim, depth, num_heads, mlp_ratio: the encoder's
            (:class:`ViTEncoder`; the MAE reference's names).
        decoder_embed_dim, decoder_depth, decoder_num_heads: Dd and the decoder's pre-LN layers.
        mask_ratio: the fraction of patches dropped, in (0, 1); K = int(L (1 - mask_ratio)) stay visible.
        norm_pix_loss: the loss's targets are per-patch standardized pixels (the MAE paper's best setting).
        dtype, rng: parameter dtype; generator for the initialization and the training masks (None: the
            default generator, see ``scratchnn.manual_seed``).

    The mask token and the decoder's position table start N(0, 0.02^2). After a forward, :attr:`mask` and
    :attr:`ids_restore` hold its mask (True: dropped) and inverse shuffle.

    Shape:
        images: (N, C, H, W);  pred: (N, L, p*p*C), L = (H/p)(W/p);  code (:meth:`encode`): (N, D)
    """

    def __init__(
        self,
        image_size: Any = 28,
        patch_size: int = 7,
        in_chans: int = 1,
        embed_dim: int = 64,
        depth: int = 4,
        num_heads: int = 4,
        decoder_embed_dim: int = 32,
        decoder_depth: int = 2,
        decoder_num_heads: int = 4,
        mlp_ratio: float = 4.0,
        mask_ratio: float = 0.75,
        norm_pix_loss: bool = False,
        *,
        dtype: Any = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.mask_ratio = check_float(mask_ratio, "mask_ratio", low=0.0, high=1.0, low_open=True, high_open=True)
        self.norm_pix_loss = check_bool(norm_pix_loss, "norm_pix_loss")
        dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
        if rng is not None:
            get_rng(rng)  # type check
        self.rng = rng  # a Generator attribute: checkpoints save its state, so a resumed run draws the same masks
        enc = self.encoder = ViTEncoder(
            image_size, patch_size, in_chans, embed_dim, depth, num_heads, mlp_ratio, dtype=dt, rng=get_rng(rng)
        )
        Dd = self.decoder_embed_dim = check_int(decoder_embed_dim, "decoder_embed_dim", low=1)
        depth_d = check_int(decoder_depth, "decoder_depth", low=1)
        heads_d = check_heads(decoder_num_heads, "decoder_num_heads", Dd, "decoder_embed_dim")
        check_stack(Dd, depth_d, enc.mlp_ratio, ("decoder_embed_dim", "decoder_depth"))  # before anything is made
        L, P = enc.num_patches, enc.patch_size**2 * enc.in_chans
        self.decoder_embed = Linear(enc.embed_dim, Dd, dtype=dt, rng=get_rng(rng))
        self.mask_token = Param(new_array((1, 1, Dd), dt, {"decoder_embed_dim": Dd}))
        self.decoder_pos_embed = Param(new_array((1, 1 + L, Dd), dt, {"decoder_embed_dim": Dd}))
        init.normal_(self.mask_token, std=0.02, rng=get_rng(rng))
        init.normal_(self.decoder_pos_embed, std=0.02, rng=get_rng(rng))
        self.decoder_blocks = transformer_stack(Dd, depth_d, heads_d, enc.mlp_ratio, dt, get_rng(rng),
                                                ("decoder_embed_dim", "decoder_depth"))  # fmt: skip
        self.decoder_pred = Linear(Dd, P, dtype=dt, rng=get_rng(rng))
        self.__dict__["_mask"] = self.__dict__["_ids_restore"] = None

    @property
    def num_patches(self) -> int:
        return self.encoder.num_patches

    @property
    def code_size(self) -> int:
        """D, the width of the CLS code."""
        return self.encoder.embed_dim

    @property
    def mask(self) -> np.ndarray | None:
        """The last forward's mask, True at the dropped patches (None before any).  Shape: (N, L)."""
        return self._mask

    @property
    def ids_restore(self) -> np.ndarray | None:
        """The last forward's inverse shuffle: patch i sat at ids_restore[n, i] in the shuffled order.  (N, L)."""
        return self._ids_restore

    def _noise(self, N: int) -> np.ndarray:
        gen = get_rng(self.rng) if self.training else np.random.default_rng(EVAL_MASK_SEED)
        return gen.random((N, self.num_patches))  # (N, L): argsort gives each image's shuffle

    # ---------------------------------------------------------------- Module contract
    def forward(self, images: np.ndarray, noise: np.ndarray | None = None) -> np.ndarray:
        """Predicted pixels of every patch (the visible ones too; the loss ignores those)."""
        self.encoder.check_images(images)
        N, L, Dd = images.shape[0], self.num_patches, self.decoder_embed_dim
        noise = self._noise(N) if noise is None else noise
        latent = self.encoder(images, self.mask_ratio, noise=noise)  # (N, C, H, W) -> (N, 1 + K, D)
        mask, ids_restore = self.encoder._mask, self.encoder._ids_restore  # (N, L) each, of the forward above
        K = latent.shape[1] - 1
        x = self.decoder_embed(latent)  # (N, 1 + K, D) -> (N, 1 + K, Dd)
        mask_tokens = np.broadcast_to(self.mask_token.data, (N, L - K, Dd))  # the dropped patches' stand-ins
        y = np.concatenate([x[:, 1:], mask_tokens], axis=1)  # (N, L, Dd), shuffled order: visible first
        y, restore_cache = restore_forward(y, ids_restore)  # (N, L, Dd): patch i at row i
        y = np.concatenate([x[:, :1], y], axis=1) + self.decoder_pos_embed.data  # (N, 1 + L, Dd)
        h = self.decoder_blocks(y)  # (N, 1 + L, Dd)
        pred: np.ndarray = self.decoder_pred(h[:, 1:])  # (N, L, Dd) -> (N, L, p*p*C): the CLS row predicts nothing
        self.__dict__["_mask"], self.__dict__["_ids_restore"] = mask, ids_restore
        self._save((K, restore_cache, h.shape), pred)
        return pred

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """d images (through the visible patches) from d pred; every param accumulates its gradient."""
        K, restore_cache, h_shape = self._saved(grad_out)
        dh = np.zeros(h_shape, dtype=grad_out.dtype)  # (N, 1 + L, Dd): the CLS row fed no prediction
        dh[:, 1:] = self.decoder_pred.backward(grad_out)  # (N, L, p*p*C) -> (N, L, Dd)
        dy = self.decoder_blocks.backward(dh)  # (N, 1 + L, Dd)
        assert dy is not None  # input_grad=True: the encoder's gradient flows through it
        self.decoder_pos_embed.accumulate_grad(dy.sum(axis=0, keepdims=True))  # (1, 1 + L, Dd)
        dshuffled = restore_backward(np.ascontiguousarray(dy[:, 1:]), restore_cache)  # (N, L, Dd), shuffled order
        self.mask_token.accumulate_grad(dshuffled[:, K:].sum(axis=(0, 1)).reshape(1, 1, -1))  # every stand-in
        dx = np.concatenate([dy[:, :1], dshuffled[:, :K]], axis=1)  # (N, 1 + K, Dd): CLS, then the visible
        dlatent = self.decoder_embed.backward(dx)  # (N, 1 + K, Dd) -> (N, 1 + K, D)
        assert dlatent is not None  # input_grad=True
        return self.encoder.backward(dlatent, input_grad=input_grad)

    # ---------------------------------------------------------------- the loss
    def targets(self, images: np.ndarray) -> np.ndarray:
        """What ``pred`` should be: patchify(images), each patch standardized with ``norm_pix_loss``.
        Shape: (N, C, H, W) -> (N, L, p*p*C)."""
        t = patchify_forward(self.encoder.check_images(images), self.encoder.patch_size)[0]  # (N, L, p*p*C)
        if self.norm_pix_loss:
            mean, std = _patch_stats(t)
            t = (t - mean) / std
        return t

    def forward_loss(
        self, images: np.ndarray, pred: np.ndarray, mask: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        """``(loss, dpred)``: the mean squared error over the masked patches' values (see the module docstring),
        ``mask`` (True: masked) by default the last forward's. dpred is zero at every visible patch.
        Shape: pred (N, L, p*p*C), mask (N, L) -> scalar, (N, L, p*p*C)."""
        mask = self._mask if mask is None else mask
        if mask is None:
            raise RuntimeError("MaskedImageAutoencoder.forward_loss() needs a mask: run a forward first or pass one")
        keep = np.broadcast_to(mask[:, :, None], pred.shape)  # (N, L) -> (N, L, p*p*C): a patch's every value
        loss, dpred = reconstruction_loss(pred, self.targets(images), mask=keep, reduction="mean")
        return float(loss), dpred

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> Any:
        """The course contract for the Trainer: ``model.loss(X)`` -> pred (in eval mode), ``model.loss(X, X)``
        -> ``(loss, grads)`` of one forward in the CURRENT mode (training: fresh masks; eval, as the Trainer's
        validation: the fixed eval masks), grads keyed like ``named_parameters()``. ``y`` is the target images
        (``X`` itself). The mode and the parameters' ``.grad`` are as they were afterwards."""
        if y is None:
            was_training = self.training
            try:
                out: np.ndarray = self.eval()(X)
                return out
            finally:
                self.train(was_training)
        pred = self(X)
        loss, dpred = self.forward_loss(y, pred)
        params = dict(self.named_parameters())
        kept = {name: p.grad for name, p in params.items()}  # swapped out: the caller's sums stay untouched
        for p in params.values():
            p.grad = np.zeros_like(p.data)
        self.backward(dpred, input_grad=False)
        grads = {name: p.grad for name, p in params.items()}
        for name, p in params.items():
            p.grad = kept[name]
        return loss, grads

    # ---------------------------------------------------------------- uses of the trained model
    def encode(self, images: np.ndarray) -> np.ndarray:
        """The CLS code of every image, nothing masked (what a linear probe reads). Shape: (N, C, H, W) -> (N, D).

        It runs the encoder's forward: ``model.backward`` raises until the next ``model(images)``."""
        self.__dict__["_cache"] = None
        code: np.ndarray = self.encoder(images)[:, 0]  # (N, 1 + L, D) -> (N, D): index 0, the CLS token
        return code

    def classifier(self, num_classes: int = 10, *, rng: np.random.Generator | None = None) -> ViTClassifier:
        """A :class:`ViTClassifier` on THIS model's encoder (shared: fine-tuning it changes this model's encoder)."""
        return ViTClassifier(self.encoder, num_classes, rng=rng)

    def reconstruct(
        self, images: np.ndarray, noise: np.ndarray | None = None, *, fill: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(masked, reconstruction)`` images for a figure: the input with its dropped patches set to ``fill``
        (a grey, say, where 0 is the background), and the prediction at the dropped patches pasted into the
        visible ones (in pixels: with ``norm_pix_loss`` each predicted patch takes its true patch's mean and
        spread, as the MAE demo shows them). One forward in the current mode.
        Shape: (N, C, H, W) -> two (N, C, H, W)."""
        pred = self(images, noise)  # (N, L, p*p*C)
        mask = self._mask[:, :, None]  # (N, L, 1)
        p, (C, (H, W)) = self.encoder.patch_size, (self.encoder.in_chans, self.encoder.image_size)
        patches = patchify_forward(images, p)[0]  # (N, L, p*p*C)
        if self.norm_pix_loss:
            mean, std = _patch_stats(patches)
            pred = pred * std + mean
        masked = unpatchify_forward(np.where(mask, fill, patches), p, (C, H, W))[0]
        recon = unpatchify_forward(np.where(mask, pred, patches), p, (C, H, W))[0]
        return masked.astype(images.dtype), recon.astype(images.dtype)

    def extra_repr(self) -> str:
        return f"mask_ratio={self.mask_ratio}, norm_pix_loss={self.norm_pix_loss}"
