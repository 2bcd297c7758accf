"""The arguments only sequence code takes, under values of every kind: sequence lengths, initial states, token
ids and hand-built PackedSequences (the table-driven tests replace them with general junk; these draw what
is nearly right: a length of 0, T + 1 or 2**70, a state one axis off, an id of -1 or V, a batch size too many).

Each is the library's template error or a result; a result has the documented shapes, and with lengths a
sequence's padded outputs are zero and its final state is its output at its last real step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

from scratchnn import models, nn, ops
from scratchnn.nn.utils.rnn import PackedSequence, pack_padded_sequence

from .calls import leaves
from .props import ANY_DTYPE, FLOATS, assert_unchanged, attempt, fuzz, make_array, snapshot

LAYER_OPS = {"rnn": (ops.rnn_layer_forward, 1), "lstm": (ops.lstm_layer_forward, 4), "gru": (ops.gru_layer_forward, 3)}
NEAR = st.sampled_from([-1, 0, 1, 2, 3, 4, 5, 2**31, 2**63 - 1, 2**64, 2**70, -(2**70)])


def _lengths(draw: Any, N: int, T: int) -> Any:
    """Lengths nearly right: ints in and around [1, T] (and far off), one too many or few, floats, bools, arrays."""
    n = draw(st.sampled_from([N, N, N, N + 1, max(N - 1, 0)]))
    values = draw(st.lists(st.one_of(st.integers(1, max(T, 1)), NEAR), min_size=n, max_size=n))
    kind = draw(st.sampled_from(["list", "tuple", "array", "floats", "bools", "numpy ints", "2-D"]))
    if kind in ("list", "tuple"):
        return values if kind == "list" else tuple(values)
    if kind == "floats":
        return [float(v) for v in values]
    if kind == "bools":
        return [v > 1 for v in values]
    if kind == "numpy ints":
        return [np.int64(min(max(v, -(2**63)), 2**63 - 1)) for v in values]
    dtype = draw(st.sampled_from(ANY_DTYPE))
    a = np.array(values, dtype=object)
    if dtype.kind in "iub":
        info = np.iinfo(dtype) if dtype.kind != "b" else None
        a = np.array([v if info is None else min(max(v, info.min), info.max) for v in values], dtype=object)
        a = a.astype(dtype)
    elif dtype.kind in "fc":
        with np.errstate(over="ignore"):  # 2**70 in float16: inf
            a = np.array([float(v) for v in values]).astype(dtype)
    return a[None] if kind == "2-D" else a


@pytest.mark.parametrize("cell", list(LAYER_OPS))
@fuzz(data=st.data())
def test_lengths_of_any_kind(cell: str, data: Any) -> None:
    forward, gates = LAYER_OPS[cell]
    N, T, D, H = data.draw(st.integers(0, 3)), data.draw(st.integers(0, 4)), 2, 2
    dtype = data.draw(st.sampled_from(FLOATS))
    x, h0 = make_array((N, T, D), dtype, seed=1), make_array((N, H), dtype, seed=2)
    states = (h0, make_array((N, H), dtype, seed=3)) if cell == "lstm" else (h0,)
    W = (make_array((D, gates * H), dtype, seed=4), make_array((H, gates * H), dtype, seed=5))
    biases = (make_array((gates * H,), dtype),) * (2 if cell == "gru" else 1)
    lengths = _lengths(data.draw, N, T)
    before = snapshot(lengths)
    ok, result = attempt(forward, x, *states, *W, *biases, lengths=lengths)
    assert_unchanged(before, lengths, "lengths")
    if not ok:
        assert result == "lengths", f"names `{result}`"
        return
    if isinstance(lengths, (list, tuple)):  # a list of ints (not bools, not floats)
        assert all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in lengths), lengths
    L = np.array(lengths, dtype=np.int64) if isinstance(lengths, (list, tuple)) else lengths
    assert L.shape == (N,) and L.dtype.kind in "iu" and ((L >= 1) & (L <= T)).all(), f"{lengths!r} was accepted"
    (h, h_n, *_), _ = result
    for n in range(N):
        assert not h[n, L[n] :].any(), "a padded output is not zero"
        np.testing.assert_array_equal(h_n[n], h[n, L[n] - 1])


def _state(draw: Any, want: tuple[int, ...], dtype: np.dtype[Any]) -> Any:
    shape = draw(st.sampled_from([want, want[1:], (*want, 1), want[:-1] + (want[-1] + 1,), (want[0] + 1, *want[1:])]))
    return make_array(shape, draw(st.sampled_from([dtype, dtype, *ANY_DTYPE])), seed=draw(st.integers(0, 9)))


@pytest.mark.parametrize(
    "cls", [nn.RNN, nn.LSTM, nn.GRU, nn.RNNCell, nn.LSTMCell, nn.GRUCell], ids=lambda c: c.__name__
)
@fuzz(data=st.data())
def test_initial_state_nearly_right(cls: type, data: Any) -> None:
    """hx of a shape one axis off, or of another dtype (LSTM: either of (h_0, c_0)), or a tuple of the wrong size."""
    m = cls(2, 3)
    cell = cls in (nn.RNNCell, nn.LSTMCell, nn.GRUCell)
    N = data.draw(st.integers(1, 3))
    x = make_array((N, 2) if cell else (4, N, 2), np.float32)
    want = (N, 3) if cell else (1, N, 3)
    lstm = cls in (nn.LSTM, nn.LSTMCell)
    n = data.draw(st.integers(1, 3)) if lstm else 1
    parts = tuple(_state(data.draw, want, np.dtype(np.float32)) for _ in range(n))
    ok, out = attempt(m, x, parts if lstm else parts[0])
    if not ok:
        assert out.startswith("hx"), f"names `{out}`"
        return
    assert len(parts) == (2 if lstm else 1) and all(p.shape == want and p.dtype == np.float32 for p in parts)
    dx = m.backward(*[np.ones_like(o) for o in leaves(out)])
    assert isinstance(dx, tuple) and len(leaves(dx)) == 1 + len(parts)


MODELS = {
    "Embedding": lambda: nn.Embedding(5, 2),
    "CharRNN": lambda: models.CharRNN(5, 2, 3),
    "RecurrentClassifier": lambda: models.RecurrentClassifier(2, 3, 2, vocab_size=5),
    "BagOfWordsClassifier": lambda: models.BagOfWordsClassifier(5, 2),
}


@pytest.mark.parametrize("name", list(MODELS))
@fuzz(data=st.data())
def test_token_ids_nearly_right(name: str, data: Any) -> None:
    """Ids of 5 tokens with one of -1, 5, 2**63 - 1 (or another int near and far), of any dtype, any shape."""
    m = MODELS[name]()
    shape = data.draw(st.sampled_from([(2, 3), (1, 1), (3,), (2, 2, 2), (0, 3)]))
    ids = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape) % 4 + 1  # valid, no padding id 0
    if ids.size and data.draw(st.booleans()):
        ids.flat[data.draw(st.integers(0, ids.size - 1))] = data.draw(st.sampled_from([-1, 5, 6, 2**31, 2**63 - 1]))
    dtype = data.draw(st.sampled_from([np.dtype(np.int64), *ANY_DTYPE]))
    with np.errstate(all="ignore"):  # the cast to a narrower dtype may wrap: still ids of that dtype
        ids = ids.astype(dtype)
    before = snapshot(ids)
    ok, out = attempt(m, ids)
    assert_unchanged(before, ids, "the ids")
    if ok:
        assert dtype.kind in "iu" and ids.min(initial=0) >= 0 and ids.max(initial=0) < 5, f"{ids!r} was accepted"
        assert m.backward(np.ones_like(out)) is None


@fuzz(data=st.data(), cls=st.sampled_from([nn.RNN, nn.LSTM, nn.GRU]))
def test_packed_sequence_by_hand(data: Any, cls: type) -> None:
    """A PackedSequence with one part changed: batch sizes that grow, miss a row or hold a 0, indices that are
    no permutation, data of another shape or dtype. The library's error, or a packed output that matches it."""
    lengths = np.array(data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    packed = pack_padded_sequence(make_array((len(lengths), 3, 2), np.float32), lengths, True, enforce_sorted=False)
    part = data.draw(st.sampled_from(["data", "batch_sizes", "sorted_indices", "unsorted_indices"]))
    old = getattr(packed, part)
    options: list[Any] = [None, 0, [1], np.zeros(0, np.int64), make_array((2, 2), np.float64)]
    if isinstance(old, np.ndarray) and old.size:
        for delta in (1, -1):
            changed = old.copy()
            changed.flat[data.draw(st.integers(0, old.size - 1))] += delta
            options += [changed, changed.astype(np.float64), old[::-1].copy(), old[:-1].copy(), np.append(old, 1)]
    if part == "data":
        options += [old.astype(np.float64), old[:, :1].copy(), old[None]]
    packed = packed._replace(**{part: data.draw(st.sampled_from(options))})
    ok, out = attempt(cls(2, 3), packed)
    if ok:
        output = out[0]
        assert isinstance(output, PackedSequence) and output.data.shape == (packed.data.shape[0], 3)
        assert np.array_equal(output.batch_sizes, packed.batch_sizes)
