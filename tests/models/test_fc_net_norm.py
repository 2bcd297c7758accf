"""FullyConnectedNet with batchnorm / layernorm / dropout: the course contract and the course's bugs fixed.

Numerical gradients course style (float64, ``eval_numerical_gradient`` on ``loss``), a seed fixing the
dropout masks; a single sample scores the same alone as inside a batch; torch agreement; overfitting.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pytest
import torch

import scratchnn
from scratchnn.gradcheck import eval_numerical_gradient, rel_error
from scratchnn.models import FullyConnectedNet
from scratchnn.ops import softmax_loss


@pytest.fixture(autouse=True, scope="module")
def _torch_one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny kernels: the intra-op pool only spins on a shared machine
    yield
    torch.set_num_threads(threads)


def _data(n: int = 6, d: int = 15, c: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return 2 * rng.standard_normal((n, d)) + 0.5, rng.integers(0, c, n)


def _net(normalization: str | None, dropout: float = 0.0, **kw: object) -> FullyConnectedNet:
    kw = {"weight_scale": 0.1, "dtype": np.float64, "seed": 1, **kw}
    return FullyConnectedNet([10, 8], input_dim=15, num_classes=4, normalization=normalization, dropout=dropout,
                             **kw)  # type: ignore[arg-type]  # fmt: skip


def test_params_and_buffers_are_named_like_the_course() -> None:
    model = _net("batchnorm")
    assert list(model.params) == ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"]
    assert model.params["gamma2"].shape == (8,) and np.all(model.params["gamma2"] == 1)
    assert not model.params["beta1"].any()
    names = [f"{b}{i}" for i in (1, 2) for b in ("running_mean", "running_var", "num_batches_tracked")]
    assert [n for n, _ in model.named_buffers()] == names
    assert list(_net("layernorm").params)[2:4] == ["gamma1", "beta1"]
    assert list(_net("layernorm").named_buffers()) == []


@pytest.mark.parametrize("dropout", [0.0, 0.3])
@pytest.mark.parametrize("normalization", ["batchnorm", "layernorm", None])
def test_loss_gradients_match_numerical_gradients(normalization: str | None, dropout: float) -> None:
    """The course's check; the seed makes every train-mode call draw the same dropout masks."""
    X, y = _data()
    model = _net(normalization, dropout, reg=0.3)
    loss, grads = model.loss(X, y)
    assert set(grads) == set(model.params)
    for name in sorted(grads):
        num = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name], verbose=False, h=1e-5)
        if normalization == "batchnorm" and name in ("b1", "b2"):
            # batchnorm subtracts the batch mean, so the bias before it has exactly no effect: both are ~0
            assert np.abs(grads[name]).max() < 1e-12 and np.abs(num).max() < 1e-8, name
        else:
            assert rel_error(num, grads[name]) < 1e-5, name


@pytest.mark.parametrize("normalization", ["batchnorm", "layernorm"])
def test_single_sample_scores_equal_in_batch_scores(normalization: str) -> None:
    """The course bug: its network never put batchnorm into test mode, so a single sample normalized
    against itself and scored zeros. ``loss(X)`` runs in eval mode, with the running statistics."""
    X, y = _data(n=20)
    model = _net(normalization, dropout=0.5)
    for _ in range(5):  # training updates the running statistics
        model.loss(X, y)
    batch = model.loss(X)
    for i in (0, 7, 19):
        np.testing.assert_allclose(model.loss(X[i : i + 1]), batch[i : i + 1], rtol=1e-12, atol=1e-12)
    assert np.ptp(model.loss(X[:1])) > 1e-3  # not the collapsed all-equal scores
    model.eval()  # the Module path in eval mode agrees
    np.testing.assert_array_equal(model(X[3:4]), model.loss(X[3:4]))


def test_modes_of_the_course_contract() -> None:
    X, y = _data(n=10)
    model = _net("batchnorm", dropout=0.5, seed=None, rng=np.random.default_rng(0))
    before = model.state_dict()
    a, b = model.loss(X), model.loss(X)  # eval: no dropout, running statistics unchanged
    np.testing.assert_array_equal(a, b)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)
    l1, _ = model.loss(X, y)
    l2, _ = model.loss(X, y)  # train: fresh masks without a seed
    assert l1 != l2
    assert int(model.num_batches_tracked1) == 2 and not np.array_equal(model.running_mean1, before["running_mean1"])
    seeded = _net("batchnorm", dropout=0.5)
    assert seeded.loss(X, y)[0] == seeded.loss(X, y)[0]  # the same masks on every call


def test_module_path_uses_the_module_mode_and_matches_the_course_path() -> None:
    X, y = _data(n=10)
    model = _net("batchnorm", dropout=0.4)
    model.train()
    scores = model(X)
    assert not np.allclose(scores, model.loss(X))  # training forward: dropout and batch statistics
    _, grads = model.loss(X, y)
    _, dscores = softmax_loss(model(X), y)  # same seed: same masks as loss(X, y)
    model.zero_grad()
    model.backward(dscores)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, grads[name], rtol=1e-12, atol=1e-15, err_msg=name)
    model.eval()
    np.testing.assert_array_equal(model(X), model.loss(X))


