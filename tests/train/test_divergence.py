"""Divergence (scratchnn/train/divergence.py): NaN or inf data is refused by fit; the first non-finite
loss, gradient, parameter or validation loss ends fit with TrainingDiverged, without NumPy warnings,
and the last checkpoint stays the last good one."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scratchnn import nn, optim
from scratchnn.train import Callback, Trainer, TrainingDiverged, read_jsonl
from scratchnn.train.checkpoint import read_checkpoint
from scratchnn.train.divergence import quiet_fp

from .helpers import make_trainer, spirals

X, Y, XV, YV = spirals(20)  # 60 samples, batches of 32: 2 steps per epoch


@pytest.fixture(autouse=True)
def _numpy_warns() -> Iterator[None]:
    # NumPy's default (the CLI's): overflow warns. pytest turns any warning into an error, so these
    # tests also prove that a diverging run prints no RuntimeWarning
    with np.errstate(all="warn"):
        yield


class Scale(nn.Module):
    """Identity forward; backward multiplies the gradient by ``factor`` (a layer that blows up)."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        return grad_out * np.float32(self.factor)


def _trainer_with(layer: nn.Module, lr: float = 1e-2, **kwargs: Any) -> Trainer:
    model = nn.Sequential(nn.Linear(2, 8, rng=np.random.default_rng(0)), layer, nn.Linear(8, 3))
    opt = optim.SGD(model.parameters(), lr=lr)
    return Trainer(model, nn.CrossEntropyLoss(), opt, batch_size=32, verbose=False, **kwargs)


@pytest.mark.parametrize("name", ["X_train", "y_train", "X_val", "y_val"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_fit_refuses_data_that_is_not_finite(name: str, bad: float) -> None:
    data = {"X_train": X.copy(), "y_train": Y.astype(np.float32), "X_val": XV.copy(), "y_val": YV.astype(np.float32)}
    data[name][7] = bad
    trainer = make_trainer(epochs=1, metrics=())
    trainer.criterion = nn.MSELoss()  # float targets, so that y can hold NaN too
    n = data[name][7].size  # the whole row
    nan, inf = (n, 0) if math.isnan(bad) else (0, n)
    message = (
        f"Invalid value for `{name}`: expected finite values (no NaN or inf). "
        f"Received: {name} with {nan} NaN and {inf} inf values, the first in row 7"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        trainer.fit(data["X_train"], data["y_train"], data["X_val"], data["y_val"])
    assert trainer.step == 0


def test_a_huge_learning_rate_is_a_divergence_error_naming_epoch_and_step() -> None:
    trainer = make_trainer(epochs=20)
    trainer.optimizer = optim.SGD(trainer.model.parameters(), lr=1e10, weight_decay=0.05)
    with pytest.raises(TrainingDiverged) as info:
        trainer.fit(X, Y, XV, YV)
    e = info.value
    assert isinstance(e, FloatingPointError) and isinstance(e, ValueError)
    assert e.step == trainer.step + 1 and e.epoch == trainer.epoch + 1 and e.last_loss is not None
    assert re.fullmatch(
        rf"training diverged at epoch {e.epoch}, step {e.step} \((loss (nan|inf)|.*not finite.*|inf or NaN in the "
        r"(validation )?forward pass); "
        r"last finite loss [0-9.e+]+\): lower the learning rate or clip gradients",
        str(e),
    ), str(e)
    assert all(np.isfinite(p.data).all() for p in trainer.model.parameters())  # never stepped into NaN


def test_a_non_finite_gradient_is_caught_before_the_update() -> None:
    trainer = _trainer_with(Scale(np.inf), epochs=2)
    before = [p.data.copy() for p in trainer.model.parameters()]
    with pytest.raises(TrainingDiverged, match=r"at epoch 1, step 1 \(loss [0-9.]+, but the gradient of `0\.") as info:
        trainer.fit(X, Y)
    assert "last finite loss" not in str(info.value)  # there was none before the first step
    for p, b in zip(trainer.model.parameters(), before):
        np.testing.assert_array_equal(p.data, b)


def test_a_parameter_that_overflows_in_the_update_is_caught_after_it() -> None:
    trainer = _trainer_with(Scale(1e30), lr=1e10, epochs=2)  # finite gradients, float32 overflow in the step
    with pytest.raises(TrainingDiverged, match=r"step 1 \(`0\.(weight|bias)` is not finite after the optimizer step"):
        trainer.fit(X, Y)


def test_a_validation_loss_that_is_not_finite_stops_training() -> None:
    trainer = make_trainer(epochs=3)
    huge = np.full_like(XV, 1e38)  # finite data whose logits overflow
    why = r"\((validation loss (nan|inf)|inf or NaN in the validation forward pass)"
    with pytest.raises(TrainingDiverged, match=why):
        trainer.fit(X, Y, huge, YV)
    assert len(trainer.history) == trainer.epoch  # the failing epoch has no entry


class BlowUpAfter(Callback):
    """At the end of epoch ``epoch`` (after the checkpoint), the learning rate becomes absurd."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        if epoch == self.epoch:
            trainer.optimizer.param_groups[0]["lr"] = 1e30


def test_the_last_good_checkpoint_and_log_are_kept(tmp_path: Path) -> None:
    run = tmp_path / "run"
    trainer = make_trainer(epochs=5, run_dir=run, callbacks=[BlowUpAfter(2)])
    trainer.optimizer = optim.SGD(trainer.model.parameters(), lr=0.1)
    with pytest.raises(TrainingDiverged, match="at epoch 3, step [56] "):
        trainer.fit(X, Y, XV, YV)
    ckpt = read_checkpoint(run / "checkpoints" / "last.safetensors")
    assert ckpt["trainer"]["epoch"] == 2 and ckpt["trainer"]["step"] == 4
    assert all(np.isfinite(v).all() for v in ckpt["model"].values())
    assert [e["epoch"] for e in read_jsonl(run / "metrics.jsonl")] == [1, 2]


def test_a_raise_errstate_of_the_caller_is_kept() -> None:
    # experiments catch NumPy's own FloatingPointError at the first overflow: they still get it
    trainer = make_trainer(epochs=20)
    trainer.optimizer = optim.SGD(trainer.model.parameters(), lr=1e10, weight_decay=0.05)
    with np.errstate(all="raise", under="ignore"), pytest.raises(FloatingPointError) as info:
        trainer.fit(X, Y)
    assert not isinstance(info.value, TrainingDiverged)  # NumPy's, at the overflow itself
    with np.errstate(over="warn", invalid="raise"), quiet_fp():
        assert np.geterr()["over"] == "ignore" and np.geterr()["invalid"] == "raise"


def test_the_course_contract_path_is_checked_too() -> None:
    from scratchnn.models import FullyConnectedNet

    model = FullyConnectedNet([8], input_dim=2, num_classes=3, seed=0)
    opt = optim.SGD(model.parameters(), lr=1e10, weight_decay=0.05)
    trainer = Trainer(model, None, opt, batch_size=32, epochs=50, verbose=False)
    with pytest.raises(TrainingDiverged, match="training diverged at epoch"):
        trainer.fit(X, Y)
