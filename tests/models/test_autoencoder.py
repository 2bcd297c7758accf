"""Autoencoder: layout, torch agreement, encode/decode, the course contract, training, the Baldi-Hornik theorem."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scratchnn import analysis, optim
from scratchnn.data import make_subspace_gaussian
from scratchnn.models import Autoencoder, ReconstructionLoss

from ..nn.twins.twins import compare_module

TORCH_ACTIVATIONS = {"relu": torch.nn.ReLU, "leaky_relu": torch.nn.LeakyReLU, "tanh": torch.nn.Tanh,
                     "sigmoid": torch.nn.Sigmoid, "gelu": torch.nn.GELU, "identity": None}  # fmt: skip


def _torch_mlp(sizes: list[int], activation: str) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    for i, (d_in, d_out) in enumerate(zip(sizes, sizes[1:])):
        act = TORCH_ACTIVATIONS[activation]
        if i and act is not None:
            layers.append(act())
        layers.append(torch.nn.Linear(d_in, d_out))
    return torch.nn.Sequential(*layers)


class TorchAutoencoder(torch.nn.Module):
    def __init__(self, model: Autoencoder) -> None:
        super().__init__()
        sizes = [model.input_size, *model.hidden_sizes]
        self.encoder = _torch_mlp(sizes, model.activation)
        self.decoder = _torch_mlp(sizes[::-1], model.activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def test_layout_mirrors_the_encoder_and_has_no_activation_after_the_code_or_the_output() -> None:
    m = Autoencoder(10, [7, 5, 3], "tanh")
    kinds = [type(layer).__name__ for layer in m.encoder] + ["|"] + [type(layer).__name__ for layer in m.decoder]
    assert kinds == ["Linear", "Tanh", "Linear", "Tanh", "Linear", "|", "Linear", "Tanh", "Linear", "Tanh", "Linear"]
    shapes = [p.shape for name, p in m.named_parameters() if name.endswith("weight")]
    assert shapes == [(7, 10), (5, 7), (3, 5), (5, 3), (7, 5), (10, 7)]
    assert m.code_size == 3
    assert list(m.state_dict())[:4] == ["encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias"]
    linear = Autoencoder(10, [4], None)
    assert [type(layer).__name__ for layer in (*linear.encoder, *linear.decoder)] == ["Linear", "Linear"]
    assert Autoencoder(10, [4], "identity").state_dict().keys() == linear.state_dict().keys()


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid", "gelu", "identity"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_torch(activation: str, dtype: type) -> None:
    rng = np.random.default_rng(1)
    ours = Autoencoder(6, [5, 3], activation, rng=rng)
    theirs = TorchAutoencoder(ours)
    assert list(theirs.state_dict()) == list(ours.state_dict())  # the state dicts are interchangeable
    compare_module(ours, theirs, [rng.standard_normal((4, 6))], dtype=dtype, steps=2, rng=rng)


def test_torch_weights_load_and_give_torch_outputs() -> None:
    theirs = TorchAutoencoder(Autoencoder(5, [3]))
    ours = Autoencoder(5, [3]).double()
    ours.load_state_dict({k: v.double().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 5))
    np.testing.assert_allclose(ours(x), theirs.double()(torch.from_numpy(x)).detach().numpy(), rtol=1e-12)


def test_encode_and_decode_compose_to_forward_and_never_corrupt() -> None:
    m = Autoencoder(6, [4, 2], dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((5, 6))
    code = m.encode(x)
    assert code.shape == (5, 2)
    np.testing.assert_array_equal(m.decode(code), m(x))
    np.testing.assert_array_equal(m.eval()(x), m.train()(x))  # the plain model has nothing to corrupt


def test_encode_invalidates_the_cached_forward() -> None:
    """encode() overwrites the encoder's caches: backward must refuse instead of mixing two forwards."""
    m = Autoencoder(4, [3], dtype=np.float64)
    x = np.ones((2, 4))
    out = m(x)
    m.encode(2 * x)
    with pytest.raises(RuntimeError, match="before forward"):
        m.backward(np.ones_like(out))
    m(x)
    assert m.backward(np.ones_like(out)).shape == x.shape


def test_course_contract_loss() -> None:
    """loss(X) is the eval-mode reconstruction; loss(X, y) the loss and gradients of one forward/backward, with
    the mode and the accumulated .grad as they were."""
    rng = np.random.default_rng(0)
    m = Autoencoder(6, [4], dtype=np.float64, rng=rng).eval()
    X = rng.standard_normal((5, 6))
    np.testing.assert_array_equal(m.loss(X), m(X))
    m.zero_grad()
    m(X)
    m.backward(np.ones((5, 6)))  # some gradient sum that loss() must leave alone
    before = {k: p.grad.copy() for k, p in m.named_parameters()}
    loss, grads = m.loss(X, X)
    assert not m.training
    for k, p in m.named_parameters():
        np.testing.assert_array_equal(p.grad, before[k], err_msg=k)
    X_hat = m(X)
    assert loss == pytest.approx(np.sum((X_hat - X) ** 2) / 5, rel=1e-12)  # (1/N) ||X - X_hat||_F^2
    m.zero_grad()
    m.backward(2 * (X_hat - X) / 5)
    assert set(grads) == {k for k, _ in m.named_parameters()}
    for k, p in m.named_parameters():
        np.testing.assert_allclose(grads[k], p.grad, rtol=1e-12, err_msg=k)
    mean_model = Autoencoder(6, [4], reduction="mean", dtype=np.float64)
    mean_model.load_state_dict(m.state_dict())
    assert mean_model.loss(X, X)[0] == pytest.approx(loss / 6, rel=1e-12)  # 'mean' divides by N * D


