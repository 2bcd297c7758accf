"""Gradient-flow diagnostics against hand computations on tiny models."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from scratchnn.analysis import GradientFlow, activation_stats, grad_norms, update_ratios
from scratchnn.models import FullyConnectedNet
from scratchnn.nn import Linear, MSELoss, ReLU, Sequential, Tanh
from scratchnn.optim import SGD
from scratchnn.train import Trainer, read_jsonl


def _linear(w: list[float], b: float) -> Linear:
    layer = Linear(2, 1)
    layer.weight.data[...] = np.array([w], dtype=np.float32)
    layer.bias.data[...] = b
    return layer


def _two_layer() -> Sequential:
    """Linear(2, 2) - ReLU - Linear(2, 1) with weights chosen so that hidden unit 0 is dead on X below."""
    model = Sequential(Linear(2, 2), ReLU(), Linear(2, 1))
    model[0].weight.data[...] = np.array([[1.0, -1.0], [2.0, 0.0]], dtype=np.float32)  # (out, in)
    model[0].bias.data[...] = np.array([0.0, -1.0], dtype=np.float32)
    model[2].weight.data[...] = np.array([[1.0, 1.0]], dtype=np.float32)
    model[2].bias.data[...] = 0.0
    return model


X = np.array([[1.0, 2.0], [0.0, 3.0]], dtype=np.float32)
# hidden pre-activations: unit 0: 1 - 2 = -1, 0 - 3 = -3 (dead); unit 1: 2 - 1 = 1, 0 - 1 = -1
# ReLU output [[0, 1], [0, 0]]: mean 1/4, E[h^2] = 1/4, std = sqrt(1/4 - 1/16) = sqrt(3/16)


def test_grad_norms_of_a_linear_least_squares_step_by_hand() -> None:
    # y = w.x + b with w = (1, 2), b = 0; X = [[1, 1], [2, 0]], targets 0: y = (3, 2)
    # MSE mean over 2: dL/dy = 2 (y - t) / 2 = (3, 2); dw = 3 (1, 1) + 2 (2, 0) = (7, 3); db = 5
    model = _linear([1.0, 2.0], 0.0)
    crit = MSELoss()
    Xl = np.array([[1.0, 1.0], [2.0, 0.0]], dtype=np.float32)
    crit(model(Xl), np.zeros((2, 1), dtype=np.float32))
    model.backward(crit.backward())
    norms = grad_norms(model)
    assert list(norms) == ["weight", "bias"]
    assert norms["weight"] == pytest.approx(math.sqrt(58.0), rel=1e-6)
    assert norms["bias"] == pytest.approx(5.0, rel=1e-6)


def test_update_ratio_by_hand() -> None:
    model = _linear([3.0, 4.0], 0.0)
    before = {n: p.data.astype(np.float64) for n, p in model.named_parameters()}
    model.weight.data[...] = np.array([[3.3, 4.4]], dtype=np.float32)  # moved by 0.1 * w: ratio 0.1
    ratios = update_ratios(before, model)
    assert ratios["weight"] == pytest.approx(0.1, rel=1e-5)
    assert ratios["bias"] == 0.0  # zero and unmoved
    model.bias.data[...] = 1.0
    assert update_ratios(before, model)["bias"] == math.inf  # moved away from zero


def test_activation_stats_by_hand_and_dead_relu_fraction() -> None:
    stats = activation_stats(_two_layer(), X)
    assert len(stats) == 1
    s = stats[0]
    assert (s["layer"], s["type"]) == ("1", "ReLU")
    assert s["mean"] == pytest.approx(0.25)
    assert s["std"] == pytest.approx(math.sqrt(3.0 / 16.0))
    assert s["dead_frac"] == 0.5


def test_activation_stats_of_tanh_layers_in_forward_order() -> None:
    model = Sequential(Linear(2, 2), Tanh(), Linear(2, 2), Tanh())
    for layer in (model[0], model[2]):
        layer.weight.data[...] = np.eye(2, dtype=np.float32)
        layer.bias.data[...] = 0.0
    stats = activation_stats(model, X)
    h1 = np.tanh(X.astype(np.float64))
    h2 = np.tanh(h1)
    assert [s["layer"] for s in stats] == ["1", "3"]
    for s, h in zip(stats, (h1, h2)):
        assert s["mean"] == pytest.approx(h.mean(), rel=1e-6)
        assert s["std"] == pytest.approx(h.std(), rel=1e-6)
        assert s["dead_frac"] is None


def test_activation_stats_leave_mode_cache_and_hooks_as_they_were() -> None:
    model = _two_layer()
    model.train()
    out = model(X)
    activation_stats(model, 10 * X)  # another input, eval mode inside
    assert model.training and model[1].training
    assert not model[1]._forward_hooks and not model._forward_hooks
    dx = model.backward(np.ones_like(out))  # still the cache of X: the ReLU mask of X, not of 10 X
    dh = np.array([[0.0, 1.0], [0.0, 0.0]], dtype=np.float32)  # dout @ W2 = (1, 1), masked by (h > 0)
    np.testing.assert_allclose(dx, dh @ model[0].weight.data)


def test_fully_connected_net_reports_its_hidden_relus() -> None:
    rng = np.random.default_rng(0)
    model = FullyConnectedNet([5, 4], input_dim=3, num_classes=2, weight_init="he", seed=0)
    Xr = rng.standard_normal((6, 3)).astype(np.float32)
    h1 = np.maximum(Xr @ model.params["W1"] + model.params["b1"], 0)
    h2 = np.maximum(h1 @ model.params["W2"] + model.params["b2"], 0)
    stats = activation_stats(model, Xr)
    assert [s["layer"] for s in stats] == ["relu1", "relu2"]
    for s, h in zip(stats, (h1, h2)):
        assert s["mean"] == pytest.approx(float(h.mean()), rel=1e-5)
        assert s["std"] == pytest.approx(float(h.std()), rel=1e-5)
        assert s["dead_frac"] == pytest.approx(float(np.mean(np.all(h <= 0, axis=0))))


def _fit(model: Sequential | Linear, callback: GradientFlow, X_: np.ndarray, y_: np.ndarray, **kw: object) -> Trainer:
    trainer = Trainer(
        model,
        MSELoss(),
        SGD(model.parameters(), lr=0.1),
        verbose=False,
        metrics=(),
        rng=np.random.default_rng(0),
        callbacks=[callback],
        **kw,
    )  # type: ignore[arg-type]
    trainer.fit(X_, y_, X_, y_)
    return trainer


def test_callback_records_one_sgd_step_by_hand() -> None:
    flow = GradientFlow()
    model = _linear([1.0, 2.0], 0.0)
    Xl = np.array([[1.0, 1.0], [2.0, 0.0]], dtype=np.float32)
    trainer = _fit(model, flow, Xl, np.zeros((2, 1), dtype=np.float32), batch_size=2, epochs=1)
    (record,) = flow.records
    assert (record["step"], record["epoch"], record["activations"]) == (1, 1, [])
    assert record["grad_norm"]["weight"] == pytest.approx(math.sqrt(58.0), rel=1e-6)
    # SGD lr 0.1: ||dw|| = 0.1 sqrt(58), ||w|| = sqrt(5); the zero bias moved: inf
    assert record["update_ratio"]["weight"] == pytest.approx(0.1 * math.sqrt(58.0) / math.sqrt(5.0), rel=1e-5)
    assert record["update_ratio"]["bias"] == math.inf
    entry = trainer.history[0]
    assert entry["grad_norm/weight"] == record["grad_norm"]["weight"]
    assert entry["update_ratio/weight"] == record["update_ratio"]["weight"]


def test_callback_records_the_training_batch_activations_before_the_step() -> None:
    flow = GradientFlow()
    model = _two_layer()
    trainer = _fit(model, flow, X, np.zeros((2, 1), dtype=np.float32), batch_size=2, epochs=2)
    first = flow.records[0]["activations"]
    assert len(first) == 1  # the validation passes in between are not recorded
    assert first[0]["mean"] == pytest.approx(0.25) and first[0]["dead_frac"] == 0.5
    assert first[0]["std"] == pytest.approx(math.sqrt(3.0 / 16.0))
    assert [r["step"] for r in flow.records] == [1, 2]
    assert trainer.history[1]["dead_frac/1"] == flow.records[1]["activations"][0]["dead_frac"]
    assert not model[1]._forward_hooks  # removed when training ends


def test_every_and_interval_pick_the_steps_and_match_a_record_every_step() -> None:
    rng = np.random.default_rng(1)
    Xr = rng.standard_normal((8, 2)).astype(np.float32)
    yr = rng.standard_normal((8, 1)).astype(np.float32)
    every_step, every_3 = GradientFlow(), GradientFlow(every=3)
    per_epoch = GradientFlow(interval="epoch")
    for flow in (every_step, every_3, per_epoch):
        _fit(_two_layer(), flow, Xr, yr, batch_size=2, epochs=2)
    assert [r["step"] for r in every_step.records] == list(range(1, 9))
    assert [r["step"] for r in every_3.records] == [3, 6]
    assert [r["step"] for r in per_epoch.records] == [4, 8]
    for record in every_3.records + per_epoch.records:
        same = every_step.records[record["step"] - 1]
        for key in ("grad_norm", "update_ratio"):
            for name, value in record[key].items():
                assert value == pytest.approx(same[key][name], rel=1e-6), (record["step"], key, name)
        assert record["activations"] == same["activations"]


def test_callback_writes_gradient_flow_jsonl_in_the_run_folder(tmp_path: Path) -> None:
    flow = GradientFlow(every=2)
    run_dir = tmp_path / "run"
    _fit(_two_layer(), flow, X, np.zeros((2, 1), dtype=np.float32), batch_size=1, epochs=2, run_dir=run_dir)
    rows = read_jsonl(run_dir / "gradient_flow.jsonl")
    assert [r["step"] for r in rows] == [2, 4]
    assert rows[0]["grad_norm"] == pytest.approx(flow.records[0]["grad_norm"])


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"Invalid value for `every`: expected an int >= 1\. Received: every=0"):
        GradientFlow(every=0)
    with pytest.raises(ValueError, match=r"Invalid value for `interval`: expected one of 'step', 'epoch'"):
        GradientFlow(interval="batch")


def test_fully_connected_net_with_batchnorm_and_dropout_records_the_training_pass_and_changes_nothing() -> None:
    from scratchnn.nn import CrossEntropyLoss

    rng = np.random.default_rng(2)
    Xr = rng.standard_normal((6, 3)).astype(np.float32)
    yr = rng.integers(0, 2, size=6)
    model = FullyConnectedNet([4], input_dim=3, num_classes=2, normalization="batchnorm", dropout=0.5, seed=0)
    a = Xr.astype(np.float64) @ model.params["W1"] + model.params["b1"]  # pre-step weights, batch statistics
    h = np.maximum((a - a.mean(0)) / np.sqrt(a.var(0) + 1e-5), 0)
    flow = GradientFlow()
    trainer = Trainer(
        model,
        CrossEntropyLoss(),
        SGD(model.parameters(), lr=0.1),
        batch_size=6,
        epochs=1,
        verbose=False,
        metrics=(),
        rng=np.random.default_rng(0),
        callbacks=[flow],
    )
    trainer.fit(Xr, yr)
    (s,) = flow.records[0]["activations"]
    assert s["layer"] == "relu1"
    assert s["mean"] == pytest.approx(h.mean(), rel=1e-4)
    assert s["std"] == pytest.approx(h.std(), rel=1e-4)
    assert s["dead_frac"] == pytest.approx(float(np.mean(np.all(h <= 0, axis=0))))
    # one batchnorm update only (momentum 0.1): the diagnostics ran no forward pass of their own
    np.testing.assert_allclose(model.running_mean1, 0.1 * a.mean(0), rtol=1e-4, atol=1e-6)
