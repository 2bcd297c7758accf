"""nn.utils.rnn against torch.nn.utils.rnn: pack/pad data, batch_sizes, indices, round trips, the backward
helpers (as adjoints: <pack(x), g> = <x, pack_backward(g)>), and the errors as our template."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import torch
from torch.nn.utils import rnn as trnn

from scratchnn.nn.utils import rnn

# (lengths, enforce_sorted): sorted with ties, unsorted with ties (torch's sort keeps their order), all equal
CASES = [([5, 5, 4, 2, 1], True), ([3, 5, 1, 5, 2, 3], False), ([2, 2, 2], True), ([1, 4, 4, 1], False)]


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


def _padded(lengths: list[int], batch_first: bool, T: int, rng: np.random.Generator) -> np.ndarray:
    B = len(lengths)
    return rng.standard_normal((B, T, 3) if batch_first else (T, B, 3))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce_sorted", CASES)
def test_pack_and_pad_match_torch(lengths: list[int], enforce_sorted: bool, batch_first: bool) -> None:
    rng = np.random.default_rng(0)
    T = max(lengths) + 1  # a padded step no sequence uses
    x = _padded(lengths, batch_first, T, rng)
    ours = rnn.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
    theirs = trnn.pack_padded_sequence(torch.tensor(x), torch.tensor(lengths), batch_first, enforce_sorted)
    np.testing.assert_array_equal(ours.data, theirs.data.numpy())
    np.testing.assert_array_equal(ours.batch_sizes, theirs.batch_sizes.numpy())
    assert ours.batch_sizes.dtype == np.int64
    for name in ("sorted_indices", "unsorted_indices"):
        mine, torch_one = getattr(ours, name), getattr(theirs, name)
        assert (mine is None) == (torch_one is None) == enforce_sorted
        if mine is not None:
            np.testing.assert_array_equal(mine, torch_one.numpy())
    for total_length in (None, T + 2):
        padded, lens = rnn.pad_packed_sequence(ours, batch_first, -7.0, total_length)
        t_padded, t_lens = trnn.pad_packed_sequence(theirs, batch_first, -7.0, total_length)
        np.testing.assert_array_equal(padded, t_padded.numpy())
        np.testing.assert_array_equal(lens, t_lens.numpy())
        np.testing.assert_array_equal(ours.lengths, lengths)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce_sorted", CASES)
def test_round_trip_and_backward_helpers_are_adjoint(
    lengths: list[int], enforce_sorted: bool, batch_first: bool
) -> None:
    rng = np.random.default_rng(1)
    T = max(lengths) + 1
    x = _padded(lengths, batch_first, T, rng)
    packed = rnn.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
    padded, _ = rnn.pad_packed_sequence(packed, batch_first, total_length=T)
    mask = np.arange(T)[None, :] < np.array(lengths)[:, None]  # (B, T): real steps
    mask = mask if batch_first else mask.T
    np.testing.assert_array_equal(padded, np.where(mask[..., None], x, 0.0))  # round trip: x without its padding
    g_data = rng.standard_normal(packed.data.shape)
    g_padded = rng.standard_normal(x.shape)
    back = rnn.pack_padded_sequence_backward(g_data, packed, T, batch_first)
    assert np.sum(packed.data * g_data) == pytest.approx(np.sum(x * back), rel=1e-12)  # <pack x, g> = <x, pack* g>
    back2 = rnn.pad_packed_sequence_backward(g_padded, packed, batch_first)
    assert np.sum(padded * g_padded) == pytest.approx(np.sum(packed.data * back2), rel=1e-12)
    # the same as torch's autograd through pack
    tx = torch.tensor(x, requires_grad=True)
    tp = trnn.pack_padded_sequence(tx, torch.tensor(lengths), batch_first, enforce_sorted)
    tp.data.backward(torch.tensor(g_data))
    np.testing.assert_array_equal(back, tx.grad.numpy())


def test_packed_sequence_is_a_named_tuple_with_computed_unsorted_indices() -> None:
    seq = rnn.PackedSequence(np.zeros((3, 2)), np.array([2, 1]), np.array([1, 0]))
    data, batch_sizes, sorted_indices, unsorted_indices = seq
    np.testing.assert_array_equal(unsorted_indices, [1, 0])
    assert seq.data is data and seq._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    np.testing.assert_array_equal(rnn.invert_permutation(np.array([2, 0, 1])), [1, 2, 0])


X = np.zeros((4, 3, 2))  # T=4, B=3
BAD: list[tuple[str, Any, type[Exception], str]] = [
    ("not sorted", lambda: rnn.pack_padded_sequence(X, [2, 3, 1]), ValueError,
     "Invalid value for `lengths`: expected lengths in decreasing order when enforce_sorted=True "
     "(or pass enforce_sorted=False). Received: lengths=[2, 3, 1]"),
    ("zero length", lambda: rnn.pack_padded_sequence(X, [3, 2, 0]), ValueError,
     "Invalid value for `lengths`: expected lengths >= 1 (a sequence of length 0 cannot be packed). "
     "Received: lengths=[3, 2, 0]"),
    ("too long", lambda: rnn.pack_padded_sequence(X, [5, 2, 1], enforce_sorted=False), ValueError,
     "Invalid value for `lengths`: expected lengths <= 4, the input's number of steps. Received: lengths=[5, 2, 1]"),
    ("count", lambda: rnn.pack_padded_sequence(X, [3, 2]), ValueError,
     "Invalid shape for `lengths`: expected (3,), one length per sequence of the batch. Received: lengths.shape=(2,)"),
    ("float lengths", lambda: rnn.pack_padded_sequence(X, [3.0, 2.0, 1.0]), TypeError,
     "Invalid type for `lengths`: expected a list or 1-D numpy.ndarray of integer lengths. "
     "Received: lengths of type list"),
    ("rank", lambda: rnn.pack_padded_sequence(X[0, 0], [1, 1]), ValueError,
     "Invalid shape for `input`: expected a padded batch (T, B, *) of at least 2 dimensions. "
     "Received: input.shape=(2,)"),
    ("empty", lambda: rnn.pack_padded_sequence(X[:0], [1, 1, 1]), ValueError,
     "Invalid shape for `input`: expected a batch of at least one sequence of at least one step. "
     "Received: input.shape=(0, 3, 2)"),
    ("total_length", lambda: rnn.pad_packed_sequence(rnn.pack_padded_sequence(X, [3, 2, 1]), total_length=2),
     ValueError,
     "Invalid value for `total_length`: expected at least the length of the longest sequence, 3. "
     "Received: total_length=2"),
    ("not packed", lambda: rnn.pad_packed_sequence(X), TypeError,
     "Invalid type for `sequence`: expected a PackedSequence. Received: sequence of type ndarray"),
]  # fmt: skip


@pytest.mark.parametrize("call,exc,text", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input(call: Any, exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=msg(text)):
        call()
