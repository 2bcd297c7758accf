"""Fashion-MNIST / MNIST loaders: the search order, md5 checks in managed folders, downloads, errors."""

from __future__ import annotations

import dataclasses
import gzip
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from scratchnn.data import DatasetNotFoundError, load_fashion_mnist, load_mnist, mnist

from .fakes import IDX_NAMES, idx_arrays, idx_bytes, md5, use_md5s_of, write_file, write_idx_dataset

CACHE = Path("cache", "scratchnn")


def _check_loaded(out: tuple[np.ndarray, ...], arrays: dict[str, np.ndarray], flatten: bool = False) -> None:
    X_train, y_train, X_test, y_test = out
    n_train, n_test = len(arrays[IDX_NAMES[1]]), len(arrays[IDX_NAMES[3]])
    assert X_train.shape == ((n_train, 784) if flatten else (n_train, 1, 28, 28))
    assert X_test.shape == ((n_test, 784) if flatten else (n_test, 1, 28, 28))
    assert X_train.dtype == X_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int64
    assert X_train.reshape(-1)[:2].tolist() == [1.0, np.float32(0.2)]  # pixels 255 and 51
    np.testing.assert_array_equal(X_train.reshape(n_train, 28, 28) * 255, arrays[IDX_NAMES[0]])
    np.testing.assert_array_equal(X_test.reshape(n_test, 28, 28) * 255, arrays[IDX_NAMES[2]])
    np.testing.assert_array_equal(y_train, arrays[IDX_NAMES[1]])
    np.testing.assert_array_equal(y_test, arrays[IDX_NAMES[3]])


@pytest.mark.parametrize("gz", [True, False, (True, False, False, True)])
def test_load_from_root(tmp_path: Path, rng: np.random.Generator, gz: bool | tuple[bool, ...]) -> None:
    arrays = idx_arrays(rng)
    write_idx_dataset(tmp_path / "mine", arrays, gz)
    _check_loaded(load_fashion_mnist(tmp_path / "mine", download=False), arrays)
    _check_loaded(load_mnist(str(tmp_path / "mine"), download=False, flatten=True), arrays, flatten=True)


def test_root_may_hold_a_dataset_subfolder(tmp_path: Path, rng: np.random.Generator) -> None:
    arrays = idx_arrays(rng)
    write_idx_dataset(tmp_path / "data" / "fashion-mnist", arrays)
    _check_loaded(load_fashion_mnist(tmp_path / "data", download=False), arrays)


def test_scratchnn_data_env(tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch) -> None:
    arrays = idx_arrays(rng)
    write_idx_dataset(tmp_path / "env" / "mnist", arrays, gz=False)
    monkeypatch.setenv("SCRATCHNN_DATA", str(tmp_path / "env"))
    _check_loaded(load_mnist(download=False), arrays)


def test_search_order_env_then_cache_then_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sets = {where: idx_arrays(np.random.default_rng(i)) for i, where in enumerate(("env", "cache", "debian"))}
    spec = mnist.SPECS["fashion-mnist"]
    source = dataclasses.replace(spec.source, system_dirs=(tmp_path / "debian",))
    monkeypatch.setitem(mnist.SPECS, "fashion-mnist", dataclasses.replace(spec, source=source))
    write_idx_dataset(tmp_path / "debian", sets["debian"])
    use_md5s_of(monkeypatch, "fashion-mnist", sets["debian"])
    _check_loaded(load_fashion_mnist(download=False), sets["debian"])
    write_idx_dataset(tmp_path / CACHE / "fashion-mnist", sets["cache"])
    use_md5s_of(monkeypatch, "fashion-mnist", sets["cache"])
    _check_loaded(load_fashion_mnist(download=False), sets["cache"])
    write_idx_dataset(tmp_path / "env" / "fashion-mnist", sets["env"])
    monkeypatch.setenv("SCRATCHNN_DATA", str(tmp_path / "env"))
    _check_loaded(load_fashion_mnist(download=False), sets["env"])


