"""``MaskedAutoencoder``: an :class:`Autoencoder` that zeroes a random ``mask_ratio`` of its input features in
training mode and learns to reconstruct them.

    training:  x_hat = decode(encode(where(mask, 0, x))),  mask_ij ~ Bernoulli(mask_ratio) drawn on every forward
    eval:      x_hat = decode(encode(x))

``mask_ratio`` is the fraction ZEROED. The course code's ``mask_prob`` KEPT each feature with that probability
(its name said the opposite of what it did): its mask_prob = 0.25 is mask_ratio = 0.75 here. The features are
masked per sample and per feature, and the survivors are not rescaled (see :mod:`scratchnn.data.corruptions`).
The loss counts every feature (``loss_on='all'``), or only the masked ones (``loss_on='masked'``, as the
masked-image autoencoders of He et al., 2022), whose mask :attr:`loss_mask` gives after each training forward.
This masks input FEATURES of an MLP; the patch-based masked-image autoencoder belongs to the Transformer area.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._validate import check_choice, check_float, invalid_value
from ...data.corruptions import FeatureMask
from .mlp import Autoencoder

__all__ = ["MaskedAutoencoder"]

LOSS_ON = ("all", "masked")


class MaskedAutoencoder(Autoencoder):
    """An MLP autoencoder whose training forward sees its input with a random ``mask_ratio`` of elements zeroed.

    The mask comes from ``rng`` (None: scratchnn's default generator), drawn on every training forward;
    ``backward`` gives the zeroed elements of the clean input a zero gradient (they never reached the
    network). Arguments as :class:`Autoencoder`, plus:

    Args:
        mask_ratio: the probability that an element is zeroed, a float in [0, 1); in (0, 1) with
            ``loss_on='masked'`` (with nothing masked there would be nothing to count).
        loss_on: 'all' (the loss counts every feature) or 'masked' (only the zeroed ones: :meth:`loss` and
            :attr:`loss_mask` follow it; pass ``mask=model.loss_mask`` to a :class:`ReconstructionLoss`).

    Shape:
        input: (N, D);  code: (N, H_L);  output: (N, D);  loss_mask: (N, D) bool or None
    """

    def __init__(
        self,
        input_size: int,
        hidden_sizes: Sequence[int],
        activation: str | None = "relu",
        *,
        mask_ratio: float = 0.75,
        loss_on: str = "all",
        reduction: str = "sum_per_sample",
        dtype: Any = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        mask_ratio = check_float(mask_ratio, "mask_ratio", low=0.0, high=1.0, high_open=True)
        loss_on = check_choice(loss_on, "loss_on", LOSS_ON)
        if loss_on == "masked" and mask_ratio == 0.0:
            raise invalid_value("mask_ratio", "a float in (0, 1) with loss_on='masked' (0 masks nothing)", mask_ratio)
        super().__init__(input_size, hidden_sizes, activation, reduction=reduction, dtype=dtype, rng=rng)
        self.masking = FeatureMask(mask_ratio)
        self.loss_on = loss_on

    @property
    def mask_ratio(self) -> float:
        return self.masking.mask_ratio

    @property
    def mask(self) -> np.ndarray | None:
        """The elements the last forward zeroed (True: zeroed), None after an eval forward.  Shape: (N, D)."""
        return self._mask

    @property
    def loss_mask(self) -> np.ndarray | None:
        """With ``loss_on='masked'``, the last training forward's mask (the loss counts the zeroed elements);
        else None (the loss counts all of them, as after an eval forward)."""
        return self._mask if self.loss_on == "masked" else None

    def _corrupt(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        return self.masking(x, self.rng)  # (N, D), (N, D) bool

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, mask_ratio={self.mask_ratio}, loss_on={self.loss_on!r}"
