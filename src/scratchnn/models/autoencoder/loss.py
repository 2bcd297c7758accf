"""``ReconstructionLoss``: the autoencoders' loss module, (1/N) ||X - X_hat||_F^2 or the mean squared error."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._numerics import quiet_fp
from ..._validate import check_array, check_choice, invalid_shape
from ...nn.module import Module
from ...ops.losses import Loss, upstream_grad
from ...ops.pointwise_losses import RECONSTRUCTION_REDUCTIONS, _check_loss_mask, _reconstruction_loss_checked

__all__ = ["ReconstructionLoss"]


class ReconstructionLoss(Module):
    """Squared reconstruction error of ``input`` (the reconstruction) against ``target`` (the clean input).

    ``reduction='sum_per_sample'`` (default; the course project's): L = (1/N) ||X - X_hat||_F^2, the squared
    error summed over the features of a sample and averaged over the batch. ``reduction='mean'``: torch's
    ``MSELoss()``, the average over all N * D elements: the same minimizer, a loss and gradient D times
    smaller (so a learning rate about D times larger). With a boolean ``mask`` (True: the element counts),
    only the masked elements count: 'sum_per_sample' still divides by N, 'mean' by the number of True
    elements (the mean over the masked features, a masked autoencoder's loss on what it had to fill in).

    Backward: d input = 2 m (input - target) g / Z with Z = N or sum m (see
    :func:`scratchnn.ops.reconstruction_loss`, whose checks this module makes itself, by its own argument
    names); the target and the mask get none. ``backward(grad_out=None)`` as every loss module: None means
    1, else a scalar (a 0-d array of the loss's dtype, or a number).

    Use it as the Trainer's criterion with the inputs as targets (``trainer.fit(X, X)``): a denoising or
    masked autoencoder corrupts its input itself in training mode, so the target stays the clean ``X``.

    Shape:
        input, target, mask: (N, *), the same;  output: scalar
    """

    def __init__(self, reduction: str = "sum_per_sample") -> None:
        super().__init__()
        self.reduction = check_choice(reduction, "reduction", RECONSTRUCTION_REDUCTIONS)

    def forward(self, input: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> Loss:
        check_array(input, "input", finite=True)
        check_array(target, "target", finite=True)
        if target.shape != input.shape:
            raise invalid_shape("target", f"{input.shape} to match the input", target.shape)
        if input.ndim == 0:
            raise invalid_shape("input", "(N, *) with a batch axis", input.shape)
        keep = None if mask is None else _check_loss_mask(mask, input.shape, "the input")
        with quiet_fp():  # an overflow to inf is the loss's value, as in torch
            loss, dx = _reconstruction_loss_checked(
                input, target.astype(input.dtype, copy=False), keep, self.reduction, np.ones((), input.dtype)
            )
        self._save(dx)
        return loss

    # no ``input_grad``: a loss starts the backward pass, and its input (the reconstruction) needs its gradient
    def backward(self, grad_out: Any = None) -> np.ndarray:  # type: ignore[override]
        dx: np.ndarray = self._saved()
        if grad_out is None:
            return dx.copy()
        g = upstream_grad(grad_out, "grad_out", (), dx.dtype)
        with quiet_fp():  # an inf upstream gradient times a zero entry is NaN, as in torch, without a warning
            return np.asarray(dx * g)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
