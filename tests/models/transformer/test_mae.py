"""MaskedImageAutoencoder: each bug of the course code held to its fix (the CLS token prepended and read at
index 0, the mask tokens restored in order, the decoder's positions added, the loss on the masked patches
only, the classifier on the CLS token only), the mask's counts, gradients of the whole model and its loss
against finite differences with a fixed mask, an overfit run, and its errors. The recipe's data plumbing
(train and test not swapped) is tested in tests/recipes/test_mae.py."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from scratchnn import models, nn, ops
from scratchnn.models import MaskedImageAutoencoder, ViTClassifier, ViTEncoder
from scratchnn.models.transformer.mae import EVAL_MASK_SEED
from scratchnn.optim import Adam

SIZES: dict[str, Any] = dict(embed_dim=8, depth=2, num_heads=2, decoder_embed_dim=6, decoder_depth=1,
                             decoder_num_heads=3, mlp_ratio=1.5)  # fmt: skip


def _mae(image_size: Any = (4, 6), patch_size: int = 2, in_chans: int = 2, **kw: Any) -> MaskedImageAutoencoder:
    args = {**SIZES, "dtype": np.float64, "rng": np.random.default_rng(0), **kw}
    return MaskedImageAutoencoder(image_size, patch_size, in_chans, **args)


def _images(n: int = 3, shape: tuple[int, ...] = (2, 4, 6), seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).random((n, *shape))


def _capture(module: nn.Module) -> list[np.ndarray]:
    """The first input of every call of ``module`` (a forward hook)."""
    seen: list[np.ndarray] = []
    module.register_forward_hook(lambda _m, inputs, _out: seen.append(np.array(inputs[0])))
    return seen


# ------------------------------------------------------------------ shuffle, mask and restore
def test_restore_undoes_the_shuffle() -> None:
    """restore(shuffle(x)) == x: the visible tokens, then the masked ones in shuffled order, put back."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 10, 3))
    visible, mask, ids_restore, _ = ops.random_masking_forward(x, 0.7, rng=rng)
    ids_shuffle = np.argsort(ids_restore, axis=1)  # the shuffle is the inverse of ids_restore
    dropped = np.take_along_axis(x, ids_shuffle[:, visible.shape[1] :, None], axis=1)
    restored, _ = ops.restore_forward(np.concatenate([visible, dropped], axis=1), ids_restore)
    np.testing.assert_array_equal(restored, x)
    assert not np.array_equal(np.concatenate([visible, dropped], axis=1), x)  # the shuffle did move tokens


@pytest.mark.parametrize("mask_ratio,L,keep", [(0.75, 16, 4), (0.5, 6, 3), (0.9, 20, 1), (0.9, 10, 0), (0.3, 7, 4)])
def test_mask_marks_exactly_the_dropped_patches(mask_ratio: float, L: int, keep: int) -> None:
    """int(L (1 - ratio)) patches stay visible (the reference's count, float rounding included: 1 - 0.9 is
    0.0999..., so L = 10 keeps 0 and L = 20 keeps 1); changing a masked patch's pixels leaves the encoder's
    output as it was, changing a visible one's does not."""
    image_size, p = ((8, 8), 2) if L == 16 else ((2, 2 * L), 2)
    model = _mae(image_size, p, 1, mask_ratio=mask_ratio)
    x = _images(3, (1, *image_size))
    noise = np.random.default_rng(2).random((3, L))
    latent = _capture(model.decoder_embed)
    model(x, noise)
    assert model.mask.shape == (3, L) and model.mask.dtype == bool
    assert (model.mask.sum(axis=1) == L - keep).all()
    assert latent[0].shape == (3, 1 + keep, 8)  # the CLS token and the visible patches only
    # the mask is the patches of highest noise (argsort keeps the lowest), in the original order
    np.testing.assert_array_equal(model.mask, noise >= np.sort(noise, axis=1)[:, [keep]])
    patches = ops.patchify_forward(x, p)[0]
    changes = [(0, int(np.flatnonzero(model.mask[0])[0]))]
    if keep:
        changes.append((1, int(np.flatnonzero(~model.mask[1])[-1])))
    for n, i in changes:
        changed = patches.copy()
        changed[n, i] += np.linspace(0.2, 1.0, changed.shape[-1])  # not a constant: LayerNorm would remove it
        model(ops.unpatchify_forward(changed, p, (1, *image_size))[0], noise)
        same = np.allclose(latent[-1], latent[0])
        assert same == bool(model.mask[n, i]), (n, i)


