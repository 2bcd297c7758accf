"""``TrainerState``: where a Trainer's training stands, as a value a checkpoint can hold.

(Also :func:`check_optimizer_params`, the Trainer's check that its optimizer trains its model.)

It is the ``trainer`` part of a checkpoint (the model, optimizer and scheduler are saved beside
it): the step and epoch counters, the epoch so far (batches done, running train loss and
metrics, seconds), the history, the state of the trainer's shuffling generator, the data
loader's position in its epoch and the callbacks' states. ``to_dict`` gives the checkpoint's
JSON keys, unchanged since version 1 of the format, so older checkpoints still load.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Protocol

from .._validate import invalid_value
from ..nn.module import Module
from ..optim.optimizer import Optimizer

__all__ = ["TrainerState", "Stateful", "callback_states", "check_optimizer_params"]


class Stateful(Protocol):
    def state_dict(self) -> Any: ...
    def load_state_dict(self, state: Any) -> Any: ...


@dataclass
class TrainerState:
    """A Trainer's counters, epoch so far, history, generator, loader position and callbacks' states.

    ``Trainer.save_checkpoint`` builds one from the trainer and saves its :meth:`to_dict`;
    ``Trainer.load_checkpoint`` reads one back with :meth:`from_dict` (which checks it) and
    restores the trainer from it.
    """

    epoch: int  # epochs completed
    step: int  # optimizer steps taken
    batch_in_epoch: int  # batches done of epoch ``epoch + 1`` (0: it has not started)
    running: dict[str, Any]  # RunningMean.state_dict() of the train loss and metrics over those batches
    epoch_seconds: float  # time spent training on those batches
    history: list[dict[str, Any]]  # one entry per epoch (see Trainer.fit)
    rng: Mapping[str, Any]  # bit_generator.state of the trainer's shuffling generator
    data_loader: dict[str, Any] | None  # DataLoader.state_dict(): the epoch's order and position in it
    callbacks: list[dict[str, Any]]  # {"type": class name, "state": state_dict()} per callback, in order

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint's ``trainer`` dict (JSON-able, but for arrays a callback's state may hold)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, state: Any) -> TrainerState:
        """The state :meth:`to_dict` gave (as read back from a checkpoint), checked key by key.

        Raises:
            ValueError: ``state`` is not such a dict: a key is missing or unknown, or a value has
                the wrong type (a negative counter, a callback entry without ``type`` and ``state``).
        """
        if not isinstance(state, Mapping):
            raise invalid_value("state", "a dict from TrainerState.to_dict()", state)
        keys = [f.name for f in fields(cls)]
        if set(state) != set(keys):
            missing, unknown = [k for k in keys if k not in state], [k for k in state if k not in keys]
            raise ValueError(
                f"Invalid value for `state`: expected a dict with the keys {keys}. "
                f"Received: a dict missing {missing}, with unknown keys {unknown}"
            )
        for key in keys:
            expected, ok = _EXPECTED[key]
            if not ok(state[key]):
                raise invalid_value(f"state[{key!r}]", expected, state[key])
        running, loader = state["running"], state["data_loader"]
        return cls(
            epoch=int(state["epoch"]),
            step=int(state["step"]),
            batch_in_epoch=int(state["batch_in_epoch"]),
            running=dict(running),
            epoch_seconds=float(state["epoch_seconds"]),
            history=list(state["history"]),
            rng=dict(state["rng"]),
            data_loader=None if loader is None else dict(loader),
            callbacks=[dict(c) for c in state["callbacks"]],
        )

    def check_callbacks(self, callbacks: Sequence[Stateful]) -> None:
        """Raise ``ValueError`` unless ``callbacks`` have the saved callbacks' types, in the same order."""
        saved, have = [c["type"] for c in self.callbacks], [type(cb).__name__ for cb in callbacks]
        if saved != have:
            raise ValueError(f"The checkpoint was saved with callbacks {saved}, this trainer has {have}")

    def load_callbacks(self, callbacks: Sequence[Stateful]) -> None:
        """Give each callback its saved state (after :meth:`check_callbacks`)."""
        for cb, saved in zip(callbacks, self.callbacks):
            cb.load_state_dict(saved["state"])


def callback_states(callbacks: Sequence[Stateful]) -> list[dict[str, Any]]:
    """The ``callbacks`` field for these callbacks: their class names and current states."""
    return [{"type": type(cb).__name__, "state": cb.state_dict()} for cb in callbacks]


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return _is_int(value) and value >= 0


def _is_running(value: Any) -> bool:
    sums = value.get("sums") if isinstance(value, Mapping) else None
    return isinstance(sums, Mapping) and all(_is_real(v) for v in sums.values()) and _is_int(value.get("count"))


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_callbacks(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(c, Mapping) and set(c) == {"type", "state"} and isinstance(c["type"], str) for c in value
    )


# per field of TrainerState: what from_dict expects (for the error message) and the check
_EXPECTED: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "epoch": ("an int >= 0", _is_count),
    "step": ("an int >= 0", _is_count),
    "batch_in_epoch": ("an int >= 0", _is_count),
    "running": ("a dict with 'sums' (a dict of numbers) and 'count' (an int)", _is_running),
    "epoch_seconds": ("a float", _is_real),
    "history": ("a list of dicts", lambda v: isinstance(v, list) and all(isinstance(e, Mapping) for e in v)),
    "rng": ("a dict (a bit generator's state)", lambda v: isinstance(v, Mapping)),
    "data_loader": ("a dict (DataLoader.state_dict()) or None", lambda v: v is None or isinstance(v, Mapping)),
    "callbacks": ("a list of {'type': class name, 'state': state_dict} dicts", _is_callbacks),
}


def check_optimizer_params(model: Module, criterion: Module | None, optimizer: Optimizer) -> None:
    """``ValueError`` unless ``optimizer`` holds some of ``model``'s params and no param of neither.

    Params of the model may be left out (frozen layers), the criterion's may be in (a learned loss).
    Any other param gets no gradient from the trainer, yet weight decay or momentum would move it:
    torch allows that, the Trainer refuses it, naming where the param sits in the optimizer.
    """
    held = [(i, j, p) for i, g in enumerate(optimizer.param_groups) for j, p in enumerate(g["params"])]
    of_model = {id(p) for p in model.parameters()}
    if not any(id(p) in of_model for _, _, p in held):
        raise ValueError(
            f"Invalid value for `optimizer`: expected an optimizer over the model's parameters, as "
            f"{type(optimizer).__name__}(model.parameters(), ...). Received: a {type(optimizer).__name__} "
            f"over {len(held)} params, none of them the model's (it would train nothing)"
        )
    trained = of_model | ({id(p) for p in criterion.parameters()} if criterion is not None else set())
    strays = [f"param_groups[{i}]['params'][{j}] (shape {p.data.shape})" for i, j, p in held if id(p) not in trained]
    if strays:
        more = f" and {len(strays) - 3} more" if len(strays) > 3 else ""
        raise ValueError(
            "Invalid value for `optimizer`: expected only params of the model (or the criterion); the trainer "
            f"computes no gradient for others. Received: {', '.join(strays[:3])}{more}, which are neither"
        )
