"""Trainer: it learns, batches without replacement, logs, evaluates, clips, and checks its input."""

from __future__ import annotations

import io
import math
import re
import sys
from typing import Any

import numpy as np
import pytest

from scratchnn import models, nn, optim
from scratchnn.nn import Param
from scratchnn.train import Callback, Trainer

from .helpers import make_trainer, mlp, spirals


def test_fits_spirals() -> None:
    X, y, Xv, yv = spirals(100)
    trainer = make_trainer(epochs=40, batch_size=30)
    history = trainer.fit(X, y, Xv, yv)
    assert len(history) == 40
    assert history[-1]["train_loss"] < 0.4 * history[0]["train_loss"]
    assert history[-1]["val_acc"] >= 0.9
    result = trainer.evaluate(Xv, yv)
    assert result["accuracy"] == pytest.approx(history[-1]["val_acc"])
    assert result["loss"] == pytest.approx(history[-1]["val_loss"])


class Recorder(nn.Module):
    """Identity that records, in training mode, which samples (feature 0 holds the index) it sees."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[np.ndarray] = []

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.training:
            self.seen.append(x[:, 0].astype(np.int64))
        self._save(True)
        return x

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        return grad_out if input_grad else None


def test_epochs_are_permutations_without_replacement() -> None:
    N, bs, epochs = 23, 5, 3
    X = np.stack([np.arange(N), np.zeros(N)], axis=1).astype(np.float32)
    y = np.zeros(N, dtype=np.int64)
    rec = Recorder()
    model = nn.Sequential(rec, nn.Linear(2, 2))
    trainer = Trainer(
        model,
        nn.CrossEntropyLoss(),
        optim.SGD(model.parameters(), lr=0.0),
        batch_size=bs,
        epochs=epochs,
        verbose=False,
        rng=np.random.default_rng(0),
        metrics=(),
    )
    history = trainer.fit(X, y)
    per_epoch = math.ceil(N / bs)
    assert [len(b) for b in rec.seen] == [5, 5, 5, 5, 3] * epochs
    orders = [np.concatenate(rec.seen[e * per_epoch : (e + 1) * per_epoch]) for e in range(epochs)]
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), np.arange(N))  # every sample once per epoch
    assert not np.array_equal(orders[0], orders[1])  # and a new order each epoch
    assert [h["step"] for h in history] == [5, 10, 15]
    assert set(history[0]) == {"epoch", "step", "train_loss", "lr", "time"}


def test_evaluate_and_predict_match_a_direct_computation() -> None:
    X, y, Xv, yv = spirals(20)
    trainer = make_trainer(epochs=1, batch_size=7)
    trainer.fit(X, y)
    model = trainer.model
    model.eval()
    logits = model(Xv).astype(np.float64)
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    want_loss = -np.mean(logp[np.arange(len(yv)), yv])
    model.train()
    result = trainer.evaluate(Xv, yv, batch_size=4)  # batches of different sizes: a weighted mean
    assert result["loss"] == pytest.approx(want_loss, rel=1e-5)
    assert result["accuracy"] == np.mean(logits.argmax(1) == yv)
    np.testing.assert_allclose(trainer.predict(Xv, batch_size=5), logits, rtol=1e-6)
    assert model.training  # evaluate/predict give the previous mode back


def test_course_contract_path_matches_the_loss_module_path() -> None:
    X, y, _, _ = spirals(20)
    results = []
    for criterion in (None, nn.CrossEntropyLoss()):
        model = models.FullyConnectedNet([16], input_dim=2, num_classes=3, weight_scale=0.5, seed=0)
        trainer = Trainer(
            model,
            criterion,
            optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
            batch_size=16,
            epochs=3,
            verbose=False,
            rng=np.random.default_rng(0),
        )
        results.append((trainer.fit(X, y), {k: v.copy() for k, v in model.params.items()}))
    (h_course, p_course), (h_module, p_module) = results
    for k in p_course:
        np.testing.assert_allclose(p_course[k], p_module[k], rtol=1e-4, atol=1e-6)
    assert h_course[-1]["train_loss"] == pytest.approx(h_module[-1]["train_loss"], rel=1e-4)
    assert h_course[-1]["train_loss"] < h_course[0]["train_loss"]


def test_gradient_clipping_bounds_the_update() -> None:
    X, y, _, _ = spirals(20)
    steps = []
    for clip in (None, 0.05):
        model = mlp(0)
        before = np.concatenate([p.data.ravel() for p in model.parameters()])
        trainer = Trainer(
            model,
            nn.CrossEntropyLoss(),
            optim.SGD(model.parameters(), lr=1.0),
            batch_size=60,
            max_steps=1,
            clip_grad_norm=clip,
            verbose=False,
            rng=np.random.default_rng(0),
        )
        trainer.fit(X, y)
        after = np.concatenate([p.data.ravel() for p in model.parameters()])
        steps.append(float(np.linalg.norm((after - before).astype(np.float64))))
    unclipped, clipped = steps
    assert unclipped > 0.2  # the bound below is binding
    assert clipped == pytest.approx(0.05, rel=1e-3)  # SGD with lr=1 moves by the clipped gradient


def test_step_scheduler_and_plateau_get_what_they_should() -> None:
    X, y, Xv, yv = spirals(20)
    trainer = make_trainer(epochs=2, batch_size=20, lr=0.1)
    trainer.scheduler = optim.lr_scheduler.StepLR(trainer.optimizer, step_size=1, gamma=0.5)
    trainer.scheduler_interval = "step"
    trainer.fit(X, y)
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**6)  # 3 steps per epoch

    seen: list[float] = []

    class Recording(optim.lr_scheduler.ReduceLROnPlateau):
        def step(self, metrics: Any) -> None:
            seen.append(metrics)
            super().step(metrics)

    trainer = make_trainer(epochs=3)
    trainer.scheduler = Recording(trainer.optimizer)
    history = trainer.fit(X, y, Xv, yv)
    assert seen == [h["val_loss"] for h in history]


def test_verbose_false_prints_nothing_and_verbose_true_logs_epochs(capsys: pytest.CaptureFixture[str]) -> None:
    X, y, Xv, yv = spirals(10)
    make_trainer(epochs=2).fit(X, y, Xv, yv)
    assert capsys.readouterr() == ("", "")
    make_trainer(epochs=2, verbose=True).fit(X, y, Xv, yv)
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("Epoch 1/2 - step 1 - train_loss ") and "val_acc" in lines[0]
    assert err == ""  # no progress bar when stderr is not a terminal


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    X, y, _, _ = spirals(10)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    make_trainer(epochs=1, verbose=False).fit(X, y)
    assert terminal.getvalue() == ""
    make_trainer(epochs=1, verbose=True).fit(X, y)
    assert "Epoch 1/1:   0%|" in terminal.getvalue()  # the bar (cleared at the end of the epoch)


class StopAtStep(Callback):
    def __init__(self, step: int) -> None:
        self.at = step

    def on_batch_end(self, trainer: Trainer, step: int, logs: dict[str, Any]) -> None:
        if step == self.at:
            trainer.stop_training = True


def test_stopping_mid_epoch_logs_a_partial_entry() -> None:
    X, y, Xv, yv = spirals(20)
    trainer = make_trainer(epochs=5, batch_size=16, callbacks=[StopAtStep(6)])  # 4 batches per epoch
    history = trainer.fit(X, y, Xv, yv)
    assert [(h["epoch"], h["step"], h.get("partial", False)) for h in history] == [(1, 4, False), (2, 6, True)]
    assert trainer.epoch == 1 and trainer.step == 6


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"batch_size": 0},
            ValueError,
            r"Invalid value for `batch_size`: expected an int >= 1. Received: batch_size=0",
        ),
        ({"epochs": 2.5}, TypeError, r"Invalid type for `epochs`: expected an int >= 0"),
        ({"clip_grad_norm": -1.0}, ValueError, r"Invalid value for `clip_grad_norm`: expected a float in \(0, inf\]"),
        ({"scheduler_interval": "batch"}, ValueError, r"Invalid value for `scheduler_interval`: expected one of"),
        ({"metrics": ("f1",)}, ValueError, r"Invalid value for `metrics`: expected names from 'accuracy'"),
        ({"callbacks": [object()]}, TypeError, r"Invalid type for `callbacks`"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make_trainer(**kwargs)


def test_bad_arguments_that_need_other_objects() -> None:
    model = mlp(0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="expected 'epoch' for ReduceLROnPlateau"):
        Trainer(
            model,
            nn.CrossEntropyLoss(),
            opt,
            scheduler=optim.lr_scheduler.ReduceLROnPlateau(opt),
            scheduler_interval="step",
        )
    with pytest.raises(TypeError, match=r"Invalid type for `model`: expected a Module with loss\(X, y\)"):
        Trainer(model, None, opt)
    with pytest.raises(TypeError, match="Invalid type for `model`: expected a scratchnn.nn.Module"):
        Trainer(lambda x: x, nn.CrossEntropyLoss(), opt)  # type: ignore[arg-type]
    X, y, Xv, yv = spirals(5)
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, verbose=False)
    with pytest.raises(ValueError, match=r"Invalid shape for `y_train`: expected \(15, ...\)"):
        trainer.fit(X, y[:-1])
    with pytest.raises(ValueError, match="X_val, y_val`: expected both or neither"):
        trainer.fit(X, y, Xv)


def test_a_second_fit_continues_training_even_on_other_data() -> None:
    X, y, Xv, yv = spirals(20)
    trainer = make_trainer(epochs=1)
    trainer.fit(X, y)
    trainer.epochs = 3
    history = trainer.fit(Xv, yv)  # epochs and max_steps are totals: two more epochs, on 30 samples
    assert [(h["epoch"], h["step"]) for h in history] == [(1, 2), (2, 3), (3, 4)]


def test_the_optimizer_must_train_the_model() -> None:
    model, other = mlp(0), mlp(1)
    with pytest.raises(ValueError, match=r"Invalid value for `optimizer`: expected an optimizer over the model's par"):
        Trainer(model, nn.CrossEntropyLoss(), optim.SGD(other.parameters(), lr=0.1))
    stray = Param(np.zeros((5, 2), np.float32))
    with pytest.raises(ValueError, match=re.escape("Received: param_groups[1]['params'][0] (shape (5, 2)), which are")):
        Trainer(model, nn.CrossEntropyLoss(), optim.SGD([{"params": model.parameters()}, {"params": [stray]}], lr=0.1))
    frozen = list(model.parameters())[2:]  # the first layer frozen: fine
    Trainer(model, nn.CrossEntropyLoss(), optim.SGD(frozen, lr=0.1), verbose=False)
    crit = nn.CrossEntropyLoss()
    crit.scale = Param(np.ones(1, np.float32))  # a criterion's own params may be trained with the model
    Trainer(model, crit, optim.SGD([*model.parameters(), crit.scale], lr=0.1), verbose=False)
