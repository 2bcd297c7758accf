"""The torch twin harness: one call compares a scratchnn module with its torch.nn twin.

Weights go from ours to torch through ``load_state_dict`` (the contract: a state dict is
interchangeable), then for each step both run forward on the same input, get the same random
upstream gradient, and we compare forward output, input gradients, parameter gradients (by name)
and buffers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from scratchnn.nn import Module

TOL = {np.dtype(np.float32): dict(rtol=1e-4, atol=1e-5), np.dtype(np.float64): dict(rtol=1e-7, atol=1e-9)}


def to_torch_state(sd: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(np.array(v, copy=True)) for k, v in sd.items()}


def from_torch_state(sd: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy() for k, v in sd.items()}


def assert_close(ours: Any, theirs: Any, what: str, dtype: np.dtype, scale: float = 1.0) -> None:
    tol = TOL[np.dtype(dtype)]
    t = theirs.detach().cpu().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    o = np.asarray(ours)
    assert o.shape == t.shape, f"{what}: shape {o.shape} != torch {t.shape}"
    np.testing.assert_allclose(o, t, rtol=tol["rtol"] * scale, atol=tol["atol"] * scale, err_msg=what)


def compare_module(
    ours: Module,
    theirs: torch.nn.Module,
    inputs: Sequence[np.ndarray],
    *,
    dtype: Any = np.float64,
    train: bool = True,
    steps: int = 1,
    rng: np.random.Generator | None = None,
    scale: float = 1.0,
) -> None:
    """Assert ours == torch's for forward, input grads, param grads and buffers over ``steps`` calls.

    ``inputs`` are float arrays (cast to ``dtype``) or integer arrays (kept). ``scale`` widens the
    tolerance for ops whose float32 rounding grows with size; a caller that passes it says why.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    dtype = np.dtype(dtype)
    ours.to(dtype)
    theirs.to(torch.float64 if dtype == np.float64 else torch.float32)
    theirs.load_state_dict(to_torch_state(ours.state_dict()))
    ours.train(train)
    theirs.train(train)
    for step in range(steps):
        xs = [x.astype(dtype) if x.dtype.kind == "f" else x for x in inputs]
        txs = [torch.tensor(x, requires_grad=x.dtype.kind == "f") for x in xs]
        ours.zero_grad()
        theirs.zero_grad()
        out = ours(*xs)
        tout = theirs(*txs)
        assert_close(out, tout, f"step {step}: forward", dtype, scale)
        dout = rng.standard_normal(np.shape(out)).astype(dtype)
        dxs = ours.backward(dout)
        tout.backward(torch.tensor(dout))
        dxs = dxs if isinstance(dxs, tuple) else (dxs,)
        for i, (dx, tx) in enumerate(zip(dxs, txs)):
            if tx.requires_grad:
                assert_close(dx, tx.grad, f"step {step}: grad of input {i}", dtype, scale)
        tparams = dict(theirs.named_parameters())
        names = [n for n, _ in ours.named_parameters()]
        assert sorted(names) == sorted(tparams), f"parameter names {names} != torch {list(tparams)}"
        for name, p in ours.named_parameters():
            assert_close(p.grad, tparams[name].grad, f"step {step}: grad of {name}", dtype, scale)
        tbufs = dict(theirs.named_buffers())
        for name, b in ours.named_buffers():
            assert_close(b, tbufs[name], f"step {step}: buffer {name}", dtype, scale)
