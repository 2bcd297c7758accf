"""The reduced, unweighted cross-entropy (ops.losses._smoothed_unweighted: label smoothing, or 'sum', or an
upstream gradient) runs its rows in blocks on the intra-op threads: many blocks, on one thread or two, give
the loss and gradient of one block. Torch equality of the one-block case is tests/nn/twins/test_loss.py's."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from scratchnn import ops
from scratchnn.ops import losses

from ..test_threads import spy_run_blocks


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("row_block", [1, 20, 45])
@pytest.mark.parametrize(
    "kw", [dict(label_smoothing=0.2), dict(reduction="sum"), dict(label_smoothing=0.1, reduction="sum", dloss=-3.0)]
)
def test_many_row_blocks_equal_one_block(
    threads: int, row_block: int, kw: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    r = np.random.default_rng(0)
    N, C = 23, 9
    x, y = 5 * r.standard_normal((N, C)), r.integers(0, C, N)
    whole_loss, whole_dx = ops.softmax_loss(x, y, **kw)

    seen = spy_run_blocks(monkeypatch, losses)
    monkeypatch.setattr(losses, "ROW_BLOCK", row_block)
    with threadpool_limits(threads, user_api="blas"):
        loss, dx = ops.softmax_loss(x, y, **kw)
    assert seen == [-(-N // max(1, row_block // C))], "rows cut into blocks of row_block // C (at least 1) rows"
    np.testing.assert_allclose(loss, whole_loss, rtol=1e-13)
    np.testing.assert_allclose(dx, whole_dx, rtol=1e-13, atol=1e-15)
