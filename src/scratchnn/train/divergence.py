"""Divergence: the Trainer stops at the first non-finite loss, gradient or parameter, before a checkpoint holds it.

A learning rate far too large (or an unstable model) used to go on with NaN parameters, a flood of
NumPy ``RuntimeWarning`` s and a confusing error about the logits later on. Now each training step
checks, in order: the forward pass (a layer or the loss that refuses inf or NaN raises
:class:`~scratchnn._validate.NonFiniteError`), the loss, every gradient (before clipping and the
update) and every parameter (after the update); each validation is checked the same way. The first
failure raises :class:`TrainingDiverged`, naming the epoch and the step; nothing after it runs, so
no callback and no checkpoint sees the diverged state (the last checkpoint written stays the last
good one). NaN or inf in the data is refused by ``fit`` before the first step.

Inside the checked step NumPy's floating-point *warnings* are silenced (the check reports instead);
an ``np.errstate`` of ``'raise'`` that the caller set is kept, so code that catches NumPy's own
``FloatingPointError`` at the first overflow still does (``TrainingDiverged`` is one too).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._numerics import quiet_fp
from .._validate import NonFiniteError
from ..nn.module import Module
from ..nn.parameter import Param

__all__ = ["TrainingDiverged", "DivergenceCheck", "quiet_fp"]


class TrainingDiverged(FloatingPointError, ValueError):
    """Training met a non-finite loss, gradient or parameter (or validation loss) and stopped there.

    ``training diverged at epoch 3, step 812 (loss nan; last finite loss 2.4031): lower the learning
    rate or clip gradients``. A ``FloatingPointError``, as NumPy raises under ``np.errstate(all='raise')``,
    and a ``ValueError``, the library's error type (the CLI prints it as one line).

    Attributes: ``epoch`` (1-based, the epoch being trained), ``step`` (1-based, the step that
    failed; for a validation loss, the last step taken), ``what`` (what was not finite) and
    ``last_loss`` (the last finite training loss of this ``fit``, or None).
    """

    def __init__(self, epoch: int, step: int, what: str, last_loss: float | None) -> None:
        last = "" if last_loss is None else f"; last finite loss {last_loss:.6g}"
        super().__init__(
            f"training diverged at epoch {epoch}, step {step} ({what}{last}): lower the learning rate or clip gradients"
        )
        self.epoch, self.step, self.what, self.last_loss = epoch, step, what, last_loss


def _finite(arr: np.ndarray) -> bool:
    return bool(np.isfinite(arr).all())


class DivergenceCheck:
    """The Trainer's checks; :meth:`at` sets the epoch and step that the next messages name.

    ``train_step(..., check=check.at(epoch, step))`` calls :meth:`loss`, :meth:`grads` and
    :meth:`params`; the Trainer calls :meth:`validation` for each epoch's validation loss.
    """

    def __init__(self, model: Module) -> None:
        self.model = model
        self.epoch = self.step = 0
        self.last_loss: float | None = None  # the last finite training loss seen

    def at(self, epoch: int, step: int) -> DivergenceCheck:
        self.epoch, self.step = epoch, step
        return self

    def error(self, what: str) -> TrainingDiverged:
        return TrainingDiverged(self.epoch, self.step, what, self.last_loss)

    def loss(self, loss: float) -> None:
        if not math.isfinite(loss):
            raise self.error(f"loss {loss}")

    def grads(self, params: Sequence[Param], loss: float) -> None:
        """After the backward pass; ``loss`` (finite) becomes the last finite loss once they pass."""
        for p in params:
            if not _finite(p.grad):
                raise self.error(f"loss {loss:.6g}, but the gradient of {self._name(p)} is not finite")
        self.last_loss = loss

    def params(self, params: Sequence[Param]) -> None:
        for p in params:
            if not _finite(p.data):
                raise self.error(f"{self._name(p)} is not finite after the optimizer step")

    def validation(self, evaluate: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``evaluate()`` without NumPy warnings, checked to give a finite loss."""
        try:
            with quiet_fp():
                result = evaluate()
        except NonFiniteError as e:  # the loss refused inf or NaN scores
            raise self.error("inf or NaN in the validation forward pass") from e
        if not math.isfinite(result["loss"]):
            raise self.error(f"validation loss {result['loss']}")
        return result

    def _name(self, p: Param) -> str:
        names = {id(q): name for name, q in self.model.named_parameters()}
        return f"`{names[id(p)]}`" if id(p) in names else "a parameter of the criterion"
