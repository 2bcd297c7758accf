"""``scratchnn.data`` under random arrays, arguments, states and dataset files written in a temporary folder.

An argument error is the template error; a dataset that is not there is ``DatasetNotFoundError`` (listing
where it looked), a corrupt file a ``ValueError`` that starts with the file's path (data, not an argument).
A DataLoader yields every sample once per epoch in batches of the documented sizes and resumes exactly;
the synthetic generators give finite arrays of the documented shapes and label ranges.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

from scratchnn import data as sdata
from scratchnn.data import cifar, mnist

from ..data.fakes import CIFAR_BATCHES, IDX_NAMES, idx_bytes
from .props import (
    ANY_DTYPE,
    FLOATS,
    arrays,
    assert_library_error,
    assert_unchanged,
    attempt,
    fuzz,
    junk,
    shapes,
    snapshot,
)

NOT_TRUE = junk().filter(lambda v: not (isinstance(v, (bool, np.bool_)) and v))  # never a download


@pytest.fixture(autouse=True, scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No file of this machine and no mirror: only the files a case writes (as tests/data/conftest.py)."""
    nowhere = tmp_path_factory.mktemp("nowhere")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("SCRATCHNN_DATA", raising=False)
        mp.setenv("XDG_CACHE_HOME", str(nowhere / "cache"))
        for key, spec in list(mnist.SPECS.items()):
            source = dataclasses.replace(spec.source, mirror=(nowhere / "m").as_uri() + "/", system_dirs=())
            mp.setitem(mnist.SPECS, key, dataclasses.replace(spec, source=source))
        mp.setattr(cifar, "SOURCE", dataclasses.replace(cifar.SOURCE, mirror=(nowhere / "m").as_uri() + "/"))
        yield


def assert_data_error(exc: BaseException, folder: Path) -> None:
    """Not found (the documented FileNotFoundError), a corrupt file named by its path, or an argument's error."""
    if isinstance(exc, sdata.DatasetNotFoundError):
        return
    if isinstance(exc, ValueError) and str(exc).startswith(str(folder)):
        return
    assert_library_error(exc)


def _rows(a: np.ndarray) -> list[bytes]:
    return sorted(np.ascontiguousarray(a[i]).tobytes() for i in range(len(a)))


