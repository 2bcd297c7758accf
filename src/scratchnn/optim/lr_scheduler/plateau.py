"""``ReduceLROnPlateau``: cut the lr when a monitored metric stops improving, as torch's namesake.

Unlike the epoch-indexed schedules it is driven by a number: ``scheduler.step(val_loss)``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..._validate import check_choice, check_float, check_int, invalid_type, invalid_value
from ..optimizer import Optimizer
from .base import LRScheduler, check_optimizer

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(LRScheduler):
    """Multiply each group's lr by ``factor`` after more than ``patience`` epochs without improvement.

    An epoch improves on ``best`` when its metric is lower (``mode='min'``) or higher (``'max'``)
    than a threshold around it:

        rel:  best * (1 - threshold)  (min)    best * (1 + threshold)  (max)
        abs:  best - threshold        (min)    best + threshold        (max)

    After a cut, ``cooldown`` epochs pass before bad epochs count again. The lr never goes below
    ``min_lr`` (one value, or one per group), and a cut smaller than ``eps`` is skipped.
    """

    _state_keys = (
        "factor",
        "min_lrs",
        "default_min_lr",
        "patience",
        "cooldown",
        "cooldown_counter",
        "eps",
        "mode",
        "threshold",
        "threshold_mode",
        "mode_worse",
        "best",
        "num_bad_epochs",
        "last_epoch",
        "_last_lr",
    )

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0,
        eps: float = 1e-8,
    ) -> None:
        # LRScheduler.__init__ is not called, as in torch: there is no initial step and no base_lrs
        self.factor = check_float(factor, "factor", low=0, high=1, high_open=True)
        self.optimizer = check_optimizer(optimizer)
        n = len(optimizer.param_groups)
        self.default_min_lr: float | None
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise invalid_value("min_lr", f"one float or a list of {n} (one per param group)", min_lr)
            self.default_min_lr = None
            self.min_lrs = [check_float(m, "min_lr", low=0, finite=True) for m in min_lr]
        else:
            self.default_min_lr = check_float(min_lr, "min_lr", low=0, finite=True)
            self.min_lrs = [self.default_min_lr] * n
        self.patience = check_int(patience, "patience", low=0)
        self.cooldown = check_int(cooldown, "cooldown", low=0)
        self.eps = check_float(eps, "eps", low=0)
        self.mode = check_choice(mode, "mode", ("min", "max"))
        self.threshold = check_float(threshold, "threshold", low=0)
        self.threshold_mode = check_choice(threshold_mode, "threshold_mode", ("rel", "abs"))
        self.mode_worse = math.inf if self.mode == "min" else -math.inf
        self.last_epoch = 0
        self._last_lr = self._current_lrs()
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _is_better(self, a: float, best: float) -> bool:
        """Whether metric ``a`` improves on ``best`` by more than the threshold."""
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics: Any) -> None:  # type: ignore[override]
        """Record one epoch's metric (a number) and cut the lrs if it has plateaued."""
        if isinstance(metrics, np.ndarray) and metrics.size == 1:
            metrics = metrics.item()
        if isinstance(metrics, bool) or not isinstance(metrics, numbers.Real):
            raise invalid_type("metrics", "a number (the monitored quantity, e.g. the validation loss)", metrics)
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"The optimizer has {len(groups)} param groups but ReduceLROnPlateau was built with "
                    f"{len(self.min_lrs)} min_lrs (a group was added since): set scheduler.min_lrs to one per group"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs, strict=True):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr
