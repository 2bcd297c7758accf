"""Intra-op threads: one op's work cut into independent blocks and run on a few threads, as torch's CPU
kernels run on their intra-op thread pool.

NumPy releases the GIL inside ufuncs and BLAS calls, so blocks of an op running on two Python threads
run on two cores. Its users:

- the optimizers' elementwise updates (optim/_foreach.py, opt-in there);
- multi-head attention's projections (ops/attention/multi_head.py): :func:`matmul` splits a GEMM's rows
  over the threads, :func:`matmuls` runs independent GEMMs side by side;
- the GEMMs of ``ops.affine`` (``nn.Linear``) inside a :func:`pool_gemms` block: the Transformer layers'
  feed-forward blocks, so that a Transformer never mixes the two pools (see :func:`matmul`). Outside one,
  as in an MLP, ``ops.affine`` leaves its GEMMs to the BLAS's own threads: an MLP step of a few
  milliseconds makes about ten GEMM calls, and waking the pool for each (0.14 ms) costs more than the
  BLAS's own split, whose spinning workers nothing else here competes with;
- the smoothed cross-entropy (ops/losses.py), in blocks of rows that stay in cache;
- attention (ops/attention/scaled_dot_product.py), whose work is many small GEMMs and softmaxes, one per
  (sample, head). There :func:`run_blocks` gives each thread whole blocks and holds the BLAS at one thread
  meanwhile: OpenBLAS splitting a 128 x 32 x 128 GEMM over two threads is slower than one thread doing it
  (6.5 ms for 256 of them on one thread here, 7.5 ms on two), and two Python threads each handing the
  BLAS small GEMMs take 3.5 ms. The thread count follows the BLAS's own setting, so
  ``threadpoolctl.threadpool_limits(1)`` (the recipes' ``--threads 1``) makes attention single-threaded too.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import numpy as np

__all__ = ["pool", "fan_out", "blas_threads", "run_blocks", "matmul", "matmuls", "pool_gemms", "gemm", "gemms"]

_state: dict[str, Any] = {"pool": None, "pool_size": 0, "pid": None, "blas": None, "holders": 0, "saved": []}
_lock = threading.Lock()


def pool(workers: int) -> ThreadPoolExecutor:
    """The process's worker pool, with at least ``workers`` threads (made, or remade, on first need)."""
    # a forked child (a data-loading worker) inherits the pool object but not its threads
    forked = _state["pid"] != os.getpid()
    if _state["pool"] is None or forked or _state["pool_size"] < workers:
        if _state["pool"] is not None and not forked:
            _state["pool"].shutdown(wait=True)
        _state["pool"] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scratchnn")
        _state["pool_size"] = workers
        _state["pid"] = os.getpid()
    executor: ThreadPoolExecutor = _state["pool"]
    return executor


def _blas_libraries() -> list[Any]:
    """threadpoolctl's controllers of the BLAS libraries loaded when first asked (NumPy's among them)."""
    if _state["blas"] is None:
        from threadpoolctl import ThreadpoolController

        # found once: scanning the loaded libraries takes milliseconds; a controller's get/set is one C call
        _state["blas"] = list(ThreadpoolController().select(user_api="blas").lib_controllers)
    libraries: list[Any] = _state["blas"]
    return libraries


def blas_threads() -> int:
    """The threads the BLAS would use now (``threadpool_limits`` lowers it): the intra-op thread count."""
    return max([lib.get_num_threads() for lib in _blas_libraries()] + [1])


def _run(block: Callable[..., None], blocks: Sequence[tuple[Any, ...]], counter: Any) -> None:
    # the threads take the next unclaimed block until none is left: next() on a count is atomic under the GIL
    for i in counter:
        if i >= len(blocks):
            return
        block(*blocks[i])


def run_blocks(block: Callable[..., None], blocks: Sequence[tuple[Any, ...]]) -> None:
    """Call ``block(*b)`` for every ``b`` in ``blocks``, on up to :func:`blas_threads` threads.

    The blocks must be independent: each writes only its own slice of the outputs. With more than one
    thread, the BLAS runs single-threaded until every block is done; each worker runs in a copy of the
    caller's context, so the caller's ``np.errstate`` holds there too. A block's exception is raised here,
    after every thread has stopped writing.
    """
    threads = min(blas_threads(), len(blocks))
    if threads <= 1:
        for b in blocks:
            block(*b)
        return
    counter = itertools.count()
    _hold_blas_at_one()
    try:
        fan_out(_run, [(block, blocks, counter)] * threads)  # every thread takes blocks from one count
    finally:
        _release_blas()


def fan_out(fn: Callable[..., None], calls: Sequence[tuple[Any, ...]]) -> None:
    """``fn(*calls[0])`` on this thread and ``fn(*c)`` for each further ``c`` on the pool, at once.

    Each worker runs in a copy of the caller's context, so the caller's ``np.errstate`` holds there too.
    Returns only when every call has finished, never while one still writes into its outputs, and then
    raises the first error any of them raised.
    """
    futures: list[Future[None]] = []
    if len(calls) > 1:
        futures = [pool(len(calls) - 1).submit(contextvars.copy_context().run, fn, *c) for c in calls[1:]]
    try:
        fn(*calls[0])
    finally:
        wait(futures)
    for f in futures:
        f.result()


