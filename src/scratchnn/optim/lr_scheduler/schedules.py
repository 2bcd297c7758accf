"""The epoch-indexed schedules: LambdaLR, StepLR, MultiStepLR, ExponentialLR, LinearLR, CosineAnnealingLR.

Each mirrors its ``torch.optim.lr_scheduler`` namesake: same arguments, defaults and recursive
update (so its numbers equal torch's exactly), plus the closed form torch uses when
:class:`~scratchnn.optim.lr_scheduler.SequentialLR` restarts a schedule at a milestone.
"""

from __future__ import annotations

import math
import numbers
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..._validate import check_float, check_int, check_iterable, invalid_type, invalid_value
from ..optimizer import Optimizer
from .base import LRScheduler, check_optimizer

__all__ = ["LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR", "LinearLR", "CosineAnnealingLR"]


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch), one function for all groups or one per group.

    As in torch, ``state_dict()`` does not save the functions (``lr_lambdas`` is a list of None):
    rebuild the scheduler with the same functions and load the counters into it.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        n = len(check_optimizer(optimizer).param_groups)
        fns = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(fns) != n:
            raise invalid_value("lr_lambda", f"one function or a list of {n} (one per param group)", lr_lambda)
        for fn in fns:
            if not callable(fn):
                raise invalid_type("lr_lambda", "a function of the epoch (or a list of them)", fn)
        self.lr_lambdas: list[Callable[[int], float]] = fns
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        factors = [fn(self.last_epoch) for fn in self.lr_lambdas]
        for factor in factors:  # checked before the product: base_lr * "x" or * None is Python's TypeError
            if isinstance(factor, bool) or not isinstance(factor, numbers.Real):
                raise invalid_type("lr_lambda", "a function returning a number (the lr factor)", factor)
            if not 0 <= factor < math.inf:
                raise invalid_value("lr_lambda", "a function returning a finite number >= 0 (the lr factor)", factor)
        return [base_lr * factor for factor, base_lr in zip(factors, self.base_lrs, strict=True)]

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "lr_lambdas": [None] * len(self.lr_lambdas)}


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size): decay by ``gamma`` every ``step_size`` epochs."""

    _state_keys = (*LRScheduler._state_keys, "step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size = check_int(step_size, "step_size", low=1)
        self.gamma = check_float(gamma, "gamma", low=0, finite=True)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Decay by ``gamma`` at each epoch in ``milestones`` (a milestone listed twice decays twice)."""

    _state_keys = (*LRScheduler._state_keys, "milestones", "gamma")

    def __init__(
        self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        epochs = check_iterable(milestones, "milestones", "a list of epochs (ints)")
        self._milestones = Counter(check_int(m, "milestones", low=0) for m in epochs)
        self.gamma = check_float(gamma, "gamma", low=0, finite=True)
        super().__init__(optimizer, last_epoch)

    @property
    def milestones(self) -> list[int]:
        """The milestones, sorted, each repeated as often as given."""
        return sorted(self._milestones.elements())

    @milestones.setter
    def milestones(self, value: Iterable[int] | Mapping[int, int]) -> None:
        # a torch state_dict holds a Counter {epoch: count}; ours (JSON-able) the sorted list
        self._milestones = Counter(value) if isinstance(value, Mapping) else Counter(int(m) for m in value)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self._milestones:
            return self._current_lrs()
        return [lr * self.gamma ** self._milestones[self.last_epoch] for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** bisect_right(self.milestones, self.last_epoch) for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma ** epoch: decay by ``gamma`` every epoch."""

    _state_keys = (*LRScheduler._state_keys, "gamma")

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = check_float(gamma, "gamma", low=0, finite=True)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:  # resuming at last_epoch >= 0 must not decay once more
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale lr linearly from ``start_factor`` to ``end_factor`` over ``total_iters`` epochs (a warmup).

        lr = base_lr * (start_factor + (end_factor - start_factor) * min(epoch, total_iters) / total_iters)

    computed, as in torch, as a ratio of successive factors applied to the current lr.
    """

    _state_keys = (*LRScheduler._state_keys, "start_factor", "end_factor", "total_iters")

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        self.start_factor = check_float(start_factor, "start_factor", low=0, high=1, low_open=True)
        self.end_factor = check_float(end_factor, "end_factor", low=0, high=1)
        self.total_iters = check_int(total_iters, "total_iters", low=1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._current_lrs()]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        span = self.end_factor - self.start_factor
        ratio = 1.0 + span / (self.total_iters * self.start_factor + (self.last_epoch - 1) * span)
        return [lr * ratio for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        span = self.end_factor - self.start_factor
        return [
            base_lr * (self.start_factor + span * min(self.total_iters, self.last_epoch) / self.total_iters)
            for base_lr in self.base_lrs
        ]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from base_lr down to ``eta_min`` over ``T_max`` epochs (SGDR without restarts).

        lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2

    Torch updates it recursively, lr_{t} = eta_min + (lr_{t-1} - eta_min) * (1 + cos(pi t / T_max))
    / (1 + cos(pi (t - 1) / T_max)), stepping over the zero of the denominator at t = T_max + 1
    (mod 2 T_max), so past ``T_max`` the lr climbs back up a cosine; we follow it step for step.
    """

    _state_keys = (*LRScheduler._state_keys, "T_max", "eta_min")

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max = check_int(T_max, "T_max", low=1)
        self.eta_min = check_float(eta_min, "eta_min", low=0, finite=True)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and t > 0:  # resumed at last_epoch > 0: jump to the closed form
            return [eta_min + (base_lr - eta_min) * (1 + math.cos(t * math.pi / T)) / 2 for base_lr in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:  # the recursion's 0/0 point: add the step of the closed form
            return [
                lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for base_lr, lr in zip(self.base_lrs, self._current_lrs(), strict=True)
            ]
        return [
            (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T)) * (lr - eta_min) + eta_min
            for lr in self._current_lrs()
        ]

    def _get_closed_form_lr(self) -> list[float]:
        return [
            self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
            for base_lr in self.base_lrs
        ]