@fuzz(data=st.data())
def test_data_loader(data: Any) -> None:
    X = data.draw(st.one_of(arrays(shapes(1, 3, max_side=5), ANY_DTYPE), junk()))
    y = data.draw(st.one_of(st.none(), arrays(shapes(0, 2, max_side=5), ANY_DTYPE), junk()))
    batch_size = data.draw(st.one_of(st.integers(1, 6), junk()))
    shuffle, drop_last = data.draw(st.one_of(st.booleans(), junk())), data.draw(st.one_of(st.booleans(), junk()))
    rng = data.draw(st.sampled_from([None, np.random.default_rng(3), np.random.default_rng(3)]))
    before = snapshot((X, y))
    ok, loader = attempt(sdata.DataLoader, X, y, batch_size, shuffle, drop_last, rng=rng)
    assert_unchanged(before, (X, y), "X or y")
    if not ok:
        return
    batches = list(loader)
    assert len(batches) == len(loader)
    xs = [b if y is None else b[0] for b in batches]
    for b in batches if y is not None else ():
        assert len(b[0]) == len(b[1]) and b[1].dtype == y.dtype
    assert all(xb.dtype == X.dtype and xb.shape[1:] == X.shape[1:] for xb in xs)
    assert all(len(xb) == batch_size for xb in (xs if drop_last else xs[:-1]))
    seen = sum(len(xb) for xb in xs)
    assert seen == (len(X) // batch_size * batch_size if drop_last else len(X))
    if X.dtype != object and not drop_last:
        assert _rows(np.concatenate(xs)) == _rows(X)  # every sample once
    assert_unchanged(before, (X, y), "X or y")


@fuzz(data=st.data())
def test_data_loader_resumes_or_refuses_a_state(data: Any) -> None:
    X = np.arange(20.0).reshape(10, 2)
    kwargs = {"batch_size": data.draw(st.integers(1, 4)), "shuffle": data.draw(st.booleans())}
    a = sdata.DataLoader(X, **kwargs, rng=np.random.default_rng(0))
    it = iter(a)
    for _ in range(data.draw(st.integers(0, len(a) - 1))):
        next(it)
    sd = a.state_dict()
    modified = data.draw(st.booleans())
    if modified:
        key = data.draw(st.sampled_from(sorted(sd)))
        sd[key] = data.draw(st.one_of(junk(), st.just({"bit_generator": "Nope", "state": {}})))
    b = sdata.DataLoader(X, **kwargs, rng=np.random.default_rng(1))
    ok, _ = attempt(b.load_state_dict, sd)
    assert ok or modified
    rest = list(b) if ok else []
    assert all(len(batch) <= kwargs["batch_size"] for batch in rest)  # no y: each batch is an array
    if not modified:  # exactly the batches the first loader had left
        left = list(it)
        assert len(rest) == len(left) and all(np.array_equal(p, q) for p, q in zip(rest, left, strict=True))


GENERATORS = {
    "make_spirals": {"n_per_class": st.integers(1, 6), "n_classes": st.integers(1, 4), "noise": st.floats(0, 1)},
    "make_blobs": {"n": st.integers(1, 6), "dim": st.integers(1, 4), "noise": st.floats(0, 2),
                   "num_classes": st.integers(1, 4)},
    "gaussian_mixture": {"n": st.integers(1, 6), "dim": st.integers(1, 4), "classes": st.integers(1, 4)},
    "make_bars": {"n": st.integers(1, 6), "size": st.integers(4, 9), "noise": st.floats(0, 1)},
    "make_subspace_gaussian": {"n": st.integers(1, 6), "dim": st.integers(1, 5), "k": st.integers(1, 5),
                               "var_scale": st.floats(1e-3, 1e3)},
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(GENERATORS))
@fuzz(data=st.data())
def test_synthetic_generator(name: str, data: Any) -> None:
    kwargs = {k: data.draw(v) for k, v in GENERATORS[name].items()}
    kwargs["rng"] = np.random.default_rng(data.draw(st.integers(0, 9)))
    if data.draw(st.booleans()):
        kwargs[data.draw(st.sampled_from(sorted(kwargs)))] = data.draw(junk())
    ok, result = attempt(getattr(sdata, name), **kwargs)
    if not ok:
        return
    X, y = result[0], result[1]
    n = X.shape[0]
    classes = {"make_spirals": "n_classes", "make_blobs": "num_classes", "gaussian_mixture": "classes"}.get(name)
    k = 2 if name == "make_subspace_gaussian" else 4 if classes is None else int(kwargs[classes])
    assert X.dtype == np.float32 and np.isfinite(X).all() and y.dtype == np.int64 and y.shape == (n,)
    assert ((y >= 0) & (y < k)).all()


@fuzz(data=st.data())
def test_train_val_split(data: Any) -> None:
    X = data.draw(st.one_of(arrays(shapes(1, 3, max_side=6), FLOATS), junk()))
    y = data.draw(st.one_of(st.just(np.arange(len(X)) if isinstance(X, np.ndarray) and X.ndim else None), junk()))
    val_size = data.draw(st.one_of(st.floats(0.01, 0.99), st.integers(1, 5), junk()))
    ok, parts = attempt(sdata.train_val_split, X, y, val_size, rng=np.random.default_rng(0))
    if ok:
        X_tr, y_tr, X_val, y_val = parts
        assert len(X_tr) + len(X_val) == len(X) and len(X_tr) >= 1 and len(X_val) >= 1
        assert sorted(np.concatenate([y_tr, y_val]).tolist()) == sorted(y.tolist())


@pytest.mark.parametrize("name", ["GaussianNoise", "FeatureMask"])
@fuzz(data=st.data())
def test_corruption(name: str, data: Any) -> None:
    """Any argument, any array: the template error or a corrupted copy of x's shape and dtype, x untouched."""
    arg = data.draw(st.one_of(st.floats(0, 0.99), junk()))
    x = data.draw(st.one_of(arrays(shapes(0, 3, max_side=4), ANY_DTYPE), junk()))
    ok, corrupt = attempt(getattr(sdata, name), arg)
    if not ok:
        return
    before = snapshot(x)
    ok, result = attempt(corrupt, x, np.random.default_rng(data.draw(st.integers(0, 9))))
    assert_unchanged(before, x, "x")
    if ok:
        out = result[0] if name == "FeatureMask" else result
        assert isinstance(out, np.ndarray) and out.shape == x.shape and out.dtype == x.dtype in FLOATS
        assert not np.shares_memory(out, x)
        if name == "FeatureMask":
            assert result[1].dtype == bool and result[1].shape == x.shape and not out[result[1]].any()


def _idx_files(folder: Path, data: Any) -> None:
    """The four IDX files of a tiny (maybe broken) dataset, gzipped or not."""
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    n_train, n_test, side = data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3)), data.draw(st.integers(1, 4))
    arrays_ = [rng.integers(0, 256, (n_train, side, side), np.uint8), rng.integers(0, 10, n_train, np.uint8),
               rng.integers(0, 256, (n_test, side, side), np.uint8), rng.integers(0, 10, n_test, np.uint8)]  # fmt: skip
    for name, arr in zip(IDX_NAMES, arrays_, strict=True):
        raw = idx_bytes(arr)
        damage = data.draw(st.sampled_from(["none"] * 4 + ["truncate", "extend", "magic", "labels", "bytes", "gz"]))
        if damage == "truncate":
            raw = raw[: data.draw(st.integers(0, len(raw)))]
        elif damage == "extend":
            raw += b"\x00" * data.draw(st.integers(1, 9))
        elif damage == "magic":
            raw = bytes([0, 0, data.draw(st.integers(0, 255)), data.draw(st.integers(0, 255))]) + raw[4:]
        elif damage == "labels" and "labels" in name:
            raw = idx_bytes(np.full(arr.shape, 200, np.uint8))
        elif damage == "bytes":
            raw = data.draw(st.binary(max_size=40))
        gz = data.draw(st.booleans())
        payload = gzip.compress(raw)[: None if damage != "gz" else 12] if gz or damage == "gz" else raw
        if data.draw(st.integers(0, 9)):  # sometimes a file is missing
            (folder / (name + (".gz" if gz or damage == "gz" else ""))).write_bytes(payload)


