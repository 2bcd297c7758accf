"""DataLoader: permutations without replacement, batching, validation, and exact mid-epoch resume."""

from __future__ import annotations

import json

import numpy as np
import pytest

import scratchnn
from scratchnn.data import DataLoader


def _data(n: int = 10) -> tuple[np.ndarray, np.ndarray]:
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64) * 7
    return X, y


def _epoch(loader: DataLoader) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(xb.copy(), yb.copy()) for xb, yb in loader]


def test_sequential_batches_and_len() -> None:
    X, y = _data(10)
    loader = DataLoader(X, y, batch_size=4)
    batches = _epoch(loader)
    assert len(loader) == 3 and [len(xb) for xb, _ in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([xb for xb, _ in batches]), X)
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in batches]), y)
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64


def test_drop_last() -> None:
    X, y = _data(10)
    loader = DataLoader(X, y, batch_size=4, shuffle=True, drop_last=True, rng=np.random.default_rng(0))
    batches = _epoch(loader)
    assert len(loader) == 2 and [len(xb) for xb, _ in batches] == [4, 4]
    assert len(np.unique(np.concatenate([yb for _, yb in batches]))) == 8
    assert len(DataLoader(X, y, batch_size=5, drop_last=True)) == 2


def test_each_sample_exactly_once_per_epoch_and_new_order_each_epoch() -> None:
    X, y = _data(50)
    loader = DataLoader(X, y, batch_size=8, shuffle=True, rng=np.random.default_rng(0))
    orders = []
    for _ in range(3):
        batches = _epoch(loader)
        seen_y = np.concatenate([yb for _, yb in batches])
        np.testing.assert_array_equal(np.sort(seen_y), y)  # a permutation: no repeats, none missing
        for xb, yb in batches:  # rows stay paired with their targets
            np.testing.assert_array_equal(xb[:, 0], yb / 7 * 3)
        orders.append(seen_y)
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])
    assert not np.array_equal(orders[0], y)


def test_x_only_and_integer_inputs_keep_dtype() -> None:
    tokens = np.arange(12, dtype=np.int32).reshape(6, 2)
    batches = list(DataLoader(tokens, batch_size=4))
    assert [b.shape for b in batches] == [(4, 2), (2, 2)] and batches[0].dtype == np.int32


def test_default_rng_follows_manual_seed() -> None:
    X, y = _data(20)
    scratchnn.manual_seed(3)
    first = _epoch(DataLoader(X, y, batch_size=20, shuffle=True))[0][1]
    scratchnn.manual_seed(3)
    loader = DataLoader(X, y, batch_size=20, shuffle=True)
    scratchnn.manual_seed(3)  # re-seeding after construction still applies: the generator is looked up per epoch
    np.testing.assert_array_equal(_epoch(loader)[0][1], first)


@pytest.mark.parametrize("json_round_trip", [False, True])
@pytest.mark.parametrize("stop_after", [0, 1, 3, 4])  # batches of epoch 2 consumed before saving (4 = all)
def test_resume_mid_epoch_equals_uninterrupted(json_round_trip: bool, stop_after: int) -> None:
    X, y = _data(30)
    reference = DataLoader(X, y, batch_size=8, shuffle=True, rng=np.random.default_rng(5))
    uninterrupted = [yb for _ in range(4) for _, yb in _epoch(reference)]

    loader = DataLoader(X, y, batch_size=8, shuffle=True, rng=np.random.default_rng(5))
    got = [yb for _, yb in _epoch(loader)]
    it = iter(loader)
    got += [next(it)[1].copy() for _ in range(stop_after)]
    state = loader.state_dict()
    if json_round_trip:
        state = json.loads(json.dumps(state))

    resumed = DataLoader(X, y, batch_size=8, shuffle=True, rng=np.random.default_rng(999))  # a fresh process
    resumed.load_state_dict(state)
    # the first iteration finishes epoch 2 (or starts epoch 3 if epoch 2 was complete); run through epoch 4
    for _ in range(3 if stop_after < 4 else 2):
        got += [yb for _, yb in _epoch(resumed)]
    assert len(got) == len(uninterrupted) == 16 and resumed.epoch == 4
    for a, b in zip(got, uninterrupted):
        np.testing.assert_array_equal(a, b)


