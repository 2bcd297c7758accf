"""ConvTranspose2d against torch.nn.ConvTranspose2d over random configurations, plus its init, options and errors."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
import torch

from scratchnn import nn

from .twins import compare_module, from_torch_state


def random_configs(count: int, seed: int) -> list[dict[str, Any]]:
    """Non-square inputs and kernels, strides 1-3, paddings 0-2 and output_padding < stride (ints and pairs)."""
    rng = np.random.default_rng(seed)
    configs: list[dict[str, Any]] = []
    while len(configs) < count:
        i = len(configs)
        kh, kw = (int(k) for k in rng.integers(1, 5, 2))
        sh, sw = (int(s) for s in rng.integers(1, 4, 2)) if i % 3 == 0 else (1 + i % 3,) * 2
        ph, pw = (int(p) for p in rng.integers(0, 3, 2)) if i % 4 == 1 else (i % 3,) * 2
        oh, ow = int(rng.integers(0, sh)), int(rng.integers(0, sw))
        H, W = (int(n) for n in rng.integers(1, 6, 2))
        if (H - 1) * sh - 2 * ph + kh + oh < 1 or (W - 1) * sw - 2 * pw + kw + ow < 1:
            continue  # torch refuses an empty output too
        configs.append(
            dict(
                C=int(rng.integers(1, 5)),
                F=int(rng.integers(1, 6)),
                kernel_size=(kh, kw),
                stride=(sh, sw) if sh != sw else sh,
                padding=(ph, pw) if ph != pw else ph,
                output_padding=(oh, ow) if oh != ow else oh,
                bias=i % 2 == 0,
                shape=(int(rng.integers(1, 4)), H, W),
            )
        )
    return configs


# and the conv autoencoder's two decoder layers (small batch)
CONFIGS = random_configs(24, seed=13) + [
    dict(C=64, F=32, kernel_size=3, stride=2, padding=1, output_padding=1, bias=True, shape=(2, 7, 7)),
    dict(C=32, F=1, kernel_size=3, stride=2, padding=1, output_padding=1, bias=True, shape=(2, 14, 14)),
]


def _args(cfg: dict[str, Any]) -> tuple[Any, ...]:
    return cfg["C"], cfg["F"], cfg["kernel_size"], cfg["stride"], cfg["padding"], cfg["output_padding"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cfg", CONFIGS, ids=[f"cfg{i}" for i in range(len(CONFIGS))])
def test_conv_transpose2d_matches_torch(cfg: dict[str, Any], dtype: Any) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((cfg["shape"][0], cfg["C"], *cfg["shape"][1:]))
    ours = nn.ConvTranspose2d(*_args(cfg), bias=cfg["bias"], rng=rng)
    # two steps: the grads accumulate
    compare_module(ours, torch.nn.ConvTranspose2d(*_args(cfg), bias=cfg["bias"]), [x], dtype=dtype, steps=2)


def test_configurations_cover_the_issue() -> None:
    def values(key: str) -> set[int]:
        return {v for c in CONFIGS for v in (c[key] if isinstance(c[key], tuple) else (c[key],))}

    assert values("stride") == {1, 2, 3} and values("padding") == {0, 1, 2} and values("output_padding") == {0, 1, 2}
    assert any(isinstance(c["kernel_size"], tuple) and len(set(c["kernel_size"])) == 2 for c in CONFIGS)
    assert any(c["shape"][1] != c["shape"][2] for c in CONFIGS)
    assert {c["bias"] for c in CONFIGS} == {True, False}


def test_torch_state_dict_loads_into_ours_and_back() -> None:
    """torch's weights (C_in, C_out, kh, kw) load unchanged; ours then give torch's output and load back."""
    theirs = torch.nn.ConvTranspose2d(3, 5, (3, 2), stride=2, padding=1, output_padding=1).double()
    ours = nn.ConvTranspose2d(3, 5, (3, 2), stride=2, padding=1, output_padding=1, dtype=np.float64)
    ours.load_state_dict(from_torch_state(theirs.state_dict()))
    assert ours.weight.shape == (3, 5, 3, 2) and ours.bias.shape == (5,)
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5))
    np.testing.assert_allclose(ours(x), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-12, atol=1e-12)
    again = torch.nn.ConvTranspose2d(3, 5, (3, 2), stride=2, padding=1, output_padding=1).double()
    again.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})
    assert all(torch.equal(again.state_dict()[k], theirs.state_dict()[k]) for k in theirs.state_dict())


@pytest.mark.parametrize("output_size", [(9, 10), [9, 9], (2, 4, 10, 9), torch.Size([10, 10])])
def test_output_size_matches_torch(output_size: Any) -> None:
    ours = nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, dtype=np.float64, rng=np.random.default_rng(2))
    theirs = torch.nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1).double()
    theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(3).standard_normal((2, 3, 5, 5))
    tx = torch.tensor(x, requires_grad=True)
    out, tout = ours(x, output_size), theirs(tx, output_size=output_size)
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    dout = np.random.default_rng(4).standard_normal(out.shape)
    tout.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(ours.backward(dout), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_input_grad_false_returns_none_and_same_param_grads() -> None:
    rng = np.random.default_rng(2)
    a = nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, dtype=np.float64, rng=rng)
    b = nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, dtype=np.float64, rng=rng)
    b.load_state_dict(a.state_dict())
    x = rng.standard_normal((2, 3, 5, 5))
    dout = rng.standard_normal((2, 4, 9, 9))
    a(x)
    b(x)
    assert a.backward(dout) is not None and b.backward(dout, input_grad=False) is None
    np.testing.assert_array_equal(a.weight.grad, b.weight.grad)
    np.testing.assert_array_equal(a.bias.grad, b.bias.grad)


def test_default_init_is_torchs() -> None:
    """Both U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = weight.shape[1] * kh * kw = C_out * kh * kw, as torch's."""
    m = nn.ConvTranspose2d(16, 64, (3, 2), rng=np.random.default_rng(3))
    torch.manual_seed(0)
    t = torch.nn.ConvTranspose2d(16, 64, (3, 2))
    bound = 1 / math.sqrt(64 * 3 * 2)  # not 1 / sqrt(16 * 3 * 2): the fans read dim 1, the output channels
    assert m.weight.shape == tuple(t.weight.shape) == (16, 64, 3, 2) and m.bias.shape == (64,)
    for ours, theirs in ((m.weight.data, t.weight), (m.bias.data, t.bias)):
        theirs = theirs.detach().numpy()
        assert np.abs(ours).max() <= bound and np.abs(theirs).max() <= bound
        assert np.abs(ours).max() > 0.9 * bound and np.abs(theirs).max() > 0.9 * bound
    assert m.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)  # U(-a, a) has std a / sqrt(3)
    assert t.weight.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.03)
    assert m.weight.dtype == np.float32
    again = nn.ConvTranspose2d(16, 64, (3, 2), rng=np.random.default_rng(3))
    np.testing.assert_array_equal(again.weight.data, m.weight.data)


