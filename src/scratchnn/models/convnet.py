"""``ConvNet``: a configurable image classifier of conv - BatchNorm - ReLU - pool blocks, made of ``nn`` modules.

    features:   [Conv2d(k x k, 'same') - BatchNorm2d - ReLU - MaxPool2d(2)] per entry of ``channels``
    classifier: Flatten - Dropout - [Linear - ReLU - Dropout] per entry of ``hidden`` - Linear

Its state dict keys (``features.0.weight``, ``features.1.running_mean``, ``classifier.2.weight``, ...)
are those of the same layers in a ``torch.nn.Sequential`` of two ``Sequential`` children named
``features`` and ``classifier``, so weights move between the two unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._config import get_default_dtype
from .._validate import (
    check_array,
    check_bool,
    check_choice,
    check_float,
    check_float_dtype,
    check_int,
    invalid_shape,
    invalid_type,
    invalid_value,
)
from ..nn.activation import ReLU
from ..nn.container import Flatten, Sequential
from ..nn.conv import Conv2d
from ..nn.dropout import Dropout
from ..nn.linear import Linear
from ..nn.module import Module
from ..nn.normalization import BatchNorm2d
from ..nn.pooling import AvgPool2d, MaxPool2d

__all__ = ["ConvNet"]


def _int_list(value: Any, name: str, *, allow_empty: bool) -> list[int]:
    if isinstance(value, (int, str)) or not isinstance(value, Sequence):
        raise invalid_type(name, "a sequence of ints", value)
    if not value and not allow_empty:
        raise invalid_value(name, "at least one entry", value)
    return [check_int(v, f"{name}[i]", low=1) for v in value]


class ConvNet(Module):
    """Conv - BN - ReLU - pool blocks and a dropout-regularized linear classifier (Fashion-MNIST by default).

    Each block keeps the spatial size through its convolution (stride 1, padding kernel_size // 2)
    and halves it (floor) in its 2x2 pool. The convolutions have no bias when BatchNorm follows them
    (BatchNorm's shift makes it redundant, as in torchvision's networks). Weights get torch's default
    initialization (each layer's own), drawn from ``rng``.

    Args:
        in_channels: C of the input images (1 for Fashion-MNIST).
        num_classes: number of classes.
        channels: output channels of each block, e.g. (32, 64).
        input_size: (H, W) of the input images, for the classifier's input size.
        kernel_size: odd side of the square convolution kernels.
        hidden: sizes of hidden Linear - ReLU - Dropout layers before the last Linear (may be empty).
        dropout: drop probability before each Linear layer (0: Dropout layers that do nothing).
        batchnorm: a BatchNorm2d after each convolution.
        pool: 'max' or 'avg' (2x2, stride 2).
        dtype: parameter dtype (None: scratchnn's default dtype).
        rng: keyword-only; the generator for the initialization and the dropout masks
            (None: scratchnn's default generator, see ``scratchnn.manual_seed``).

    Shape:
        input: (N, in_channels, H, W);  output: (N, num_classes)
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        channels: Sequence[int] = (32, 64),
        input_size: Sequence[int] = (28, 28),
        kernel_size: int = 3,
        hidden: Sequence[int] = (),
        dropout: float = 0.25,
        batchnorm: bool = True,
        pool: str = "max",
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        c_in = check_int(in_channels, "in_channels", low=1)
        self.num_classes = check_int(num_classes, "num_classes", low=1)
        self.channels = _int_list(channels, "channels", allow_empty=False)
        size = _int_list(input_size, "input_size", allow_empty=False)
        if len(size) != 2:
            raise invalid_value("input_size", "a pair (H, W)", input_size)
        self.kernel_size = check_int(kernel_size, "kernel_size", low=1)
        if self.kernel_size % 2 == 0:
            raise invalid_value("kernel_size", "an odd int (the convolutions keep the size)", kernel_size)
        self.hidden = _int_list(hidden, "hidden", allow_empty=True)
        self.dropout = check_float(dropout, "dropout", low=0.0, high=1.0, high_open=True)
        self.batchnorm = check_bool(batchnorm, "batchnorm")
        self.pool = check_choice(pool, "pool", ("max", "avg"))
        dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
        self.in_channels, self.input_size = c_in, (size[0], size[1])
        H, W = self.input_size
        blocks: list[Module] = []
        for c_out in self.channels:
            if H < 2 or W < 2:
                raise invalid_value(
                    "channels", f"at most as many blocks as 2x2 pools fit in input_size={input_size}", channels
                )
            blocks.append(
                Conv2d(
                    c_in,
                    c_out,
                    self.kernel_size,
                    padding=self.kernel_size // 2,
                    bias=not self.batchnorm,
                    dtype=dt,
                    rng=rng,
                )
            )
            if self.batchnorm:
                blocks.append(BatchNorm2d(c_out, dtype=dt))
            blocks += [ReLU(), MaxPool2d(2) if self.pool == "max" else AvgPool2d(2)]
            c_in, H, W = c_out, H // 2, W // 2
        self.features = Sequential(*blocks)
        layers: list[Module] = [Flatten()]
        width = c_in * H * W  # (N, C_last, H_last, W_last) -> (N, C_last * H_last * W_last)
        for h in self.hidden:
            layers += [Dropout(self.dropout, rng=rng), Linear(width, h, dtype=dt, rng=rng), ReLU()]
            width = h
        layers += [Dropout(self.dropout, rng=rng), Linear(width, self.num_classes, dtype=dt, rng=rng)]
        self.classifier = Sequential(*layers)

    @property
    def first_conv(self) -> Conv2d:
        """The first convolution (its ``weight`` holds the filters that look at the pixels)."""
        conv = self.features[0]
        assert isinstance(conv, Conv2d)
        return conv

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_array(x, "input")
        if x.ndim != 4 or x.shape[1:] != (self.in_channels, *self.input_size):
            raise invalid_shape(
                "input", f"(N, {self.in_channels}, {self.input_size[0]}, {self.input_size[1]})", x.shape
            )
        scores: np.ndarray = self.classifier(self.features(x))  # (N, C, H, W) -> (N, num_classes)
        self._save(True, scores)
        return scores

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """dx (None with ``input_grad=False``: the first conv skips it); each param.grad += its gradient."""
        self._saved(grad_out)
        dfeatures = self.classifier.backward(grad_out)
        dx: np.ndarray | None = self.features.backward(dfeatures, input_grad=input_grad)  # the features see our input
        return dx

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, num_classes={self.num_classes}, channels={self.channels}, "
            f"input_size={self.input_size}, hidden={self.hidden}, dropout={self.dropout}"
        )
