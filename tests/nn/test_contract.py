"""The module contract (DESIGN.md) checked over every module in one table.

Each row: a factory, an input shape, and an input that the module must reject. Checks: dtype
kept, grads accumulate with +=, zero_grad, state_dict round trip into a differently initialised
twin, a clear error on backward before forward and on a wrong input shape, eval deterministic,
and ``backward(dout, input_grad=False)``: None, the same parameter gradients.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from scratchnn import models, nn

Row = tuple[str, Callable[[], nn.Module], tuple[int, ...], tuple[int, ...]]


class _First(nn.Module):
    """The first output of a module with several (RNN: output, h_n; LSTMCell: h, c), the others' gradients zero."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = self.inner(x)
        return out[0] if isinstance(out, tuple) else out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        return self.inner.backward(grad_out, input_grad=input_grad)


class _Call(nn.Module):
    """A module of several inputs or keyword options seen as one input and one output: ``forward(x)`` passes x
    as each of its ``n`` inputs (self-attention's query, key and value; a decoder's target and memory;
    nn.Transformer's source and target) with ``kwargs``, and keeps the first output (MultiheadAttention's
    output, not its weights); backward returns the sum of the input gradients (None meaning zero)."""

    def __init__(self, inner: nn.Module, n: int, **kwargs: Any) -> None:
        super().__init__()
        self.inner, self.n, self.kwargs = inner, n, kwargs

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = self.inner(*(x,) * self.n, **self.kwargs)
        return out[0] if isinstance(out, tuple) else out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        grads = self.inner.backward(grad_out, input_grad=input_grad)
        if not isinstance(grads, tuple):
            return grads
        return sum(g for g in grads if g is not None)


def _encoder_layer(**kw: Any) -> nn.TransformerEncoderLayer:
    return nn.TransformerEncoderLayer(6, 2, 8, dropout=0.3, batch_first=True, **kw)


def _decoder_layer(**kw: Any) -> nn.TransformerDecoderLayer:
    return nn.TransformerDecoderLayer(6, 2, 8, dropout=0.3, batch_first=True, **kw)


# the argument that a module's input errors name where it is not torch's `input`: the Transformer's own names
INPUT_NAMES = {"MultiheadAttention": "query", "TransformerEncoderLayer": "src", "TransformerEncoder": "src",
               "TransformerDecoderLayer": "tgt", "TransformerDecoder": "tgt", "Transformer": "src"}  # fmt: skip


def input_name(row: str) -> str:
    return INPUT_NAMES.get(row.split("-")[0], "input")


