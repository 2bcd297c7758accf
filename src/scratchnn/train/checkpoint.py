"""Checkpoints: everything training depends on, in one safetensors + JSON pair (no pickle).

A checkpoint holds the model's ``state_dict``, the optimizer's and the scheduler's, the state
of scratchnn's default random generator, of every ``np.random.Generator`` a module keeps in
an attribute (a Dropout built with ``rng=...``), and whatever the caller adds under
``trainer`` (the Trainer puts a :class:`~scratchnn.train.state.TrainerState` there: its counters,
history, data-loader position, its own generator and its callbacks' states). Loading it into
freshly built objects continues training bit for bit.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._config import get_rng_state, set_rng_state
from ..nn.module import Module
from ..serialization import load, save
from .state import Stateful, TrainerState

__all__ = [
    "save_checkpoint",
    "load_checkpoint",
    "read_checkpoint",
    "restore",
    "module_rng_states",
    "load_module_rng_states",
    "read_trainer_state",
]

FORMAT = "scratchnn.checkpoint"
VERSION = 1


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
    for key, state in states.items():
        prefix, _, attr = key.rpartition(".")
        gen = getattr(mods.get(prefix), attr, None) if prefix in mods else None
        if not isinstance(gen, np.random.Generator):
            raise KeyError(
                f"The checkpoint has the state of generator {key!r}, which {type(model).__name__} does not hold"
            )
        gen.bit_generator.state = state


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
    anything else :func:`scratchnn.save` can write, or None.

    ``path`` ends in ``.safetensors``; a JSON sidecar is written next to it (see
    :func:`scratchnn.save`). An existing checkpoint is replaced only with ``overwrite=True``.
    """
    ckpt = {
        "format": FORMAT,
        "version": VERSION,
        "model": model.state_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "rng": {"default": get_rng_state(), "modules": module_rng_states(model)},
        "trainer": trainer.to_dict() if isinstance(trainer, TrainerState) else trainer,
    }
    save(ckpt, path, overwrite=overwrite)


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The contents of a checkpoint file (checked to be one), without applying them to anything."""
    ckpt = load(path)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ValueError(f"{os.fspath(path)} is not a scratchnn checkpoint (it was not written by save_checkpoint)")
    return ckpt


def restore(
    ckpt: dict[str, Any],
    model: Module | None = None,
    optimizer: Stateful | None = None,
    scheduler: Stateful | None = None,
    *,
    restore_rng: bool = True,
) -> None:
    """Apply the contents of :func:`read_checkpoint` to the objects given (in place)."""
    if model is not None:
        model.load_state_dict(ckpt["model"])
    for name, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is None:
            continue
        if ckpt[name] is None:
            raise ValueError(f"The checkpoint holds no {name} state to load into {type(obj).__name__}")
        obj.load_state_dict(ckpt[name])  # the optimizer first: a scheduler's state refers to its lrs
    if restore_rng:
        set_rng_state(ckpt["rng"]["default"])
        if model is not None:
            load_module_rng_states(model, ckpt["rng"]["modules"])


def load_checkpoint(
    path: str | os.PathLike[str],
    model: Module | None = None,
    optimizer: Stateful | None = None,
    scheduler: Stateful | None = None,
    *,
    restore_rng: bool = True,
) -> dict[str, Any]:
    """Load a checkpoint into the objects given (in place) and return its contents.

    The objects must be built like the saved ones (same architecture, same parameter order in
    the optimizer); their current values do not matter. With ``restore_rng`` scratchnn's
    default generator and the model's own generators continue where they were saved.
    """
    ckpt = read_checkpoint(path)
    restore(ckpt, model, optimizer, scheduler, restore_rng=restore_rng)
    return ckpt


def read_trainer_state(ckpt: dict[str, Any], callbacks: Sequence[Stateful]) -> TrainerState:
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
