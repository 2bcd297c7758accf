"""``SequentialLR``: hand the lr from one schedule to the next at milestones (e.g. warmup, then cosine)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..._validate import check_int, invalid_type, invalid_value
from ..optimizer import Optimizer
from ._state import checked_state
from .base import LRScheduler, check_optimizer
from .plateau import ReduceLROnPlateau

__all__ = ["SequentialLR"]


def _undo_initial_step(scheduler: LRScheduler) -> None:
    if isinstance(scheduler, SequentialLR):
        for child in scheduler._schedulers:
            _undo_initial_step(child)
    else:
        scheduler.last_epoch -= 1


class SequentialLR(LRScheduler):
    """Run ``schedulers[i]`` from epoch ``milestones[i - 1]`` on, as ``torch.optim.lr_scheduler.SequentialLR``.

    The schedulers must drive ``optimizer``. Building it resets the lrs to ``initial_lr`` and
    undoes the initial step of every scheduler, then steps the first one; at a milestone the next
    scheduler restarts at its epoch 0 (its closed form where it has one), so a
    ``LinearLR`` warmup followed by ``CosineAnnealingLR`` starts the cosine at base_lr.
    """

    def __init__(
        self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], milestones: Sequence[int], last_epoch: int = -1
    ) -> None:
        # LRScheduler.__init__ is not called, as in torch: the children hold the schedule
        check_optimizer(optimizer)
        if not isinstance(schedulers, Sequence) or len(schedulers) == 0:
            raise invalid_value("schedulers", "a non-empty list of schedulers", schedulers)
        for i, scheduler in enumerate(schedulers):
            if isinstance(scheduler, ReduceLROnPlateau) or not isinstance(scheduler, LRScheduler):
                raise invalid_type(
                    f"schedulers[{i}]",
                    "an epoch-indexed LRScheduler (ReduceLROnPlateau needs a "
                    "metric at each step and cannot be sequenced)",
                    scheduler,
                )
            if scheduler.optimizer is not optimizer:
                raise invalid_value(
                    f"schedulers[{i}]", "a scheduler of the optimizer passed to SequentialLR", type(scheduler).__name__
                )
        if not isinstance(milestones, Sequence) or len(milestones) != len(schedulers) - 1:
            raise invalid_value(
                "milestones", f"{len(schedulers) - 1} epochs (one fewer than the schedulers)", milestones
            )
        ms = [check_int(m, "milestones", low=0) for m in milestones]
        if ms != sorted(ms):
            raise invalid_value("milestones", "epochs in increasing order", milestones)
        self._schedulers = list(schedulers)
        self._milestones = ms
        self.last_epoch = check_int(last_epoch, "last_epoch", low=-1) + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        _undo_initial_step(self)
        first = self._schedulers[bisect_right(ms, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        """Advance one epoch with the scheduler in charge; at a milestone restart the next one."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        """The epoch, milestones and last lrs, and each child's ``state_dict()`` under ``_schedulers``."""
        return {
            "last_epoch": self.last_epoch,
            "_milestones": list(self._milestones),
            "_last_lr": list(self._last_lr),
            "_schedulers": [s.state_dict() for s in self._schedulers],
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`: every entry and every child's state is checked before anything is set."""
        self._prepare_load(state_dict)()

    def _prepare_load(self, state_dict: Any) -> Callable[[], None]:
        if not isinstance(state_dict, Mapping) or "_schedulers" not in state_dict:
            raise invalid_type("state_dict", "a mapping from SequentialLR.state_dict()", state_dict)
        saved = state_dict["_schedulers"]
        if not isinstance(saved, Sequence) or len(saved) != len(self._schedulers):
            raise invalid_value(
                "state_dict['_schedulers']", f"a list of {len(self._schedulers)} states, one per scheduler", saved
            )
        keys = ("last_epoch", "_milestones", "_last_lr")
        values = checked_state(state_dict, keys, "SequentialLR", len(self.optimizer.param_groups))
        if len(values["_milestones"]) != len(self._schedulers) - 1:
            expected = f"{len(self._schedulers) - 1} epochs (one fewer than the schedulers)"
            raise invalid_value("state_dict['_milestones']", expected, values["_milestones"])
        children = [scheduler._prepare_load(s) for scheduler, s in zip(self._schedulers, saved, strict=True)]

        def apply() -> None:
            for key, value in values.items():
                setattr(self, key, value)
            for load in children:
                load()

        return apply