def test_decoder_gets_the_visible_tokens_and_mask_tokens_at_their_places_with_positions() -> None:
    """The decoder's input row 1 + i is patch i's own encoded token (visible) or the mask token (dropped),
    plus the decoder's position i + 1; row 0 is the CLS token plus position 0. The course code restored the
    mask tokens in the wrong order, one position off, and added no decoder positions."""
    model = _mae()
    x = _images()
    embedded, decoder_in = _capture(model.decoder_embed), _capture(model.decoder_blocks)
    model(x, np.random.default_rng(3).random((3, 6)))
    out = model.decoder_embed(embedded[0])  # (N, 1 + K, Dd): the encoder's tokens in the decoder's width
    ids_keep = np.argsort(model.ids_restore, axis=1)[:, : out.shape[1] - 1]  # the visible patches, shuffled order
    y = decoder_in[0] - model.decoder_pos_embed.data  # (N, 1 + L, Dd) without the positions
    for n in range(3):
        np.testing.assert_allclose(y[n, 0], out[n, 0], atol=1e-12)  # CLS first
        for k, i in enumerate(ids_keep[n]):
            np.testing.assert_allclose(y[n, 1 + i], out[n, 1 + k], atol=1e-12)
        for i in np.flatnonzero(model.mask[n]):
            np.testing.assert_allclose(y[n, 1 + i], model.mask_token.data[0, 0], atol=1e-12)
    assert np.abs(model.decoder_pos_embed.data).max() > 1e-3  # so the subtraction above was a real test


def test_prediction_depends_on_the_decoder_positions() -> None:
    model, x = _mae(), _images()
    noise = np.random.default_rng(4).random((3, 6))
    before = model(x, noise)
    # patch 2's decoder position, by a vector that is not a constant (a token's LayerNorms remove a constant)
    model.decoder_pos_embed.data[0, 3] += np.random.default_rng(5).standard_normal(6)
    after = model(x, noise)
    assert not np.allclose(before, after)
    model.zero_grad()
    model.backward(np.random.default_rng(5).standard_normal(after.shape))
    assert (np.abs(model.decoder_pos_embed.grad[0, 1:]).sum(axis=-1) > 0).all()  # every patch's position


# ------------------------------------------------------------------ the CLS token, the code, the classifier
def test_cls_token_is_prepended_and_the_code_reads_it() -> None:
    model, x = _mae(), _images()
    blocks_in = _capture(model.encoder.blocks)
    code = model.encode(x)  # nothing masked
    assert code.shape == (3, 8)
    cls = model.encoder.cls_token.data[0, 0] + model.encoder.pos_embed.data[0, 0]
    np.testing.assert_allclose(blocks_in[0][:, 0], np.broadcast_to(cls, (3, 8)), atol=1e-12)  # index 0: CLS
    assert blocks_in[0].shape == (3, 1 + 6, 8)
    latent = model.encoder(x)
    assert not model.encoder.mask.any() and (model.encoder.ids_restore == np.arange(6)).all()  # nothing masked
    np.testing.assert_array_equal(code, latent[:, 0])
    model.encoder.cls_token.data += np.random.default_rng(2).standard_normal(8)
    assert not np.allclose(model.encode(x), code)  # the code moves with the CLS token
    assert model.training  # encode needs no mode change and makes none


