"""``DenoisingAutoencoder``: an :class:`Autoencoder` that adds Gaussian noise to its input in training mode.

    training:  x_hat = decode(encode(x + noise_std * eps)),  eps ~ N(0, I) drawn anew on every forward
    eval:      x_hat = decode(encode(x))

and is trained to reconstruct the CLEAN x (Vincent et al., 2008): ``loss(x_hat, x)``, with the clean batch
as the target (``trainer.fit(X, X)`` with a :class:`ReconstructionLoss`, or ``model.loss(X, X)``). Like
``nn.Dropout``, the corruption follows ``.train()`` / ``.eval()``, so evaluation and encoding see clean inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._validate import check_float
from ...data.corruptions import GaussianNoise
from .mlp import Autoencoder

__all__ = ["DenoisingAutoencoder"]


class DenoisingAutoencoder(Autoencoder):
    """An MLP autoencoder whose training forward sees ``x + noise_std * eps``, eps ~ N(0, I).

    The noise comes from ``rng`` (None: scratchnn's default generator), drawn on every training forward and
    kept nowhere: additive noise has d x~ / d x = I, so ``backward`` needs no more than the plain model's.
    Arguments as :class:`Autoencoder`, plus:

    Args:
        noise_std: the noise's standard deviation, a float in [0, inf) (0: a plain autoencoder). The default
            0.5 suits inputs of unit scale (standardized features, pixels in [0, 1]).

    Shape:
        input: (N, D);  code: (N, H_L);  output: (N, D)
    """

    def __init__(
        self,
        input_size: int,
        hidden_sizes: Sequence[int],
        activation: str | None = "relu",
        *,
        noise_std: float = 0.5,
        reduction: str = "sum_per_sample",
        dtype: Any = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        noise_std = check_float(noise_std, "noise_std", low=0.0, finite=True)
        super().__init__(input_size, hidden_sizes, activation, reduction=reduction, dtype=dtype, rng=rng)
        self.noise = GaussianNoise(noise_std)

    @property
    def noise_std(self) -> float:
        return self.noise.std

    def _corrupt(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        return self.noise(x, self.rng), None  # (N, D)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, noise_std={self.noise_std}"
