"""``Module.register_forward_hook``: torch's name and semantics (runs after ``module(...)``, may replace the output)."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchnn.nn import Linear, Module, ReLU, Sequential


def test_hook_sees_module_inputs_and_output_and_handle_removes_it() -> None:
    relu = ReLU()
    seen: list[tuple[Module, tuple[Any, ...], np.ndarray]] = []
    handle = relu.register_forward_hook(lambda m, inputs, out: seen.append((m, inputs, out)))
    x = np.array([-1.0, 2.0], dtype=np.float32)
    out = relu(x)
    ((module, inputs, hooked_out),) = seen
    assert module is relu and inputs[0] is x and hooked_out is out
    handle.remove()
    handle.remove()  # removing twice is harmless, as in torch
    relu(x)
    assert len(seen) == 1


def test_hook_returning_a_value_replaces_the_output_and_hooks_run_in_order() -> None:
    relu = ReLU()
    order: list[str] = []

    def double(m: Module, inputs: tuple[Any, ...], out: np.ndarray) -> np.ndarray:
        order.append("double")
        return out * 2

    def record(m: Module, inputs: tuple[Any, ...], out: np.ndarray) -> None:
        order.append(f"record {out.tolist()}")

    relu.register_forward_hook(double)
    relu.register_forward_hook(record)
    out = relu(np.array([-1.0, 3.0], dtype=np.float32))
    np.testing.assert_array_equal(out, [0.0, 6.0])
    assert order == ["double", "record [0.0, 6.0]"]


def test_child_hooks_fire_inside_a_container_and_not_on_forward_calls() -> None:
    model = Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
    names: list[str] = []
    for name, m in model.named_children():
        m.register_forward_hook(lambda m, i, o, name=name: names.append(name))
    model(np.ones((2, 3), dtype=np.float32))
    assert names == ["0", "1", "2"]
    model[1].forward(np.ones(2, dtype=np.float32))  # the hooks run on module(x) only, as in torch
    assert names == ["0", "1", "2"]
    assert "_forward_hooks" not in model.state_dict()
