"""Intra-op threads (scratchnn/_threads.py): every block runs once, on the BLAS's thread count, with the BLAS
held at one thread meanwhile and restored after; the caller's np.errstate reaches the workers; a block's
error is raised; the row-split matmul equals numpy's."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from scratchnn import _threads


def _record(calls: list[tuple[int, int, int, str]]) -> Callable[[int], None]:
    def block(i: int) -> None:
        calls.append((i, threading.get_ident(), _threads.blas_threads(), np.geterr()["divide"]))
        time.sleep(0.002)  # long enough that the worker thread takes blocks too

    return block


def test_run_blocks_runs_every_block_once_on_two_threads_with_the_blas_at_one() -> None:
    calls: list[tuple[int, int, int, str]] = []
    with threadpool_limits(2, user_api="blas"):
        with np.errstate(divide="raise"):
            _threads.run_blocks(_record(calls), [(i,) for i in range(40)])
        assert _threads.blas_threads() == 2, "the BLAS's thread count is restored"
    assert sorted(c[0] for c in calls) == list(range(40))
    assert len({c[1] for c in calls}) == 2, "the calling thread and one worker"
    assert {c[2] for c in calls} == {1}, "each block's GEMMs run on one BLAS thread"
    assert {c[3] for c in calls} == {"raise"}, "the caller's errstate holds in the worker too"


def test_run_blocks_stays_on_the_calling_thread_when_the_blas_has_one() -> None:
    calls: list[tuple[int, int, int, str]] = []
    with threadpool_limits(1, user_api="blas"):
        _threads.run_blocks(_record(calls), [(i,) for i in range(6)])
    assert [c[0] for c in calls] == list(range(6))
    assert {c[1] for c in calls} == {threading.get_ident()}


def test_run_blocks_raises_a_blocks_error_and_restores_the_blas() -> None:
    def block(i: int) -> None:
        if i == 7:
            raise ValueError("block 7")
        time.sleep(0.001)

    with threadpool_limits(2, user_api="blas"):
        with pytest.raises(ValueError, match="block 7"):
            _threads.run_blocks(block, [(i,) for i in range(20)])
        assert _threads.blas_threads() == 2


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape", [(3, 4, 5), (1000, 300, 200), (4096, 64, 40)])
def test_matmul_equals_a_times_b_plus_bias(threads: int, shape: tuple[int, int, int]) -> None:
    M, K, P = shape
    r = np.random.default_rng(0)
    a, b, bias = r.standard_normal((M, K)), r.standard_normal((K, P)), r.standard_normal(P)
    with threadpool_limits(threads, user_api="blas"):
        np.testing.assert_allclose(_threads.matmul(a, b), a @ b, rtol=1e-12, atol=1e-12)
        out = np.full((M, P), np.nan)
        assert _threads.matmul(a.T.copy().T, b, out=out, bias=bias) is out
        np.testing.assert_allclose(out, a @ b + bias, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(_threads.matmul(b.T, a.T), b.T @ a.T, rtol=1e-12, atol=1e-12)  # strided rows


@pytest.mark.parametrize("threads", [1, 2])
def test_matmuls_are_the_products_written_where_asked(threads: int) -> None:
    r = np.random.default_rng(1)
    a, b, c = r.standard_normal((300, 40)), r.standard_normal((40, 50)), r.standard_normal((50, 300))
    out = np.full((40, 50), np.nan)
    with threadpool_limits(threads, user_api="blas"):
        ab, ca, cat = _threads.matmuls((a, b, None), (c, a, None), (a.T, c.T, out))
    np.testing.assert_allclose(ab, a @ b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ca, c @ a, rtol=1e-12, atol=1e-12)
    assert cat is out
    np.testing.assert_allclose(out, a.T @ c.T, rtol=1e-12, atol=1e-12)


def test_overlapping_holds_of_the_blas_restore_it_when_the_last_ends() -> None:
    """Two callers' holds overlapping as A starts, B starts, A ends, B ends (run_blocks from two Python threads):
    the BLAS stays at one thread until B ends, then gets back the count A found, not the 1 that B found."""
    with threadpool_limits(2, user_api="blas"):
        _threads._hold_blas_at_one()  # A
        _threads._hold_blas_at_one()  # B
        _threads._release_blas()  # A ends
        assert _threads.blas_threads() == 1, "B's blocks still run"
        _threads._release_blas()  # B ends
        assert _threads.blas_threads() == 2
        callers = [
            threading.Thread(target=_threads.run_blocks, args=(_record([]), [(i,) for i in range(9)])) for _ in range(3)
        ]
        for t in callers:
            t.start()
        for t in callers:
            t.join()
        assert _threads.blas_threads() == 2


def spy_run_blocks(monkeypatch: pytest.MonkeyPatch, module: Any = _threads) -> list[int]:
    """The number of blocks of each run_blocks call, through ``module``'s name for it, from here on."""
    seen: list[int] = []
    real = module.run_blocks

    def spy(block: Callable[..., None], blocks: list[tuple[int, ...]]) -> None:
        seen.append(len(blocks))
        real(block, blocks)

    monkeypatch.setattr(module, "run_blocks", spy)
    return seen


@pytest.mark.parametrize("pooled", [False, True])
def test_gemm_and_gemms_use_the_pool_only_inside_pool_gemms(pooled: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    r = np.random.default_rng(2)
    a, b, bias = r.standard_normal((1000, 300)), r.standard_normal((300, 200)), r.standard_normal(200)
    seen = spy_run_blocks(monkeypatch)
    out = np.full((300, 200), np.nan)
    with threadpool_limits(2, user_api="blas"), _threads.pool_gemms() if pooled else contextlib.nullcontext():
        y = _threads.gemm(a, b, bias=bias)
        ab, at_a = _threads.gemms((a, b, None), (a.T, a, None))
        _threads.gemms((a.T, a[:, :200], out))
    assert seen == ([2, 2, 1] if pooled else []), "rows split in two, a pair side by side; the BLAS outside"
    np.testing.assert_allclose(y, a @ b + bias, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ab, a @ b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(at_a, a.T @ a, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out, a.T @ a[:, :200], rtol=1e-12, atol=1e-12)


def test_pool_gemms_ends_with_its_block_also_on_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = spy_run_blocks(monkeypatch)
    a = np.ones((1000, 300))
    with threadpool_limits(2, user_api="blas"):
        with pytest.raises(KeyError):
            with _threads.pool_gemms():
                raise KeyError("inside")
        _threads.gemm(a, a.T)
    assert seen == []


def test_a_transformer_layers_feed_forward_runs_on_the_pool_and_a_plain_linear_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Transformer layer never mixes OpenBLAS's threads with the pool's; an MLP's Linear keeps OpenBLAS's."""
    from scratchnn import nn
    from scratchnn.nn.transformer._block import feedforward, feedforward_backward

    layer = nn.TransformerEncoderLayer(64, 4, dim_feedforward=256, dropout=0.0, batch_first=True)
    x = np.random.default_rng(3).standard_normal((16, 32, 64), dtype=np.float32)  # 512 x 64 x 256 GEMMs
    seen = spy_run_blocks(monkeypatch)
    with threadpool_limits(2, user_api="blas"):
        y = layer.linear1(x)
        layer.linear1.backward(np.ones_like(y))
        assert seen == [], "outside a Transformer layer, nn.Linear's GEMMs stay with the BLAS"
        feedforward(layer, x)
        feedforward_backward(layer, np.ones_like(x))
    assert seen == [2, 2, 2, 2], "linear1, linear2 forward (rows split); their backward pairs (dw beside dx)"
