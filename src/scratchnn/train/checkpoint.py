"""Checkpoints: everything training depends on, in one checksummed safetensors file (no pickle).

A checkpoint holds the model's ``state_dict``, the optimizer's and the scheduler's (with their
class names), the state of scratchnn's default random generator, of every ``np.random.Generator``
a module keeps in an attribute (a Dropout built with ``rng=...``), and whatever the caller adds
under ``trainer`` (the Trainer puts a :class:`~scratchnn.train.state.TrainerState` there: its
counters, history, data-loader position, its own generator and its callbacks' states). Loading it
into freshly built objects continues training bit for bit. Loading is all or nothing: when any
part does not fit, every object is left exactly as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .._config import get_rng_state, set_rng_state
from ..nn.module import Module
from ..optim.optimizer import Optimizer
from ..serialization import load, save
from ..serialization.files import bad_file
from .state import Stateful, TrainerState

__all__ = [
    "save_checkpoint",
    "load_checkpoint",
    "read_checkpoint",
    "restore",
    "all_or_nothing",
    "module_rng_states",
    "load_module_rng_states",
    "read_trainer_state",
]

FORMAT = "scratchnn.checkpoint"
VERSION = 2  # 2 added optimizer_type and scheduler_type; version 1 checkpoints load without those checks
_KEYS = ("model", "optimizer", "scheduler", "rng", "trainer")


def module_rng_states(model: Module) -> dict[str, Any]:
    """``{"<module>.<attr>": bit-generator state}`` for every Generator held by a module of ``model``."""
    states: dict[str, Any] = {}
    for prefix, mod in model.named_modules():
        for attr, value in vars(mod).items():
            if isinstance(value, np.random.Generator):
                states[f"{prefix}.{attr}" if prefix else attr] = value.bit_generator.state
    return states


def load_module_rng_states(model: Module, states: dict[str, Any]) -> None:
    """Put the states :func:`module_rng_states` recorded back into the same modules' generators."""
    mods = dict(model.named_modules())
    gens: dict[str, np.random.Generator] = {}
    for key in states:  # all found before any is set
        prefix, _, attr = key.rpartition(".")
        gen = getattr(mods[prefix], attr, None) if prefix in mods else None
        if not isinstance(gen, np.random.Generator):
            raise ValueError(
                f"The checkpoint has the state of generator {key!r}, which {type(model).__name__} does not hold"
            )
        gens[key] = gen
    for key, state in states.items():
        gens[key].bit_generator.state = state


