"""ConvAutoencoder: layout and sizes, torch agreement, encode/decode, corruption in training mode, the course
contract, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scratchnn.models import ConvAutoencoder

from ..nn.twins.twins import compare_module


class TorchConvAutoencoder(torch.nn.Module):
    """The same layers in torch: Conv2d-ReLU blocks, Flatten, Linear | Linear, ReLU, Unflatten, ConvTranspose2d."""

    def __init__(self, model: ConvAutoencoder) -> None:
        super().__init__()
        enc: list[torch.nn.Module] = []
        for layer in model.encoder:
            name = type(layer).__name__
            if name == "Conv2d":
                enc.append(torch.nn.Conv2d(layer.in_channels, layer.out_channels, 3, stride=2, padding=1))
            elif name == "Linear":
                enc.append(torch.nn.Linear(layer.in_features, layer.out_features))
            else:
                enc.append({"ReLU": torch.nn.ReLU, "Flatten": torch.nn.Flatten}[name]())
        dec: list[torch.nn.Module] = []
        for layer in model.decoder:
            name = type(layer).__name__
            if name == "ConvTranspose2d":
                dec.append(torch.nn.ConvTranspose2d(layer.in_channels, layer.out_channels, 3, stride=2, padding=1,
                                                    output_padding=layer.output_padding))  # fmt: skip
            elif name == "Linear":
                dec.append(torch.nn.Linear(layer.in_features, layer.out_features))
            elif name == "Unflatten":
                dec.append(torch.nn.Unflatten(1, layer.shape))
            else:
                dec.append(torch.nn.ReLU())
        self.encoder, self.decoder = torch.nn.Sequential(*enc), torch.nn.Sequential(*dec)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def test_the_default_layout_is_the_fashion_mnist_one() -> None:
    m = ConvAutoencoder(code_size=16)
    kinds = [type(layer).__name__ for layer in (*m.encoder, *m.decoder)]
    assert kinds == ["Conv2d", "ReLU", "Conv2d", "ReLU", "Flatten", "Linear",
                     "Linear", "ReLU", "Unflatten", "ConvTranspose2d", "ReLU", "ConvTranspose2d"]  # fmt: skip
    shapes = {k: v.shape for k, v in m.state_dict().items() if k.endswith("weight")}
    assert shapes == {"encoder.0.weight": (32, 1, 3, 3), "encoder.2.weight": (64, 32, 3, 3),
                      "encoder.5.weight": (16, 64 * 7 * 7), "decoder.0.weight": (64 * 7 * 7, 16),
                      "decoder.3.weight": (64, 32, 3, 3), "decoder.5.weight": (32, 1, 3, 3)}  # fmt: skip
    assert m.decoder[3].output_padding == (1, 1) and m.code_size == 16
    x = np.zeros((2, 1, 28, 28), np.float32)
    assert m.encode(x).shape == (2, 16) and m(x).shape == (2, 1, 28, 28)


@pytest.mark.parametrize("size", [(28, 28), (12, 12), (9, 8), (7, 13), (1, 2), (5, 5)])
def test_any_image_size_comes_back_exactly(size: tuple[int, int]) -> None:
    m = ConvAutoencoder(2, 3, (3, 4, 2), size, dtype=np.float64)  # three halvings: odd and even sides on the way
    x = np.random.default_rng(0).standard_normal((3, 2, *size))
    assert m(x).shape == x.shape


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "channels,size", [((4, 6), (12, 12)), ((3, 5), (9, 8)), ((2,), (7, 10)), ((2, 3, 4), (28, 28))]
)
def test_matches_torch(dtype: type, channels: tuple[int, ...], size: tuple[int, int]) -> None:
    rng = np.random.default_rng(1)
    ours = ConvAutoencoder(1, 5, channels, size, rng=rng)
    theirs = TorchConvAutoencoder(ours)
    assert list(theirs.state_dict()) == list(ours.state_dict())  # the state dicts are interchangeable
    compare_module(ours, theirs, [rng.standard_normal((3, 1, *size))], dtype=dtype, steps=2, rng=rng)


def test_torch_weights_load_and_give_torch_outputs() -> None:
    theirs = TorchConvAutoencoder(ConvAutoencoder(1, 6, (4, 8), 12)).double()
    ours = ConvAutoencoder(1, 6, (4, 8), 12, dtype=np.float64)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 1, 12, 12))
    np.testing.assert_allclose(ours(x), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.encode(x), theirs.encoder(torch.from_numpy(x)).detach().numpy(), rtol=1e-10)


def test_encode_and_decode_compose_to_forward() -> None:
    m = ConvAutoencoder(1, 3, (2, 4), (8, 6), dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((4, 1, 8, 6))
    code = m.encode(x)
    assert code.shape == (4, 3)
    np.testing.assert_array_equal(m.decode(code), m(x))
    np.testing.assert_array_equal(m.eval()(x), m.train()(x))  # nothing to corrupt by default


def test_noise_and_mask_corrupt_only_in_training_mode() -> None:
    x = np.random.default_rng(0).standard_normal((5, 1, 8, 8))
    clean = ConvAutoencoder(1, 3, (2,), 8, dtype=np.float64, rng=np.random.default_rng(1))
    noisy = ConvAutoencoder(1, 3, (2,), 8, noise_std=0.5, dtype=np.float64, rng=np.random.default_rng(1))
    masked = ConvAutoencoder(1, 3, (2,), 8, mask_ratio=0.5, loss_on="masked", dtype=np.float64,
                             rng=np.random.default_rng(1))  # fmt: skip
    noisy.load_state_dict(clean.state_dict())
    masked.load_state_dict(clean.state_dict())
    ref = clean(x)
    assert not np.allclose(noisy(x), ref) and not np.allclose(masked(x), ref)
    assert noisy.loss_mask is None and noisy.mask is None
    mask = masked.loss_mask
    assert mask is not None and mask.shape == x.shape and 0.3 < mask.mean() < 0.7
    out = masked(x)
    assert masked.mask is not None
    np.testing.assert_allclose(out, clean(np.where(masked.mask, 0.0, x)), rtol=1e-12)  # the mask it reports
    dx = masked.backward(np.ones_like(out))
    assert dx is not None and np.all(dx[masked.mask] == 0) and np.any(dx[~masked.mask] != 0)
    for m in (noisy, masked):
        np.testing.assert_allclose(m.eval()(x), ref, rtol=1e-12)
        assert m.loss_mask is None


def test_course_contract_loss_counts_the_masked_pixels_only() -> None:
    rng = np.random.default_rng(0)
    m = ConvAutoencoder(1, 4, (3,), 6, mask_ratio=0.5, loss_on="masked", dtype=np.float64, rng=rng).eval()
    X = rng.standard_normal((3, 1, 6, 6))
    np.testing.assert_array_equal(m.loss(X), m(X))
    m.rng = np.random.default_rng(5)
    loss, grads = m.loss(X, X)
    assert not m.training
    m.rng = np.random.default_rng(5)  # the same mask again
    X_hat = m.train()(X)
    keep = m.loss_mask
    assert keep is not None
    assert loss == pytest.approx(np.sum(((X_hat - X) * keep) ** 2) / 3, rel=1e-12)
    m.zero_grad()
    m.backward(2 * (X_hat - X) * keep / 3, input_grad=False)
    for k, p in m.named_parameters():
        np.testing.assert_allclose(grads[k], p.grad, rtol=1e-10, atol=1e-14, err_msg=k)


@pytest.mark.parametrize(
    "x,error,message",
    [
        (np.zeros((2, 81)), ValueError, "Invalid shape for `input`: expected (N, 1, 9, 9), images. Received: "
         "input.shape=(2, 81)"),
        (np.zeros((2, 1, 9, 8)), ValueError, "expected (N, 1, 9, 9), images. Received: input.shape=(2, 1, 9, 8)"),
        (np.zeros((2, 1, 9, 9), np.float32), TypeError, "Invalid dtype for `input`: expected float64 to match "
         "ConvAutoencoder's parameters"),
        ([[0.0]], TypeError, "Invalid type for `input`: expected a numpy.ndarray"),
    ],
)  # fmt: skip
def test_bad_inputs(x: object, error: type, message: str) -> None:
    m = ConvAutoencoder(1, 4, (2,), 9, dtype=np.float64)
    with pytest.raises(error) as info:
        m(x)  # type: ignore[arg-type]
    assert message in str(info.value)
    with pytest.raises(error) as info:
        m.encode(x)  # type: ignore[arg-type]
    assert message in str(info.value)
    with pytest.raises(ValueError, match=r"expected \(N, 4\), codes. Received: input.shape=\(2, 5\)"):
        m.decode(np.zeros((2, 5)))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"code_size": 0}, "Invalid value for `code_size`: expected an int >= 1. Received: code_size=0"),
        ({"channels": []}, "Invalid value for `channels`: expected at least one convolution's channels"),
        ({"channels": 8}, "Invalid type for `channels`: expected a sequence of ints"),
        ({"input_size": (1, 2, 3)}, "Invalid value for `input_size`: expected an int or a pair of ints (H, W)"),
        ({"mask_ratio": 1.0}, "Invalid value for `mask_ratio`: expected a float in [0, 1). Received: mask_ratio=1.0"),
        ({"noise_std": -1.0}, "Invalid value for `noise_std`: expected a float in [0, inf). Received: noise_std=-1.0"),
        ({"loss_on": "masked"}, "Invalid value for `mask_ratio`: expected a float in (0, 1) with loss_on='masked'"),
        ({"loss_on": "some"}, "Invalid value for `loss_on`: expected one of 'all', 'masked'"),
        ({"activation": "swish"}, "Invalid value for `activation`: expected one of 'relu'"),
    ],
)
def test_bad_constructor_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises((ValueError, TypeError)) as info:
        ConvAutoencoder(**kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_overfits_a_small_batch() -> None:
    """Eight 8x8 images through a 16-number code: Adam drives the reconstruction loss to 2% of its start."""
    from scratchnn import optim
    from scratchnn.models import ReconstructionLoss

    rng = np.random.default_rng(0)
    X = rng.random((8, 1, 8, 8)).astype(np.float32)
    m, crit = ConvAutoencoder(code_size=16, channels=(8, 16), input_size=8, rng=rng), ReconstructionLoss()
    opt = optim.Adam(m.parameters(), lr=3e-3)
    first = float(crit(m(X), X))
    for _ in range(1000):
        loss = crit(m(X), X)
        opt.zero_grad()
        m.backward(crit.backward(), input_grad=False)
        opt.step()
    assert float(loss) < 0.02 * first
