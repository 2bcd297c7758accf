"""Normalization and dropout modules against their torch.nn twins (rows of the twin table), plus buffers.

Each row builds ours and torch's with the same arguments on a shape drawn from a seeded generator;
random weights and running statistics go to torch through ``load_state_dict``; ``compare_module``
runs three steps (running statistics evolve) in train and eval mode, float32 and float64.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import torch

from scratchnn import nn
from scratchnn.gradcheck.rows.norm import randomize

from .twins import compare_module, from_torch_state, to_torch_state

Built = tuple[nn.Module, torch.nn.Module, tuple[int, ...]]


@pytest.fixture(autouse=True, scope="module")
def _torch_one_thread() -> Iterator[None]:
    # torch's intra-op pool spinning on a shared 2-core machine makes these tiny kernels ~10x slower
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _int(r: np.random.Generator, low: int, high: int) -> int:
    return int(r.integers(low, high + 1))


def bn1d(r: np.random.Generator, **kw: Any) -> Built:
    C, N = _int(r, 1, 5), _int(r, 2, 6)
    shape = (N, C) if r.random() < 0.5 else (N, C, _int(r, 1, 5))
    return nn.BatchNorm1d(C, **kw), torch.nn.BatchNorm1d(C, **kw), shape


def bn2d(r: np.random.Generator, **kw: Any) -> Built:
    C = _int(r, 1, 5)
    shape = (_int(r, 1, 4), C, _int(r, 2, 5), _int(r, 1, 5))
    return nn.BatchNorm2d(C, **kw), torch.nn.BatchNorm2d(C, **kw), shape


def layer_norm(r: np.random.Generator, **kw: Any) -> Built:
    shape = tuple(_int(r, 1, 5) for _ in range(_int(r, 2, 4)))
    ns = shape[_int(r, 1, len(shape) - 1) :]
    ns = ns if np.prod(ns) > 1 else (*ns[:-1], 3)  # at least two values to normalize
    shape = (*shape[: len(shape) - len(ns)], *ns)
    return nn.LayerNorm(ns, **kw), torch.nn.LayerNorm(ns, **kw), shape


def group_norm(r: np.random.Generator, **kw: Any) -> Built:
    G, per_group = _int(r, 1, 3), _int(r, 1, 3)
    C = G * per_group
    shape = (_int(r, 1, 4), C, *(_int(r, 2, 4) for _ in range(_int(r, 0, 2))))
    if np.prod(shape[2:]) * per_group == 1:
        shape = (*shape, 2)
    return nn.GroupNorm(G, C, **kw), torch.nn.GroupNorm(G, C, **kw), shape


def dropout(r: np.random.Generator, **kw: Any) -> Built:
    return nn.Dropout(**kw), torch.nn.Dropout(**kw), (_int(r, 1, 4), _int(r, 1, 6))


# (id, builder, keyword arguments for both constructors, modes compared)
ROWS: list[tuple[str, Callable[..., Built], dict[str, Any], tuple[bool, ...]]] = [
    ("BatchNorm1d", bn1d, {}, (True, False)),
    ("BatchNorm1d-momentum0.5-eps1e-3", bn1d, {"momentum": 0.5, "eps": 1e-3}, (True, False)),
    ("BatchNorm1d-momentum_None", bn1d, {"momentum": None}, (True, False)),
    ("BatchNorm1d-affine_False", bn1d, {"affine": False}, (True, False)),
    ("BatchNorm1d-bias_False", bn1d, {"bias": False}, (True, False)),
    ("BatchNorm1d-track_running_stats_False", bn1d, {"track_running_stats": False}, (True, False)),
    ("BatchNorm2d", bn2d, {}, (True, False)),
    ("BatchNorm2d-momentum_None", bn2d, {"momentum": None}, (True, False)),
    ("BatchNorm2d-affine_False", bn2d, {"affine": False}, (True, False)),
    ("BatchNorm2d-track_running_stats_False", bn2d, {"track_running_stats": False}, (True, False)),
    ("LayerNorm", layer_norm, {}, (True, False)),
    ("LayerNorm-eps1e-3-bias_False", layer_norm, {"eps": 1e-3, "bias": False}, (True, False)),
    ("LayerNorm-elementwise_affine_False", layer_norm, {"elementwise_affine": False}, (True, False)),
    ("GroupNorm", group_norm, {}, (True, False)),
    ("GroupNorm-affine_False", group_norm, {"affine": False}, (True, False)),
    ("GroupNorm-bias_False-eps1e-3", group_norm, {"bias": False, "eps": 1e-3}, (True, False)),
    ("Dropout", dropout, {"p": 0.4}, (False,)),  # training masks come from different generators
    ("Dropout-p0", dropout, {"p": 0.0}, (True, False)),
]  # fmt: skip
CASES = [(row, train) for row in ROWS for train in row[3]]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("row,train", CASES, ids=[f"{row[0]}-{'train' if t else 'eval'}" for row, t in CASES])
def test_matches_torch(row: Any, train: bool, dtype: Any, seed: int) -> None:
    r = np.random.default_rng(seed)
    _, build, kw, _ = row
    ours, theirs, shape = build(r, **kw)
    if not train and isinstance(ours, (nn.BatchNorm1d, nn.BatchNorm2d)) and not ours.track_running_stats:
        shape = (max(shape[0], 2), *shape[1:])  # batch statistics in eval too: more than one value per channel
    if train and len(shape) == 4 and shape[0] * shape[2] * shape[3] == 1:
        shape = (2, *shape[1:])
    randomize(ours, r)
    x = 2 * r.standard_normal(shape) + 0.5
    compare_module(ours, theirs, [x], dtype=dtype, train=train, steps=3, rng=r)


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("cls", [nn.BatchNorm1d, nn.BatchNorm2d])
def test_running_statistics_after_many_different_batches(cls: Any, momentum: float | None) -> None:
    """Six different batches, no re-synchronisation: buffers stay equal to torch's (compare_module reuses one
    input), then eval mode agrees on a new batch."""
    ours, theirs = cls(3, momentum=momentum).double(), getattr(torch.nn, cls.__name__)(3, momentum=momentum).double()
    r = np.random.default_rng(5)
    shape = (4, 3, 5) if cls is nn.BatchNorm1d else (4, 3, 2, 3)
    for step in range(6):
        x = (step + 1) * r.standard_normal(shape) + step
        np.testing.assert_allclose(ours(x), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12, atol=1e-12)
    for name, b in from_torch_state(theirs.state_dict()).items():
        np.testing.assert_allclose(ours.state_dict()[name], b, rtol=1e-12, atol=1e-14, err_msg=name)
    assert int(ours.num_batches_tracked) == 6 and ours.num_batches_tracked.dtype == np.int64
    ours.eval()
    theirs.eval()
    x = r.standard_normal(shape)
    np.testing.assert_allclose(ours(x), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12, atol=1e-12)


def test_torch_state_dict_loads_into_ours() -> None:
    """The reverse direction: a trained torch BatchNorm2d's state dict, converted to NumPy, loads unchanged."""
    theirs = torch.nn.BatchNorm2d(4)
    torch.nn.init.normal_(theirs.weight)
    for _ in range(3):
        theirs(torch.randn(2, 4, 3, 3) * 3 + 1)
    ours = nn.BatchNorm2d(4)
    ours.load_state_dict(from_torch_state(theirs.state_dict()))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert int(ours.num_batches_tracked) == 3
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(6).standard_normal((2, 4, 3, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(x), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    theirs.load_state_dict(to_torch_state(ours.state_dict()))  # and back


@pytest.mark.parametrize("kw", [{}, {"affine": False}, {"track_running_stats": False}, {"bias": False}])
def test_names_buffers_and_repr_match_torch(kw: dict[str, Any]) -> None:
    for ours, theirs in (
        (nn.BatchNorm1d(3, **kw), torch.nn.BatchNorm1d(3, **kw)),
        (nn.BatchNorm2d(3, momentum=None, **kw), torch.nn.BatchNorm2d(3, momentum=None, **kw)),
    ):
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    for ours, theirs in ((nn.LayerNorm([2, 3]), torch.nn.LayerNorm([2, 3])),
                         (nn.LayerNorm(4, elementwise_affine=False), torch.nn.LayerNorm(4, elementwise_affine=False)),
                         (nn.LayerNorm(4, bias=False), torch.nn.LayerNorm(4, bias=False)),
                         (nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)),
                         (nn.GroupNorm(2, 4, affine=False), torch.nn.GroupNorm(2, 4, affine=False)),
                         (nn.Dropout(0.2), torch.nn.Dropout(0.2))):  # fmt: skip
        assert repr(ours) == repr(theirs)
        assert {k: v.shape for k, v in ours.state_dict().items()} == {
            k: tuple(v.shape) for k, v in theirs.state_dict().items()
        }


def test_untracked_buffers_are_none_and_eval_uses_batch_statistics() -> None:
    m = nn.BatchNorm1d(3, track_running_stats=False).eval()
    assert m.running_mean is None and m.running_var is None and m.num_batches_tracked is None
    x = np.random.default_rng(7).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(m(x).mean(axis=0), 0, atol=1e-6)


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


BAD: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("eps", lambda: nn.BatchNorm1d(3, eps=0), ValueError, "Invalid value for `eps`: expected a float in (0, inf]. "
     "Received: eps=0"),
    ("momentum", lambda: nn.BatchNorm2d(3, momentum=1.5), ValueError,
     "Invalid value for `momentum`: expected a float in [0, 1]. Received: momentum=1.5"),
    ("momentum<0", lambda: nn.BatchNorm1d(3, momentum=-0.1), ValueError,
     "Invalid value for `momentum`: expected a float in [0, 1]. Received: momentum=-0.1"),
    ("num_features", lambda: nn.BatchNorm1d(0), ValueError,
     "Invalid value for `num_features`: expected an int >= 1. Received: num_features=0"),
    ("groups", lambda: nn.GroupNorm(3, 4), ValueError,
     "Invalid value for `num_channels`: expected a multiple of num_groups=3. Received: num_channels=4"),
    ("groupnorm eps", lambda: nn.GroupNorm(2, 4, eps=-1e-5), ValueError,
     "Invalid value for `eps`: expected a float in (0, inf]. Received: eps=-1e-05"),
    ("layernorm eps", lambda: nn.LayerNorm(4, eps=0.0), ValueError,
     "Invalid value for `eps`: expected a float in (0, inf]. Received: eps=0.0"),
    ("normalized_shape", lambda: nn.LayerNorm("4"), TypeError,
     "Invalid type for `normalized_shape`: expected an int or a non-empty tuple of ints. "
     "Received: normalized_shape of type str"),
    ("bn1d channels", lambda: nn.BatchNorm1d(4)(np.zeros((5, 3), np.float32)), ValueError,
     "Invalid shape for `input`: expected (N, 4) or (N, 4, L). Received: input.shape=(5, 3)"),
    ("bn1d rank", lambda: nn.BatchNorm1d(4)(np.zeros((5, 4, 2, 2), np.float32)), ValueError,
     "Invalid shape for `input`: expected (N, 4) or (N, 4, L). Received: input.shape=(5, 4, 2, 2)"),
    ("bn2d channels", lambda: nn.BatchNorm2d(4)(np.zeros((2, 3, 2, 2), np.float32)), ValueError,
     "Invalid shape for `input`: expected (N, 4, H, W). Received: input.shape=(2, 3, 2, 2)"),
    ("layernorm input", lambda: nn.LayerNorm((2, 3))(np.zeros((4, 3, 2), np.float32)), ValueError,
     "Invalid shape for `input`: expected (*, 2, 3). Received: input.shape=(4, 3, 2)"),
    ("groupnorm channels", lambda: nn.GroupNorm(2, 4)(np.zeros((2, 6, 3), np.float32)), ValueError,
     "Invalid shape for `input`: expected (N, 4, *). Received: input.shape=(2, 6, 3)"),
    ("one value per channel", lambda: nn.BatchNorm1d(4)(np.zeros((1, 4), np.float32)), ValueError,
     "Invalid shape for `input`: expected more than one value per channel to compute batch statistics. "
     "Received: input.shape=(1, 4)"),
    ("dtype", lambda: nn.BatchNorm1d(4)(np.zeros((2, 4))), TypeError,
     "Invalid dtype for `input`: expected float32 to match BatchNorm1d's parameters "
     "(cast with x.astype(np.float32) or module.to(np.float64)). Received: input.dtype=float64"),
]  # fmt: skip


@pytest.mark.parametrize("call,exc,text", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_arguments_raise_template(call: Callable[[], Any], exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=msg(text)):
        call()
