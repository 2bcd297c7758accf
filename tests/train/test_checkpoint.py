"""Exact resume: 2N steps == N steps, save, fresh objects (another init), load, N more steps. Bit for bit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import scratchnn
from scratchnn import optim
from scratchnn.serialization import load, save
from scratchnn.train import EarlyStopping, Trainer, load_checkpoint, read_jsonl, save_checkpoint
from scratchnn.train.checkpoint import module_rng_states

from ..test_serialization import save_version_1
from .helpers import assert_tree_equal, make_trainer, mlp, params_of, spirals

X, Y, XV, YV = spirals(50)  # 150 samples, batches of 32: 5 per epoch, the last one of 22
N = 13  # mid-epoch 3; 2N = 26 is mid-epoch 6


def _trainer(seed: int, max_steps: int, schedule: str, **kwargs: Any) -> Trainer:
    interval = "step" if schedule == "cosine" else "epoch"
    trainer = make_trainer(seed, noise=True, epochs=100, max_steps=max_steps, scheduler_interval=interval, **kwargs)
    opt = optim.Adam(trainer.model.parameters(), lr=1e-2, weight_decay=1e-3)
    trainer.optimizer = opt
    trainer.scheduler = {
        "step_lr": lambda: optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
        "cosine": lambda: optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20),
        "plateau": lambda: optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0, threshold=0.2),
    }[schedule]()
    return trainer


def _snapshot(trainer: Trainer) -> dict[str, Any]:
    return {
        "params": params_of(trainer.model),
        "optimizer": trainer.optimizer.state_dict(),
        "scheduler": trainer.scheduler.state_dict(),
        "history": [{k: v for k, v in h.items() if k != "time"} for h in trainer.history],
        "counters": (trainer.epoch, trainer.step),
        "rng": (scratchnn.get_rng_state(), trainer.rng.bit_generator.state, module_rng_states(trainer.model)),
    }


@pytest.mark.parametrize("schedule", ["step_lr", "cosine", "plateau"])
def test_resume_mid_epoch_is_bit_for_bit(tmp_path: Path, schedule: str) -> None:
    scratchnn.manual_seed(0)
    straight = _trainer(0, 2 * N, schedule)
    straight.fit(X, Y, XV, YV)
    want = _snapshot(straight)

    scratchnn.manual_seed(0)
    first = _trainer(0, N, schedule)
    first.fit(X, Y, XV, YV)
    assert first.history[-1]["partial"] and first.step == N
    first.save_checkpoint(tmp_path / "ck.safetensors")

    scratchnn.manual_seed(99)
    second = _trainer(7, 2 * N, schedule)  # another init, other generators
    assert not np.array_equal(second.model.state_dict()["0.weight"], want["params"]["0.weight"])
    second.load_checkpoint(tmp_path / "ck.safetensors")
    second.fit(X, Y, XV, YV)
    assert_tree_equal(_snapshot(second), want)
    assert second.optimizer.param_groups[0]["lr"] == straight.optimizer.param_groups[0]["lr"] < 1e-2


def test_resume_from_the_run_folder_appends_to_its_metrics(tmp_path: Path) -> None:
    run = tmp_path / "run"
    scratchnn.manual_seed(0)
    straight = _trainer(0, 2 * N, "step_lr")
    straight.fit(X, Y, XV, YV)

    scratchnn.manual_seed(0)
    first = _trainer(0, N, "step_lr", run_dir=run)
    first.fit(X, Y, XV, YV)
    config_before = (run / "config.json").read_text()
    with pytest.raises(FileExistsError, match="never reused"):  # a new run may not write there
        _trainer(7, 2 * N, "step_lr", run_dir=run).fit(X, Y, XV, YV)

    scratchnn.manual_seed(99)
    second = _trainer(7, 2 * N, "step_lr", run_dir=run)
    second.load_checkpoint(run / "checkpoints" / "last.safetensors")  # written when the first stopped
    second.fit(X, Y, XV, YV)
    assert_tree_equal(params_of(second.model), params_of(straight.model))
    lines = read_jsonl(run / "metrics.jsonl")
    # the first run's partial line of epoch 3 went when the second continued that epoch: one line an epoch
    assert [(e["epoch"], e.get("partial", False)) for e in lines] == [
        (1, False),
        (2, False),
        (3, False),
        (4, False),
        (5, False),
        (6, True),
    ]
    assert [e["val_loss"] for e in lines if not e.get("partial")] == [
        h["val_loss"] for h in straight.history if not h.get("partial")
    ]
    assert (run / "config.json").read_text() == config_before


def test_checkpoint_functions_without_a_trainer(tmp_path: Path) -> None:
    model = mlp(0, noise=True)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for p in model.parameters():
        p.grad[...] = 1.0
    opt.step()
    rng_state = scratchnn.get_rng_state()
    save_checkpoint(tmp_path / "m.safetensors", model, opt)
    with pytest.raises(FileExistsError):
        save_checkpoint(tmp_path / "m.safetensors", model, opt)
    fresh = mlp(5, noise=True)
    fresh_opt = optim.SGD(fresh.parameters(), lr=0.5, momentum=0.0)
    scratchnn.manual_seed(3)
    ckpt = load_checkpoint(tmp_path / "m.safetensors", fresh, fresh_opt)
    assert_tree_equal(params_of(fresh), params_of(model))
    assert_tree_equal(fresh_opt.state_dict(), opt.state_dict())
    assert scratchnn.get_rng_state() == rng_state
    assert_tree_equal(module_rng_states(fresh), module_rng_states(model))
    assert ckpt["trainer"] is None
    trainer = make_trainer(0)
    before = params_of(trainer.model)
    with pytest.raises(ValueError, match="has no trainer state"):
        trainer.load_checkpoint(tmp_path / "m.safetensors")
    assert_tree_equal(params_of(trainer.model), before)  # refused before changing anything
    save({"x": np.zeros(1)}, tmp_path / "other.safetensors")
    with pytest.raises(ValueError, match="is not a scratchnn checkpoint"):
        load_checkpoint(tmp_path / "other.safetensors", fresh)


def test_callbacks_must_match_the_checkpoint(tmp_path: Path) -> None:
    trainer = make_trainer(0, max_steps=2)
    trainer.fit(X, Y)
    trainer.save_checkpoint(tmp_path / "ck.safetensors")
    other = make_trainer(1, callbacks=[EarlyStopping(monitor="train_loss")])
    with pytest.raises(ValueError, match=r"saved with callbacks \[\], this trainer has \['EarlyStopping'\]"):
        other.load_checkpoint(tmp_path / "ck.safetensors")


def test_a_checkpoint_pair_of_the_previous_format_resumes_bit_for_bit(tmp_path: Path) -> None:
    scratchnn.manual_seed(0)
    straight = _trainer(0, 2 * N, "step_lr")
    straight.fit(X, Y, XV, YV)
    scratchnn.manual_seed(0)
    first = _trainer(0, N, "step_lr")
    first.fit(X, Y, XV, YV)
    first.save_checkpoint(tmp_path / "new.safetensors")
    ckpt = load(tmp_path / "new.safetensors")  # rewritten as version 1 wrote it: a pair, no type names
    del ckpt["optimizer_type"], ckpt["scheduler_type"]
    save_version_1({**ckpt, "version": 1}, tmp_path / "old.safetensors")
    scratchnn.manual_seed(99)
    second = _trainer(7, 2 * N, "step_lr")
    second.load_checkpoint(tmp_path / "old.safetensors")
    second.fit(X, Y, XV, YV)
    assert_tree_equal(_snapshot(second), _snapshot(straight))