def test_overfits_a_small_batch() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((16, 12)).astype(np.float32)
    m, crit = Autoencoder(12, [32, 16], rng=rng), ReconstructionLoss()
    opt = optim.Adam(m.parameters(), lr=3e-3)
    first = float(crit(m(X), X))
    for _ in range(400):
        loss = crit(m(X), X)
        opt.zero_grad()
        m.backward(crit.backward(), input_grad=False)
        opt.step()
    assert float(loss) < 0.02 * first


def test_linear_autoencoder_spans_the_principal_subspace() -> None:
    """Baldi and Hornik (1989): at its optimum a linear autoencoder with a k-unit code projects on the top-k
    principal subspace. Data with a gap of 16 in the spectrum (variances 16, 16 against 1): the decoder's
    columns span PCA's top-2 subspace to within 5 degrees, and the loss is the variance left out."""
    rng = np.random.default_rng(0)
    X, _, Q = make_subspace_gaussian(400, dim=8, k=2, var_scale=4.0, rng=rng)
    X = X.astype(np.float64)
    m, crit = Autoencoder(8, [2], None, dtype=np.float64, rng=rng), ReconstructionLoss()
    top = analysis.pca(X, 2).components.T  # (8, 2)
    assert analysis.principal_angles(m.decoder[0].weight.data, top).max() > 20  # not there by chance
    opt = optim.Adam(m.parameters(), lr=0.02)
    for _ in range(600):  # full batch
        loss = crit(m(X), X)
        opt.zero_grad()
        m.backward(crit.backward(), input_grad=False)
        opt.step()
    assert analysis.principal_angles(m.decoder[0].weight.data, top).max() < 5.0
    assert analysis.principal_angles(m.encoder[0].weight.data.T, top).max() < 5.0  # the encoder's rows too
    assert analysis.principal_angles(top, Q[:, :2]).max() < 15.0  # PCA found the planted subspace
    left_out = analysis.pca(X, 8).explained_variance[2:].sum() * (len(X) - 1) / len(X)  # per sample
    assert float(loss) == pytest.approx(left_out, rel=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"hidden_sizes": []}, ValueError, "Invalid value for `hidden_sizes`: expected at least one size"),
        ({"hidden_sizes": 3}, TypeError, "Invalid type for `hidden_sizes`: expected a sequence of ints"),
        ({"hidden_sizes": [3, 0]}, ValueError, "Invalid value for `hidden_sizes[i]`: expected an int >= 1"),
        ({"input_size": 0}, ValueError, "Invalid value for `input_size`: expected an int >= 1"),
        ({"activation": "softplus"}, ValueError, "Invalid value for `activation`: expected one of 'relu'"),
        ({"reduction": "sum"}, ValueError, "Invalid value for `reduction`: expected one of 'sum_per_sample', 'mean'"),
        ({"dtype": np.float16}, TypeError, "Invalid type for `dtype`: expected float32 or float64"),
        ({"rng": 3}, TypeError, "Invalid type for `rng`: expected a numpy.random.Generator or None"),
    ],
)
def test_bad_constructor_arguments(kwargs: dict, error: type, message: str) -> None:
    args = {"input_size": 6, "hidden_sizes": [3], **kwargs}
    with pytest.raises(error, match="^" + message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        Autoencoder(**args)


def test_bad_inputs_name_the_input() -> None:
    m = Autoencoder(6, [4, 2])
    with pytest.raises(ValueError, match=r"^Invalid shape for `input`: expected \(N, 6\), the input features\. "):
        m(np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match=r"^Invalid shape for `input`: expected \(N, 6\)"):
        m(np.zeros((3, 2, 3), np.float32))
    with pytest.raises(ValueError, match=r"^Invalid shape for `input`: expected \(N, 2\), codes\. "):
        m.decode(np.zeros((3, 6), np.float32))
    with pytest.raises(TypeError, match=r"^Invalid dtype for `input`: expected float32 to match Autoencoder's"):
        m.encode(np.zeros((3, 6)))
    with pytest.raises(TypeError, match=r"^Invalid type for `input`: expected a floating numpy.ndarray"):
        m(np.zeros((3, 6), np.int64))
    with pytest.raises(ValueError, match=r"^Invalid shape for `y`: expected \(3, 6\) to match x"):
        m.loss(np.zeros((3, 6), np.float32), np.zeros((3, 5), np.float32))
