"""Truncated BPTT: the stream's lanes and chunks, and an epoch equal to torch's detach-between-chunks loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scratchnn import nn, optim
from scratchnn.models.char_rnn import CharRNN
from scratchnn.train.bptt import stream_batches, truncated_bptt_epoch


def test_lanes_are_contiguous_and_targets_are_the_next_id() -> None:
    ids = np.arange(23)
    chunks = list(stream_batches(ids, batch_size=3, bptt=3))
    x = np.concatenate([c[0] for c in chunks], axis=1)
    y = np.concatenate([c[1] for c in chunks], axis=1)
    np.testing.assert_array_equal(x, np.arange(21).reshape(3, 7))  # L = (23 - 1) // 3 = 7 per lane
    np.testing.assert_array_equal(y, x + 1)
    assert [c[0].shape[1] for c in chunks] == [3, 3, 1]


def test_a_stream_shorter_than_a_lane_each_is_refused() -> None:
    with pytest.raises(ValueError, match="Invalid value for `ids`: expected at least batch_size \\+ 1 = 5 ids"):
        list(stream_batches(np.arange(4), batch_size=4, bptt=2))
    with pytest.raises(ValueError, match="Invalid shape for `ids`"):
        list(stream_batches(np.zeros((2, 3), dtype=np.int64), batch_size=1, bptt=2))


class TorchCharRNN(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embedding = torch.nn.Embedding(11, 4)
        self.rnn = torch.nn.LSTM(4, 6, 1, batch_first=True)
        self.head = torch.nn.Linear(6, 11)


def test_an_epoch_equals_torch_with_the_state_detached_between_chunks() -> None:
    model = CharRNN(11, 4, 6, cell="lstm", dtype=np.float64, rng=np.random.default_rng(0))
    twin = TorchCharRNN().double()
    twin.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    ids = np.random.default_rng(1).integers(0, 11, size=50)
    loss = truncated_bptt_epoch(
        model,
        nn.CrossEntropyLoss(),
        optim.SGD(model.parameters(), lr=0.5),
        ids,
        batch_size=2,
        bptt=5,
        clip_grad_norm=1.0,
    )
    opt = torch.optim.SGD(twin.parameters(), lr=0.5)
    state, losses = None, []
    for x, y in stream_batches(ids, 2, 5):
        opt.zero_grad()
        out, state = twin.rnn(twin.embedding(torch.tensor(x)), state)
        state = tuple(s.detach() for s in state)  # torch's truncation
        batch_loss = torch.nn.functional.cross_entropy(twin.head(out).transpose(1, 2), torch.tensor(y))
        batch_loss.backward()
        torch.nn.utils.clip_grad_norm_(twin.parameters(), 1.0)
        opt.step()
        losses.append(batch_loss.item())
    assert loss == pytest.approx(np.mean(losses), rel=1e-10)
    theirs = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.data, theirs[name].detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