ROWS: list[Row] = [
    # (name, factory, good input shape, bad input shape)
    ("Linear", lambda: nn.Linear(6, 4), (5, 6), (5, 7)),
    ("Linear-3d", lambda: nn.Linear(6, 4), (2, 3, 6), (2, 3, 5)),
    ("Sequential", lambda: nn.Sequential(nn.Linear(6, 5), nn.Flatten(), nn.Linear(5, 3)), (4, 6), (4, 2)),
    ("Flatten", lambda: nn.Sequential(nn.Flatten(), nn.Linear(12, 2)), (2, 3, 4), (2, 3, 5)),
    ("Identity", lambda: nn.Sequential(nn.Identity(), nn.Linear(3, 2)), (4, 3), (4, 4)),
    # normalization / dropout first (they raise on the bad shape), then a Linear for random parameters; the
    # train-mode checks see batch statistics and fresh dropout masks, the eval-mode ones running statistics
    ("BatchNorm1d", lambda: nn.Sequential(nn.BatchNorm1d(6), nn.Linear(6, 4)), (5, 6), (5, 7)),
    ("BatchNorm1d-3d", lambda: nn.Sequential(nn.BatchNorm1d(3), nn.Flatten(), nn.Linear(12, 2)), (2, 3, 4), (2, 4, 4)),
    ("BatchNorm2d", lambda: nn.Sequential(nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(12, 2)), (2, 3, 2, 2), (2, 3, 4)),
    ("LayerNorm", lambda: nn.Sequential(nn.LayerNorm(6), nn.Linear(6, 4)), (5, 6), (5, 7)),
    ("GroupNorm", lambda: nn.Sequential(nn.GroupNorm(2, 4), nn.Flatten(), nn.Linear(12, 2)), (2, 4, 3), (2, 6, 3)),
    ("Dropout", lambda: nn.Sequential(nn.Dropout(0.3), nn.Linear(6, 4)), (5, 6), (5, 7)),
    ("Conv2d", lambda: nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=1), (2, 3, 5, 6), (2, 4, 5, 6)),
    (
        "ConvTranspose2d",
        lambda: nn.ConvTranspose2d(3, 4, (3, 2), stride=(2, 1), padding=1, output_padding=(1, 0)),
        (2, 3, 5, 6),
        (2, 4, 5, 6),
    ),
    (
        "MaxPool2d",
        lambda: nn.Sequential(nn.MaxPool2d(3, 2, 1), nn.Flatten(), nn.Linear(18, 2)),
        (2, 2, 5, 6),
        (2, 5, 6),
    ),
    ("AvgPool2d", lambda: nn.Sequential(nn.AvgPool2d(2), nn.Flatten(), nn.Linear(12, 2)), (2, 2, 5, 6), (2, 5, 6)),
    (
        "AdaptiveAvgPool2d",
        lambda: nn.Sequential(nn.AdaptiveAvgPool2d((2, 3)), nn.Flatten(), nn.Linear(12, 2)),
        (2, 2, 5, 7),
        (2, 5, 7),
    ),
    # recurrent layers (dropout between their layers: train mode draws masks) and cells
    # (batch_first: the tables' empty-batch checks cut the first axis)
    ("RNN", lambda: _First(nn.RNN(6, 4, 2, dropout=0.3, bidirectional=True, batch_first=True)), (3, 5, 6), (3, 5, 7)),
    ("RNN-relu", lambda: _First(nn.RNN(6, 4, nonlinearity="relu", batch_first=True)), (3, 5, 6), (3, 5, 5)),
    ("LSTM", lambda: _First(nn.LSTM(6, 4, num_layers=3, dropout=0.3, batch_first=True)), (3, 5, 6), (3, 5, 7)),
    ("GRU", lambda: _First(nn.GRU(6, 4, 2, dropout=0.5, bidirectional=True, batch_first=True)), (3, 5, 6), (3, 5, 5)),
    ("RNNCell", lambda: nn.RNNCell(6, 4), (5, 6), (5, 7)),
    ("LSTMCell", lambda: _First(nn.LSTMCell(6, 4)), (5, 6), (5, 7)),
    ("GRUCell", lambda: nn.GRUCell(6, 4), (5, 6), (5, 7)),
    # the sinusoidal encoding (training draws a dropout mask), then a Linear for parameters
    (
        "PositionalEncoding",
        lambda: nn.Sequential(nn.PositionalEncoding(6, 10, 0.3, batch_first=True), nn.Linear(6, 4)),
        (3, 5, 6),
        (3, 5, 7),
    ),
    # the Transformer's modules (dropout 0.3: training draws attention and residual dropout masks), one array as
    # every input, causal
    ("MultiheadAttention", lambda: _Call(nn.MultiheadAttention(6, 2, 0.3, batch_first=True), 3), (3, 5, 6), (3, 5, 7)),
    ("TransformerEncoderLayer", lambda: _Call(_encoder_layer(), 1, is_causal=True), (3, 5, 6), (3, 5, 7)),
    (
        "TransformerEncoderLayer-pre_LN-gelu",
        lambda: _Call(_encoder_layer(norm_first=True, activation="gelu"), 1),
        (3, 5, 6),
        (3, 5, 4),
    ),
    (
        "TransformerEncoder",
        lambda: _Call(nn.TransformerEncoder(_encoder_layer(), 2, nn.LayerNorm(6)), 1, is_causal=True),
        (3, 5, 6),
        (3, 5, 7),
    ),
    ("TransformerDecoderLayer", lambda: _Call(_decoder_layer(), 2, tgt_is_causal=True), (3, 5, 6), (3, 5, 7)),
    (
        "TransformerDecoder",
        lambda: _Call(nn.TransformerDecoder(_decoder_layer(norm_first=True), 2, nn.LayerNorm(6)), 2),
        (3, 5, 6),
        (3, 5, 7),
    ),
    (
        "Transformer",
        lambda: _Call(nn.Transformer(6, 2, 1, 2, 8, 0.3, batch_first=True), 2, tgt_is_causal=True),
        (3, 5, 6),
        (3, 5, 7),
    ),
    # models are Modules too (models/convnet.py): conv-BN-ReLU-pool blocks, dropout, a hidden Linear
    (
        "ConvNet",
        lambda: models.ConvNet(2, 3, channels=[3, 4], input_size=(5, 6), hidden=[4], dropout=0.3),
        (2, 2, 5, 6),
        (2, 3, 5, 6),
    ),
    # the autoencoders (models/autoencoder/): the training forward draws fresh noise or a fresh mask
    ("Autoencoder", lambda: models.Autoencoder(6, [5, 3]), (4, 6), (4, 7)),
    ("Autoencoder-linear", lambda: models.Autoencoder(6, [2], None), (4, 6), (4, 2)),
    ("DenoisingAutoencoder", lambda: models.DenoisingAutoencoder(6, [5, 3], "tanh"), (4, 6), (4, 5)),
    ("MaskedAutoencoder", lambda: models.MaskedAutoencoder(6, [5, 3], loss_on="masked"), (4, 6), (6,)),
    (
        "ConvAutoencoder",
        lambda: models.ConvAutoencoder(1, 3, [2, 3], (5, 6), noise_std=0.3, mask_ratio=0.5),
        (2, 1, 5, 6),
        (2, 30),
    ),
    # the masked-image autoencoder (models/transformer/mae.py): a training forward draws fresh masks, an eval
    # forward the fixed eval masks; and the ViT classifier on its CLS token (models/transformer/vit.py)
    (
        "MaskedImageAutoencoder",
        lambda: models.MaskedImageAutoencoder((4, 6), 2, 2, 8, 2, 2, 6, 1, 3, mlp_ratio=1.5),
        (3, 2, 4, 6),
        (3, 2, 6, 4),
    ),
    (
        "ViTClassifier",
        lambda: models.ViTClassifier(models.ViTEncoder(6, 3, 1, 8, 2, 4, mlp_ratio=2.0), 3),
        (3, 1, 6, 6),
        (3, 6, 6),
    ),
]


