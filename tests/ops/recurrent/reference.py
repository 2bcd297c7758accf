"""References for the recurrent layer functions: a Python loop of the step ops, each sequence run alone for
its own length, and torch's nn.RNN / nn.LSTM / nn.GRU on packed sequences.

The state is (h,) for RNN and GRU and (h, c) for LSTM; ``params`` are the weights and biases in the op's order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from scratchnn.gradcheck import split_forward

Arrays = tuple[np.ndarray, ...]


def step_loop(
    step_forward: Callable[..., Any],
    step_backward: Callable[..., Any],
    x: np.ndarray,
    states: Arrays,
    params: Arrays,
    dh: np.ndarray,
    dfinal: Arrays,
    **kwargs: Any,
) -> tuple[np.ndarray, Arrays, Arrays]:
    """(h, final states, gradients (dx, d states0..., d params...)) of T calls of the step op, by its backward."""
    caches, outputs = [], []
    for t in range(x.shape[1]):
        states, cache = split_forward(step_forward(x[:, t], *states, *params, **kwargs))
        caches.append(cache)
        outputs.append(states[0])
    dx = np.zeros_like(x)
    dstates = [d.copy() for d in dfinal]
    dparams = [np.zeros_like(p) for p in params]
    for t in range(x.shape[1] - 1, -1, -1):
        dstates[0] = dstates[0] + dh[:, t]
        grads = step_backward(*dstates, caches[t])
        dx[:, t] = grads[0]
        dstates = list(grads[1 : 1 + len(states)])
        for dp, g in zip(dparams, grads[1 + len(states) :], strict=True):
            dp += g
    h = np.stack(outputs, axis=1) if outputs else np.zeros((x.shape[0], 0, states[0].shape[1]))
    return h, tuple(states), (dx, *dstates, *dparams)


def each_sequence_alone(
    step_forward: Callable[..., Any],
    step_backward: Callable[..., Any],
    x: np.ndarray,
    states: Arrays,
    params: Arrays,
    dh: np.ndarray,
    dfinal: Arrays,
    lengths: Sequence[int],
    **kwargs: Any,
) -> tuple[np.ndarray, Arrays, Arrays]:
    """What a layer with ``lengths`` must give: sequence n run alone through its first lengths[n] steps, zeros in
    h and dx after them, the parameter gradients summed over the sequences."""
    h = np.zeros_like(dh)
    finals = [np.zeros_like(s) for s in states]
    dx, dstates = np.zeros_like(x), [np.zeros_like(s) for s in states]
    dparams = [np.zeros_like(p) for p in params]
    for n, L in enumerate(lengths):
        one = slice(n, n + 1)
        h_n, final_n, grads = step_loop(
            step_forward,
            step_backward,
            x[one, :L],
            tuple(s[one] for s in states),
            params,
            dh[one, :L],
            tuple(d[one] for d in dfinal),
            **kwargs,
        )
        h[one, :L] = h_n
        dx[one, :L] = grads[0]
        for k, s in enumerate(final_n):
            finals[k][one] = s
            dstates[k][one] = grads[1 + k]
        for dp, g in zip(dparams, grads[1 + len(states) :], strict=True):
            dp += g
    return h, tuple(finals), (dx, *dstates, *dparams)


def torch_layer(
    module: torch.nn.Module,
    x: np.ndarray,
    states: Arrays,
    dh: np.ndarray,
    dfinal: Arrays,
    lengths: Sequence[int] | None,
) -> tuple[np.ndarray, Arrays, Arrays, dict[str, np.ndarray]]:
    """torch's (h, final states, (dx, d states0...), parameter gradients by name) for a batch_first float64 module,
    through pack_padded_sequence / pad_packed_sequence when ``lengths`` is given."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    ts = [torch.from_numpy(s.copy())[None].requires_grad_(True) for s in states]  # (1, N, H): one layer
    inp: Any = tx if lengths is None else pack_padded_sequence(tx, torch.tensor(lengths), True, False)
    out, finals = module(inp, ts[0] if len(ts) == 1 else tuple(ts))
    if lengths is not None:
        out = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]
    finals = (finals,) if isinstance(finals, torch.Tensor) else finals
    loss = (out * torch.from_numpy(dh)).sum()
    for f, d in zip(finals, dfinal, strict=True):
        loss = loss + (f * torch.from_numpy(d)).sum()
    module.zero_grad()
    loss.backward()
    grads = (tx.grad.numpy(), *(s.grad[0].numpy() for s in ts))  # type: ignore[union-attr]
    pgrads = {name: p.grad.numpy() for name, p in module.named_parameters()}  # type: ignore[union-attr]
    return out.detach().numpy(), tuple(f[0].detach().numpy() for f in finals), grads, pgrads


def assert_all_close(got: Sequence[np.ndarray], want: Sequence[np.ndarray], rtol: float = 1e-10) -> None:
    """Each pair equal to ``rtol`` relative to the larger array's scale (float64 rounding, not an algorithm)."""
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape, (k, g.shape, w.shape)
        np.testing.assert_allclose(
            g, w, rtol=rtol, atol=rtol * max(1.0, float(np.abs(w).max(initial=0))), err_msg=str(k)
        )
