"""The edges of the module contract (docs/dtypes.md), over every row of the contract tables.

Empty batches give empty outputs and input gradients and zero parameter gradients (or, where batch
statistics are needed, the library's error); a wrong ``grad_out`` fails with the template before
any work; inputs, parameters and upstream gradients share one dtype, float32 or float64.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from scratchnn import models, nn
from scratchnn.gradcheck.rows import MODULE_ROWS

from .test_contract import INPUT_GRAD_ROWS, ROWS

Factory = Callable[[], nn.Module]
# (name, factory, input shape) of both tables: every nn module, the models, the activations
ALL = [(name, factory, shape) for name, factory, shape, _ in ROWS] + INPUT_GRAD_ROWS
IDS = [row[0] for row in ALL]
# batch statistics need more than one value per channel, so an empty training batch is an error there
NEEDS_BATCH = {"BatchNorm1d", "BatchNorm1d-3d", "BatchNorm2d", "ConvNet", "FullyConnectedNet"}
BAD_DTYPES = [np.float16, np.int32, np.complex128, object, np.bool_]


def _input(shape: tuple[int, ...], dtype: Any = np.float64) -> np.ndarray:
    return np.random.default_rng(3).standard_normal(shape).astype(dtype)


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name,factory,shape", ALL, ids=IDS)
def test_empty_batch(name: str, factory: Factory, shape: tuple[int, ...], train: bool) -> None:
    m = factory().double().train(train)
    x = _input(shape)
    m.zero_grad()
    m.backward(np.ones_like(m(x)))  # gradients that an empty batch must leave as they are
    before = {k: p.grad.copy() for k, p in m.named_parameters()}
    empty = _input((0, *shape[1:]))
    if train and name in NEEDS_BATCH:
        with pytest.raises(ValueError, match=r"^Invalid shape for `(input|X)`: expected .*\(0, "):
            m(empty)
        return
    out = m(empty)
    assert out.shape[0] == 0 and out.dtype == np.float64
    dx = m.backward(np.zeros_like(out))
    assert dx.shape == empty.shape and dx.dtype == np.float64
    for k, p in m.named_parameters():
        np.testing.assert_array_equal(p.grad, before[k], err_msg=k)
    m.zero_grad()
    assert m.backward(np.zeros_like(m(empty)), input_grad=False) is None
    for k, p in m.named_parameters():
        assert p.grad.shape == p.shape and not p.grad.any(), k


def _forward(factory: Factory, shape: tuple[int, ...], dtype: Any = np.float32) -> tuple[nn.Module, np.ndarray]:
    m = factory().to(dtype)
    return m, m(_input(shape, dtype))


@pytest.mark.parametrize("name,factory,shape", ALL, ids=IDS)
def test_wrong_grad_out_shape(name: str, factory: Factory, shape: tuple[int, ...]) -> None:
    m, out = _forward(factory, shape)
    for bad in [(out.shape[0] + 1, *out.shape[1:]), out.shape[::-1] + (1,), ()]:
        text = f"Invalid shape for `grad_out`: expected {out.shape}, the forward output's shape. Received: "
        with pytest.raises(ValueError, match=msg(text + f"grad_out.shape={bad}")):
            m.backward(np.zeros(bad, np.float32))


@pytest.mark.parametrize("dtype", [*BAD_DTYPES, np.float64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name,factory,shape", ALL, ids=IDS)
def test_wrong_grad_out_dtype(name: str, factory: Factory, shape: tuple[int, ...], dtype: Any) -> None:
    m, out = _forward(factory, shape)  # a float32 module: a float64 gradient is as wrong as an int one
    text = "Invalid dtype for `grad_out`: expected float32, the forward output's dtype. Received: grad_out.dtype="
    with pytest.raises(TypeError, match=msg(text + np.dtype(dtype).name)):
        m.backward(np.zeros(out.shape, dtype))
    with pytest.raises(TypeError, match=r"^Invalid type for `grad_out`: expected a numpy.ndarray .* of type list$"):
        m.backward(out.tolist())


def test_grad_out_checks_run_in_every_module_of_the_gradcheck_table() -> None:
    """Every module class (losses apart) rejects a wrong ``grad_out`` itself, also inside a container."""
    losses = (nn.CrossEntropyLoss, nn.MSELoss, nn.BCEWithLogitsLoss, nn.MultiMarginLoss, models.ReconstructionLoss)
    checked = set()
    for row in MODULE_ROWS:
        module, inputs = row.make(np.random.default_rng(0))
        if isinstance(module, losses):
            continue
        out = module.double()(*inputs)
        assert module._out_spec == (out.shape, out.dtype), row.id
        # never called: a list of layers (TransformerEncoder.layers) has no forward, and MultiheadAttention
        # reads its out_proj's weights in its own op instead of calling it
        idle = {id(a.out_proj) for a in module.modules() if isinstance(a, nn.MultiheadAttention)}
        for m in module.modules():
            if type(m) is nn.ModuleList or id(m) in idle:
                continue
            assert m._out_spec is not None, (row.id, type(m).__name__)
            with pytest.raises(ValueError, match=r"^Invalid shape for `grad_out`"):
                m.backward(np.zeros((*m._out_spec[0], 2)))
            checked.add(type(m).__name__)
    classes = {getattr(nn, n) for n in nn.__all__} | {getattr(models, n) for n in models.__all__}
    wanted = {c.__name__ for c in classes if isinstance(c, type) and issubclass(c, nn.Module)}
    wanted -= {"Module", "ModuleList", *(c.__name__ for c in losses)}
    assert wanted <= checked, sorted(wanted - checked)


@pytest.mark.parametrize("dtype", BAD_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name,factory,shape", ALL, ids=IDS)
def test_input_of_another_dtype_is_a_type_error(
    name: str, factory: Factory, shape: tuple[int, ...], dtype: Any
) -> None:
    x = _input(shape).astype(dtype)
    with pytest.raises(TypeError, match=r"^Invalid type for `(input|X)`: expected a floating numpy.ndarray "):
        factory()(x)


@pytest.mark.parametrize("name,factory,shape", ALL, ids=IDS)
def test_float32_input_into_a_float64_module_is_a_type_error(
    name: str, factory: Factory, shape: tuple[int, ...]
) -> None:
    m = factory().double()
    if not list(m.parameters()):  # no parameters: any one float dtype is consistent
        assert m(_input(shape, np.float32)).dtype == np.float32
        return
    with pytest.raises(
        TypeError, match=r"^Invalid dtype for `(input|X)`: expected float64 .*Received: \w+.dtype=float32$"
    ):
        m(_input(shape, np.float32))


@pytest.mark.parametrize("dtype", [np.int32, object, np.float16, np.complex64, "int64", None, "not a dtype"])
def test_to_refuses_every_dtype_but_float32_and_float64_before_casting(dtype: Any) -> None:
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    before = m.state_dict()
    shown = re.escape(str(np.dtype(dtype)) if dtype not in (None, "not a dtype") else repr(dtype))
    with pytest.raises(
        TypeError, match=rf"^Invalid type for `dtype`: expected float32 or float64. Received: dtype={shown}$"
    ):
        m.to(dtype)
    for k, v in m.state_dict().items():
        assert v.dtype == before[k].dtype and np.array_equal(v, before[k]), k
    assert m[0].weight.grad.dtype == np.float32


CONSTRUCTORS: list[tuple[str, Callable[[Any], nn.Module]]] = [
    ("Linear", lambda dt: nn.Linear(3, 4, dtype=dt)),
    ("Conv2d", lambda dt: nn.Conv2d(2, 3, 3, dtype=dt)),
    ("ConvTranspose2d", lambda dt: nn.ConvTranspose2d(2, 3, 3, dtype=dt)),
    ("BatchNorm2d", lambda dt: nn.BatchNorm2d(3, dtype=dt)),
    ("LayerNorm", lambda dt: nn.LayerNorm(3, dtype=dt)),
    ("GroupNorm", lambda dt: nn.GroupNorm(1, 3, dtype=dt)),
    ("ConvNet", lambda dt: models.ConvNet(1, 2, channels=[2], input_size=(4, 4), dtype=dt)),
    ("FullyConnectedNet", lambda dt: models.FullyConnectedNet([3], input_dim=4, num_classes=2, dtype=dt)),
    ("ThreeLayerConvNet", lambda dt: models.ThreeLayerConvNet((1, 4, 4), 2, 3, 3, 2, dtype=dt)),
]


@pytest.mark.parametrize("name,make", CONSTRUCTORS, ids=[c[0] for c in CONSTRUCTORS])
def test_constructor_dtype_is_float32_or_float64(name: str, make: Callable[[Any], nn.Module]) -> None:
    for dt in (np.float32, np.float64):
        assert {p.dtype for p in make(dt).parameters()} == {np.dtype(dt)}
    for bad in (np.int64, np.float16):
        with pytest.raises(
            TypeError,
            match=rf"^Invalid type for `dtype`: expected float32 or float64. Received: dtype={np.dtype(bad)}$",
        ):
            make(bad)


def test_param_data_is_float32_or_float64() -> None:
    with pytest.raises(
        TypeError, match=msg("Invalid dtype for `data`: expected float32 or float64. Received: data.dtype=float16")
    ):
        nn.Param(np.zeros(3, np.float16))
    with pytest.raises(TypeError, match=r"^Invalid dtype for `data`: .* Received: data.dtype=int64$"):
        nn.Param(np.arange(3))


FLAGS: list[tuple[str, Callable[[Any], object]]] = [
    ("bias", lambda v: nn.Linear(3, 2, bias=v)),
    ("bias", lambda v: nn.Conv2d(1, 1, 1, bias=v)),
    ("bias", lambda v: nn.ConvTranspose2d(1, 1, 1, bias=v)),
    ("affine", lambda v: nn.BatchNorm1d(3, affine=v)),
    ("track_running_stats", lambda v: nn.BatchNorm2d(3, track_running_stats=v)),
    ("elementwise_affine", lambda v: nn.LayerNorm(3, elementwise_affine=v)),
    ("bias", lambda v: nn.GroupNorm(1, 3, bias=v)),
    ("inplace", lambda v: nn.ReLU(inplace=v)),
    ("inplace", lambda v: nn.Dropout(inplace=v)),
    ("ceil_mode", lambda v: nn.MaxPool2d(2, ceil_mode=v)),
    ("return_indices", lambda v: nn.MaxPool2d(2, return_indices=v)),
    ("batchnorm", lambda v: models.ConvNet(batchnorm=v)),
]


@pytest.mark.parametrize("flag,make", FLAGS, ids=[f"{i}-{f}" for i, (f, _) in enumerate(FLAGS)])
def test_flags_take_bools_only(flag: str, make: Callable[[Any], object]) -> None:
    """Found by fuzzing: any value was taken as its truth value (affine='no' meant True, bias=0 False)."""
    for value in ("no", 0, 1, None):
        with pytest.raises(TypeError, match=msg(f"Invalid type for `{flag}`: expected a bool. Received: {flag} of "
                                                f"type {type(value).__name__}")):  # fmt: skip
            make(value)
