"""``Autoencoder``: a symmetric MLP encoder and decoder, made of ``nn`` modules; the base of the denoising and
masked variants, which corrupt their input in training mode through one hook (:meth:`Autoencoder._corrupt`).

    encoder: Linear(D, H_1) - act - Linear(H_1, H_2) - act - ... - Linear(H_{L-1}, H_L)     (H_L: the code)
    decoder: Linear(H_L, H_{L-1}) - act - ... - act - Linear(H_1, D)

No activation follows the code layer or the output layer, so ``activation=None`` (or 'identity') gives the
linear autoencoder, whose optimum spans the top principal subspace of the data (Baldi and Hornik, 1989).
The state dict keys (``encoder.0.weight``, ``decoder.2.bias``, ...) are those of a torch module with two
``torch.nn.Sequential`` children named ``encoder`` and ``decoder`` holding the same layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._config import get_default_dtype, get_rng
from ..._validate import (
    check_array,
    check_choice,
    check_dtype_matches,
    check_float_dtype,
    check_int,
    invalid_shape,
    invalid_type,
    invalid_value,
)
from ...nn.activation import GELU, LeakyReLU, ReLU, Sigmoid, Tanh
from ...nn.container import Sequential
from ...nn.linear import Linear
from ...nn.module import Module
from ...ops.pointwise_losses import RECONSTRUCTION_REDUCTIONS, reconstruction_loss

__all__ = ["Autoencoder", "ACTIVATIONS"]

ACTIVATIONS: dict[str, type[Module] | None] = {
    "relu": ReLU, "leaky_relu": LeakyReLU, "tanh": Tanh, "sigmoid": Sigmoid, "gelu": GELU, "identity": None,
}  # fmt: skip


def _sizes(value: Any, name: str) -> list[int]:
    if isinstance(value, (int, str, bytes)) or not isinstance(value, Sequence):
        raise invalid_type(name, "a sequence of ints", value)
    if not value:
        raise invalid_value(name, "at least one size (the code's)", value)
    return [check_int(v, f"{name}[i]", low=1) for v in value]


def _mlp(sizes: list[int], activation: type[Module] | None, dtype: Any, rng: np.random.Generator | None) -> Sequential:
    """Linear layers through ``sizes``, ``activation`` between two of them (none after the last)."""
    layers: list[Module] = []
    for i, (d_in, d_out) in enumerate(zip(sizes, sizes[1:])):
        if i and activation is not None:
            layers.append(activation())
        layers.append(Linear(d_in, d_out, dtype=dtype, rng=rng))
    return Sequential(*layers)


class Autoencoder(Module):
    """An MLP autoencoder: ``forward(x) = decode(encode(x))``, trained to reconstruct its input.

    Weights get torch's default Linear initialization, drawn from ``rng``. Subclasses corrupt the input in
    training mode (:class:`DenoisingAutoencoder`, :class:`MaskedAutoencoder`); this one never does, so its
    training and eval forwards are the same.

    Args:
        input_size: D, the number of input features.
        hidden_sizes: the encoder's layer sizes, the last one the code's (H_1, ..., H_L); the decoder mirrors them.
        activation: 'relu', 'leaky_relu', 'tanh', 'sigmoid', 'gelu', or 'identity' / None (a linear autoencoder).
        reduction: of :meth:`loss`: 'sum_per_sample', (1/N) ||X - X_hat||_F^2 (the course's), or 'mean'
            (torch's MSE); see :class:`ReconstructionLoss`, the same loss as a module for the Trainer.
        dtype: parameter dtype (None: scratchnn's default dtype).
        rng: keyword-only; the generator for the initialization and the corruptions (None: scratchnn's
            default generator, see ``scratchnn.manual_seed``).

    Shape:
        input: (N, D);  code: (N, H_L);  output: (N, D)
    """

    def __init__(
        self,
        input_size: int,
        hidden_sizes: Sequence[int],
        activation: str | None = "relu",
        *,
        reduction: str = "sum_per_sample",
        dtype: Any = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_int(input_size, "input_size", low=1)
        self.hidden_sizes = _sizes(hidden_sizes, "hidden_sizes")
        self.activation = "identity" if activation is None else check_choice(activation, "activation", (*ACTIVATIONS,))
        self.reduction = check_choice(reduction, "reduction", RECONSTRUCTION_REDUCTIONS)
        dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
        if rng is not None:
            get_rng(rng)  # type check
        self.rng = rng
        sizes = [self.input_size, *self.hidden_sizes]
        act = ACTIVATIONS[self.activation]
        self.encoder = _mlp(sizes, act, dt, rng)
        self.decoder = _mlp(sizes[::-1], act, dt, rng)
        self._mask: np.ndarray | None = None  # the elements the last training forward zeroed (masking only)

    @property
    def code_size(self) -> int:
        """H_L, the width of the code."""
        return self.hidden_sizes[-1]

    def _check(self, x: Any, width: int, what: str) -> np.ndarray:
        check_array(x, "input")
        if x.ndim != 2 or x.shape[1] != width:
            raise invalid_shape("input", f"(N, {width}), {what}", x.shape)
        check_dtype_matches(x, "input", self.encoder[0].weight.dtype, type(self).__name__)
        return x

    def _corrupt(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The training forward's input and, if elements were zeroed, their mask (True: zeroed): here none."""
        return x, None

    # ---------------------------------------------------------------- Module contract
    def forward(self, x: np.ndarray) -> np.ndarray:
        """decode(encode(corrupt(x))) in training mode, decode(encode(x)) in eval mode."""
        self._check(x, self.input_size, "the input features")
        x_in, mask = self._corrupt(x) if self.training else (x, None)  # (N, D)
        self.__dict__["_mask"] = mask
        out: np.ndarray = self.decoder(self.encoder(x_in))  # (N, D) -> (N, H_L) -> (N, D)
        self._save((mask,), out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """dx with respect to the CLEAN input (None with ``input_grad=False``); each param.grad += its gradient.

        Noise is additive, so dx = d x~; a zeroed element's x did not reach the network, so its dx is 0.
        """
        (mask,) = self._saved(grad_out)
        dcode = self.decoder.backward(grad_out)  # (N, D) -> (N, H_L)
        dx: np.ndarray | None = self.encoder.backward(dcode, input_grad=input_grad)  # (N, H_L) -> (N, D)
        if dx is not None and mask is not None:
            dx = np.where(mask, dx.dtype.type(0), dx)
        return dx

    def encode(self, x: np.ndarray) -> np.ndarray:
        """The code ``encoder(x)`` of a clean ``x`` (never corrupted, in either mode). Backward through it with
        ``model.encoder.backward``: it replaces the cache that ``model.backward`` would use, so that raises
        until the next forward.  Shape: (N, D) -> (N, H_L)."""
        self._check(x, self.input_size, "the input features")
        self.__dict__["_cache"] = None
        code: np.ndarray = self.encoder(x)
        return code

    def decode(self, code: np.ndarray) -> np.ndarray:
        """The reconstruction ``decoder(code)`` (backward: ``model.decoder.backward``, as :meth:`encode`).
        Shape: (N, H_L) -> (N, D)."""
        self._check(code, self.code_size, "codes")
        self.__dict__["_cache"] = None
        out: np.ndarray = self.decoder(code)
        return out

    @property
    def loss_mask(self) -> np.ndarray | None:
        """The elements the reconstruction loss counts for the last forward (True: counts); None: all of them.
        A :class:`MaskedAutoencoder` with ``loss_on='masked'`` returns the mask of its last training forward."""
        return None

    # ---------------------------------------------------------------- the course contract
    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> Any:
        """The reconstruction in eval mode (``y`` None), or ``(loss, grads)`` of one training forward.

        ``y`` is the target: the clean input (``model.loss(X, X)``; a denoising model corrupts X itself).
        loss = the reconstruction loss of ``reduction`` over :attr:`loss_mask`; grads are keyed like
        ``named_parameters()``. The model's mode and its parameters' ``.grad`` are as they were afterwards.
        """
        was_training = self.training
        try:
            if y is None:
                out: np.ndarray = self.eval()(X)
                return out
            x_hat = self.train()(X)
            loss, dx_hat = reconstruction_loss(x_hat, y, mask=self.loss_mask, reduction=self.reduction)
            params = dict(self.named_parameters())
            kept = {name: p.grad for name, p in params.items()}  # swapped out: the caller's sums stay untouched
            for p in params.values():
                p.grad = np.zeros_like(p.data)
            self.backward(dx_hat, input_grad=False)
            grads = {name: p.grad for name, p in params.items()}
            for name, p in params.items():
                p.grad = kept[name]
            return float(loss), grads
        finally:
            self.train(was_training)

    def extra_repr(self) -> str:
        return f"input_size={self.input_size}, hidden_sizes={self.hidden_sizes}, activation={self.activation!r}"