@pytest.mark.parametrize("normalization", ["batchnorm", "layernorm"])
def test_matches_torch(normalization: str) -> None:
    """Loss, gradients and running statistics over three training steps equal torch's network."""
    X, y = _data(n=9, d=12, c=5)
    model = FullyConnectedNet([16, 11], input_dim=12, num_classes=5, normalization=normalization,
                              weight_init="he", dtype=np.float64, seed=3)  # fmt: skip
    norm = (lambda n: torch.nn.BatchNorm1d(n)) if normalization == "batchnorm" else (lambda n: torch.nn.LayerNorm(n))
    layers = [torch.nn.Linear(12, 16), norm(16), torch.nn.ReLU(), torch.nn.Linear(16, 11), norm(11), torch.nn.ReLU(),
              torch.nn.Linear(11, 5)]  # fmt: skip
    net = torch.nn.Sequential(*layers).double()
    linears, norms = layers[0::3], layers[1::3]
    r = np.random.default_rng(4)
    with torch.no_grad():
        for i, lin in enumerate(linears, start=1):
            lin.weight.copy_(torch.from_numpy(model.params[f"W{i}"].T))  # course (D, M) -> torch (M, D)
            lin.bias.copy_(torch.from_numpy(model.params[f"b{i}"]))
        for i, nrm in enumerate(norms, start=1):
            model.params[f"gamma{i}"] = 1 + 0.3 * r.standard_normal(model.params[f"gamma{i}"].shape)
            nrm.weight.copy_(torch.from_numpy(model.params[f"gamma{i}"]))
    for step in range(3):
        Xs = X + step
        loss, grads = model.loss(Xs, y)
        net.zero_grad()
        tloss = torch.nn.functional.cross_entropy(net(torch.from_numpy(Xs)), torch.from_numpy(y))
        tloss.backward()
        assert abs(loss - tloss.item()) < 1e-12
        for i, lin in enumerate(linears, start=1):
            np.testing.assert_allclose(grads[f"W{i}"], lin.weight.grad.numpy().T, rtol=1e-9, atol=1e-13)
        for i, nrm in enumerate(norms, start=1):
            np.testing.assert_allclose(grads[f"gamma{i}"], nrm.weight.grad.numpy(), rtol=1e-9, atol=1e-13)
            np.testing.assert_allclose(grads[f"beta{i}"], nrm.bias.grad.numpy(), rtol=1e-9, atol=1e-13)
            if normalization == "batchnorm":
                np.testing.assert_allclose(getattr(model, f"running_var{i}"), nrm.running_var.numpy(), rtol=1e-12)
                np.testing.assert_allclose(getattr(model, f"running_mean{i}"), nrm.running_mean.numpy(), rtol=1e-12)
    net.eval()
    np.testing.assert_allclose(model.loss(X), net(torch.from_numpy(X)).detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("normalization", ["batchnorm", "layernorm"])
def test_overfits_50_samples(normalization: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, 50)
    model = FullyConnectedNet([100, 100], input_dim=3 * 8 * 8, num_classes=10, normalization=normalization,
                              weight_init="he", seed=0)  # fmt: skip
    lr = 5e-2  # normalized layers take a larger step; 50 steps already reach 100%
    for _ in range(80):
        _, grads = model.loss(X, y)
        for k, g in grads.items():
            model.params[k] -= lr * g
    assert np.mean(np.argmax(model.loss(X), axis=1) == y) == 1.0  # eval mode: running statistics


def test_float32_throughout_and_state_dict_round_trip() -> None:
    X, y = _data(n=8)
    model = _net("batchnorm", dropout=0.2, dtype=np.float32)
    loss, grads = model.loss(X.astype(np.float32), y)
    assert all(g.dtype == np.float32 for g in grads.values())
    assert model.running_var1.dtype == np.float32 and model.num_batches_tracked1.dtype == np.int64
    other = _net("batchnorm", dropout=0.2, dtype=np.float32, seed=2)
    other.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(other.loss(X.astype(np.float32)), model.loss(X.astype(np.float32)))
    model.double()
    assert model.running_mean1.dtype == np.float64 and model.loss(X).dtype == np.float64


def test_seed_with_rng_and_manual_seed() -> None:
    """seed=None: init and masks come from ``rng``, or from the generator scratchnn.manual_seed sets."""
    X, y = _data()
    scratchnn.manual_seed(5)
    a = _net(None, dropout=0.5, seed=None)
    la = a.loss(X, y)[0]
    scratchnn.manual_seed(5)
    b = _net(None, dropout=0.5, seed=None)
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])
    assert b.loss(X, y)[0] == la
    c = _net(None, dropout=0.5, seed=None, rng=np.random.default_rng(6))
    assert not np.array_equal(a.params["W1"], c.params["W1"])
    assert c.loss(X, y)[0] != c.loss(X, y)[0]  # fresh masks on every call


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(ValueError, match=re.escape("Invalid value for `dropout`: expected a float in [0, 1). ")):
        _net(None, dropout=1.0)
    with pytest.raises(ValueError, match=re.escape("Invalid value for `normalization`: expected one of None, ")):
        _net("groupnorm")
    with pytest.raises(ValueError, match=re.escape("Invalid value for `rng`: expected None when a seed is given")):
        _net(None, rng=np.random.default_rng(0))
    text = "Invalid shape for `X`: expected (N, ...) with N >= 2 for batchnorm's batch statistics in training"
    with pytest.raises(ValueError, match=re.escape(text)):
        _net("batchnorm").loss(*_data(n=1))  # torch's rule: a training batch of one has no variance


def test_batchnorm_without_hidden_layers_trains_on_one_sample() -> None:
    """Found by fuzzing: with no hidden layer there is nothing to normalize, yet N = 1 was refused."""
    model = FullyConnectedNet([], input_dim=4, num_classes=3, normalization="batchnorm", dtype=np.float64, seed=0)
    X, y = np.ones((1, 4)), np.array([2])
    loss, grads = model.loss(X, y)
    assert np.isfinite(loss) and set(grads) == {"W1", "b1"}
    assert model.train()(X).shape == (1, 3)