def test_classifier_head_sees_only_the_cls_token() -> None:
    model, x = _mae(), _images()
    clf = model.classifier(4, rng=np.random.default_rng(1))
    assert clf.encoder is model.encoder  # fine-tuning trains the pretrained encoder itself
    head_in = _capture(clf.head)
    logits = clf(x)
    assert logits.shape == (3, 4)
    np.testing.assert_array_equal(head_in[0], model.encode(x))
    grads: list[np.ndarray] = []
    backward = clf.encoder.backward

    def spy(g: np.ndarray, *, input_grad: bool = True) -> Any:
        grads.append(g.copy())
        return backward(g, input_grad=input_grad)

    clf.encoder.backward = spy  # type: ignore[method-assign]
    clf(x)
    dx = clf.backward(np.ones_like(logits))
    assert dx.shape == x.shape and np.abs(dx).sum() > 0
    assert np.abs(grads[0][:, 0]).sum() > 0 and not grads[0][:, 1:].any()  # the patch rows fed no logit


# ------------------------------------------------------------------ the loss
def test_loss_counts_the_masked_patches_only() -> None:
    model, x = _mae(), _images()
    pred = model(x, np.random.default_rng(6).random((3, 6)))
    mask = model.mask
    loss, dpred = model.forward_loss(x, pred, mask)
    target = ops.patchify_forward(x, 2)[0]
    expected = np.mean([np.mean((pred[n, i] - target[n, i]) ** 2) for n, i in zip(*np.nonzero(mask), strict=True)])
    assert loss == pytest.approx(expected, rel=1e-12)
    assert not dpred[~mask].any() and (np.abs(dpred[mask]).sum(axis=-1) > 0).all()
    changed = pred.copy()
    changed[~mask] = 100.0  # anything at the visible patches
    loss2, dpred2 = model.forward_loss(x, changed, mask)
    assert loss2 == loss
    np.testing.assert_array_equal(dpred2, dpred)
    changed[mask] += 0.1
    assert model.forward_loss(x, changed, mask)[0] != loss