@pytest.mark.parametrize("loader", ["load_fashion_mnist", "load_mnist"])
@fuzz(data=st.data())
def test_idx_dataset_files(loader: str, data: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _idx_files(folder, data)
        flatten = data.draw(st.one_of(st.booleans(), NOT_TRUE))
        try:
            X_tr, y_tr, X_te, y_te = getattr(sdata, loader)(folder, download=False, flatten=flatten)
        except Exception as e:  # noqa: BLE001
            assert_data_error(e, folder)
            return
        for X, y in ((X_tr, y_tr), (X_te, y_te)):
            assert X.dtype == np.float32 and y.dtype == np.int64 and len(X) == len(y)
            assert X.ndim == (2 if flatten else 4) and ((X >= 0) & (X <= 1)).all() and ((y >= 0) & (y <= 9)).all()


@fuzz(data=st.data())
def test_cifar_files(data: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rng = np.random.default_rng(data.draw(st.integers(0, 99)))
        for name in CIFAR_BATCHES:
            n = data.draw(st.integers(0, 2))
            batch: Any = {b"data": rng.integers(0, 256, (n, 3072), np.uint8), b"labels": [int(v) for v in range(n)]}
            damage = data.draw(st.sampled_from(["none"] * 4 + ["labels", "data", "type", "bytes", "global"]))
            if damage == "labels":
                batch[b"labels"] = data.draw(st.sampled_from([[99] * n, "x", None, [1.5] * n, [0] * (n + 1)]))
            elif damage == "data":
                batch[b"data"] = data.draw(st.sampled_from([np.zeros((n, 7)), np.zeros((n, 3072)), "x"]))
            elif damage == "type":
                batch = [1, 2]
            raw = pickle.dumps(batch, protocol=2)
            if damage == "bytes":
                raw = data.draw(st.binary(max_size=60))
            elif damage == "global":
                raw = pickle.dumps(dataclasses.replace)  # a callable global: refused by the restricted unpickler
            (folder / name).write_bytes(raw)
        try:
            X_tr, y_tr, X_te, y_te = sdata.load_cifar10(folder, download=False)
        except Exception as e:  # noqa: BLE001
            assert_data_error(e, folder)
            return
        assert X_tr.dtype == np.float32 and X_tr.shape[1:] == (3, 32, 32) and y_tr.dtype == np.int64


@fuzz(root=junk(), download=NOT_TRUE, name=st.one_of(st.sampled_from(["mnist", "cifar10", "fashion_mnist"]), junk()))
def test_loader_arguments(root: Any, download: Any, name: Any) -> None:
    """root, download and a dataset name of any kind: the template error, or the not-found error."""
    if root is None:
        root = "/nonexistent-scratchnn-fuzz"  # None searches this machine's cache and system folders
    for call in (lambda: sdata.load_mnist(root, download=download), lambda: sdata.load_cifar10(root, download=download),
                 lambda: sdata.ensure_dataset(name, root, download=download)):  # fmt: skip
        try:
            call()
        except Exception as e:  # noqa: BLE001
            assert_data_error(e, Path("/nonexistent-scratchnn-fuzz"))


@fuzz(path=st.one_of(junk(), st.just("/nonexistent-scratchnn-fuzz/x")), magic=junk(), md5=junk())
def test_read_idx_arguments(path: Any, magic: Any, md5: Any) -> None:
    with tempfile.NamedTemporaryFile(suffix=".idx") as f:
        f.write(idx_bytes(np.zeros((2, 3), np.uint8)))
        f.flush()
        for args in ((path,), (f.name,)):
            try:
                out = sdata.read_idx(*args, magic=magic, md5=md5)
            except OSError:  # a str that names no readable file: the operating system's error
                assert args[0] != f.name and isinstance(args[0], (str, os.PathLike))
            except Exception as e:  # noqa: BLE001
                assert_data_error(e, Path(f.name))
            else:
                assert out.shape == (2, 3) and out.dtype == np.uint8
