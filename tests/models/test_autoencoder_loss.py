"""ReconstructionLoss and ops.reconstruction_loss: the two reductions against torch, the mask, upstream
gradients, empty batches and bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scratchnn import ops
from scratchnn.models import ReconstructionLoss


def _pair(shape: tuple[int, ...] = (5, 7)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal(shape), rng.standard_normal(shape)


def _torch(x: np.ndarray, y: np.ndarray, reduction: str) -> tuple[float, np.ndarray]:
    tx = torch.from_numpy(x).requires_grad_()
    loss = torch.nn.functional.mse_loss(tx, torch.from_numpy(y), reduction=reduction)
    if reduction == "sum":
        loss = loss / x.shape[0]  # (1/N) ||X - Y||_F^2
    loss.backward()
    assert tx.grad is not None
    return float(loss.detach()), tx.grad.numpy()


@pytest.mark.parametrize(("ours", "theirs"), [("sum_per_sample", "sum"), ("mean", "mean")])
@pytest.mark.parametrize("shape", [(5, 7), (3, 2, 4)], ids=["2d", "3d"])
def test_matches_torch(ours: str, theirs: str, shape: tuple[int, ...]) -> None:
    x, y = _pair(shape)
    crit = ReconstructionLoss(ours)
    loss, dx = crit(x, y), crit.backward()
    t_loss, t_dx = _torch(x, y, theirs)
    assert float(loss) == pytest.approx(t_loss, rel=1e-12)
    np.testing.assert_allclose(dx, t_dx, rtol=1e-12)


def test_sum_per_sample_is_the_course_loss_and_d_times_the_mean() -> None:
    x, y = _pair()
    loss = ReconstructionLoss()(x, y)
    assert loss == pytest.approx(np.linalg.norm(x - y, "fro") ** 2 / 5, rel=1e-12)
    assert loss == pytest.approx(7 * ReconstructionLoss("mean")(x, y), rel=1e-12)


def test_mask_counts_only_its_elements() -> None:
    x, y = _pair()
    mask = np.random.default_rng(1).random((5, 7)) < 0.4
    sq = np.where(mask, (x - y) ** 2, 0.0)
    crit = ReconstructionLoss("mean")
    assert crit(x, y, mask) == pytest.approx(sq.sum() / mask.sum(), rel=1e-12)  # the mean over the masked
    np.testing.assert_allclose(crit.backward(), np.where(mask, 2 * (x - y) / mask.sum(), 0.0), rtol=1e-12)
    crit = ReconstructionLoss()
    assert crit(x, y, mask.astype(np.uint8)) == pytest.approx(sq.sum() / 5, rel=1e-12)  # 0/1 integers too
    np.testing.assert_allclose(crit.backward(), np.where(mask, 2 * (x - y) / 5, 0.0), rtol=1e-12)


def test_upstream_gradient_scales_and_inputs_stay_untouched() -> None:
    x, y = _pair()
    before = x.copy(), y.copy()
    crit = ReconstructionLoss()
    crit(x, y)
    dx = crit.backward()
    np.testing.assert_allclose(crit.backward(2.5), 2.5 * dx, rtol=1e-15)
    np.testing.assert_allclose(crit.backward(np.array(-1.0)), -dx, rtol=1e-15)
    np.testing.assert_array_equal(crit.backward(), dx)  # backward may be called again: dx is not handed out
    np.testing.assert_array_equal(x, before[0])
    np.testing.assert_array_equal(y, before[1])


def test_float32_stays_float32() -> None:
    x, y = (a.astype(np.float32) for a in _pair())
    loss, dx = ops.reconstruction_loss(x, y, reduction="mean")
    assert loss.dtype == np.float32 and dx.dtype == np.float32
    assert float(loss) == pytest.approx(float(np.mean((x - y) ** 2)), rel=1e-5)


def test_nothing_to_count_gives_nan_for_a_mean_and_zero_gradients() -> None:
    x, y = _pair((0, 4))
    loss, dx = ops.reconstruction_loss(x, y)
    assert np.isnan(loss) and dx.shape == (0, 4)
    x, y = _pair((3, 4))
    loss, dx = ops.reconstruction_loss(x, y, mask=np.zeros((3, 4), bool), reduction="mean")
    assert np.isnan(loss) and not dx.any()
    loss, dx = ops.reconstruction_loss(x, y, mask=np.zeros((3, 4), bool))  # a sum of nothing over 3 samples
    assert loss == 0 and not dx.any()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"mask": np.ones((5, 6), bool)}, ValueError, r"^Invalid shape for `mask`: expected \(5, 7\) to match x"),
        ({"mask": np.ones((5, 7))}, TypeError, r"^Invalid type for `mask`: expected a numpy.ndarray of booleans"),
        ({"mask": np.full((5, 7), 2)}, ValueError, r"^Invalid value for `mask`: expected booleans or the integers"),
        ({"mask": [[True]]}, TypeError, r"^Invalid type for `mask`"),
        ({"reduction": "sum"}, ValueError, r"^Invalid value for `reduction`: expected one of 'sum_per_sample', 'mean'"),
    ],
)
def test_bad_arguments(kwargs: dict, error: type, message: str) -> None:
    x, y = _pair()
    with pytest.raises(error, match=message):
        ops.reconstruction_loss(x, y, **kwargs)


def test_module_bad_inputs_name_them() -> None:
    crit = ReconstructionLoss()
    x, y = _pair()
    with pytest.raises(ValueError, match=r"^Invalid shape for `target`: expected \(5, 7\) to match the input"):
        crit(x, y[:, :3])
    with pytest.raises(ValueError, match=r"^Invalid shape for `input`: expected \(N, \*\) with a batch axis"):
        crit(np.array(1.0), np.array(2.0))
    with pytest.raises(ValueError, match=r"^Invalid value for `input`: expected finite values"):
        crit(np.full((2, 2), np.nan), np.zeros((2, 2)))
    with pytest.raises(TypeError, match=r"^Invalid type for `target`: expected a floating numpy.ndarray"):
        crit(x, y.astype(int))
    with pytest.raises(RuntimeError, match="before forward"):
        ReconstructionLoss().backward()
    with pytest.raises(ValueError, match=r"^Invalid value for `reduction`"):
        ReconstructionLoss("none")