def _input(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return np.random.default_rng(3).standard_normal(shape).astype(dtype)


def _ids(rows: list[Row]) -> list[str]:
    return [r[0] for r in rows]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,factory,shape,bad", ROWS, ids=_ids(ROWS))
def test_dtype_kept(
    name: str, factory: Callable[[], nn.Module], shape: tuple[int, ...], bad: tuple[int, ...], dtype: Any
) -> None:
    m = factory().to(dtype)
    x = _input(shape, dtype)
    out = m(x)
    assert out.dtype == dtype
    dx = m.backward(np.ones_like(out))
    assert dx.dtype == dtype and dx.shape == x.shape
    for pname, p in m.named_parameters():
        assert p.grad.dtype == dtype, pname


@pytest.mark.parametrize("name,factory,shape,bad", ROWS, ids=_ids(ROWS))
def test_grads_accumulate_and_zero_grad(
    name: str, factory: Callable[[], nn.Module], shape: tuple[int, ...], bad: tuple[int, ...]
) -> None:
    m = factory().double()
    x = _input(shape, np.float64)
    dout = np.random.default_rng(1).standard_normal(m(x).shape)
    m.zero_grad()
    m.backward(dout)
    once = {k: p.grad.copy() for k, p in m.named_parameters()}
    assert any(np.abs(g).sum() > 0 for g in once.values())
    m.backward(dout)
    for k, p in m.named_parameters():
        np.testing.assert_allclose(p.grad, 2 * once[k], rtol=1e-12, err_msg=k)
    m.zero_grad()  # lazy (Param.zero_grad): the next backward must overwrite the old sums, not add to them
    m.backward(dout)
    for k, p in m.named_parameters():
        np.testing.assert_allclose(p.grad, once[k], rtol=1e-12, err_msg=k)
    m.zero_grad()
    for k, p in m.named_parameters():
        assert not p.grad.any(), k


@pytest.mark.parametrize("name,factory,shape,bad", ROWS, ids=_ids(ROWS))
def test_state_dict_round_trip(
    name: str, factory: Callable[[], nn.Module], shape: tuple[int, ...], bad: tuple[int, ...]
) -> None:
    a, b = factory(), factory()  # two different random initialisations
    x = _input(shape, np.float32)
    a.eval()
    b.eval()
    if list(a.parameters()):
        assert not np.allclose(a(x), b(x))
    sd = a.state_dict()
    b.load_state_dict(sd)
    np.testing.assert_array_equal(a(x), b(x))
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v, sd[k])
        assert v is not sd[k]  # state_dict returns copies
    sd2 = {k: v + 1 for k, v in a.state_dict().items()}
    np.testing.assert_array_equal(a(x), b(x))  # editing a copy changed nothing
    del sd2


