"""``LRScheduler``: the base of the epoch-indexed schedules, mirroring ``torch.optim.lr_scheduler.LRScheduler``.

A scheduler writes ``group['lr']`` of each of its optimizer's param groups. Building one records
``group['initial_lr']`` (the ``base_lrs``) and performs an initial step to ``last_epoch = 0``;
each ``step()`` then advances ``last_epoch`` by one and sets the lr from :meth:`get_lr`. Most
rules are recursive (they scale the current lr), exactly as torch computes them, so that a
user's change to ``group['lr']`` carries on and the numbers equal torch's to the last bit.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from ..._validate import check_int, invalid_type, invalid_value
from ..optimizer import Optimizer
from ._state import checked_state

__all__ = ["LRScheduler", "check_optimizer"]


def check_optimizer(optimizer: Any) -> Optimizer:
    """The optimizer a scheduler drives; a TypeError in the project's template otherwise."""
    if not isinstance(optimizer, Optimizer):
        raise invalid_type("optimizer", "a scratchnn.optim.Optimizer", optimizer)
    return optimizer


class LRScheduler:
    """Base class: subclasses implement :meth:`get_lr` (and ``_get_closed_form_lr`` where one exists).

    Attributes: ``optimizer``, ``base_lrs`` (the groups' ``initial_lr``), ``last_epoch`` (the index
    of the current epoch, 0 after construction). ``state_dict()`` is JSON-able.
    """

    # what state_dict() saves; subclasses add their hyperparameters
    _state_keys: tuple[str, ...] = ("last_epoch", "_step_count", "base_lrs", "_last_lr")

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        check_optimizer(optimizer)
        last_epoch = check_int(last_epoch, "last_epoch", low=-1)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise invalid_value(
                        "last_epoch",
                        f"-1 unless resuming: param_groups[{i}] has no 'initial_lr' (load the optimizer's "
                        "state_dict first)",
                        last_epoch,
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._is_initial = False
        self._initial_step()

    def _initial_step(self) -> None:
        """Reset the step count and step once, to ``last_epoch + 1`` (0 for a fresh scheduler)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The lr of each param group at ``last_epoch`` (already advanced by ``step``)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr()")

    def get_last_lr(self) -> list[float]:
        """The lrs the last ``step()`` set, one per param group."""
        return list(self._last_lr)

    def step(self) -> None:
        """Advance one epoch (call it after ``optimizer.step()``) and set the new lrs."""
        self._step_count += 1
        self._update_lr()

    def _update_lr(self, epoch: int | None = None) -> None:
        """Advance ``last_epoch`` by one, or jump to ``epoch`` with the closed form where there is one."""
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        groups = self.optimizer.param_groups
        if len(values) != len(groups):  # zip(strict=True) would say only "argument 2 is longer"
            raise invalid_value(
                "optimizer",
                f"the {len(values)} param groups {type(self).__name__} was built with (one was added since)",
                f"{len(groups)} groups",
            )
        for group, lr in zip(groups, values, strict=True):
            group["lr"] = self._checked_lr(lr)  # a float: a NumPy scalar from an lr_lambda would upcast float32
        self._last_lr: list[float] = [group["lr"] for group in self.optimizer.param_groups]

    def _checked_lr(self, lr: Any) -> float:
        """A new lr as a Python float (the schedules' own arithmetic gives numbers; LambdaLR checks its functions').

        Below 0 it is 0: torch's recursive forms round to -1e-18 where the closed form is 0 (LinearLR down to
        end_factor=0, CosineAnnealingLR at T_max), which the optimizer would refuse as a negative lr.
        """
        return max(float(lr), 0.0)

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's counters, base lrs and hyperparameters (numbers, strings and lists only)."""
        return {key: copy.deepcopy(getattr(self, key)) for key in self._state_keys}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`; load the optimizer's state first, as with torch.

        Every entry is checked as the constructor checks it before anything is set, so a bad state (edited,
        or another scheduler's) is the template error and leaves the scheduler as it was.
        """
        self._prepare_load(state_dict)()

    def _prepare_load(self, state_dict: Any) -> Callable[[], None]:
        """Check ``state_dict``; return the function that sets it (SequentialLR checks all its children first)."""
        values = checked_state(state_dict, self._state_keys, type(self).__name__, len(self.optimizer.param_groups))

        def apply() -> None:
            for key, value in values.items():
                setattr(self, key, value)

        return apply
