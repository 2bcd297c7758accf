"""BatchNorm, LayerNorm and GroupNorm ops: torch's numerics, the course's three bugs fixed, the ops contract.

Gradients are checked in the package's gradcheck table (scratchnn/gradcheck/rows/norm.py); here: the two
BatchNorm backward forms agree, running statistics follow torch step by step, statistics are per
channel, and bad input raises the template.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from scratchnn import ops


@pytest.fixture(autouse=True, scope="module")
def _torch_one_thread() -> Iterator[None]:
    # torch's intra-op pool spinning on a shared 2-core machine makes these tiny kernels ~10x slower
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _x(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return 3 * np.random.default_rng(seed).standard_normal(shape) + 2  # off-centre and scaled: stats matter


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, requires_grad=True)


@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("shape", [(6, 4), (4, 3, 5), (50, 20)])
def test_graph_form_equals_closed_form(shape: tuple[int, ...], mode: str) -> None:
    r = np.random.default_rng(1)
    C = shape[1]
    bn_param = {"mode": mode, "running_mean": r.standard_normal(C), "running_var": r.uniform(0.5, 2, C)}
    _, cache = ops.batchnorm_forward(_x(shape), r.standard_normal(C), r.standard_normal(C), bn_param)
    dout = r.standard_normal(shape)
    graph, closed = ops.batchnorm_backward(dout, cache), ops.batchnorm_backward_alt(dout, cache)
    for name, a, b in zip(("dx", "dgamma", "dbeta"), graph, closed):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12, err_msg=name)  # gradients are O(1) to O(10)


@pytest.mark.parametrize("momentum", [0.1, 0.7, None])
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (2, 3, 4, 5)])
def test_running_statistics_follow_torch_over_steps(shape: tuple[int, ...], momentum: float | None) -> None:
    """Five different batches: running mean, unbiased running var and the cumulative average match torch."""
    C = shape[1]
    bn_param: dict[str, Any] = {"mode": "train", "momentum": momentum}
    rm, rv = torch.zeros(C, dtype=torch.float64), torch.ones(C, dtype=torch.float64)
    forward = ops.spatial_batchnorm_forward if len(shape) == 4 else ops.batchnorm_forward
    g, b = np.linspace(0.5, 2, C), np.linspace(-1, 1, C)
    for step in range(5):
        x = _x(shape, seed=step)
        out, _ = forward(x, g, b, bn_param)
        # momentum=None: torch's module passes the functional the factor 1 / num_batches_tracked
        factor = 1 / (step + 1) if momentum is None else momentum
        tout = F.batch_norm(_t(x), rm, rv, torch.tensor(g), torch.tensor(b), training=True, momentum=factor)
        np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(bn_param["running_mean"], rm.numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(bn_param["running_var"], rv.numpy(), rtol=1e-12, atol=1e-14)
        assert bn_param["num_batches_tracked"] == step + 1
    bn_param["mode"] = "test"
    x = _x(shape, seed=9)
    out, _ = forward(x, g, b, bn_param)
    tout = F.batch_norm(_t(x), rm, rv, torch.tensor(g), torch.tensor(b), training=False)
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_momentum_weights_the_new_batch_and_var_is_unbiased() -> None:
    """torch's convention (the course's momentum=0.9 meant the weight of the OLD value)."""
    x = np.array([[1.0, 0.0], [3.0, 4.0], [5.0, 2.0]])
    bn_param: dict[str, Any] = {"mode": "train", "momentum": 0.25}
    ops.batchnorm_forward(x, None, None, bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 0.25 * np.array([3.0, 2.0]))
    # unbiased batch variances: (4 + 0 + 4) / 2 = 4 and (4 + 4 + 0) / 2 = 4
    np.testing.assert_allclose(bn_param["running_var"], 0.75 * 1 + 0.25 * np.array([4.0, 4.0]))


def test_spatial_batchnorm_statistics_are_per_channel_not_per_pixel() -> None:
    """The course bug: normalizing each pixel on its own. Here each channel has mean 0 and variance 1 over
    (N, H, W), one pair of running statistics per channel, and single pixels are NOT standardized."""
    x = _x((4, 3, 5, 6)) + np.arange(5)[None, None, :, None]  # pixels of one channel differ in mean
    bn_param: dict[str, Any] = {"mode": "train", "momentum": 1.0}
    out, _ = ops.spatial_batchnorm_forward(x, None, None, bn_param)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), x.var(axis=(0, 2, 3)) / (x.var(axis=(0, 2, 3)) + 1e-5))
    assert np.abs(out.mean(axis=0)).max() > 0.5  # per-pixel means are not zero
    assert bn_param["running_mean"].shape == bn_param["running_var"].shape == (3,)
    per_channel = x.transpose(1, 0, 2, 3).reshape(3, -1)  # (N, C, H, W) -> (C, N*H*W)
    np.testing.assert_allclose(bn_param["running_mean"], per_channel.mean(axis=1))
    np.testing.assert_allclose(bn_param["running_var"], per_channel.var(axis=1, ddof=1))  # unbiased


@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 4), (2, 2, 3, 2)])
def test_layernorm_matches_torch(shape: tuple[int, ...]) -> None:
    r = np.random.default_rng(2)
    for k in range(1, len(shape)):
        ns = shape[len(shape) - k :]
        x, g, b = _x(shape), r.standard_normal(ns), r.standard_normal(ns)
        out, cache = ops.layernorm_forward(x, g, b, {"eps": 1e-3})
        tx, tg, tb = _t(x), _t(g), _t(b)
        tout = F.layer_norm(tx, ns, tg, tb, eps=1e-3)
        dout = r.standard_normal(shape)
        tout.backward(torch.tensor(dout))
        for ours, theirs in zip((out, *ops.layernorm_backward(dout, cache)), (tout, tx.grad, tg.grad, tb.grad)):
            np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_layernorm_is_batchnorm_transposed_and_ignores_mode() -> None:
    """Each sample standardized over its features: the same in 'train' and 'test' (the course sets a mode)."""
    x = _x((5, 7))
    a, _ = ops.layernorm_forward(x, None, None, {"mode": "train"})
    b, _ = ops.layernorm_forward(x, None, None, {"mode": "test"})
    c, _ = ops.batchnorm_forward(x.T.copy(), None, None, {"mode": "train"})
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, c.T, atol=1e-12)
    np.testing.assert_allclose(a.mean(axis=1), 0, atol=1e-12)


@pytest.mark.parametrize("G", [1, 2, 3, 6])
@pytest.mark.parametrize("shape", [(2, 6, 3, 4), (3, 6, 5), (4, 6)])
def test_groupnorm_matches_torch(shape: tuple[int, ...], G: int) -> None:
    r = np.random.default_rng(3)
    if G == 6 and len(shape) == 2:
        G = 3  # one value per group has no variance to normalize
    x, g, b = _x(shape), r.standard_normal(6), r.standard_normal(6)
    out, cache = ops.spatial_groupnorm_forward(x, g, b, G, {})
    tx, tg, tb = _t(x), _t(g), _t(b)
    tout = F.group_norm(tx, G, tg, tb, eps=1e-5)
    dout = r.standard_normal(shape)
    tout.backward(torch.tensor(dout))
    for ours, theirs in zip((out, *ops.spatial_groupnorm_backward(dout, cache)), (tout, tx.grad, tg.grad, tb.grad)):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_groupnorm_takes_the_course_parameter_shape() -> None:
    r = np.random.default_rng(4)
    x, g, b = _x((2, 4, 3, 3)), r.standard_normal((1, 4, 1, 1)), r.standard_normal((1, 4, 1, 1))
    out, cache = ops.spatial_groupnorm_forward(x, g, b, 2, {})
    flat, flat_cache = ops.spatial_groupnorm_forward(x, g.ravel(), b.ravel(), 2, {})
    np.testing.assert_array_equal(out, flat)
    dout = r.standard_normal(x.shape)
    _, dg, db = ops.spatial_groupnorm_backward(dout, cache)
    _, dg_flat, db_flat = ops.spatial_groupnorm_backward(dout, flat_cache)
    assert dg.shape == db.shape == (1, 4, 1, 1)
    np.testing.assert_array_equal(dg.ravel(), dg_flat)
    np.testing.assert_array_equal(db.ravel(), db_flat)


NORM_CASES: dict[str, tuple[Callable[..., Any], Callable[..., Any], tuple[int, ...], dict[str, Any]]] = {
    "batchnorm": (ops.batchnorm_forward, ops.batchnorm_backward_alt, (6, 4), {"bn_param": {"mode": "train"}}),
    "batchnorm_graph": (ops.batchnorm_forward, ops.batchnorm_backward, (6, 4), {"bn_param": {"mode": "train"}}),
    "batchnorm_test": (ops.batchnorm_forward, ops.batchnorm_backward_alt, (6, 4), {"bn_param": {"mode": "test"}}),
    "spatial_batchnorm": (ops.spatial_batchnorm_forward, ops.spatial_batchnorm_backward, (2, 4, 3, 3),
                          {"bn_param": {"mode": "train", "momentum": None}}),
    "layernorm": (ops.layernorm_forward, ops.layernorm_backward, (6, 4), {"ln_param": {}}),
    "spatial_groupnorm": (ops.spatial_groupnorm_forward, ops.spatial_groupnorm_backward, (2, 4, 3, 3),
                          {"G": 2, "gn_param": {}}),
}  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NORM_CASES)
def test_dtype_kept_and_inputs_not_mutated(name: str, dtype: Any) -> None:
    forward, backward, shape, kwargs = NORM_CASES[name]
    C = shape[1]
    x, g, b = _x(shape).astype(dtype), np.linspace(0.5, 2, C, dtype=dtype), np.linspace(-1, 1, C, dtype=dtype)
    kwargs = {k: dict(v) if isinstance(v, dict) else v for k, v in kwargs.items()}
    running = None
    if "bn_param" in kwargs:
        running = np.full(C, 0.5, dtype=dtype), np.full(C, 2.0, dtype=dtype)
        kwargs["bn_param"].update(running_mean=running[0], running_var=running[1])
    copies = [a.copy() for a in (x, g, b)]
    out, cache = forward(x, g, b, **kwargs)
    dout = np.full_like(out, 0.5)
    grads = backward(dout, cache)
    assert [a.dtype for a in (out, *grads)] == [np.dtype(dtype)] * 4
    for a, c in zip((x, g, b), copies):
        np.testing.assert_array_equal(a, c)
    assert np.all(dout == 0.5)
    if running is not None:  # the caller's running arrays are untouched; bn_param holds new ones
        assert np.all(running[0] == 0.5) and np.all(running[1] == 2.0)
        assert kwargs["bn_param"]["running_mean"].dtype == np.dtype(dtype)
        if kwargs["bn_param"]["mode"] == "train":
            assert kwargs["bn_param"]["running_mean"] is not running[0]


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


X64, G4 = _x((6, 4)), np.ones(4)
BAD: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("mode", lambda: ops.batchnorm_forward(X64, G4, G4, {"mode": "eval"}), ValueError,
     "Invalid value for `bn_param['mode']`: expected one of 'train', 'test'. Received: bn_param['mode']='eval'"),
    ("eps", lambda: ops.batchnorm_forward(X64, G4, G4, {"mode": "train", "eps": 0.0}), ValueError,
     "Invalid value for `eps`: expected a float in (0, inf]. Received: eps=0.0"),
    ("momentum", lambda: ops.batchnorm_forward(X64, G4, G4, {"mode": "train", "momentum": 1.5}), ValueError,
     "Invalid value for `momentum`: expected a float in [0, 1]. Received: momentum=1.5"),
    ("unknown key", lambda: ops.batchnorm_forward(X64, G4, G4, {"mode": "train", "beta1": 0.9}), ValueError,
     "Invalid value for `bn_param`: expected keys among 'mode', 'eps', 'momentum', 'running_mean', 'running_var', "
     "'num_batches_tracked', 'track_running_stats'. Received: bn_param='beta1'"),
    ("bn_param type", lambda: ops.batchnorm_forward(X64, G4, G4, "train"), TypeError,
     "Invalid type for `bn_param`: expected a dict. Received: bn_param of type str"),
    ("gamma shape", lambda: ops.batchnorm_forward(X64, G4[:3], G4, {"mode": "train"}), ValueError,
     "Invalid shape for `gamma`: expected (4,). Received: gamma.shape=(3,)"),
    ("gamma dtype", lambda: ops.batchnorm_forward(X64, G4.astype(np.float32), G4, {"mode": "train"}), TypeError,
     "Invalid dtype for `gamma`: expected float64 to match x. Received: gamma.dtype=float32"),
    ("running shape", lambda: ops.batchnorm_forward(X64, G4, G4, {"mode": "test", "running_mean": np.zeros(3)}),
     ValueError, "Invalid shape for `bn_param['running_mean']`: expected (4,), one value per channel. "
     "Received: bn_param['running_mean'].shape=(3,)"),
    # found by fuzzing: an explicit None failed later with AttributeError
    ("running None", lambda: ops.batchnorm_forward(X64, G4, G4, {"mode": "test", "running_var": None}),
     TypeError, "Invalid type for `bn_param['running_var']`: expected a numpy.ndarray. "
     "Received: bn_param['running_var'] of type NoneType"),
    # found by fuzzing: the square root of a negative variance was NumPy's invalid-value error (NaN outputs)
    ("negative running_var", lambda: ops.batchnorm_forward(X64, G4, G4, {"mode": "test", "running_var": -G4}),
     ValueError, "Invalid value for `bn_param['running_var']`: expected non-negative variances. "
     "Received: bn_param['running_var']=array(shape=(4,), dtype=float64)"),
    # found by fuzzing: an array was "ambiguous" to bool(), a string "no" was True, int("x") failed in NumPy's words
    ("track flag", lambda: ops.batchnorm_forward(X64, G4, G4, {"mode": "test", "track_running_stats": "no"}),
     TypeError, "Invalid type for `bn_param['track_running_stats']`: expected a bool. "
     "Received: bn_param['track_running_stats'] of type str"),
    ("batch count", lambda: ops.batchnorm_forward(X64, G4, G4, {"mode": "train", "num_batches_tracked": "x"}),
     TypeError, "Invalid type for `bn_param['num_batches_tracked']`: expected an int >= 0. "
     "Received: bn_param['num_batches_tracked'] of type str"),
    ("one value per channel", lambda: ops.batchnorm_forward(X64[:1], G4, G4, {"mode": "train"}), ValueError,
     "Invalid shape for `x`: expected more than one value per channel to compute batch statistics. "
     "Received: x.shape=(1, 4)"),
    ("batchnorm rank", lambda: ops.batchnorm_forward(_x((2, 4, 3, 3)), G4, G4, {"mode": "train"}), ValueError,
     "Invalid shape for `x`: expected a 2-D or 3-D array. Received: x.shape=(2, 4, 3, 3)"),
    ("spatial rank", lambda: ops.spatial_batchnorm_forward(X64, G4, G4, {"mode": "train"}), ValueError,
     "Invalid shape for `x`: expected a 4-D array. Received: x.shape=(6, 4)"),
    ("layernorm shape", lambda: ops.layernorm_forward(X64, np.ones(3), None, {}), ValueError,
     "Invalid shape for `x`: expected (*, 3) to match normalized_shape. Received: x.shape=(6, 4)"),
    ("layernorm eps", lambda: ops.layernorm_forward(X64, None, None, {"eps": -1.0}), ValueError,
     "Invalid value for `eps`: expected a float in (0, inf]. Received: eps=-1.0"),
    ("G divides C", lambda: ops.spatial_groupnorm_forward(_x((2, 4, 3)), G4, G4, 3, {}), ValueError,
     "Invalid value for `G`: expected a divisor of the number of channels C=4. Received: G=3"),
    ("groupnorm gamma", lambda: ops.spatial_groupnorm_forward(_x((2, 4, 3)), np.ones(2), G4, 2, {}), ValueError,
     "Invalid shape for `gamma`: expected (4,) or (1, 4, 1). Received: gamma.shape=(2,)"),
]  # fmt: skip


@pytest.mark.parametrize("call,exc,text", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_input_raises_template(call: Callable[[], Any], exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=msg(text)):
        call()


def test_batchnorm_train_on_an_empty_batch_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"Invalid shape for `x`: expected more than one value per channel"):
        ops.spatial_batchnorm_forward(np.zeros((0, 2, 3, 3)), None, None, {"mode": "train"})


def test_groupnorm_of_groups_without_values_is_empty_as_in_torch() -> None:
    """Found by fuzzing: H = 0 made groups of no values, and their mean warned "Mean of empty slice"."""
    x, gamma = np.zeros((2, 4, 0, 3)), np.ones(4)
    out, cache = ops.spatial_groupnorm_forward(x, gamma, gamma, 2, {})
    dx, dgamma, dbeta = ops.spatial_groupnorm_backward(np.zeros_like(out), cache)
    assert out.shape == dx.shape == x.shape and not dgamma.any() and not dbeta.any()


NEED_DX_CASES = [
    ("batchnorm-train", lambda x, g, b: ops.batchnorm_forward(x, g, b, {"mode": "train"}), ops.batchnorm_backward_alt),
    (
        "batchnorm-test",
        lambda x, g, b: ops.batchnorm_forward(
            x, g, b, {"mode": "test", "running_mean": np.zeros(4), "running_var": np.ones(4)}
        ),
        ops.batchnorm_backward_alt,
    ),
    ("layernorm", lambda x, g, b: ops.layernorm_forward(x, g, b, {}), ops.layernorm_backward),
    ("groupnorm", lambda x, g, b: ops.spatial_groupnorm_forward(x, g, b, 2, {}), ops.spatial_groupnorm_backward),
]


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("name,forward,backward", NEED_DX_CASES, ids=[c[0] for c in NEED_DX_CASES])
def test_need_dx_false_skips_only_dx(name: str, forward: Callable[..., Any], backward: Any, affine: bool) -> None:
    x = _x((5, 4))
    gamma, beta = (_x((4,), 1), _x((4,), 2)) if affine else (None, None)
    out, cache = forward(x, gamma, beta)
    dout = np.random.default_rng(3).standard_normal(out.shape)
    dx, dgamma, dbeta = backward(dout, cache)
    none, dgamma2, dbeta2 = backward(dout, cache, need_dx=False)
    assert dx.shape == x.shape and none is None
    for full, skipped in ((dgamma, dgamma2), (dbeta, dbeta2)):
        assert (full is None) == (skipped is None) == (not affine)
        if full is not None:
            np.testing.assert_array_equal(skipped, full)


@pytest.mark.parametrize("K", [1, 7, 4096, 4097])
def test_standardize_over_rows_summed_by_einsum_or_pairwise_is_the_textbook_formula(K: int) -> None:
    """Rows of up to EINSUM_ROWS values are summed by np.einsum, longer ones by .sum: both give the formula."""
    from scratchnn.ops import normalization as norm

    x, dxhat = _x((3, 2, K)), _x((3, 2, K), seed=1)
    mean, var = x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True)
    xhat, inv_std, m, v = norm.standardize(x, 1e-5)
    np.testing.assert_allclose(m, mean, rtol=1e-12)
    np.testing.assert_allclose(v, var, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(inv_std, 1 / np.sqrt(var + 1e-5), rtol=1e-11)
    np.testing.assert_allclose(xhat, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-11, atol=1e-11)
    closed_form = inv_std * (
        dxhat - dxhat.mean(axis=-1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)
    )
    np.testing.assert_allclose(norm.standardize_backward(dxhat, xhat, inv_std), closed_form, rtol=1e-10, atol=1e-12)
