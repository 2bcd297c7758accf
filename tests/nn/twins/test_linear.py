"""Linear against torch.nn.Linear (rows of the twin table for the affine layer)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scratchnn import nn

from .twins import compare_module

CASES = [
    # (in, out, bias, input shape)
    (7, 5, True, (4, 7)),
    (3, 8, False, (6, 3)),
    (4, 2, True, (2, 3, 4)),  # leading dims are batch dims, as in torch
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fin,fout,bias,shape", CASES)
def test_linear_matches_torch(fin: int, fout: int, bias: bool, shape: tuple[int, ...], dtype: type) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    compare_module(nn.Linear(fin, fout, bias=bias), torch.nn.Linear(fin, fout, bias=bias), [x], dtype=dtype, steps=2)
