"""Module.load_state_dict: every key, shape and dtype is checked before anything is copied."""

from __future__ import annotations

import re

import numpy as np
import pytest

from scratchnn import nn


def _net() -> nn.Sequential:
    rng = np.random.default_rng(0)
    return nn.Sequential(nn.Linear(3, 4, rng=rng), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2, rng=rng))


def _assert_unchanged(m: nn.Module, before: dict[str, np.ndarray]) -> None:
    after = m.state_dict()
    assert list(after) == list(before)
    for k in before:
        np.testing.assert_array_equal(after[k], before[k], err_msg=k)
        assert after[k].dtype == before[k].dtype


@pytest.mark.parametrize(
    ("key", "value", "error", "match"),
    [
        ("3.weight", np.zeros((4, 2), np.float32), ValueError, r"Invalid shape for `state_dict\['3.weight'\]`"),
        ("3.bias", np.zeros(2, np.int64), TypeError, r"expected a floating array for the float32 parameter"),
        ("3.bias", np.zeros(2, bool), TypeError, r"Received: state_dict\['3.bias'\].dtype=bool"),
        ("3.bias", ["a", "b"], TypeError, r"expected a floating array .* Received: state_dict\['3.bias'\].dtype=<U1"),
        ("1.num_batches_tracked", np.array(2.0), TypeError, r"expected an integer array for the int64 buffer"),
    ],
)
def test_a_bad_value_in_the_last_layer_changes_nothing(key: str, value: object, error: type, match: str) -> None:
    m = _net()
    before = m.state_dict()
    sd = {k: v + 1 if v.dtype.kind == "f" else v for k, v in _net().state_dict().items()}  # all other values new
    sd[key] = value
    with pytest.raises(error, match=match):
        m.load_state_dict(sd)
    _assert_unchanged(m, before)


def test_missing_and_unexpected_keys_change_nothing_and_name_the_keys() -> None:
    m = _net()
    before = m.state_dict()
    sd = {k: v + 1 for k, v in m.state_dict().items() if k != "3.bias"}
    sd["extra"] = np.zeros(1, np.float32)
    with pytest.raises(ValueError, match=re.escape("missing keys ['3.bias'], unexpected keys ['extra']")):
        m.load_state_dict(sd)
    _assert_unchanged(m, before)
    result = m.load_state_dict(sd, strict=False)  # what is there is loaded
    assert result.missing_keys == ["3.bias"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(m.state_dict()["3.weight"], before["3.weight"] + 1)


def test_other_float_widths_and_integer_widths_are_cast_as_torch_copy() -> None:
    m = _net()
    sd = {k: v.astype(np.float64) if v.dtype.kind == "f" else v.astype(np.int32) for k, v in m.state_dict().items()}
    sd["0.weight"] = np.full((4, 3), 1 / 3)
    sd["1.num_batches_tracked"] = np.array(7, np.int32)
    m.load_state_dict(sd)
    state = m.state_dict()
    assert state["0.weight"].dtype == np.float32 and state["0.weight"][0, 0] == np.float32(1 / 3)
    assert state["1.num_batches_tracked"].dtype == np.int64 and state["1.num_batches_tracked"] == 7
    m.load_state_dict({k: v.tolist() if v.ndim else v for k, v in state.items()})  # nested lists load too


def test_loads_in_place() -> None:
    m = nn.Linear(3, 2)
    w = m.weight.data
    m.load_state_dict({"weight": np.ones((2, 3), np.float32), "bias": np.zeros(2, np.float32)})
    assert m.weight.data is w and np.all(w == 1)


@pytest.mark.parametrize("mode,kind", [("no", "str"), (np.array([True, False]), "ndarray"), (None, "NoneType")])
def test_train_takes_a_bool_only(mode: object, kind: str) -> None:
    """Found by fuzzing: bool("no") is True, and bool() of an array raised NumPy's 'truth value is ambiguous'."""
    m = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
    with pytest.raises(TypeError, match=f"^Invalid type for `mode`: expected a bool. Received: mode of type {kind}$"):
        m.train(mode)  # type: ignore[arg-type]
    assert m.training and m[1].training
    assert not m.train(np.bool_(False)).training
