"""Loading a checkpoint is all or nothing: when any part does not fit, the error names the file and
the model, optimizer, scheduler, callbacks, trainer state and every generator are as they were."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import scratchnn
from scratchnn import nn, optim
from scratchnn.serialization import load, save
from scratchnn.train import EarlyStopping, Trainer, load_checkpoint, save_checkpoint
from scratchnn.train.checkpoint import module_rng_states

from .helpers import assert_tree_equal, mlp, spirals

X, Y, XV, YV = spirals(20)


def _everything(trainer: Trainer) -> dict[str, Any]:
    return copy.deepcopy(
        {
            "params": trainer.model.state_dict(),
            "optimizer": trainer.optimizer.state_dict(),
            "scheduler": None if trainer.scheduler is None else trainer.scheduler.state_dict(),
            "callbacks": [cb.state_dict() for cb in trainer.callbacks],
            "counters": (trainer.epoch, trainer.step, trainer.resumed),
            "history": trainer.history,
            "rng": (scratchnn.get_rng_state(), trainer.rng.bit_generator.state, module_rng_states(trainer.model)),
        }
    )


def _trained(seed: int, *, opt: str = "adam", hidden: int = 32, **kwargs: Any) -> Trainer:
    model = mlp(seed, hidden=hidden, noise=True)
    optimizer = optim.Adam(model.parameters(), lr=1e-2) if opt == "adam" else optim.SGD(model.parameters(), lr=0.1)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    kwargs.setdefault("callbacks", [EarlyStopping(monitor="val_loss", patience=5)])
    trainer = Trainer(
        model,
        nn.CrossEntropyLoss(),
        optimizer,
        scheduler=scheduler,
        batch_size=16,
        epochs=2,
        verbose=False,
        rng=np.random.default_rng(seed),
        **kwargs,
    )
    trainer.fit(X, Y, XV, YV)
    return trainer


def _refused(trainer: Trainer, path: Path, match: str, error: type[Exception] = ValueError) -> None:
    before = _everything(trainer)
    with pytest.raises(error, match=match) as info:
        trainer.load_checkpoint(path)
    assert str(path) in str(info.value) and "nothing was changed" in str(info.value)
    assert_tree_equal(_everything(trainer), before)


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    _trained(0).save_checkpoint(tmp_path / "ck.safetensors")
    scratchnn.manual_seed(123)  # the generators the loads below must leave alone
    return tmp_path / "ck.safetensors"


def test_another_architecture_changes_nothing(saved: Path) -> None:
    _refused(_trained(1, hidden=16), saved, r"Invalid shape for `state_dict\['0.weight'\]`: expected \(16, 2\)")


def test_another_optimizer_type_is_named(saved: Path) -> None:
    trainer = _trained(1, opt="sgd")
    _refused(trainer, saved, "the checkpoint's optimizer state was saved by Adam; this trainer's optimizer is SGD")


def test_a_version_1_checkpoint_of_another_optimizer_type_changes_nothing(saved: Path, tmp_path: Path) -> None:
    ckpt = load(saved)
    del ckpt["optimizer_type"], ckpt["scheduler_type"]
    ckpt["version"] = 1
    save(ckpt, tmp_path / "v1.safetensors")
    trainer = _trained(1, opt="sgd")
    _refused(trainer, tmp_path / "v1.safetensors", r"all of SGD's hyperparameters, not lacking \['momentum'")


def _edited(saved: Path, edit: Callable[[dict[str, Any]], Any]) -> Path:
    ckpt = load(saved)
    edit(ckpt)
    save(ckpt, saved, overwrite=True)
    return saved


@pytest.mark.parametrize(
    ("edit", "match"),
    [  # parts that are applied after the model and the optimizer: those are put back too
        (lambda c: c["scheduler"].pop("gamma"), r"Invalid value for `state_dict`: expected a StepLR state_dict"),
        (lambda c: c.update(scheduler_type="CosineAnnealingLR"), "scheduler state was saved by CosineAnnealingLR"),
        (lambda c: c["trainer"]["callbacks"][0]["state"].pop("wait"), r"KeyError: 'wait'"),
        (lambda c: c["rng"]["modules"].update({"5.rng": {}}), "generator '5.rng', which Sequential does not hold"),
        (lambda c: c["rng"].update(default={"bit_generator": "MT19937"}), "does not fit"),
        (lambda c: c["trainer"].update(rng={"nonsense": 1}), "does not fit"),
        (lambda c: c["trainer"].update(epoch=-1), r"`state\['epoch'\]`: expected an int >= 0"),
    ],
)
def test_a_late_part_that_does_not_fit_changes_nothing(
    saved: Path, edit: Callable[[dict[str, Any]], Any], match: str
) -> None:
    _refused(_trained(1), _edited(saved, edit), match)


def test_broken_files_are_one_value_error_naming_them(saved: Path) -> None:
    trainer = _trained(1)
    data = saved.read_bytes()
    for broken in (b"", data[: len(data) // 2], data[:-1] + bytes([data[-1] ^ 1])):
        saved.write_bytes(broken)
        before = _everything(trainer)
        with pytest.raises(ValueError, match=r"Received: path='.*ck\.safetensors', which is (truncated|corrupt)"):
            trainer.load_checkpoint(saved)
        assert_tree_equal(_everything(trainer), before)


def test_checkpoint_functions_are_all_or_nothing_too(tmp_path: Path) -> None:
    model = mlp(0, noise=True)
    adam = optim.Adam(model.parameters())
    save_checkpoint(tmp_path / "m.safetensors", model, adam)
    other = mlp(1, noise=True)
    sgd = optim.SGD(other.parameters(), lr=0.1, momentum=0.9)
    weights, rng_state = other.state_dict(), scratchnn.get_rng_state()
    with pytest.raises(ValueError, match="saved by Adam; the given optimizer is SGD"):
        load_checkpoint(tmp_path / "m.safetensors", other, sgd)
    assert_tree_equal(other.state_dict(), weights)
    assert scratchnn.get_rng_state() == rng_state
    smaller = mlp(1, hidden=8, noise=True)
    with pytest.raises(ValueError, match=r"m\.safetensors' does not fit; nothing was changed: Invalid shape"):
        load_checkpoint(tmp_path / "m.safetensors", smaller)
    load_checkpoint(tmp_path / "m.safetensors", other, optim.Adam(other.parameters()))
    assert_tree_equal(other.state_dict(), model.state_dict())