def test_norm_pix_targets_are_standardized_patches() -> None:
    model = _mae(norm_pix_loss=True)
    x = _images()
    t = model.targets(x)  # (N, L, p*p*C)
    raw = ops.patchify_forward(x, 2)[0]
    n, i = 1, 4
    mean, var = raw[n, i].mean(), raw[n, i].var(ddof=1)
    np.testing.assert_allclose(t[n, i], (raw[n, i] - mean) / np.sqrt(var + 1e-6), rtol=1e-12)
    np.testing.assert_allclose(t.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(t.var(axis=-1, ddof=1), 1, atol=1e-4)
    np.testing.assert_array_equal(_mae().targets(x), raw)  # without norm_pix_loss: the pixels


# ------------------------------------------------------------------ gradients with a fixed mask
class _FixedNoise(MaskedImageAutoencoder):
    def _noise(self, N: int) -> np.ndarray:
        return np.random.default_rng(8).random((N, self.num_patches))


@pytest.mark.parametrize("norm_pix_loss", [False, True])
def test_loss_gradients_of_the_whole_model_match_finite_differences(norm_pix_loss: bool) -> None:
    """``model.loss(X, X)`` (the Trainer's path: forward, masked loss, backward) against central differences
    of the loss in every parameter, in float64 with a fixed mask."""
    model = _FixedNoise((4, 6), 2, 2, **SIZES, norm_pix_loss=norm_pix_loss, dtype=np.float64,
                        rng=np.random.default_rng(0))  # fmt: skip
    rng = np.random.default_rng(9)
    for name, p in model.named_parameters():  # away from the init's zero biases, unit norms, 0.02-scale tokens
        p.data += (1.0 if name.endswith(("token", "pos_embed")) else 0.1) * rng.standard_normal(p.shape)
    x = _images()
    loss, grads = model.loss(x, x)
    assert set(grads) == {name for name, _ in model.named_parameters()}
    for name, p in model.named_parameters():
        # every entry of the small tensors, 12 random entries of the others (the full check is the gradcheck
        # table's MaskedImageAutoencoder rows; this one adds the loss and its masked, normalized targets)
        flat, g = p.data.reshape(-1), grads[name].reshape(-1)
        picks = np.arange(flat.size) if flat.size <= 12 else rng.choice(flat.size, 12, replace=False)
        num = np.empty(len(picks))
        for j, i in enumerate(picks):
            old = flat[i]
            flat[i] = old + 1e-6
            up = model.loss(x, x)[0]
            flat[i] = old - 1e-6
            down = model.loss(x, x)[0]
            flat[i] = old
            num[j] = (up - down) / 2e-6
        # relative to the largest entry of the gradient: the attention's key bias has an exactly zero gradient
        # (softmax ignores a shift shared by a query's scores) whose finite differences are rounding noise
        scale = max(np.abs(g).max(), 1e-12)
        assert np.abs(g[picks] - num).max() / scale < 1e-6, (name, g[picks], num)
    assert np.abs(grads["decoder_pred.weight"]).max() > 0 and np.abs(grads["mask_token"]).max() > 0


def test_loss_leaves_the_mode_and_the_accumulated_grads_as_they_were() -> None:
    model, x = _mae(), _images()
    for p in model.parameters():
        p.grad = np.full(p.shape, 3.0)
    model.eval()
    loss_eval = model.loss(x, x)[0]
    assert not model.training and model.loss(x, x)[0] == loss_eval  # eval: the fixed eval masks
    assert all((p.grad == 3.0).all() for p in model.parameters())
    assert model.loss(x).shape == (3, 6, 8)  # the course path's scores: the predicted patches


# ------------------------------------------------------------------ masks in train and eval mode
def test_training_draws_fresh_masks_and_eval_fixed_ones() -> None:
    model, x = _mae(), _images()
    model(x)
    first = model.mask.copy()
    model(x)
    assert not np.array_equal(model.mask, first)
    model.eval()
    a = model(x)
    mask = model.mask.copy()
    np.testing.assert_array_equal(model(x), a)
    expected = np.random.default_rng(EVAL_MASK_SEED).random((3, 6))
    np.testing.assert_array_equal(mask, expected >= np.sort(expected, axis=1)[:, [int(6 * 0.25)]])


def test_reconstruct_zeroes_the_dropped_patches_and_keeps_the_visible_ones() -> None:
    for norm_pix in (False, True):
        model, x = _mae(norm_pix_loss=norm_pix), _images()
        masked, recon = model.reconstruct(x, np.random.default_rng(2).random((3, 6)))
        drop = ops.unpatchify_forward(np.repeat(model.mask[:, :, None], 8, axis=2).astype(float), 2, (2, 4, 6))[0] > 0
        assert masked.shape == recon.shape == x.shape
        np.testing.assert_array_equal(masked[~drop], x[~drop])
        assert not masked[drop].any()
        np.testing.assert_array_equal(recon[~drop], x[~drop])
        assert not np.allclose(recon[drop], x[drop])


# ------------------------------------------------------------------ it learns
def test_overfits_a_few_images_and_fine_tunes_on_them() -> None:
    """With one fixed mask the masked patches of six random binary images are a function of the visible ones
    to memorise: the loss falls from above 1 to far below 0.25, what predicting every pixel as 0.5 costs."""
    rng = np.random.default_rng(0)
    x = (rng.random((6, 1, 8, 8)) > 0.5).astype(np.float32)
    model = _FixedNoise(8, 2, 1, embed_dim=32, depth=2, num_heads=4, decoder_embed_dim=32, decoder_depth=2,
                        decoder_num_heads=4, mask_ratio=0.5, rng=rng)  # fmt: skip
    opt = Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(120):
        loss, grads = model.loss(x, x)
        for name, p in model.named_parameters():
            p.grad = grads[name]
        opt.step()
        losses.append(loss)
    assert losses[0] > 0.5 and np.mean(losses[-5:]) < 0.06, (losses[:3], losses[-5:])
    clf, crit = model.classifier(3, rng=rng), nn.CrossEntropyLoss()
    y = np.array([0, 1, 2, 0, 1, 2])
    opt = Adam(clf.parameters(), lr=3e-3)
    for _ in range(60):
        crit(clf(x), y)
        clf.zero_grad()
        clf.backward(crit.backward(), input_grad=False)
        opt.step()
    assert (clf(x).argmax(axis=1) == y).all()


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    "kw,message",
    [
        ({"mask_ratio": 0.0}, "Invalid value for `mask_ratio`: expected a float in (0, 1). Received: mask_ratio=0.0"),
        ({"mask_ratio": 1.0}, "Invalid value for `mask_ratio`: expected a float in (0, 1). Received: mask_ratio=1.0"),
        ({"image_size": (4, 5)}, "Invalid value for `image_size`: expected H and W multiples of patch_size=2."),
        ({"image_size": "28"}, "Invalid type for `image_size`: expected an int or an (H, W) pair."),
        ({"patch_size": 0}, "Invalid value for `patch_size`"),
        ({"norm_pix_loss": "yes"}, "Invalid type for `norm_pix_loss`: expected a bool."),
        ({"num_heads": 3}, "Invalid value for `num_heads`: expected a divisor of embed_dim = 8. Received: num_heads=3"),
        (
            {"decoder_num_heads": 4},
            "Invalid value for `decoder_num_heads`: expected a divisor of decoder_embed_dim = 6.",
        ),
        ({"depth": 2**40}, "Invalid value for `depth`: expected a size whose layers' weights fit in memory."),
        (
            {"decoder_embed_dim": 3 * 2**40},
            "Invalid value for `decoder_embed_dim`: expected a size whose layers' weights",
        ),
        ({"mlp_ratio": 1e300}, "Invalid value for `mlp_ratio`: expected a ratio whose feed-forward weights fit"),
    ],
)
def test_bad_arguments_are_template_errors(kw: dict[str, Any], message: str) -> None:
    with pytest.raises((ValueError, TypeError)) as info:
        _mae(**kw)
    assert str(info.value).startswith(message)


