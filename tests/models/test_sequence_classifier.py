"""RecurrentClassifier against the same network in torch (weights loaded through the state dict), its
padding rules, and a tiny batch it must overfit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scratchnn import nn, optim
from scratchnn.models.sequence_classifier import RecurrentClassifier

TORCH_CELLS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


class TorchTwin(torch.nn.Module):
    def __init__(self, cell: str, E: int, H: int, C: int, layers: int, bidirectional: bool, V: int | None) -> None:
        super().__init__()
        self.cell, self.bidirectional = cell, bidirectional
        self.embedding = None if V is None else torch.nn.Embedding(V, E, padding_idx=0)
        self.rnn = TORCH_CELLS[cell](E, H, layers, batch_first=True, bidirectional=bidirectional)
        self.fc = torch.nn.Linear(H * (2 if bidirectional else 1), C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.embedding is not None:
            lengths = (x != 0).sum(1)
            seq = torch.nn.utils.rnn.pack_padded_sequence(
                self.embedding(x), lengths, batch_first=True, enforce_sorted=False
            )
        else:
            seq = x
        _, state = self.rnn(seq)
        h_n = state[0] if self.cell == "lstm" else state
        feat = torch.cat([h_n[-2], h_n[-1]], dim=1) if self.bidirectional else h_n[-1]
        return self.fc(feat)


def _tokens(rng: np.random.Generator, N: int, T: int, V: int) -> np.ndarray:
    lengths = rng.integers(1, T + 1, size=N)
    x = rng.integers(1, V, size=(N, T))
    x[np.arange(T) >= lengths[:, None]] = 0  # right padding
    return x


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("tokens", [True, False], ids=["ids", "features"])
@pytest.mark.parametrize("layers,bidirectional", [(1, False), (2, True)])
def test_forward_and_every_gradient_equal_torch(cell: str, tokens: bool, layers: int, bidirectional: bool) -> None:
    rng = np.random.default_rng(0)
    N, T, E, H, C, V = 5, 7, 4, 6, 3, 11
    model = RecurrentClassifier(
        E, H, C, cell=cell, num_layers=layers, bidirectional=bidirectional, vocab_size=V if tokens else None,
        dtype=np.float64, rng=rng,
    )  # fmt: skip
    twin = TorchTwin(cell, E, H, C, layers, bidirectional, V if tokens else None).double()
    twin.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    x = _tokens(rng, N, T, V) if tokens else rng.standard_normal((N, T, E))
    xt = torch.tensor(x) if tokens else torch.tensor(x, requires_grad=True)
    scores = model(x)
    scores_t = twin(xt)
    np.testing.assert_allclose(scores, scores_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(scores.shape)
    dx = model.backward(g)
    scores_t.backward(torch.tensor(g))
    grads = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, grads[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
    if tokens:
        assert dx is None
    else:
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_padding_changes_nothing() -> None:
    rng = np.random.default_rng(1)
    model = RecurrentClassifier(4, 5, 2, cell="gru", vocab_size=9, dtype=np.float64, rng=rng)
    x = _tokens(rng, 4, 6, 9)
    wider = np.concatenate([x, np.zeros((4, 3), dtype=x.dtype)], axis=1)  # three more padding steps
    np.testing.assert_allclose(model(wider), model(x), rtol=1e-12)


@pytest.mark.parametrize(
    "x,message",
    [
        (np.array([[0, 3, 4]]), "Invalid value for `input`: expected right-padded rows"),
        (np.array([[2, 0], [0, 0]]), "Invalid value for `input`: expected at least one id"),
        (np.array([[2, 9]]), "Invalid value for `input`"),
    ],
)
def test_bad_token_input_names_input(x: np.ndarray, message: str) -> None:
    model = RecurrentClassifier(3, 4, 2, vocab_size=9, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=message):
        model(x)


def test_bad_constructor_arguments_name_themselves() -> None:
    with pytest.raises(ValueError, match="Invalid value for `cell`: expected one of 'rnn', 'lstm', 'gru'"):
        RecurrentClassifier(3, 4, 2, cell="transformer")
    with pytest.raises(ValueError, match="Invalid value for `dropout`"):
        RecurrentClassifier(3, 4, 2, dropout=1.0)
    # found by fuzzing: `num_layers > 1` was NumPy's "truth value of an array is ambiguous"
    with pytest.raises(TypeError, match=r"^Invalid type for `num_layers`: expected an int >= 1\. Received: num_layers "
                       r"of type ndarray$"):  # fmt: skip
        RecurrentClassifier(3, 4, 2, num_layers=np.array([1, 2]))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_an_empty_batch_of_token_ids_gives_empty_scores(cell: str) -> None:
    """Found by fuzzing: an empty batch cannot be packed (pack_padded_sequence needs a sequence); as with feature
    input (and the other models, tests/models/test_empty_batch.py), it gives (0, num_classes) scores."""
    model = RecurrentClassifier(3, 4, 2, cell=cell, vocab_size=9, bidirectional=True, rng=np.random.default_rng(0))
    x = np.array([[2, 5, 0], [1, 0, 0]])
    scores = model(x[:0])
    assert scores.shape == (0, 2) and scores.dtype == np.float32
    model.zero_grad()
    assert model.backward(np.zeros((0, 2), np.float32)) is None
    assert all(not p.grad.any() for p in model.parameters())  # no sample: no gradient
    np.testing.assert_allclose(model(x)[:1], model(x[:1]), rtol=1e-5)  # non-empty batches still pack


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_overfits_a_tiny_batch(cell: str) -> None:
    rng = np.random.default_rng(2)
    model = RecurrentClassifier(8, 32, 3, cell=cell, vocab_size=20, rng=rng)
    x, y = _tokens(rng, 12, 6, 20), rng.integers(0, 3, size=12)
    crit, opt = nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        opt.zero_grad()
        crit(model(x), y)
        model.backward(crit.backward())
        opt.step()
    assert float(crit(model(x), y)) < 0.05
    assert (model(x).argmax(1) == y).all()