def test_resume_with_shared_default_generator() -> None:
    X, y = _data(30)

    def run(interrupt: bool) -> list[np.ndarray]:
        scratchnn.manual_seed(11)
        loader = DataLoader(X, y, batch_size=7, shuffle=True)
        out = []
        it = iter(loader)
        for _ in range(2):
            out.append(next(it)[1].copy())
            scratchnn._config.get_rng().standard_normal(3)  # e.g. dropout drawing from the same generator
        if interrupt:
            loader_state, rng_state = loader.state_dict(), scratchnn.get_rng_state()
            scratchnn.manual_seed(12345)  # a fresh process
            loader = DataLoader(X, y, batch_size=7, shuffle=True)
            scratchnn.set_rng_state(rng_state)
            loader.load_state_dict(loader_state)
            it = iter(loader)
        for yb in it:
            out.append(yb[1].copy())
        out += [yb for _, yb in _epoch(loader)]
        return out

    expected, got = run(False), run(True)
    assert len(expected) == len(got) == 10
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


def test_resume_without_shuffle_skips_yielded_batches() -> None:
    X, y = _data(10)
    loader = DataLoader(X, y, batch_size=3)
    it = iter(loader)
    next(it), next(it)
    resumed = DataLoader(X, y, batch_size=3)
    resumed.load_state_dict(loader.state_dict())
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in resumed]), y[6:])
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in resumed]), y)  # then a whole new epoch


def test_state_from_another_loader_is_rejected() -> None:
    X, y = _data(10)
    state = DataLoader(X, y, batch_size=3).state_dict()
    with pytest.raises(
        ValueError,
        match=r"^Invalid value for `state_dict`: expected the state of a loader with .*'batch_size': 4.* "
        r"\(this one\)\. Received: state_dict=\{.*'batch_size': 3",
    ):
        DataLoader(X, y, batch_size=4).load_state_dict(state)
    del state["rng_state"]
    with pytest.raises(ValueError, match=r"^Invalid value for `state_dict`: expected a DataLoader.state_dict\(\) with "
                       r"the keys \['rng_state'\]\. Received: "):  # fmt: skip
        DataLoader(X, y, batch_size=3).load_state_dict(state)


@pytest.mark.parametrize("rng_state", [{"bit_generator": "Nope", "state": {}}, {"bit_generator": "PCG64"}, 3, "x"])
def test_a_junk_rng_state_is_the_template_error(rng_state: object) -> None:
    """Found by fuzzing: NumPy's own errors (or 'Unknown bit generator') came out of the load, or later of iter()."""
    X, y = _data(10)
    loader = DataLoader(X, y, batch_size=3, shuffle=True, rng=np.random.default_rng(0))
    next(iter(loader))
    state = {**loader.state_dict(), "epoch_rng_state": rng_state}
    fresh = DataLoader(X, y, batch_size=3, shuffle=True, rng=np.random.default_rng(0))
    with pytest.raises((TypeError, ValueError), match=r"^Invalid (type|value) for `state_dict\['epoch_rng_state'\]`: "
                       r"expected None or a NumPy bit generator's state"):  # fmt: skip
        fresh.load_state_dict(state)
    assert fresh.epoch == 0  # unchanged


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (([1, 2, 3],), {}, TypeError, "Invalid type for `X`: expected a numpy.ndarray. Received: X of type list"),
        ((np.zeros((0, 2)),), {}, ValueError, r"Invalid shape for `X`: expected \(N, \*\) with N >= 1 samples"),
        ((np.zeros((4, 2)), np.zeros(3)), {}, ValueError, r"Invalid shape for `y`: expected \(4, \*\) to match X's 4"),
        ((np.zeros((4, 2)),), {"batch_size": 0}, ValueError, "Invalid value for `batch_size`: expected an int >= 1"),
        ((np.zeros((4, 2)),), {"batch_size": 2.0}, TypeError, "Invalid type for `batch_size`"),
        ((np.zeros((4, 2)),), {"batch_size": 5, "drop_last": True}, ValueError, "expected at most 4 .* drop_last=True"),
        ((np.zeros((4, 2)),), {"shuffle": 1}, TypeError, "Invalid type for `shuffle`: expected a bool"),
        ((np.zeros((4, 2)),), {"rng": 0}, TypeError, "Invalid type for `rng`"),
    ],
)
def test_validation(args: tuple[object, ...], kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        DataLoader(*args, **kwargs)