@pytest.mark.parametrize("name,factory,shape,bad", ROWS, ids=_ids(ROWS))
def test_backward_before_forward_is_a_clear_error(
    name: str, factory: Callable[[], nn.Module], shape: tuple[int, ...], bad: tuple[int, ...]
) -> None:
    m = factory()
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        m.backward(np.ones((2, 2), np.float32))


@pytest.mark.parametrize("name,factory,shape,bad", ROWS, ids=_ids(ROWS))
def test_wrong_input_shape_is_a_clear_error(
    name: str, factory: Callable[[], nn.Module], shape: tuple[int, ...], bad: tuple[int, ...]
) -> None:
    arg = input_name(name)
    with pytest.raises(ValueError, match=rf"Invalid shape for `{arg}`: expected .* Received: {arg}.shape="):
        factory()(_input(bad, np.float32))


@pytest.mark.parametrize("name,factory,shape,bad", ROWS, ids=_ids(ROWS))
def test_eval_is_deterministic(
    name: str, factory: Callable[[], nn.Module], shape: tuple[int, ...], bad: tuple[int, ...]
) -> None:
    m = factory().eval()
    x = _input(shape, np.float32)
    np.testing.assert_array_equal(m(x), m(x))


def test_load_state_dict_strict_names_missing_and_unexpected_keys() -> None:
    m = nn.Sequential(nn.Linear(3, 2))
    sd = m.state_dict()
    sd["1.weight"] = sd.pop("0.weight")
    with pytest.raises(ValueError, match=r"missing keys \['0.weight'\], unexpected keys \['1.weight'\]"):
        m.load_state_dict(sd)
    result = m.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["0.weight"] and result.unexpected_keys == ["1.weight"]


def test_load_state_dict_rejects_wrong_shapes() -> None:
    m = nn.Linear(3, 2)
    sd = m.state_dict()
    sd["weight"] = np.zeros((3, 2), np.float32)
    with pytest.raises(ValueError, match=r"Invalid shape for `state_dict\['weight'\]`: expected \(2, 3\)"):
        m.load_state_dict(sd)


def test_linear_rejects_mismatched_dtype() -> None:
    with pytest.raises(TypeError, match=r"Invalid dtype for `input`: expected float32"):
        nn.Linear(3, 2)(np.zeros((1, 3), np.float64))


def _both_ways(m: nn.Module, shape: tuple[int, ...]) -> None:
    """One forward in float64; backward by default gives dx of the input's shape and dtype, and
    ``input_grad=False`` gives None and the same parameter gradients (same cache, same dropout masks)."""
    x = _input(shape, np.float64)
    dout = np.random.default_rng(1).standard_normal(m(x).shape)
    m.zero_grad()
    dx = m.backward(dout)
    assert isinstance(dx, np.ndarray) and dx.shape == x.shape and dx.dtype == x.dtype
    grads = {k: p.grad.copy() for k, p in m.named_parameters()}
    m.zero_grad()
    assert m.backward(dout, input_grad=False) is None
    for k, p in m.named_parameters():
        np.testing.assert_array_equal(p.grad, grads[k], err_msg=k)


@pytest.mark.parametrize("name,factory,shape,bad", ROWS, ids=_ids(ROWS))
def test_input_grad_false_returns_none_and_the_same_param_grads(
    name: str, factory: Callable[[], nn.Module], shape: tuple[int, ...], bad: tuple[int, ...]
) -> None:
    _both_ways(factory().double(), shape)