def test_bad_inputs_are_template_errors() -> None:
    model = _mae()
    with pytest.raises(ValueError, match=r"^Invalid shape for `input`: expected \(N, 2, 4, 6\) images\. Received"):
        model(_images(3, (2, 6, 4)))
    with pytest.raises(TypeError, match=r"^Invalid dtype for `input`: expected float64"):
        model(_images().astype(np.float32))
    with pytest.raises(ValueError, match=r"^Invalid shape for `noise`: expected \(3, 6\) to match x"):
        model(_images(), np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"^Invalid value for `noise`: expected None when mask_ratio is 0"):
        model.encoder(_images(), 0.0, noise=np.zeros((3, 6)))
    with pytest.raises(TypeError, match=r"^Invalid type for `encoder`: expected a scratchnn.models.ViTEncoder"):
        ViTClassifier(model, 10)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        _mae().backward(np.zeros((3, 6, 8)))


def test_exported_and_sized_as_documented() -> None:
    assert {"MaskedImageAutoencoder", "ViTEncoder", "ViTClassifier"} <= set(models.__all__)
    model = MaskedImageAutoencoder()  # the defaults: Fashion-MNIST, 7x7 patches
    assert model.num_patches == 16 and model.code_size == 64
    assert model.encoder.pos_embed.shape == (1, 17, 64) and model.decoder_pos_embed.shape == (1, 17, 32)
    assert model.decoder_pred.weight.shape == (49, 32)
    assert isinstance(model.encoder, ViTEncoder) and model.encoder.blocks.layers[0].norm_first
