"""Arguments of the data functions at the edges (found by fuzzing): roots, flags and paths of the wrong kind,
synthetic sizes no array can have, and noise float32 cannot hold. Each is the template error, named."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scratchnn import data

from .fakes import idx_bytes


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


R = np.random.default_rng(0)
BAD: list[tuple[Callable[[], Any], type[Exception], str]] = [
    # Path(3) was Python's "expected str, bytes or os.PathLike object, not int"
    (lambda: data.load_mnist(3, download=False), TypeError,
     "Invalid type for `root`: expected None or a folder (a str or os.PathLike). Received: root of type int"),
    (lambda: data.load_cifar10(b"x", download=False), TypeError,
     "Invalid type for `root`: expected None or a folder (a str or os.PathLike). Received: root of type bytes"),
    # a truthy "no" downloaded
    (lambda: data.load_fashion_mnist("/nonexistent", download="no"), TypeError,
     "Invalid type for `download`: expected a bool. Received: download of type str"),
    (lambda: data.load_mnist("/nonexistent", download=False, flatten=None), TypeError,
     "Invalid type for `flatten`: expected a bool. Received: flatten of type NoneType"),
    (lambda: data.read_idx(None), TypeError,
     "Invalid type for `path`: expected a file (a str or os.PathLike). Received: path of type NoneType"),
    (lambda: data.read_idx("x", magic="0x803"), TypeError,
     "Invalid type for `magic`: expected an int >= 0. Received: magic of type str"),
    # gaussian_mixture checked nothing; make_blobs not its classes; make_bars not its noise
    (lambda: data.gaussian_mixture(5, 2, 0, R), ValueError,
     "Invalid value for `classes`: expected an int >= 1. Received: classes=0"),
    (lambda: data.gaussian_mixture(5, 2, 3, rng=3), TypeError,
     "Invalid type for `rng`: expected a numpy.random.Generator or None. Received: rng=int"),
    (lambda: data.make_blobs(5, 2, 0.1, num_classes=[2], rng=R), TypeError,
     "Invalid type for `num_classes`: expected an int >= 1. Received: num_classes of type list"),
    (lambda: data.make_bars(3, noise=float("nan"), rng=R), ValueError,
     "Invalid value for `noise`: expected a float in [0, inf). Received: noise=nan"),
    # NumPy's "array is too big" / "Maximum allowed dimension exceeded" / MemoryError
    (lambda: data.make_bars(3, size=2**40, rng=R), ValueError,
     "Invalid value for `size`: expected a size whose images fit in memory. Received: size=1099511627776"),
    (lambda: data.make_blobs(2**62, 2, 0.1, rng=R), ValueError,
     "Invalid value for `n`: expected a size whose samples fit in memory. Received: n=4611686018427387904"),
    # 1e200 * noise is inf in float32, with NumPy's overflow warning
    (lambda: data.make_blobs(4, 2, 1e200, rng=R), ValueError,
     "Invalid value for `noise`: expected a value whose samples float32 holds. Received: noise=1e+200"),
]  # fmt: skip


@pytest.mark.parametrize("call,exc,text", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_arguments_are_the_template_error(call: Callable[[], Any], exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=msg(text)):
        call()


def test_read_idx_with_a_good_path_and_checks(tmp_path: Path) -> None:
    path = tmp_path / "a.idx"
    path.write_bytes(idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3)))
    np.testing.assert_array_equal(data.read_idx(str(path), magic=0x00000802), np.arange(6).reshape(2, 3))
    with pytest.raises(TypeError, match=msg("Invalid type for `md5`: expected None or a hex digest (a str). "
                                            "Received: md5 of type bytes")):  # fmt: skip
        data.read_idx(path, md5=b"00")