def test_xdg_unset_uses_home_cache(tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME")
    arrays = idx_arrays(rng)
    write_idx_dataset(tmp_path / "home" / ".cache" / "scratchnn" / "mnist", arrays)
    use_md5s_of(monkeypatch, "mnist", arrays)
    _check_loaded(load_mnist(download=False), arrays)


def test_managed_folder_md5_mismatch_names_the_file(tmp_path: Path, rng: np.random.Generator) -> None:
    # the official md5s are in force, and tiny files cannot match them
    write_idx_dataset(tmp_path / CACHE / "mnist", idx_arrays(rng))
    path = tmp_path / CACHE / "mnist" / "train-images-idx3-ubyte.gz"
    with pytest.raises(
        ValueError, match=re.escape(str(path)) + r": the content's md5 is \w+, not the expected 6bbc9ace"
    ):
        load_mnist(download=False)


def test_recompressed_copy_in_system_folder_passes_on_content_md5(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Debian's dataset-fashion-mnist recompressed the .gz files: their md5s differ from the mirror's,
    # their content does not
    arrays = idx_arrays(rng)
    use_md5s_of(monkeypatch, "fashion-mnist", arrays)
    spec = mnist.SPECS["fashion-mnist"]
    source = dataclasses.replace(spec.source, system_dirs=(tmp_path / "debian",))
    monkeypatch.setitem(mnist.SPECS, "fashion-mnist", dataclasses.replace(spec, source=source))
    (tmp_path / "debian").mkdir()
    for name in IDX_NAMES:
        data = gzip.compress(idx_bytes(arrays[name]), compresslevel=1, mtime=12345)
        assert md5(data) not in [f.gz_md5 for f in spec.files]
        (tmp_path / "debian" / f"{name}.gz").write_bytes(data)
    _check_loaded(load_fashion_mnist(download=False), arrays)
    changed = dict(arrays, **{IDX_NAMES[3]: (arrays[IDX_NAMES[3]] + 1) % 10})
    write_idx_dataset(tmp_path / "debian", changed)
    path = tmp_path / "debian" / "t10k-labels-idx1-ubyte.gz"
    with pytest.raises(ValueError, match=re.escape(str(path)) + ": the content's md5 is"):
        load_fashion_mnist(download=False)


def test_user_folders_are_not_md5_checked(tmp_path: Path, rng: np.random.Generator) -> None:
    arrays = idx_arrays(rng)
    write_idx_dataset(tmp_path, arrays)  # official md5s in force, yet a user's own folder loads
    _check_loaded(load_mnist(tmp_path, download=False), arrays)


def test_image_label_count_mismatch_names_both_files(tmp_path: Path, rng: np.random.Generator) -> None:
    arrays = idx_arrays(rng)
    arrays[IDX_NAMES[3]] = arrays[IDX_NAMES[3]][:2]
    write_idx_dataset(tmp_path, arrays)
    images, labels = tmp_path / "t10k-images-idx3-ubyte.gz", tmp_path / "t10k-labels-idx1-ubyte.gz"
    msg = re.escape(f"{images} holds 3 images but {labels} holds 2 labels")
    with pytest.raises(ValueError, match=msg):
        load_fashion_mnist(tmp_path, download=False)


def test_label_out_of_range(tmp_path: Path, rng: np.random.Generator) -> None:
    arrays = idx_arrays(rng)
    arrays[IDX_NAMES[1]][2] = 10
    write_idx_dataset(tmp_path, arrays)
    with pytest.raises(ValueError, match=re.escape(str(tmp_path / "train-labels-idx1-ubyte.gz")) + ".*found 10"):
        load_fashion_mnist(tmp_path, download=False)


def test_corrupt_file_in_dataset_is_named(tmp_path: Path, rng: np.random.Generator) -> None:
    write_idx_dataset(tmp_path, idx_arrays(rng))
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(ValueError, match=re.escape(str(path)) + ": not a valid gzip file"):
        load_fashion_mnist(tmp_path, download=False)


def test_not_found_message_lists_places_files_and_remedies(tmp_path: Path, rng: np.random.Generator) -> None:
    arrays = idx_arrays(rng)
    write_file(tmp_path / CACHE / "fashion-mnist" / IDX_NAMES[0], idx_bytes(arrays[IDX_NAMES[0]]), gz=True)
    with pytest.raises(DatasetNotFoundError) as info:
        load_fashion_mnist(download=False)
    msg = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert "$SCRATCHNN_DATA/fashion-mnist: skipped, SCRATCHNN_DATA is not set" in msg
    assert (
        f"{tmp_path / CACHE / 'fashion-mnist'}: missing train-labels-idx1-ubyte[.gz], "
        "t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]" in msg
    )
    assert f"{tmp_path / 'nowhere' / 'debian'}: no such folder" in msg
    assert "download=False" in msg
    for name in IDX_NAMES:
        assert f"{name}.gz" in msg
    assert "set SCRATCHNN_DATA" in msg
    assert "apt-get install dataset-fashion-mnist" in msg
    with pytest.raises(DatasetNotFoundError, match="MNIST was not found") as info:
        load_mnist(download=False)
    assert "apt-get" not in str(info.value)  # no Debian package for MNIST


def test_download_into_cache(tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch) -> None:
    arrays = idx_arrays(rng)
    mirror = tmp_path / "nowhere" / "mirror"
    mirror.mkdir(parents=True)
    for name in IDX_NAMES:
        (mirror / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(arrays[name]), mtime=0))
    use_md5s_of(monkeypatch, "fashion-mnist", arrays)
    # one file is already in the cache, uncompressed: only the other three are fetched
    write_file(tmp_path / CACHE / "fashion-mnist" / IDX_NAMES[3], idx_bytes(arrays[IDX_NAMES[3]]), gz=False)
    _check_loaded(load_fashion_mnist(), arrays)
    cached = sorted(p.name for p in (tmp_path / CACHE / "fashion-mnist").iterdir())
    assert cached == sorted([f"{n}.gz" for n in IDX_NAMES[:3]] + [IDX_NAMES[3]])
    shutil.rmtree(mirror)  # now served from the cache
    _check_loaded(load_fashion_mnist(download=False), arrays)


def test_failed_download_raises_not_found_with_cause(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match=r"(?s)Downloading from file://.*failed: Could not download"):
        load_mnist()
    assert not (tmp_path / CACHE).exists() and not (tmp_path / "cache").exists()  # no empty folders left behind


def test_failed_download_into_a_folder_removes_what_it_wrote_and_nothing_else(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrays = idx_arrays(rng)
    use_md5s_of(monkeypatch, "mnist", arrays)
    mirror = tmp_path / "nowhere" / "mirror"
    mirror.mkdir(parents=True)  # one file of four: it is fetched, then the download of the second fails
    (mirror / f"{IDX_NAMES[0]}.gz").write_bytes(gzip.compress(idx_bytes(arrays[IDX_NAMES[0]]), mtime=0))
    mine = tmp_path / "mine"
    (mine / "notes").mkdir(parents=True)
    (mine / "notes" / "todo.txt").write_text("mine")
    with pytest.raises(DatasetNotFoundError, match=f"Could not download file://.*{IDX_NAMES[1]}"):
        load_mnist(mine)
    assert sorted(str(p.relative_to(mine)) for p in mine.rglob("*")) == ["notes", "notes/todo.txt"]


def test_download_checksum_mismatch_is_reported(tmp_path: Path, rng: np.random.Generator) -> None:
    arrays = idx_arrays(rng)
    write_idx_dataset(tmp_path / "nowhere" / "mirror", arrays)  # not the official files: md5 mismatch
    with pytest.raises(DatasetNotFoundError, match=r"(?s)failed: Checksum mismatch for file://.*train-images"):
        load_mnist()
    assert not (tmp_path / CACHE).exists()  # the folders the download made are gone again