def _hold_blas_at_one() -> None:
    """Set the BLAS to one thread until the matching :func:`_release_blas`. Calls from several Python
    threads at once nest: the first saves the thread counts, the last one out restores them (each saving
    and restoring its own would leave the BLAS at one thread when they interleave)."""
    with _lock:
        if _state["holders"] == 0:
            _state["saved"] = [(lib, lib.get_num_threads()) for lib in _blas_libraries()]
            for lib, _ in _state["saved"]:
                lib.set_num_threads(1)
        _state["holders"] += 1


def _release_blas() -> None:
    with _lock:
        _state["holders"] -= 1
        if _state["holders"] == 0:
            for lib, n in _state["saved"]:
                lib.set_num_threads(n)


# Below this many multiply-adds a GEMM is left to the BLAS whole: waking the pool costs about 0.14 ms here.
MIN_SPLIT_GEMM = 1 << 22


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None, bias: np.ndarray | None = None) -> np.ndarray:
    """``a @ b (+ bias)`` for 2-D arrays, its rows cut into one block per thread (each block one
    single-threaded GEMM, then its bias) when the BLAS has several threads, instead of the BLAS's own split.

    For ops that also run :func:`run_blocks` (multi-head attention): OpenBLAS's idle workers spin for about
    0.1 s after each multi-threaded call, and an op that mixes the two pools has them spinning on the cores
    its own blocks want (attention's blocks: 14-19 ms alone, 25-31 ms right after an OpenBLAS-threaded GEMM).

    Shape: a (M, K);  b (K, P);  bias (P,);  out (M, P)
    """
    M, K = a.shape
    P = b.shape[1]
    if out is None:
        out = np.empty((M, P), dtype=np.result_type(a, b))

    def block(lo: int, hi: int) -> None:
        np.matmul(a[lo:hi], b, out=out[lo:hi])  # (m, K) @ (K, P) -> (m, P)
        if bias is not None:
            out[lo:hi] += bias  # while the block is still in cache

    threads = blas_threads()
    if threads == 1 or M * K * P < MIN_SPLIT_GEMM or M < 2 * threads:
        block(0, M)
    else:
        bounds = [M * i // threads for i in range(threads + 1)]
        run_blocks(block, list(zip(bounds, bounds[1:])))
    return out


def matmuls(*products: tuple[np.ndarray, np.ndarray, np.ndarray | None]) -> list[np.ndarray]:
    """Independent 2-D products ``a @ b`` (into ``out`` when given), one whole single-threaded GEMM per
    thread at a time, e.g. a layer's weight and input gradients: each GEMM packs its operands once, where
    :func:`matmul` packs the shared one on every thread. Equal-sized products keep the threads equally busy.

    Shape: each (a (M, K), b (K, P), out (M, P) or None)
    """
    outs = [
        np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b)) if out is None else out for a, b, out in products
    ]

    def block(i: int) -> None:
        a, b, _ = products[i]
        np.matmul(a, b, out=outs[i])  # (M, K) @ (K, P) -> (M, P)

    run_blocks(block, [(i,) for i in range(len(products))])
    return outs


_POOL_GEMMS: contextvars.ContextVar[bool] = contextvars.ContextVar("scratchnn_pool_gemms", default=False)


@contextlib.contextmanager
def pool_gemms() -> Iterator[None]:
    """Within this block :func:`gemm` and :func:`gemms` (``ops.affine``'s GEMMs) run on the intra-op threads,
    as :func:`matmul` and :func:`matmuls`; outside it, as plain ``np.matmul`` calls on the BLAS's threads.

    For a model whose other ops run on the pool (attention): measured on the summarizer's training step
    at two threads, its feed-forward and output-head GEMMs on the pool take the step from 176 to 130 ms.
    """
    token = _POOL_GEMMS.set(True)
    try:
        yield
    finally:
        _POOL_GEMMS.reset(token)


def gemm(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None, bias: np.ndarray | None = None) -> np.ndarray:
    """``a @ b (+ bias)``: :func:`matmul` inside a :func:`pool_gemms` block, one BLAS call (then the bias) outside.

    Shape: a (M, K);  b (K, P);  bias (P,);  out (M, P)
    """
    if _POOL_GEMMS.get():
        return matmul(a, b, out=out, bias=bias)
    out = np.matmul(a, b, out=out)  # (M, K) @ (K, P) -> (M, P)
    if bias is not None:
        out += bias
    return out


def gemms(*products: tuple[np.ndarray, np.ndarray, np.ndarray | None]) -> list[np.ndarray]:
    """Independent products ``a @ b``: :func:`matmuls` inside a :func:`pool_gemms` block, one after the other
    outside.

    Shape: each (a (M, K), b (K, P), out (M, P) or None)
    """
    if _POOL_GEMMS.get():
        return matmuls(*products)
    return [np.matmul(a, b, out=out) for a, b, out in products]  # each (M, K) @ (K, P) -> (M, P)