def save_checkpoint(
    path: str | os.PathLike[str],
    model: Module,
    optimizer: Stateful | None = None,
    scheduler: Stateful | None = None,
    *,
    trainer: TrainerState | dict[str, Any] | None = None,
    overwrite: bool = False,
) -> None:
    """Save model, optimizer, scheduler and random-generator states (plus ``trainer``) to ``path``.

    ``trainer`` is a :class:`~scratchnn.train.state.TrainerState` (saved as its ``to_dict()``),
    anything else :func:`scratchnn.save` can write, or None. ``path`` ends in ``.safetensors``;
    it is replaced atomically, and only with ``overwrite=True`` (see :func:`scratchnn.save`).
    """
    ckpt = {
        "format": FORMAT,
        "version": VERSION,
        "model": model.state_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "optimizer_type": None if optimizer is None else type(optimizer).__name__,
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "scheduler_type": None if scheduler is None else type(scheduler).__name__,
        "rng": {"default": get_rng_state(), "modules": module_rng_states(model)},
        "trainer": trainer.to_dict() if isinstance(trainer, TrainerState) else trainer,
    }
    save(ckpt, path, overwrite=overwrite)


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The contents of a checkpoint file (checked to be one), without applying them to anything."""
    ckpt = load(path)
    where = Path(path).expanduser()
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise bad_file(where, "is not a scratchnn checkpoint (it was not written by save_checkpoint)")
    if ckpt.get("version") not in (1, VERSION):
        raise bad_file(where, f"has checkpoint version {ckpt.get('version')!r}; this scratchnn reads 1 and {VERSION}")
    rng = ckpt.get("rng")
    if any(k not in ckpt for k in _KEYS) or not isinstance(rng, dict) or {"default", "modules"} - set(rng):
        raise bad_file(where, f"is a corrupt checkpoint: it lacks some of {list(_KEYS)} or the rng's parts")
    return ckpt


def restore(
    ckpt: dict[str, Any],
    model: Module | None = None,
    optimizer: Stateful | None = None,
    scheduler: Stateful | None = None,
    *,
    restore_rng: bool = True,
    whose: str = "the given",
) -> None:
    """Apply the contents of :func:`read_checkpoint` to the objects given (in place), all or nothing.

    Raises ``ValueError`` or ``TypeError`` when a part does not fit (another architecture,
    another optimizer type: "the checkpoint's optimizer state was saved by Adam; <whose>
    optimizer is SGD"); the objects, the generators included, are then as before the call.
    """
    with all_or_nothing(model, optimizer, scheduler):
        _apply(ckpt, model, optimizer, scheduler, restore_rng=restore_rng, whose=whose)


def _apply(
    ckpt: dict[str, Any],
    model: Module | None,
    optimizer: Stateful | None,
    scheduler: Stateful | None,
    *,
    restore_rng: bool,
    whose: str,
) -> None:
    for name, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is None:
            continue
        if ckpt[name] is None:
            raise ValueError(f"The checkpoint holds no {name} state to load into {type(obj).__name__}")
        saved_type = ckpt.get(f"{name}_type")  # None in version-1 checkpoints
        if saved_type is not None and saved_type != type(obj).__name__:
            raise ValueError(
                f"the checkpoint's {name} state was saved by {saved_type}; {whose} {name} is {type(obj).__name__}"
            )
    if model is not None:
        model.load_state_dict(ckpt["model"])
    if optimizer is not None:
        optimizer.load_state_dict(ckpt["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(ckpt["scheduler"])  # after the optimizer: its state refers to the lrs
    if restore_rng:
        if model is not None:
            load_module_rng_states(model, ckpt["rng"]["modules"])
        set_rng_state(ckpt["rng"]["default"])


@contextmanager
def all_or_nothing(*objects: Any, path: str | os.PathLike[str] | None = None) -> Iterator[None]:
    """When the block raises, put ``objects`` and scratchnn's default generator back as they were.

    ``objects``: Modules (weights, buffers, generators), optimizers, ``np.random.Generator`` s and
    anything with ``state_dict`` / ``load_state_dict`` (schedulers, callbacks); None is skipped.
    With ``path``, the error (any Exception becomes a ValueError or TypeError) names that checkpoint.
    """
    undo = [_undoer(obj) for obj in objects]
    default = get_rng_state()
    undo.append(lambda: set_rng_state(default))
    try:
        yield
    except BaseException as e:
        for step in undo:
            step()
        if path is None or not isinstance(e, Exception):
            raise
        cls = TypeError if isinstance(e, TypeError) else ValueError
        what = str(e) if isinstance(e, (ValueError, TypeError)) else f"{type(e).__name__}: {e}"
        raise cls(f"Checkpoint {os.fspath(path)!r} does not fit; nothing was changed: {what}") from None


def _undoer(obj: Any) -> Callable[[], None]:
    """A function that puts ``obj`` back as it is now."""
    if obj is None:
        return lambda: None
    if isinstance(obj, Module):
        weights, gens = obj.state_dict(), module_rng_states(obj)

        def undo_model() -> None:
            obj.load_state_dict(weights)
            load_module_rng_states(obj, gens)

        return undo_model
    if isinstance(obj, np.random.Generator):
        state = obj.bit_generator.state
        return lambda: setattr(obj.bit_generator, "state", state)
    if isinstance(obj, Optimizer):  # its load_state_dict rebinds these two, never mutates them: exact and free
        groups, opt_state = obj.param_groups, obj.state

        def undo() -> None:
            obj.param_groups, obj.state = groups, opt_state

        return undo
    saved = obj.state_dict()
    return lambda: obj.load_state_dict(saved)


def load_checkpoint(
    path: str | os.PathLike[str],
    model: Module | None = None,
    optimizer: Stateful | None = None,
    scheduler: Stateful | None = None,
    *,
    restore_rng: bool = True,
) -> dict[str, Any]:
    """Load a checkpoint into the objects given (in place), all or nothing, and return its contents.

    The objects must be built like the saved ones (same architecture, same optimizer type and
    parameter order); their current values do not matter. With ``restore_rng`` scratchnn's
    default generator and the model's own generators continue where they were saved. When a
    part does not fit, a ``ValueError`` (or ``TypeError``) names the file and nothing changes.
    """
    ckpt = read_checkpoint(path)
    with all_or_nothing(model, optimizer, scheduler, path=path):
        _apply(ckpt, model, optimizer, scheduler, restore_rng=restore_rng, whose="the given")
    return ckpt


def load_trainer_checkpoint(
    path: str | os.PathLike[str],
    model: Module,
    optimizer: Stateful,
    scheduler: Stateful | None,
    callbacks: Sequence[Stateful],
    generator: np.random.Generator,
) -> TrainerState:
    """Load a Trainer's checkpoint into its objects, all or nothing; return the trainer's own state.

    Model, optimizer, scheduler, generators and callbacks are restored; the counters, history and
    loader position are returned for the trainer to take (nothing there can fail).
    """
    ckpt = read_checkpoint(path)
    with all_or_nothing(model, optimizer, scheduler, *callbacks, generator, path=path):
        state = read_trainer_state(ckpt, callbacks)
        _apply(ckpt, model, optimizer, scheduler, restore_rng=True, whose="this trainer's")
        state.load_callbacks(callbacks)
        generator.bit_generator.state = dict(state.rng)
    return state


def read_trainer_state(ckpt: Mapping[str, Any], callbacks: Sequence[Stateful]) -> TrainerState:
    """The Trainer's part of what :func:`read_checkpoint` returned, checked to fit ``callbacks`` (types, order).

    Nothing is applied; ``ValueError`` if the checkpoint has no trainer state or one that does not fit.
    """
    if ckpt["trainer"] is None:
        raise ValueError(
            "The checkpoint has no trainer state (it was saved by checkpoint.save_checkpoint, "
            "not Trainer.save_checkpoint)"
        )
    state = TrainerState.from_dict(ckpt["trainer"])
    state.check_callbacks(callbacks)
    return state
