"""TrainerState: the trainer part of a checkpoint, round-tripped through dicts and JSON, checked on the way in."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scratchnn.data import DataLoader
from scratchnn.train import EarlyStopping, ModelCheckpoint
from scratchnn.train.checkpoint import read_checkpoint, read_trainer_state
from scratchnn.train.state import TrainerState, callback_states

from .helpers import make_trainer, spirals

# the JSON keys of a checkpoint's "trainer" part since version 1 of the format, in their order
KEYS = ["epoch", "step", "batch_in_epoch", "running", "epoch_seconds", "history", "rng", "data_loader", "callbacks"]


def _state() -> TrainerState:
    X, y, _, _ = spirals(10)
    loader = DataLoader(X, y, batch_size=8, shuffle=True, rng=np.random.default_rng(1))
    next(iter(loader))
    return TrainerState(
        epoch=2,
        step=9,
        batch_in_epoch=1,
        running={"sums": {"loss": 8.5, "acc": 4.0}, "count": 8},
        epoch_seconds=0.25,
        history=[{"epoch": 1, "step": 4, "train_loss": 1.1, "lr": 0.01, "time": 0.5}],
        rng=np.random.default_rng(2).bit_generator.state,
        data_loader=loader.state_dict(),
        callbacks=callback_states([EarlyStopping(restore_best_weights=False), ModelCheckpoint()]),
    )


def test_round_trip_through_dict_and_json() -> None:
    state = _state()
    d = state.to_dict()
    assert list(d) == KEYS  # the checkpoint format is unchanged
    assert TrainerState.from_dict(d) == state
    assert TrainerState.from_dict(json.loads(json.dumps(d))) == state


def test_round_trip_through_a_trainer_checkpoint(tmp_path: Path) -> None:
    X, y, _, _ = spirals(20)
    trainer = make_trainer(epochs=5, max_steps=3)
    trainer.fit(X, y)
    trainer.save_checkpoint(tmp_path / "ck.safetensors")
    raw = read_checkpoint(tmp_path / "ck.safetensors")
    state = read_trainer_state(raw, trainer.callbacks)
    assert (state.epoch, state.step, state.batch_in_epoch) == (1, 3, 1)  # 2 batches per epoch
    assert state.to_dict() == raw["trainer"]
    assert state.rng == trainer.rng.bit_generator.state


def _with(**changes: Any) -> dict[str, Any]:
    return {**_state().to_dict(), **changes}


@pytest.mark.parametrize("name", [f.name for f in fields(TrainerState)])
def test_every_field_is_checked(name: str) -> None:
    with pytest.raises(ValueError, match=rf"Invalid value for `state\['{name}'\]`: expected .+ Received: "):
        TrainerState.from_dict(_with(**{name: "oops"}))


@pytest.mark.parametrize(
    ("state", "match"),
    [
        (None, r"Invalid value for `state`: expected a dict from TrainerState.to_dict\(\). Received: state=None"),
        ({k: v for k, v in _with().items() if k != "rng"}, r"missing \['rng'\], with unknown keys \[\]"),
        (_with(extra=1), r"expected a dict with the keys \[.*\]. Received: a dict missing \[\], with unknown keys"),
        (_with(step=-1), r"Invalid value for `state\['step'\]`: expected an int >= 0. Received: state\['step'\]=-1"),
        (_with(epoch=True), r"`state\['epoch'\]`: expected an int >= 0. Received: state\['epoch'\]=True"),
        (_with(epoch=2.0), r"`state\['epoch'\]`: expected an int >= 0"),
        (_with(running={"sums": {}}), r"`state\['running'\]`: expected a dict with 'sums' \(a dict of numbers\)"),
        (_with(running={"sums": {"loss": "x"}, "count": 1}), r"`state\['running'\]`: expected a dict with"),
        (_with(history=[1]), r"`state\['history'\]`: expected a list of dicts"),
        (_with(data_loader=[]), r"`state\['data_loader'\]`: expected a dict \(DataLoader.state_dict\(\)\) or None"),
        (_with(callbacks=[{"type": "EarlyStopping"}]), r"`state\['callbacks'\]`: expected a list of \{'type'"),
        (_with(callbacks=[{"type": 1, "state": {}}]), r"`state\['callbacks'\]`"),
    ],
)
def test_bad_states_are_refused(state: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TrainerState.from_dict(state)


def test_no_loader_position_is_fine() -> None:
    assert TrainerState.from_dict(_with(data_loader=None)).data_loader is None


def test_callbacks_must_be_the_saved_ones() -> None:
    state = _state()
    state.check_callbacks([EarlyStopping(), ModelCheckpoint()])
    with pytest.raises(ValueError, match=r"saved with callbacks \['EarlyStopping', 'ModelCheckpoint'\], this"):
        state.check_callbacks([ModelCheckpoint(), EarlyStopping()])
    stopper = EarlyStopping()
    state.load_callbacks([stopper, ModelCheckpoint()])
    assert stopper.state_dict() == state.callbacks[0]["state"]
