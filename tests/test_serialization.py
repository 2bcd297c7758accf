"""scratchnn.save / load: nested structures round trip exactly, safely, without pickle."""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

from scratchnn.serialization import load, save
from scratchnn.serialization.tree import Encoder


def _assert_same(a: Any, b: Any) -> None:
    """Equal values AND equal types/dtypes, recursively (== alone would let float32 -> float64 pass)."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
        return
    assert type(a) is type(b) or (isinstance(a, dict) and isinstance(b, dict)), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert type(k) is type(next(kk for kk in b if kk == k))
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, (float, np.floating)) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def _tree(rng: np.random.Generator) -> dict[str, object]:
    return {
        "model": OrderedDict(
            [("fc.weight", rng.standard_normal((3, 4)).astype(np.float32)), ("fc.bias", rng.standard_normal(3))]
        ),
        "optimizer": {
            "state": {
                0: {"step": 7, "exp_avg": rng.standard_normal((3, 4)).astype(np.float32)},
                1: {"step": np.int64(7), "exp_avg": np.zeros(3)},
            },
            "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1], "amsgrad": False, "foreach": None}],
        },
        "scalars": [np.float32(0.1), np.float64(1 / 3), np.int32(-5), np.uint64(2**63 + 1), np.bool_(True)],
        "zero_d": np.array(2.5, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.int64),
        "ints": np.arange(6, dtype=np.int64).reshape(2, 3),
        "mask": np.array([True, False]),
        "non_contiguous": np.arange(12.0).reshape(3, 4)[:, ::2],
        "specials": [float("nan"), float("inf"), -float("inf"), np.float32("nan")],
        "nested": ((1, "two"), [None, {"deep": [np.ones(2, dtype=np.float16)]}]),
        "big_int": 2**100,
        "__ndarray__": "a key that looks like a placeholder tag",
        "single": {"__tuple__": [1, 2]},
        "rng": np.random.default_rng(3).bit_generator.state,
    }


def test_round_trip_nested_structures_dtypes_and_int_keys(tmp_path: Path, rng: np.random.Generator) -> None:
    obj = _tree(rng)
    save(obj, tmp_path / "ck.safetensors")
    back = load(tmp_path / "ck.safetensors")
    _assert_same(obj, back)
    assert back["scalars"][0].dtype == np.float32 and back["scalars"][0] == np.float32(0.1)
    assert back["optimizer"]["state"][0]["exp_avg"].flags.writeable  # optimizers update state in place
    assert isinstance(back["nested"], tuple)
    gen = np.random.default_rng()
    gen.bit_generator.state = back["rng"]
    assert gen.integers(1 << 30) == np.random.default_rng(3).integers(1 << 30)


def test_one_plain_safetensors_file_without_pickle(tmp_path: Path, rng: np.random.Generator) -> None:
    w = rng.standard_normal((2, 3)).astype(np.float32)
    save({"model": {"fc.weight": w}, "epoch": 3}, tmp_path / "ck.safetensors")
    assert os.listdir(tmp_path) == ["ck.safetensors"]
    flat = load_file(str(tmp_path / "ck.safetensors"))  # any safetensors reader sees readable keys
    assert list(flat) == ["model.fc.weight"]
    np.testing.assert_array_equal(flat["model.fc.weight"], w)
    with safe_open(str(tmp_path / "ck.safetensors"), framework="numpy") as f:
        meta = f.metadata()
    assert sorted(meta) == ["format", "sha256", "tree", "version"]
    assert (meta["format"], meta["version"], len(meta["sha256"])) == ("scratchnn", "2", 64)
    assert json.loads(meta["tree"]) == {"model": {"fc.weight": {"__ndarray__": "model.fc.weight"}}, "epoch": 3}
    assert b"pickle" not in (tmp_path / "ck.safetensors").read_bytes()


def save_version_1(obj: Any, path: Path) -> None:
    """What scratchnn.save wrote before format version 2: arrays in ``path``, the structure in a JSON sidecar."""
    enc = Encoder()
    tree = enc.encode(obj, [], "obj")
    save_file(enc.arrays, str(path), metadata={"format": "scratchnn", "id": "0123abcd"})
    header = {"format": "scratchnn", "version": 1, "id": "0123abcd", "tree": tree}
    path.with_suffix(".json").write_text(json.dumps(header) + "\n")


def test_version_1_pairs_still_load_and_an_overwrite_replaces_them(tmp_path: Path, rng: np.random.Generator) -> None:
    obj = _tree(rng)
    path = tmp_path / "old.safetensors"
    save_version_1(obj, path)
    _assert_same(obj, load(path))
    save({"x": np.ones(2)}, path, overwrite=True)
    assert os.listdir(tmp_path) == ["old.safetensors"]  # the stale sidecar is gone
    _assert_same(load(path), {"x": np.ones(2)})
    (tmp_path / "mine.json").write_text("{}")  # a JSON file that is not a sidecar is never removed
    save({"x": np.ones(2)}, tmp_path / "mine.safetensors")
    save({"x": np.ones(2)}, tmp_path / "mine.safetensors", overwrite=True)
    assert (tmp_path / "mine.json").read_text() == "{}"


def test_plain_safetensors_file_loads_as_flat_dict(tmp_path: Path) -> None:
    arrays = {"a": np.arange(3, dtype=np.int32), "b": np.ones((2, 2), dtype=np.float64)}  # stored b first
    save_file(arrays, str(tmp_path / "plain.safetensors"))
    back = load(tmp_path / "plain.safetensors")
    assert list(back) == ["a", "b"]
    _assert_same(arrays, back)


def test_colliding_flat_keys_stay_distinct(tmp_path: Path) -> None:
    obj = {"a.b": np.zeros(2), "a": {"b": np.ones(2)}}
    save(obj, tmp_path / "c.safetensors")
    _assert_same(obj, load(tmp_path / "c.safetensors"))


def test_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "ck.safetensors"
    save({"x": np.zeros(2)}, path)
    before = {p: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(FileExistsError, match="ck.safetensors already exists; pass overwrite=True"):
        save({"x": np.ones(2)}, path)
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == before
    save({"x": np.ones(2)}, path, overwrite=True)
    np.testing.assert_array_equal(load(path)["x"], np.ones(2))


def test_torn_or_half_version_1_pairs_are_refused_naming_the_file(tmp_path: Path) -> None:
    save_version_1({"x": np.zeros(2)}, tmp_path / "a.safetensors")
    save_version_1({"x": np.ones(2)}, tmp_path / "b.safetensors")
    sidecar = json.loads((tmp_path / "b.json").read_text())
    (tmp_path / "a.json").write_text(json.dumps({**sidecar, "id": "other"}))
    with pytest.raises(ValueError, match=r"a\.safetensors', which and its sidecar .*a\.json come from different saves"):
        load(tmp_path / "a.safetensors")
    (tmp_path / "b.json").unlink()
    with pytest.raises(ValueError, match=r"b\.safetensors', which is half of .* JSON sidecar .*b\.json is missing"):
        load(tmp_path / "b.safetensors")


def test_objects_without_arrays_and_empty_containers(tmp_path: Path) -> None:
    for i, obj in enumerate([{}, [], None, {"a": [], "b": {}, "c": ()}, "text"]):
        save(obj, tmp_path / f"{i}.safetensors")
        _assert_same(load(tmp_path / f"{i}.safetensors"), obj)


@pytest.mark.parametrize("bad", ["ck.pt", "ck.json", "ck"])
def test_path_must_end_in_safetensors(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match=r"Invalid value for `path`: expected a file name ending in '\.safetensors'"):
        save({}, tmp_path / bad)
    with pytest.raises(ValueError, match="Invalid value for `path`"):
        load(tmp_path / bad)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("obj", "match"),
    [
        ({"a": {1, 2}}, r"Invalid type for `obj\['a'\]`: expected dicts, lists"),
        ({"a": [np.array(["s"])]}, r"Invalid type for `obj\['a'\]\[0\]`: expected arrays of dtype"),
        ({"a": np.complex128(1j)}, r"Invalid type for `obj\['a'\]`: expected a NumPy bool, int or float scalar"),
        ({(1, 2): 3}, r"Invalid type for `key of obj`: expected str or int dict keys"),
        (object(), r"Invalid type for `obj`"),
    ],
)
def test_unsupported_objects_raise_before_writing(tmp_path: Path, obj: object, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        save(obj, tmp_path / "x.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_and_file_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save({}, tmp_path / "nope" / "x.safetensors")
    with pytest.raises(FileNotFoundError, match="No such checkpoint file"):
        load(tmp_path / "x.safetensors")