def test_attributes_and_repr_mirror_torch() -> None:
    args = (3, 8, (3, 2), 2, 1, (1, 0))
    ours, theirs = nn.ConvTranspose2d(*args, bias=False), torch.nn.ConvTranspose2d(*args, bias=False)
    for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "dilation",
                 "groups", "padding_mode"):  # fmt: skip
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.bias is None and [n for n, _ in ours.named_parameters()] == ["weight"]
    assert repr(ours) == repr(theirs)
    assert repr(nn.ConvTranspose2d(2, 3, 1)) == repr(torch.nn.ConvTranspose2d(2, 3, 1))


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


X = np.zeros((2, 3, 5, 5), np.float32)
FORWARD_ERRORS: list[tuple[Any, type[Exception], str]] = [
    (lambda: nn.ConvTranspose2d(4, 2, 3)(X), ValueError,
     "Invalid shape for `input`: expected (N, 4, H, W) with in_channels=4. Received: input.shape=(2, 3, 5, 5)"),
    (lambda: nn.ConvTranspose2d(3, 2, 3)(X[0]), ValueError,
     "Invalid shape for `input`: expected a 4-D array (N, C, H, W) (a single image needs a batch axis: x[None]). "
     "Received: input.shape=(3, 5, 5)"),
    (lambda: nn.ConvTranspose2d(3, 2, 3)(X.astype(np.float64)), TypeError,
     "Invalid dtype for `input`: expected float32 to match ConvTranspose2d's parameters (cast with "
     "x.astype(np.float32) or module.to(np.float64)). Received: input.dtype=float64"),
    (lambda: nn.ConvTranspose2d(3, 2, 1, padding=3)(X), ValueError,
     "Invalid shape for `input`: expected an output size ((H - 1)*1 - 2*3 + 1 + 0, (W - 1)*1 - 2*3 + 1 + 0) of at "
     "least (1, 1); it would be (-1, -1). Received: input.shape=(2, 3, 5, 5)"),
    (lambda: nn.ConvTranspose2d(3, 2, 3, stride=2)(X, (12, 10)), ValueError,
     "Invalid value for `output_size`: expected sizes from (11, 11) to (12, 12) for an input of size (5, 5). "
     "Received: output_size=(12, 10)"),
    (lambda: nn.ConvTranspose2d(3, 2, 3, stride=2)(X, (13, 11)), ValueError,
     "Invalid value for `output_size`: expected sizes from (11, 11) to (12, 12) for an input of size (5, 5). "
     "Received: output_size=(13, 11)"),
    (lambda: nn.ConvTranspose2d(3, 2, 3)(X, (7,)), ValueError,
     "Invalid value for `output_size`: expected None, or (H_out, W_out) or (N, C_out, H_out, W_out) as ints. "
     "Received: output_size=(7,)"),
    (lambda: nn.ConvTranspose2d(3, 2, 3)(X, 7), TypeError,
     "Invalid type for `output_size`: expected None, or (H_out, W_out) or (N, C_out, H_out, W_out) as ints. "
     "Received: output_size of type int"),
]  # fmt: skip


