"""Seq2SeqTransformer against the same model assembled from torch.nn's layers (torch_seq2seq.py): the same
weights through state_dict give the same logits, and the same gradient for every parameter."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scratchnn.models import Seq2SeqTransformer

from .torch_seq2seq import TorchSeq2Seq

V, PAD = 23, 0


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-9), (np.float32, 2e-4)])
@pytest.mark.parametrize("norm_first", [False, True])
def test_logits_and_every_gradient_match_torch(dtype: type, tol: float, norm_first: bool) -> None:
    ours = Seq2SeqTransformer(V, 16, 4, 2, 2, 32, 0.0, norm_first=norm_first, max_len=10, pad_id=PAD, dtype=dtype,
                              rng=np.random.default_rng(0))  # fmt: skip
    theirs = TorchSeq2Seq(V, 16, 4, 2, 32, 0.0, 10, PAD, norm_first=norm_first)
    theirs.to(torch.float64 if dtype == np.float64 else torch.float32)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(1)
    src, tgt = rng.integers(1, V, (3, 9)), rng.integers(1, V, (3, 6))
    src[0, 6:] = PAD  # a padded source
    logits = ours(src, tgt)
    tlogits = theirs(torch.from_numpy(src), torch.from_numpy(tgt))
    np.testing.assert_allclose(logits, tlogits.detach().numpy(), rtol=tol, atol=tol)
    g = rng.standard_normal(logits.shape).astype(dtype)
    ours.zero_grad()
    ours.backward(g)
    tlogits.backward(torch.from_numpy(g))
    tgrads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        t = tgrads[name].grad
        assert t is not None, name
        np.testing.assert_allclose(p.grad, t.numpy(), rtol=tol, atol=tol, err_msg=name)
