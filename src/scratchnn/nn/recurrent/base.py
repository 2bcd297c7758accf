"""``RNNBase``: what nn.RNN, nn.LSTM and nn.GRU share, mirroring torch's ``RNNBase``.

Parameters, by layer k and direction (suffix ``_reverse`` for the backward one), in torch's names,
shapes and order: ``weight_ih_l{k}`` (G*H, in_k), ``weight_hh_l{k}`` (G*H, H), ``bias_ih_l{k}``,
``bias_hh_l{k}`` (G*H,), with G gates in torch's order and in_k = input_size for k = 0, else
H * num_directions; every one drawn from U(-1/sqrt(H), 1/sqrt(H)), as torch.

The layers and directions are a loop over one layer op each (scratchnn.ops.recurrent), which takes
the course's layout: x batch-major (N, T, D), Wx (D, G*H) = weight_ih[perm].T, Wh (H, G*H). The
reverse direction runs the layer op on each sequence reversed within its own length, then reverses
its output back. A PackedSequence becomes a padded batch plus lengths, in the original batch order,
so h0 and h_n need no sorting.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..._config import get_default_dtype, get_rng
from ..._validate import (
    check_array,
    check_bool,
    check_dtype_matches,
    check_float,
    check_float_dtype,
    check_grad,
    check_int,
    invalid_shape,
)
from ..module import Module
from ..parameter import Param, new_array
from ..utils.rnn import PackedSequence
from .sequences import from_batch_major, grad_to_batch_major, reverse, reverse_index, to_batch_major

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """The shared shell of nn.RNN, nn.LSTM and nn.GRU (torch's ``RNNBase``); subclasses run one layer.

    Dropout between layers (``dropout`` > 0, training mode, not after the last layer) is inverted
    dropout with a mask per value drawn from ``rng`` by :meth:`draw_dropout_mask`: override or replace it
    to inject masks (the twin tests give torch the same ones); :attr:`dropout_masks` holds the masks of
    the last forward. Differs from torch: ``dropout`` must be in [0, 1) (as nn.Dropout's ``p``), and a
    sequence needs at least one step.
    """

    _n_states = 1  # the LSTM carries (h, c)

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.mode = mode
        self.input_size = check_int(input_size, "input_size", low=1)
        self.hidden_size = check_int(hidden_size, "hidden_size", low=1)
        self.num_layers = check_int(num_layers, "num_layers", low=1)
        self.bias = check_bool(bias, "bias")
        self.batch_first = check_bool(batch_first, "batch_first")
        self.dropout = check_float(dropout, "dropout", low=0.0, high=1.0, high_open=True)
        self.bidirectional = check_bool(bidirectional, "bidirectional")
        if self.dropout > 0 and self.num_layers == 1:
            warnings.warn(  # torch's warning, word for word
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                UserWarning,
                stacklevel=3,
            )
        self.proj_size = 0
        if rng is not None:
            get_rng(rng)  # type check
        self.rng = rng
        dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
        G, H = GATES[mode] * self.hidden_size, self.hidden_size
        self.num_directions = 2 if self.bidirectional else 1
        sizes = {"input_size": input_size, "hidden_size": hidden_size, "num_layers": num_layers}
        # every parameter's elements in one (untouched) array first: sizes no array or memory can hold (2**70
        # layers, 2**40 units) are the template error, not NumPy's, nor a loop over 2**40 layers
        in_max = max(self.input_size, H * self.num_directions)
        new_array((self.num_layers * self.num_directions, G * (in_max + H + 2)), dt, sizes)
        self._names: list[tuple[str, str, str | None, str | None]] = []  # per (layer, direction): param names
        for k in range(self.num_layers):
            in_k = self.input_size if k == 0 else H * self.num_directions
            for suffix in ("", "_reverse")[: self.num_directions]:
                w_ih, w_hh = f"weight_ih_l{k}{suffix}", f"weight_hh_l{k}{suffix}"
                setattr(self, w_ih, Param(new_array((G, in_k), dt, sizes)))
                setattr(self, w_hh, Param(new_array((G, H), dt, sizes)))
                b_ih = b_hh = None
                if self.bias:
                    b_ih, b_hh = f"bias_ih_l{k}{suffix}", f"bias_hh_l{k}{suffix}"
                    setattr(self, b_ih, Param(new_array((G,), dt, sizes)))
                    setattr(self, b_hh, Param(new_array((G,), dt, sizes)))
                self._names.append((w_ih, w_hh, b_ih, b_hh))
        self.reset_parameters(rng=rng)

    def reset_parameters(self, *, rng: np.random.Generator | None = None) -> None:
        """Every parameter from U(-1/sqrt(H), 1/sqrt(H)), as torch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        r = get_rng(rng if rng is not None else self.rng)
        for p in self.parameters():
            p.data[...] = r.uniform(-bound, bound, size=p.shape)

    def flatten_parameters(self) -> None:
        """A no-op kept for torch code that calls it (cuDNN's contiguous weight buffer)."""

    # ---------------------------------------------------------------- the subclasses' part
    def _layer_forward(
        self, x: np.ndarray, states: tuple[np.ndarray, ...], k: int, lengths: np.ndarray | None
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...], Any]:
        """One layer op in direction-slot k: (h (N, T, H), final states, cache)."""
        raise NotImplementedError

    def _layer_backward(
        self, dh: np.ndarray, dfinal: tuple[np.ndarray | None, ...], cache: Any, k: int
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """Its backward: (dx, gradients of the initial states); accumulates the parameter gradients of slot k."""
        raise NotImplementedError

    def _params(self, k: int) -> tuple[Param, Param, Param | None, Param | None]:
        w_ih, w_hh, b_ih, b_hh = self._names[k]
        return (
            getattr(self, w_ih),
            getattr(self, w_hh),
            None if b_ih is None else getattr(self, b_ih),
            None if b_hh is None else getattr(self, b_hh),
        )

    def _biases(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(bias_ih, bias_hh) of slot k, zeros without bias."""
        _, w_hh, b_ih, b_hh = self._params(k)
        if b_ih is None or b_hh is None:
            zero = np.zeros(w_hh.shape[0], dtype=w_hh.dtype)
            return zero, zero
        return b_ih.data, b_hh.data

    def _accumulate(self, k: int, dw_ih: np.ndarray, dw_hh: np.ndarray, db_ih: np.ndarray, db_hh: np.ndarray) -> None:
        """Add slot k's gradients, in torch's layout, into its parameters (the biases' only with bias)."""
        w_ih, w_hh, b_ih, b_hh = self._params(k)
        w_ih.accumulate_grad(dw_ih)
        w_hh.accumulate_grad(dw_hh)
        if b_ih is not None and b_hh is not None:
            b_ih.accumulate_grad(db_ih)
            b_hh.accumulate_grad(db_hh)

    def draw_dropout_mask(self, layer: int, shape: tuple[int, ...], dtype: np.dtype[Any]) -> np.ndarray:
        """The inverted-dropout mask for the output of ``layer`` (batch-major (N, T, H * num_directions)):
        [u >= p] / (1 - p), u ~ U[0, 1) from ``rng``. Tests replace it to inject a mask."""
        keep = get_rng(self.rng).random(shape) >= self.dropout
        return keep.astype(dtype) * (1 / (1 - self.dropout))

    @property
    def dropout_masks(self) -> list[np.ndarray]:
        """The dropout masks the last forward applied, one per layer but the last ([] when none)."""
        return [] if self._cache is None else list(self._cache["masks"])

    # ---------------------------------------------------------------- forward / backward
    def _check_states(self, hx: Any, N: int, form: str) -> tuple[np.ndarray, ...]:
        """h0 (and c0), each (num_layers * num_directions, N, H); zeros when ``hx`` is None."""
        S, H, dtype = self.num_layers * self.num_directions, self.hidden_size, self.weight_ih_l0.dtype
        if hx is None:
            return tuple(np.zeros((S, N, H), dtype=dtype) for _ in range(self._n_states))
        parts, names = self._split_hx(hx)
        out = []
        for part, name in zip(parts, names):
            check_array(part, name)
            check_dtype_matches(part, name, dtype, type(self).__name__)
            want = (S, H) if form == "unbatched" else (S, N, H)
            if part.shape != want:
                layout = "(num_layers * num_directions, " + ("" if form == "unbatched" else "N, ") + "hidden_size)"
                raise invalid_shape(name, f"{want} = {layout}", part.shape)
            out.append(part[:, None] if form == "unbatched" else part)  # (S, H) -> (S, 1, H)
        return tuple(out)

    # nn.RNN's and nn.GRU's forward and backward (one state); nn.LSTM overrides both for (h, c)
    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:
        output, (h_n,) = self._run(input, hx)
        return output, h_n

    def backward(self, grad_out: Any, grad_h_n: Any = None, *, input_grad: bool = True) -> Any:
        """The input gradient (and hx's, when hx was given), from those of output and h_n (None: zero)."""
        return self._run_backward(grad_out, (grad_h_n,), input_grad)

    def _split_hx(self, hx: Any) -> tuple[tuple[Any, ...], tuple[str, ...]]:
        return (hx,), ("hx",)

    def _run(self, input: Any, hx: Any) -> tuple[Any, tuple[np.ndarray, ...]]:
        """The layers x directions loop; returns (output in the input's form, final states (S, N, H) each)."""
        dtype, owner = self.weight_ih_l0.dtype, type(self).__name__
        x, lengths, form = to_batch_major(
            input, input_size=self.input_size, batch_first=self.batch_first, dtype=dtype, owner=owner
        )
        N, T, _ = x.shape
        states0 = self._check_states(hx, N, form)
        rev = reverse_index(lengths, N, T) if self.bidirectional else None
        caches, masks = [], []
        finals = [np.empty_like(s) for s in states0]  # (S, N, H) each
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(self.num_directions):
                k = layer * self.num_directions + d
                inp = layer_in if d == 0 else reverse(layer_in, rev)
                h, fin, cache = self._layer_forward(inp, tuple(s[k] for s in states0), k, lengths)
                outs.append(h if d == 0 else reverse(h, rev))
                for f_all, f in zip(finals, fin):
                    f_all[k] = f
                caches.append(cache)
            layer_in = outs[0] if len(outs) == 1 else np.concatenate(outs, axis=2)  # (N, T, H * dirs)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                mask = np.asarray(self.draw_dropout_mask(layer, layer_in.shape, layer_in.dtype), dtype=layer_in.dtype)
                if mask.shape != layer_in.shape:  # an injected mask of the wrong shape would broadcast silently
                    raise invalid_shape("dropout mask", f"{layer_in.shape}, layer {layer}'s output", mask.shape)
                masks.append(mask)
                layer_in = layer_in * mask
        out_bt = layer_in  # (N, T, H * num_directions)
        out = from_batch_major(out_bt, form, input, self.batch_first)
        saved = dict(caches=caches, masks=masks, rev=rev, form=form, input=input, hx_given=hx is not None, T=T)
        self._save(saved, out.data if form == "packed" else out)  # grad_out is checked against the output (data)
        if form == "unbatched":
            return out, tuple(f[:, 0] for f in finals)  # (S, 1, H) -> (S, H)
        return out, tuple(finals)

    def _run_backward(self, grad_out: Any, grad_finals: tuple[Any, ...], input_grad: bool) -> Any:
        """Backpropagate through the layers x directions loop; returns dx (and the initial states' gradients)."""
        c = self._saved(grad_out.data if isinstance(grad_out, PackedSequence) else grad_out)  # checks it
        S, H = self.num_layers * self.num_directions, self.hidden_size
        dtype, form = self.weight_ih_l0.dtype, c["form"]
        g = grad_out.data if isinstance(grad_out, PackedSequence) else grad_out
        dout = grad_to_batch_major(g, form, c["input"], self.batch_first, c["T"])  # (N, T, K)
        N = dout.shape[0]
        names = ("grad_h_n", "grad_c_n")
        dfinals = []
        for g_fin, name in zip(grad_finals, names):
            if g_fin is not None:
                g_fin = check_grad(g_fin, name, (S, H) if form == "unbatched" else (S, N, H), dtype)
                g_fin = g_fin[:, None] if form == "unbatched" else g_fin  # (S, H) -> (S, 1, H)
            dfinals.append(g_fin)
        dstates0 = [np.empty((S, N, H), dtype=dtype) for _ in grad_finals]
        d_layer = dout  # gradient of the current layer's output (N, T, K)
        for layer in range(self.num_layers - 1, -1, -1):
            if layer < self.num_layers - 1 and c["masks"]:
                d_layer = d_layer * c["masks"][layer]  # through the dropout after this layer
            d_in: np.ndarray | None = None
            for d in range(self.num_directions):
                k = layer * self.num_directions + d
                dh = d_layer[:, :, d * H : (d + 1) * H]  # (N, T, K) -> (N, T, H)
                dh = np.ascontiguousarray(dh if d == 0 else reverse(dh, c["rev"]))
                dfin = tuple(None if g is None else g[k] for g in dfinals)
                dx, d0 = self._layer_backward(dh, dfin, c["caches"][k], k)
                dx = dx if d == 0 else reverse(dx, c["rev"])
                d_in = dx if d_in is None else d_in + dx
                for all_d0, one in zip(dstates0, d0):
                    all_d0[k] = one
            assert d_in is not None
            d_layer = d_in
        if not input_grad:
            return None
        dx_out = from_batch_major(d_layer, form, c["input"], self.batch_first)
        if not c["hx_given"]:
            return dx_out
        d0s = tuple(s[:, 0] if form == "unbatched" else s for s in dstates0)
        return dx_out, (d0s[0] if len(d0s) == 1 else d0s)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text