@pytest.mark.parametrize("call,exc,text", FORWARD_ERRORS, ids=[f"case{i}" for i in range(len(FORWARD_ERRORS))])
def test_bad_input(call: Any, exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=msg(text)):
        call()


@pytest.mark.parametrize("kwargs,text", [
    ({"dilation": 2}, "ConvTranspose2d(dilation=2) is not implemented in scratchnn; only dilation=1 is supported"),
    ({"groups": 3}, "ConvTranspose2d(groups=3) is not implemented in scratchnn; only groups=1 is supported"),
])  # fmt: skip
def test_unsupported_options_raise_not_implemented(kwargs: dict[str, Any], text: str) -> None:
    with pytest.raises(NotImplementedError, match=msg(text)):
        nn.ConvTranspose2d(3, 3, 3, **kwargs)
    theirs = torch.nn.ConvTranspose2d(3, 3, 3, **kwargs)  # torch has them: ours says it does not, not "invalid"
    assert theirs.weight.shape[0] == 3


@pytest.mark.parametrize("kwargs,exc,text", [
    ({"padding_mode": "reflect"}, ValueError,
     "Invalid value for `padding_mode`: expected 'zeros', the only mode of a transposed convolution (torch). "
     "Received: padding_mode='reflect'"),
    ({"output_padding": 2, "stride": 2}, ValueError,
     "Invalid value for `output_padding`: expected an int >= 0 or a pair (h, w) of them, smaller than "
     "stride=(2, 2). Received: output_padding=2"),
    ({"output_padding": (0, 1)}, ValueError,
     "Invalid value for `output_padding`: expected an int >= 0 or a pair (h, w) of them, smaller than "
     "stride=(1, 1). Received: output_padding=(0, 1)"),
    ({"kernel_size": (3, 0)}, ValueError,
     "Invalid value for `kernel_size`: expected an int >= 1 or a pair (h, w) of them. Received: kernel_size=(3, 0)"),
    ({"out_channels": 0}, ValueError,
     "Invalid value for `out_channels`: expected an int >= 1. Received: out_channels=0"),
    ({"padding": "same"}, TypeError,
     "Invalid type for `padding`: expected an int >= 0 or a pair (h, w) of them. Received: padding of type str"),
    ({"stride": 1.5}, TypeError,
     "Invalid type for `stride`: expected an int >= 1 or a pair (h, w) of them. Received: stride of type float"),
])  # fmt: skip
def test_bad_arguments(kwargs: dict[str, Any], exc: type[Exception], text: str) -> None:
    kwargs = {"in_channels": 3, "out_channels": 2, "kernel_size": 3, **kwargs}
    with pytest.raises(exc, match=msg(text)):
        nn.ConvTranspose2d(**kwargs)
    if "padding_mode" in kwargs:  # torch refuses it as well
        with pytest.raises(ValueError):
            torch.nn.ConvTranspose2d(**kwargs)