# parameter-free modules first in a Sequential (the table puts them behind a norm or on their own
# rows only as shape checks), and the course models, which skip dX inside their own backward
INPUT_GRAD_ROWS: list[tuple[str, Callable[[], nn.Module], tuple[int, ...]]] = [
    ("ReLU", lambda: nn.Sequential(nn.ReLU(), nn.Linear(6, 4)), (5, 6)),
    ("LeakyReLU", lambda: nn.Sequential(nn.LeakyReLU(0.1), nn.Linear(6, 4)), (5, 6)),
    ("Sigmoid", lambda: nn.Sequential(nn.Sigmoid(), nn.Linear(6, 4)), (5, 6)),
    ("Tanh", lambda: nn.Sequential(nn.Tanh(), nn.Linear(6, 4)), (5, 6)),
    ("GELU", lambda: nn.Sequential(nn.GELU(), nn.Linear(6, 4)), (5, 6)),
    ("Softmax", lambda: nn.Sequential(nn.Softmax(dim=1), nn.Linear(6, 4)), (5, 6)),
    ("Empty-Sequential", lambda: nn.Sequential(), (5, 6)),
    (
        "FullyConnectedNet",
        lambda: models.FullyConnectedNet(
            [5, 4], input_dim=6, num_classes=3, dropout=0.3, normalization="batchnorm", seed=0
        ),
        (7, 6),
    ),
    (
        "ThreeLayerConvNet",
        lambda: models.ThreeLayerConvNet(
            input_dim=(2, 6, 6), num_filters=3, filter_size=3, hidden_dim=5, num_classes=4, weight_scale=0.1, seed=0
        ),
        (3, 2, 6, 6),
    ),
]


@pytest.mark.parametrize("name,factory,shape", INPUT_GRAD_ROWS, ids=[r[0] for r in INPUT_GRAD_ROWS])
def test_input_grad_false_in_more_modules(name: str, factory: Callable[[], nn.Module], shape: tuple[int, ...]) -> None:
    _both_ways(factory().double(), shape)


def test_every_backward_takes_input_grad_keyword_only() -> None:
    """``input_grad`` is one keyword across the library: keyword-only, True by default (losses start the pass)."""
    exported = [getattr(nn, n) for n in nn.__all__] + [getattr(models, n) for n in models.__all__]
    classes = {c for c in exported if isinstance(c, type) and issubclass(c, nn.Module) and "backward" in dir(c)}
    checked = 0
    for cls in classes:
        if issubclass(cls, (nn.CrossEntropyLoss, nn.MSELoss, nn.BCEWithLogitsLoss, nn.MultiMarginLoss,
                            models.ReconstructionLoss)):  # fmt: skip
            continue
        param = inspect.signature(cls.backward).parameters.get("input_grad")
        assert param is not None, cls.__name__
        assert param.kind is inspect.Parameter.KEYWORD_ONLY and param.default is True, cls.__name__
        checked += 1
    assert checked >= 20


def test_lazy_zero_grad_reads_as_zeros_and_then_accumulates() -> None:
    p = nn.Param(np.arange(6.0).reshape(2, 3))
    p.accumulate_grad(np.full((2, 3), 5.0))
    p.zero_grad()
    g = np.random.default_rng(0).standard_normal((2, 3))
    p.accumulate_grad(g)  # first after zero_grad: a copy, the 5s are gone
    np.testing.assert_array_equal(p.grad, g)
    p.accumulate_grad(g)
    np.testing.assert_array_equal(p.grad, 2 * g)
    p.zero_grad()
    p.grad += g  # reading grad (as += does) first fills the deferred zeros
    np.testing.assert_array_equal(p.grad, g)
    p.zero_grad()
    p.grad = np.ones((2, 3))  # assigning replaces the buffer and clears the pending zero
    np.testing.assert_array_equal(p.grad, np.ones((2, 3)))


def test_fresh_grad_only_after_zero_grad() -> None:
    p = nn.Param(np.zeros(3))
    assert p.fresh_grad() is None  # grads start as real zeros: nothing pending
    p.accumulate_grad(np.ones(3))
    p.zero_grad()
    buf = p.fresh_grad()
    assert buf is not None and buf is p.grad
    buf[...] = 7.0  # the caller writes the first gradient itself
    assert p.fresh_grad() is None  # the next writer must accumulate
    p.accumulate_grad(np.ones(3))
    np.testing.assert_array_equal(p.grad, np.full(3, 8.0))
