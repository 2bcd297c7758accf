"""CharRNN against the same network in torch, its carried state, and sampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scratchnn import nn, optim
from scratchnn.models.char_rnn import CharRNN

TORCH_CELLS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


class TorchCharRNN(torch.nn.Module):
    def __init__(self, cell: str, V: int, E: int, H: int, layers: int) -> None:
        super().__init__()
        self.embedding = torch.nn.Embedding(V, E)
        self.rnn = TORCH_CELLS[cell](E, H, layers, batch_first=True)
        self.head = torch.nn.Linear(H, V)

    def forward(self, x: torch.Tensor, hx: object = None) -> tuple[torch.Tensor, object]:
        out, state = self.rnn(self.embedding(x), hx)
        return self.head(out).transpose(1, 2), state


def _pair(cell: str, layers: int = 2) -> tuple[CharRNN, TorchCharRNN]:
    model = CharRNN(13, 5, 7, layers, cell=cell, dtype=np.float64, rng=np.random.default_rng(0))
    twin = TorchCharRNN(cell, 13, 5, 7, layers).double()
    twin.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    return model, twin


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_scores_and_gradients_equal_torch(cell: str) -> None:
    model, twin = _pair(cell)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 13, size=(3, 9))
    scores = model(x)
    scores_t, _ = twin(torch.tensor(x))
    assert scores.shape == (3, 13, 9)
    np.testing.assert_allclose(scores, scores_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(scores.shape)
    model.backward(g)
    scores_t.backward(torch.tensor(g))
    grads = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, grads[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_reading_in_chunks_with_the_carried_state_equals_reading_at_once(cell: str) -> None:
    model, _ = _pair(cell)
    x = np.random.default_rng(2).integers(0, 13, size=(2, 12))
    whole = model(x)
    state, parts = None, []
    for start in (0, 5, 9):
        parts.append(model(x[:, start : start + (5 if start == 0 else 4 if start == 5 else 3)], state))
        state = model.state
    np.testing.assert_allclose(np.concatenate(parts, axis=2), whole, rtol=1e-12, atol=1e-14)


def test_greedy_sampling_is_the_argmax_of_the_whole_prefix_each_step() -> None:
    model, _ = _pair("lstm")
    model.train()
    prompt = np.array([3, 1, 4])
    out = model.sample(prompt, 6, temperature=0.0)
    assert model.training  # restored
    model.eval()
    seq = list(prompt)
    for _ in range(6):  # recompute from scratch: no carried state involved
        seq.append(int(model(np.array([seq]))[0, :, -1].argmax()))
    assert out.tolist() == seq[3:]


def test_sampling_stops_after_the_stop_id_and_is_seeded() -> None:
    model, _ = _pair("gru")
    a = model.sample(np.array([2]), 50, temperature=1.0, rng=np.random.default_rng(5))
    b = model.sample(np.array([2]), 50, temperature=1.0, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    stop = int(a[3])
    c = model.sample(np.array([2]), 50, temperature=1.0, stop=stop, rng=np.random.default_rng(5))
    assert c[-1] == stop and stop not in c[:-1].tolist() and len(c) <= 4


def test_num_layers_of_another_type_is_the_template_error() -> None:
    """Found by fuzzing: `num_layers > 1` on an array was NumPy's "truth value of an array is ambiguous"."""
    with pytest.raises(TypeError, match=r"^Invalid type for `num_layers`: expected an int >= 1\. Received: num_layers "
                       r"of type ndarray$"):  # fmt: skip
        CharRNN(5, num_layers=np.array([1, 2]))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"prompt": np.array([], dtype=np.int64)}, "Invalid value for `prompt`"),
        ({"prompt": np.array([13])}, "Invalid value for `prompt`"),
        ({"temperature": -1.0}, "Invalid value for `temperature`"),
        ({"length": -1}, "Invalid value for `length`"),
    ],
)
def test_bad_sampling_arguments_name_themselves(kwargs: dict[str, object], message: str) -> None:
    model, _ = _pair("rnn")
    args = {"prompt": np.array([1]), "length": 3} | kwargs
    with pytest.raises(ValueError, match=message):
        model.sample(args.pop("prompt"), args.pop("length"), **args)  # type: ignore[arg-type]


def test_learns_a_repeating_text() -> None:
    text = np.tile(np.array([1, 2, 3, 4, 5, 6]), 20)
    x, y = text[None, :-1], text[None, 1:]
    model = CharRNN(8, 8, 32, cell="lstm", rng=np.random.default_rng(3))
    crit, opt = nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=2e-2)
    for _ in range(60):
        opt.zero_grad()
        crit(model(x), y)
        model.backward(crit.backward())
        opt.step()
    assert float(crit(model(x), y)) < 0.1
    assert model.sample(np.array([3]), 5, temperature=0.0).tolist() == [4, 5, 6, 1, 2]
