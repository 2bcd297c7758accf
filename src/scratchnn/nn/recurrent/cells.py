"""``RNNCell``, ``LSTMCell``, ``GRUCell``: one time step, as torch's cells, over the course's step ops.

Parameters ``weight_ih`` (G*H, input_size), ``weight_hh`` (G*H, H), ``bias_ih``, ``bias_hh`` (G*H,) in
torch's gate order, all from U(-1/sqrt(H), 1/sqrt(H)). The input is (N, input_size) or unbatched
(input_size,); hx (N, H) ((H,) unbatched), zeros when None. ``backward`` returns the input gradient, or
``(d_input, d_hx)`` when hx was given (LSTMCell: ``(d_input, (d_h, d_c))``), None with ``input_grad=False``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..._config import get_default_dtype, get_rng
from ..._validate import (
    check_array,
    check_bool,
    check_choice,
    check_dtype_matches,
    check_float_dtype,
    check_grad,
    check_int,
    invalid_shape,
    invalid_type,
)
from ...ops.recurrent import (
    gru_step_backward,
    gru_step_forward,
    lstm_step_backward,
    lstm_step_forward,
    rnn_step_backward,
    rnn_step_forward,
)
from ..module import Module
from ..parameter import Param, new_array
from .lstm import gate_perm
from .rnn import NONLINEARITIES


class _Cell(Module):
    """Parameters, init and the input / state checks the three cells share."""

    _gates = 1

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool, dtype: Any, rng: np.random.Generator | None
    ) -> None:
        super().__init__()
        self.input_size = check_int(input_size, "input_size", low=1)
        self.hidden_size = check_int(hidden_size, "hidden_size", low=1)
        self.bias = check_bool(bias, "bias")
        dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
        G, H = self._gates * self.hidden_size, self.hidden_size
        sizes = {"input_size": input_size, "hidden_size": hidden_size}  # 2**40: the template error, not NumPy's
        self.weight_ih = Param(new_array((G, self.input_size), dt, sizes))
        self.weight_hh = Param(new_array((G, H), dt, sizes))
        self.bias_ih = Param(new_array((G,), dt, sizes)) if self.bias else None
        self.bias_hh = Param(new_array((G,), dt, sizes)) if self.bias else None
        bound = 1.0 / math.sqrt(H)
        r = get_rng(rng)
        for p in self.parameters():
            p.data[...] = r.uniform(-bound, bound, size=p.shape)

    def _biases(self) -> tuple[np.ndarray, np.ndarray]:
        if self.bias_ih is None or self.bias_hh is None:
            zero = np.zeros(self.weight_hh.shape[0], dtype=self.weight_hh.dtype)
            return zero, zero
        return self.bias_ih.data, self.bias_hh.data

    def _accumulate(self, dw_ih: np.ndarray, dw_hh: np.ndarray, db_ih: np.ndarray, db_hh: np.ndarray) -> None:
        self.weight_ih.accumulate_grad(dw_ih)
        self.weight_hh.accumulate_grad(dw_hh)
        if self.bias_ih is not None and self.bias_hh is not None:
            self.bias_ih.accumulate_grad(db_ih)
            self.bias_hh.accumulate_grad(db_hh)

    def _input(self, input: Any) -> tuple[np.ndarray, bool]:
        """(x as (N, input_size), unbatched?)."""
        check_array(input, "input", ndim=(1, 2))
        check_dtype_matches(input, "input", self.weight_ih.dtype, type(self).__name__)
        if input.shape[-1] != self.input_size:
            raise invalid_shape("input", f"(N, {self.input_size}) or ({self.input_size},)", input.shape)
        return (input[None], True) if input.ndim == 1 else (input, False)  # (D,) -> (1, D)

    def _state(self, h: Any, name: str, N: int, unbatched: bool) -> np.ndarray:
        """A state (N, H) ((H,) unbatched); zeros when None."""
        H = self.hidden_size
        if h is None:
            return np.zeros((N, H), dtype=self.weight_ih.dtype)
        check_array(h, name)
        check_dtype_matches(h, name, self.weight_ih.dtype, type(self).__name__)
        want = (H,) if unbatched else (N, H)
        if h.shape != want:
            raise invalid_shape(name, f"{want} (hidden_size={H}) to match input", h.shape)
        return h[None] if unbatched else h  # (H,) -> (1, H)

    def _grad(self, g: Any, name: str, unbatched: bool) -> np.ndarray | None:
        """A state's upstream gradient (None: zero), of the output's shape and dtype, as (N, H)."""
        if g is None:
            return None
        out_shape, dtype = self._out_spec
        g = check_grad(g, name, out_shape, dtype)
        return g[None] if unbatched else g  # (H,) -> (1, H)

    def _result(self, dx: np.ndarray, dstates: tuple[np.ndarray, ...], input_grad: bool) -> Any:
        c = self._saved()
        if not input_grad:
            return None
        unbatched = c["unbatched"]
        dx = dx[0] if unbatched else dx
        if not c["hx_given"]:
            return dx
        ds = tuple(d[0] if unbatched else d for d in dstates)
        return dx, (ds[0] if len(ds) == 1 else ds)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_Cell):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu), as ``torch.nn.RNNCell`` (:func:`rnn_step_forward`).

    Shape:
        input: (N, input_size) or (input_size,);  hx, output: (N, hidden_size) or (hidden_size,)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        nonlinearity = check_choice(nonlinearity, "nonlinearity", NONLINEARITIES)
        super().__init__(input_size, hidden_size, bias, dtype, rng)
        self.nonlinearity = nonlinearity

    def forward(self, input: np.ndarray, hx: np.ndarray | None = None) -> np.ndarray:
        x, unbatched = self._input(input)
        h = self._state(hx, "hx", x.shape[0], unbatched)
        b_ih, b_hh = self._biases()
        out, cache = rnn_step_forward(
            x, h, self.weight_ih.data.T, self.weight_hh.data.T, b_ih + b_hh, nonlinearity=self.nonlinearity
        )  # (N, D) -> (N, H)
        out = out[0] if unbatched else out  # (1, H) -> (H,)
        self._save(dict(op=cache, unbatched=unbatched, hx_given=hx is not None), out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> Any:
        c = self._saved(grad_out)
        g = grad_out[None] if c["unbatched"] else grad_out  # (H,) -> (1, H)
        dx, dh, dWx, dWh, db = rnn_step_backward(g, c["op"])
        self._accumulate(dWx.T, dWh.T, db, db)
        return self._result(dx, (dh,), input_grad)

    def extra_repr(self) -> str:
        return super().extra_repr() + ("" if self.nonlinearity == "tanh" else ", nonlinearity=relu")  # torch's


class LSTMCell(_Cell):
    """One LSTM step, (h', c') from (x, (h, c)), as ``torch.nn.LSTMCell`` (gates i, f, g, o in its weights),
    over :func:`lstm_step_forward` (course order i, f, o, g: the weights' rows are permuted for it).

    ``backward(grad_out, grad_c=None)``: the gradients of h' and c' (None: zero).

    Shape:
        input: (N, input_size) or (input_size,);  h, c, h', c': (N, hidden_size) or (hidden_size,)
    """

    _gates = 4

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, dtype, rng)
        self._perm = gate_perm(self.hidden_size)

    def forward(
        self, input: np.ndarray, hx: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        x, unbatched = self._input(input)
        N = x.shape[0]
        if hx is not None and (not isinstance(hx, tuple) or len(hx) != 2):
            raise invalid_type("hx", "a tuple (h, c) of two numpy.ndarrays, or None", hx)
        h = self._state(None if hx is None else hx[0], "hx[0]", N, unbatched)
        c = self._state(None if hx is None else hx[1], "hx[1]", N, unbatched)
        b_ih, b_hh = self._biases()
        p = self._perm
        h2, c2, cache = lstm_step_forward(
            x, h, c, self.weight_ih.data[p].T, self.weight_hh.data[p].T, (b_ih + b_hh)[p]
        )  # (N, D) -> (N, H), (N, H)
        h2, c2 = (h2[0], c2[0]) if unbatched else (h2, c2)  # (1, H) -> (H,)
        self._save(dict(op=cache, unbatched=unbatched, hx_given=hx is not None, N=N), h2)
        return h2, c2

    def backward(
        self, grad_out: np.ndarray | None, grad_c: np.ndarray | None = None, *, input_grad: bool = True
    ) -> Any:
        """The input gradient (and (h, c)'s, when hx was given) from those of h' (``grad_out``) and c' (None: zero)."""
        c = self._saved()
        N, unbatched = c["N"], c["unbatched"]
        gh = self._grad(grad_out, "grad_out", unbatched)
        gc = self._grad(grad_c, "grad_c", unbatched)
        gh = np.zeros((N, self.hidden_size), dtype=self.weight_ih.dtype) if gh is None else gh
        dx, dh, dc, dWx, dWh, db = lstm_step_backward(gh, gc, c["op"])
        p = self._perm
        self._accumulate(dWx.T[p], dWh.T[p], db[p], db[p])  # back to torch's gate order
        return self._result(dx, (dh, dc), input_grad)


class GRUCell(_Cell):
    """One GRU step, as ``torch.nn.GRUCell`` (gates r, z, n; b_hn inside r * (.)), over :func:`gru_step_forward`.

    Shape:
        input: (N, input_size) or (input_size,);  hx, output: (N, hidden_size) or (hidden_size,)
    """

    _gates = 3

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, dtype, rng)

    def forward(self, input: np.ndarray, hx: np.ndarray | None = None) -> np.ndarray:
        x, unbatched = self._input(input)
        h = self._state(hx, "hx", x.shape[0], unbatched)
        b_ih, b_hh = self._biases()
        out, cache = gru_step_forward(x, h, self.weight_ih.data.T, self.weight_hh.data.T, b_ih, b_hh)  # -> (N, H)
        out = out[0] if unbatched else out  # (1, H) -> (H,)
        self._save(dict(op=cache, unbatched=unbatched, hx_given=hx is not None), out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> Any:
        c = self._saved(grad_out)
        g = grad_out[None] if c["unbatched"] else grad_out  # (H,) -> (1, H)
        dx, dh, dWx, dWh, dbx, dbh = gru_step_backward(g, c["op"])
        self._accumulate(dWx.T, dWh.T, dbx, dbh)
        return self._result(dx, (dh,), input_grad)
