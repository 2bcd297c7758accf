"""The course Solver over the Trainer: histories, best params, update rules, prints, checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scratchnn import models
from scratchnn.serialization import load
from scratchnn.train import Solver

from .helpers import spirals


def _data(n_per_class: int = 50) -> dict[str, np.ndarray]:
    X, y, Xv, yv = spirals(n_per_class)
    return {"X_train": X, "y_train": y, "X_val": Xv, "y_val": yv}


def _net() -> models.FullyConnectedNet:
    return models.FullyConnectedNet([32], input_dim=2, num_classes=3, weight_scale=0.5, seed=0)


def test_histories_best_params_and_lr_decay() -> None:
    data, model = _data(), _net()  # 150 training samples, batches of 50: 3 iterations per epoch
    solver = Solver(
        model,
        data,
        update_rule="sgd_momentum",
        optim_config={"learning_rate": 0.1},
        lr_decay=0.9,
        batch_size=50,
        num_epochs=4,
        num_train_samples=100,
        verbose=False,
        rng=np.random.default_rng(0),
    )
    solver.train()
    assert len(solver.loss_history) == 12
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 5  # after iteration 1 and each epoch
    assert np.mean(solver.loss_history[-3:]) < solver.loss_history[0]
    assert solver.best_val_acc == max(solver.val_acc_history) > 1 / 3
    for name, value in model.params.items():
        np.testing.assert_array_equal(value, solver.best_params[name])
    assert solver.check_accuracy(data["X_val"], data["y_val"]) == solver.best_val_acc
    assert solver.trainer is not None
    assert solver.trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.9**4)
    assert solver.epoch == 4


class Quadratic:
    """A course-style model (not a Module): loss = 0.5 ||w||^2, so dw = w; scores always pick class 0."""

    def __init__(self) -> None:
        self.params = {"w": np.array([1.0, -2.0, 0.5])}

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> Any:
        if y is None:
            return np.zeros((len(X), 2))
        w = self.params["w"]
        return 0.5 * float(w @ w), {"w": w.copy()}


def _course_steps(rule: str, cfg: dict[str, float], w: np.ndarray, steps: int) -> np.ndarray:
    """The course's update rules, written out (its optim.py formulas)."""
    lr = cfg["learning_rate"]
    v = m = cache = np.zeros_like(w)
    for t in range(1, steps + 1):
        dw = w.copy()
        if rule == "sgd":
            w = w - lr * dw
        elif rule == "sgd_momentum":
            v = cfg["momentum"] * v - lr * dw
            w = w + v
        elif rule == "rmsprop":
            cache = cfg["decay_rate"] * cache + (1 - cfg["decay_rate"]) * dw**2
            w = w - lr * dw / (np.sqrt(cache) + cfg["epsilon"])
        else:
            m = cfg["beta1"] * m + (1 - cfg["beta1"]) * dw
            v = cfg["beta2"] * v + (1 - cfg["beta2"]) * dw**2
            mt, vt = m / (1 - cfg["beta1"] ** t), v / (1 - cfg["beta2"] ** t)
            w = w - lr * mt / (np.sqrt(vt) + cfg["epsilon"])
    return w


@pytest.mark.parametrize(
    ("rule", "cfg"),
    [
        ("sgd", {"learning_rate": 0.1}),
        ("sgd_momentum", {"learning_rate": 0.1, "momentum": 0.5}),
        ("rmsprop", {"learning_rate": 0.1, "decay_rate": 0.9, "epsilon": 1e-4}),
        ("adam", {"learning_rate": 0.1, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-4}),
    ],
)
def test_course_update_rules_on_a_course_style_model(rule: str, cfg: dict[str, float]) -> None:
    X, y = np.zeros((4, 1)), np.ones(4, dtype=np.int64)  # one batch per epoch; val acc stays 0: no restore
    model = Quadratic()
    w0 = model.params["w"].copy()
    solver = Solver(
        model,
        {"X_train": X, "y_train": y, "X_val": X, "y_val": y},
        update_rule=rule,
        optim_config=cfg,
        batch_size=4,
        num_epochs=3,
        verbose=False,
    )
    solver.train()
    np.testing.assert_allclose(model.params["w"], _course_steps(rule, cfg, w0, 3), rtol=1e-12)
    assert solver.best_params == {} and len(solver.loss_history) == 3 and len(solver.val_acc_history) == 3


def test_scratchnn_optimizer_names_take_torch_arguments() -> None:
    solver = Solver(
        _net(),
        _data(5),
        update_rule="AdamW",
        optim_config={"lr": 1e-2, "weight_decay": 0.1},
        num_epochs=1,
        verbose=False,
    )
    solver.train()
    assert solver.trainer is not None
    opt = solver.trainer.optimizer
    assert type(opt).__name__ == "AdamW" and opt.param_groups[0]["weight_decay"] == 0.1


def test_prints_like_the_course(capsys: pytest.CaptureFixture[str]) -> None:
    Solver(_net(), _data(10), batch_size=10, num_epochs=2, print_every=2).train()  # 3 iterations per epoch
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(")")[0] for line in lines] == [
        "(Iteration 1 / 6",
        "(Epoch 0 / 2",
        "(Iteration 3 / 6",
        "(Epoch 1 / 2",
        "(Iteration 5 / 6",
        "(Epoch 2 / 2",
    ]
    assert lines[0].startswith("(Iteration 1 / 6) loss: ") and "train acc: " in lines[1] and "; val_acc: " in lines[1]
    Solver(_net(), _data(10), batch_size=10, num_epochs=2, verbose=False).train()
    assert capsys.readouterr() == ("", "")


def test_checkpoints_per_epoch_and_never_overwritten(tmp_path: Path) -> None:
    name = str(tmp_path / "fc")
    solver = Solver(_net(), _data(10), batch_size=10, num_epochs=2, checkpoint_name=name, verbose=False)
    solver.train()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [f"fc_epoch_{e}.safetensors" for e in range(3)]
    ck = load(tmp_path / "fc_epoch_2.safetensors")
    assert ck["epoch"] == 2 and ck["val_acc_history"] == solver.val_acc_history
    assert ck["update_rule"] == "sgd" and set(ck["model"]) == {"W1", "b1", "W2", "b2"}
    again = Solver(_net(), _data(10), batch_size=10, num_epochs=2, checkpoint_name=name, verbose=False)
    with pytest.raises(FileExistsError, match="fc_epoch_0.safetensors exists; the Solver does not overwrite"):
        again.train()
    assert again.loss_history == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"learning_rate": 0.1}, "Unrecognized arguments learning_rate"),
        ({"update_rule": "adadelta"}, r"Invalid value for `update_rule`: expected one of 'sgd'"),
        (
            {"update_rule": "adam", "optim_config": {"momentum": 0.9}},
            r"Invalid value for `optim_config`: expected keys among \['beta1', 'beta2', 'epsilon', 'learning_rate'\]",
        ),
        ({"batch_size": 0}, r"Invalid value for `batch_size`: expected an int >= 1"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Solver(_net(), _data(5), **kwargs).train()
