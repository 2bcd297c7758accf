"""DenoisingAutoencoder and MaskedAutoencoder: corruption in training mode only, drawn from the model's rng, the
gradient with respect to the clean input, the loss on the masked features, training, bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn import optim
from scratchnn.data import FeatureMask, GaussianNoise
from scratchnn.models import Autoencoder, DenoisingAutoencoder, MaskedAutoencoder, ReconstructionLoss


def _x(n: int = 6, d: int = 8) -> np.ndarray:
    return np.random.default_rng(3).standard_normal((n, d))


def test_denoising_train_forward_is_the_clean_model_on_noisy_input_and_eval_is_clean() -> None:
    m = DenoisingAutoencoder(8, [5, 3], noise_std=0.7, dtype=np.float64, rng=np.random.default_rng(0))
    x = _x()
    m.rng = np.random.default_rng(5)
    noisy = GaussianNoise(0.7)(x, np.random.default_rng(5))  # the same draw from the same seed
    np.testing.assert_allclose(m.train()(x), m.decode(m.encode(noisy)), rtol=1e-12)
    clean = m.decode(m.encode(x))
    np.testing.assert_array_equal(m.eval()(x), clean)
    np.testing.assert_array_equal(m(x), clean)  # eval is deterministic
    m.train()
    a, b = m(x), m(x)
    assert not np.allclose(a, b)  # fresh noise on every training forward
    assert m.loss_mask is None  # the loss counts every feature


def test_masked_train_forward_zeroes_the_mask_and_eval_is_clean() -> None:
    m = MaskedAutoencoder(8, [5, 3], mask_ratio=0.5, dtype=np.float64, rng=np.random.default_rng(0))
    x = _x()
    m.rng = np.random.default_rng(9)
    out = m.train()(x)
    zeroed, mask = FeatureMask(0.5)(x, np.random.default_rng(9))
    np.testing.assert_array_equal(m.mask, mask)
    assert 0 < mask.mean() < 1
    np.testing.assert_allclose(out, m.decode(m.encode(zeroed)), rtol=1e-12)
    np.testing.assert_array_equal(m.eval()(x), m.decode(m.encode(x)))
    assert m.mask is None  # an eval forward masks nothing


def test_the_input_gradient_is_taken_with_respect_to_the_clean_input() -> None:
    """Masked elements never reached the network: zero gradient; noise is additive: the same gradient as the
    plain model on the noisy input."""
    x, g = _x(), np.random.default_rng(4).standard_normal((6, 8))
    mae = MaskedAutoencoder(8, [5, 3], "tanh", mask_ratio=0.6, dtype=np.float64, rng=np.random.default_rng(0))
    plain = Autoencoder(8, [5, 3], "tanh", dtype=np.float64)
    plain.load_state_dict(mae.state_dict())
    mae(x)
    dx = mae.backward(g)
    assert np.all(dx[mae.mask] == 0) and np.all(dx[~mae.mask] != 0)
    plain(np.where(mae.mask, 0.0, x))
    np.testing.assert_allclose(dx, np.where(mae.mask, 0.0, plain.backward(g)), rtol=1e-12)
    dae = DenoisingAutoencoder(8, [5, 3], "tanh", dtype=np.float64, rng=np.random.default_rng(0))
    dae.rng = np.random.default_rng(2)
    dae(x)
    plain(GaussianNoise(0.5)(x, np.random.default_rng(2)))
    np.testing.assert_allclose(dae.backward(g), plain.backward(g), rtol=1e-12)


def test_loss_on_masked_counts_only_the_masked_features() -> None:
    rng = np.random.default_rng(0)
    x = _x()
    m = MaskedAutoencoder(8, [4], mask_ratio=0.5, loss_on="masked", dtype=np.float64, rng=rng)
    loss, grads = m.loss(x, x)  # a training forward: the mask is the one used
    mask = m.mask
    assert m.loss_mask is mask and mask.any()
    plain = Autoencoder(8, [4], dtype=np.float64)
    plain.load_state_dict(m.state_dict())
    recon = plain(np.where(mask, 0.0, x))
    assert loss == pytest.approx(np.sum(np.where(mask, recon - x, 0.0) ** 2) / 6, rel=1e-12)  # / N, masked only
    assert MaskedAutoencoder(8, [4], loss_on="all").loss_mask is None
    every = MaskedAutoencoder(8, [4], mask_ratio=0.5, dtype=np.float64, rng=np.random.default_rng(0))
    assert every.loss(x, x)[0] == pytest.approx(np.sum((recon - x) ** 2) / 6, rel=1e-12)  # same init, same mask
    assert set(grads) == {k for k, _ in m.named_parameters()}


def test_the_trainer_path_with_a_criterion_uses_the_clean_target() -> None:
    """``crit(model(x), x)``: the model corrupts, the loss compares with the clean input."""
    m = DenoisingAutoencoder(8, [4], noise_std=1.0, dtype=np.float64, rng=np.random.default_rng(0))
    crit, x = ReconstructionLoss(), _x()
    m.rng = np.random.default_rng(1)
    out = m(x)
    assert float(crit(out, x)) == pytest.approx(np.sum((out - x) ** 2) / 6, rel=1e-12)


@pytest.mark.parametrize("cls", [DenoisingAutoencoder, MaskedAutoencoder])
def test_corrupting_models_learn_to_reconstruct(cls: type) -> None:
    """Low-rank data (rank 3 in 10 dimensions): the model learns to undo the corruption on held-out inputs."""
    rng = np.random.default_rng(0)
    basis = rng.standard_normal((3, 10))
    X, X_test = rng.standard_normal((256, 3)) @ basis, rng.standard_normal((64, 3)) @ basis
    kwargs = {"noise_std": 0.3} if cls is DenoisingAutoencoder else {"mask_ratio": 0.3}
    m, crit = cls(10, [32, 8], **kwargs, dtype=np.float64, rng=rng), ReconstructionLoss("mean")
    opt = optim.Adam(m.parameters(), lr=1e-2)
    for _ in range(300):
        idx = rng.permutation(256)[:64]
        crit(m.train()(X[idx]), X[idx])
        opt.zero_grad()
        m.backward(crit.backward(), input_grad=False)
        opt.step()
    corrupted = GaussianNoise(0.3)(X_test, rng) if cls is DenoisingAutoencoder else FeatureMask(0.3)(X_test, rng)[0]
    restored = m.eval()(corrupted)  # eval mode: no further corruption
    assert np.mean((restored - X_test) ** 2) < 0.5 * np.mean((corrupted - X_test) ** 2)


@pytest.mark.parametrize(
    ("cls", "kwargs", "error", "message"),
    [
        (DenoisingAutoencoder, {"noise_std": -0.1}, ValueError,
         r"Invalid value for `noise_std`: expected a float in [0, inf). Received: noise_std=-0.1"),
        (DenoisingAutoencoder, {"noise_std": float("inf")}, ValueError, r"Invalid value for `noise_std`"),
        (DenoisingAutoencoder, {"noise_std": "0.5"}, TypeError, r"Invalid type for `noise_std`"),
        (MaskedAutoencoder, {"mask_ratio": 1.0}, ValueError,
         r"Invalid value for `mask_ratio`: expected a float in [0, 1). Received: mask_ratio=1.0"),
        (MaskedAutoencoder, {"mask_ratio": -0.5}, ValueError, r"Invalid value for `mask_ratio`"),
        (MaskedAutoencoder, {"loss_on": "unmasked"}, ValueError,
         r"Invalid value for `loss_on`: expected one of 'all', 'masked'"),
        (MaskedAutoencoder, {"mask_ratio": 0.0, "loss_on": "masked"}, ValueError,
         r"Invalid value for `mask_ratio`: expected a float in (0, 1) with loss_on='masked'"),
    ],
)  # fmt: skip
def test_bad_corruption_arguments(cls: type, kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match="^" + message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        cls(6, [3], **kwargs)


def test_repr_says_the_corruption() -> None:
    assert "noise_std=0.25" in repr(DenoisingAutoencoder(4, [2], noise_std=0.25))
    assert "mask_ratio=0.75, loss_on='masked'" in repr(MaskedAutoencoder(4, [2], loss_on="masked"))
