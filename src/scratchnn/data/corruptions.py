"""Input corruptions for denoising and masked autoencoders: transforms of an array, drawn from an explicit ``rng``.

A corruption is a callable ``corrupt(x, rng)`` that returns a corrupted COPY of ``x`` (the input is never
modified), in x's dtype and shape. It knows nothing about models, so it works on any input of any model: the
autoencoders of :mod:`scratchnn.models` call one in their training forward, and a training loop can call one
on a batch itself (``xb_noisy = GaussianNoise(0.3)(xb, rng)``).

- :class:`GaussianNoise` (denoising): x~ = x + std * eps, eps ~ N(0, I);
- :class:`FeatureMask` (masking): each element zeroed independently with probability ``mask_ratio``, and
  the boolean mask (True: zeroed) returned with the copy, for a loss on the masked elements only.

``mask_ratio`` is the fraction ZEROED. The course's masked autoencoder took ``mask_prob`` and KEPT each
feature with that probability (``x * bernoulli(mask_prob)``): its name said the opposite of what it did,
so its mask_prob = 0.25 is mask_ratio = 0.75 here. As there, the kept features are not rescaled (unlike
inverted dropout, whose 1 / (1 - p) keeps the mean): the decoder sees zeros and learns to fill them in.
"""

from __future__ import annotations

import numpy as np

from .._config import get_rng
from .._numerics import quiet_fp
from .._validate import check_array, check_float

__all__ = ["GaussianNoise", "FeatureMask"]


class GaussianNoise:
    """Additive Gaussian noise: ``x~ = x + std * eps`` with eps ~ N(0, I) of x's shape, drawn in x's dtype.

    d x~ / d x = I, so a model's gradient with respect to its clean input is the gradient with respect to
    the noisy one. ``std = 0`` returns an unchanged copy (and draws nothing).

    Args:
        std: the noise's standard deviation, a float in [0, inf).

    Shape:
        x, output: any shape
    """

    def __init__(self, std: float) -> None:
        self.std = check_float(std, "std", low=0.0, finite=True)

    def __call__(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """The noisy copy of ``x``; the noise comes from ``rng`` (None: scratchnn's default generator)."""
        check_array(x, "x")
        rng = get_rng(rng)
        if self.std == 0.0:
            return x.copy()
        eps = rng.standard_normal(x.shape, dtype=x.dtype)  # drawn in x's dtype: no float64 temporary
        with quiet_fp():  # a huge x plus noise may overflow to inf, as in torch
            eps *= x.dtype.type(self.std)
            eps += x
        return eps

    def __repr__(self) -> str:
        return f"GaussianNoise(std={self.std})"


class FeatureMask:
    """Zero each element independently with probability ``mask_ratio``; return ``(x~, mask)``.

    ``mask`` is a bool array of x's shape, True where the element was ZEROED (the masked elements, the
    ones a masked autoencoder's loss may be restricted to); ``x~ = where(mask, 0, x)``, so
    d x~ / d x = 1 - mask. The fraction zeroed is ``mask_ratio`` in expectation (a Binomial(n, mask_ratio)
    count of n elements), drawn per element and per sample. The mask is drawn in float64 whatever x's dtype,
    so one seed gives one mask for float32 and float64 inputs.

    Args:
        mask_ratio: the probability that an element is zeroed, a float in [0, 1) (1 would zero everything).
            The course's ``mask_prob`` was the probability of KEEPING a feature: mask_ratio = 1 - mask_prob.

    Shape:
        x, x~, mask: any shape, the same
    """

    def __init__(self, mask_ratio: float) -> None:
        self.mask_ratio = check_float(mask_ratio, "mask_ratio", low=0.0, high=1.0, high_open=True)

    def __call__(self, x: np.ndarray, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(x~, mask)`` for ``x``; the mask comes from ``rng`` (None: scratchnn's default generator)."""
        check_array(x, "x")
        mask: np.ndarray = get_rng(rng).random(x.shape) < self.mask_ratio  # (*) bool: True = zeroed
        return np.where(mask, x.dtype.type(0), x), mask

    def __repr__(self) -> str:
        return f"FeatureMask(mask_ratio={self.mask_ratio})"
