"""``ConvAutoencoder``: a convolutional autoencoder for images, strided convolutions down to a code vector and
transposed convolutions back up, with the :class:`Autoencoder` interface (encode, decode, loss, corruption).

    encoder: [Conv2d(C_{l-1}, C_l, 3, stride 2, padding 1) - act] x L - Flatten - Linear(C_L h w, code)
    decoder: Linear(code, C_L h w) - act - Unflatten - [ConvTranspose2d(C_l, C_{l-1}, 3, 2, 1, op_l) - act] x L

with no activation after the code or the last transposed convolution (as the MLP autoencoder). Each stride-2
convolution maps a side H to ceil(H / 2); its transposed twin maps ceil(H / 2) back to 2 ceil(H / 2) - 1 + op,
so ``output_padding`` op = 1 for an even H and 0 for an odd one gives back exactly H (28 -> 14 -> 7 -> 14 -> 28).
The input is an image batch (N, C, H, W), not a flattened (N, C H W) one: flatten the pixels for the MLP models
and keep the images for this one. The codes are (N, code) rows, for :func:`scratchnn.analysis.linear_probe`.

Corruption in training mode through the base class's hook: ``noise_std > 0`` adds Gaussian noise (denoising),
``mask_ratio > 0`` then zeroes that fraction of the pixels (masked, per pixel as :class:`MaskedAutoencoder`),
each drawn anew on every training forward from ``rng``; evaluation and :meth:`encode` see clean images.
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
    check_float,
    check_float_dtype,
    check_int,
    invalid_shape,
    invalid_value,
)
from ...data.corruptions import FeatureMask, GaussianNoise
from ...nn.container import Flatten, Sequential
from ...nn.conv import Conv2d
from ...nn.conv_transpose import ConvTranspose2d
from ...nn.linear import Linear
from ...nn.module import Module
from ...ops.pointwise_losses import RECONSTRUCTION_REDUCTIONS
from .masked import LOSS_ON
from .mlp import ACTIVATIONS, Autoencoder, _sizes

__all__ = ["ConvAutoencoder", "Unflatten"]


class Unflatten(Module):
    """Splits axis 1 into ``shape`` (torch's ``nn.Unflatten(1, shape)``): (N, prod(shape)) -> (N, *shape)."""

    def __init__(self, shape: Sequence[int]) -> None:
        super().__init__()
        self.shape = tuple(int(s) for s in shape)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_array(x, "input")
        if x.ndim != 2 or x.shape[1] != int(np.prod(self.shape)):
            raise invalid_shape("input", f"(N, {int(np.prod(self.shape))})", x.shape)
        out = x.reshape(x.shape[0], *self.shape)  # (N, C*h*w) -> (N, C, h, w)
        self._save(x.shape, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        x_shape = self._saved(grad_out)
        return grad_out.reshape(x_shape) if input_grad else None  # (N, C, h, w) -> (N, C*h*w)

    def extra_repr(self) -> str:
        return f"dim=1, unflattened_size={self.shape}"


def _side(value: Any, name: str) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    sizes = _sizes(value, name)
    if len(sizes) != 2:
        raise invalid_value(name, "an int or a pair of ints (H, W)", value)
    return sizes[0], sizes[1]


class ConvAutoencoder(Autoencoder):
    """A convolutional autoencoder: ``forward(x) = decode(encode(corrupt(x)))`` on (N, C, H, W) images.

    Weights get torch's default initialization, drawn from ``rng``. The state dict keys (``encoder.0.weight``,
    ``decoder.3.weight``, ...) are those of a torch module with ``encoder`` and ``decoder`` Sequentials of the
    same layers (``torch.nn.Unflatten(1, (C_L, h, w))`` in the decoder).

    Args:
        in_channels: C of the images (1 for Fashion-MNIST).
        code_size: the code's width.
        channels: output channels of the encoder's stride-2 convolutions (default (32, 64)); the decoder mirrors them.
        input_size: (H, W) of the images, or one int for square ones (default 28).
        activation: as :class:`Autoencoder` ('relu', ..., 'identity' / None).
        noise_std: the training forward's Gaussian noise, a float in [0, inf) (0: none).
        mask_ratio: the fraction of pixels the training forward zeroes, a float in [0, 1) (0: none).
        loss_on: 'all' or 'masked' (only the zeroed pixels count; needs mask_ratio > 0), as MaskedAutoencoder.
        reduction, dtype, rng: as :class:`Autoencoder`.

    Shape:
        input: (N, C, H, W);  code: (N, code_size);  output: (N, C, H, W);  loss_mask: (N, C, H, W) bool or None
    """

    def __init__(
        self,
        in_channels: int = 1,
        code_size: int = 32,
        channels: Sequence[int] = (32, 64),
        input_size: int | Sequence[int] = 28,
        activation: str | None = "relu",
        *,
        noise_std: float = 0.0,
        mask_ratio: float = 0.0,
        loss_on: str = "all",
        reduction: str = "sum_per_sample",
        dtype: Any = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        Module.__init__(self)  # not Autoencoder's: the layers here are convolutions
        self.in_channels = check_int(in_channels, "in_channels", low=1)
        self._code_size = check_int(code_size, "code_size", low=1)
        if isinstance(channels, Sequence) and not isinstance(channels, str) and not channels:
            raise invalid_value("channels", "at least one convolution's channels", channels)
        self.channels = _sizes(channels, "channels")
        H, W = _side(input_size, "input_size")
        self.activation = "identity" if activation is None else check_choice(activation, "activation", (*ACTIVATIONS,))
        noise_std = check_float(noise_std, "noise_std", low=0.0, finite=True)
        mask_ratio = check_float(mask_ratio, "mask_ratio", low=0.0, high=1.0, high_open=True)
        self.loss_on = check_choice(loss_on, "loss_on", LOSS_ON)
        if self.loss_on == "masked" and mask_ratio == 0.0:
            raise invalid_value("mask_ratio", "a float in (0, 1) with loss_on='masked' (0 masks nothing)", mask_ratio)
        self.reduction = check_choice(reduction, "reduction", RECONSTRUCTION_REDUCTIONS)
        dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
        if rng is not None:
            get_rng(rng)  # type check
        self.rng = rng
        self.noise, self.masking = GaussianNoise(noise_std), FeatureMask(mask_ratio)
        self.image_size = (H, W)
        self.input_size = (self.in_channels, H, W)  # type: ignore[assignment]  # an image shape here
        act = ACTIVATIONS[self.activation]

        sides, pads = [(H, W)], []  # the feature maps' sides down the encoder, and the decoder's output_padding
        for _ in self.channels:
            h, w = sides[-1]
            pads.append((1 - h % 2, 1 - w % 2))  # even side: the transposed conv adds the row the conv dropped
            sides.append(((h + 1) // 2, (w + 1) // 2))  # Conv2d(3, stride 2, padding 1): ceil(H / 2)
        h, w = sides[-1]
        chans = [self.in_channels, *self.channels]
        flat = chans[-1] * h * w
        enc: list[Module] = []
        for c_in, c_out in zip(chans, chans[1:]):
            enc.append(Conv2d(c_in, c_out, 3, stride=2, padding=1, dtype=dt, rng=rng))
            if act is not None:
                enc.append(act())
        enc += [Flatten(), Linear(flat, self._code_size, dtype=dt, rng=rng)]  # (N, C_L, h, w) -> (N, code)
        dec: list[Module] = [Linear(self._code_size, flat, dtype=dt, rng=rng)]
        if act is not None:
            dec.append(act())
        dec.append(Unflatten((chans[-1], h, w)))  # (N, C_L*h*w) -> (N, C_L, h, w)
        for i in range(len(self.channels), 0, -1):
            dec.append(
                ConvTranspose2d(
                    chans[i], chans[i - 1], 3, stride=2, padding=1, output_padding=pads[i - 1], dtype=dt, rng=rng
                )
            )  # (N, C_i, h_i, w_i) -> (N, C_{i-1}, h_{i-1}, w_{i-1})
            if i > 1 and act is not None:
                dec.append(act())
        self.encoder = Sequential(*enc)
        self.decoder = Sequential(*dec)
        self._mask: np.ndarray | None = None

    @property
    def code_size(self) -> int:
        return self._code_size

    @property
    def noise_std(self) -> float:
        return self.noise.std

    @property
    def mask_ratio(self) -> float:
        return self.masking.mask_ratio

    @property
    def mask(self) -> np.ndarray | None:
        """The pixels the last forward zeroed (True: zeroed), None after an eval forward or without masking."""
        return self._mask

    @property
    def loss_mask(self) -> np.ndarray | None:
        """With ``loss_on='masked'``, the last training forward's mask; else None (every pixel counts)."""
        return self._mask if self.loss_on == "masked" else None

    def _check(self, x: Any, width: Any, what: str) -> np.ndarray:
        if not isinstance(width, tuple):  # the codes: (N, code_size)
            return super()._check(x, width, what)
        check_array(x, "input")
        if x.ndim != 4 or x.shape[1:] != width:
            raise invalid_shape("input", "(N, {}, {}, {}), images".format(*width), x.shape)
        check_dtype_matches(x, "input", self.encoder[0].weight.dtype, type(self).__name__)
        return x

    def _corrupt(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        if self.noise_std > 0:
            x = self.noise(x, self.rng)  # (N, C, H, W)
        if self.mask_ratio > 0:
            return self.masking(x, self.rng)  # (N, C, H, W), (N, C, H, W) bool
        return x, None

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, code_size={self.code_size}, channels={self.channels}, "
            f"input_size={self.image_size}, activation={self.activation!r}, noise_std={self.noise_std}, "
            f"mask_ratio={self.mask_ratio}, loss_on={self.loss_on!r}"
        )
