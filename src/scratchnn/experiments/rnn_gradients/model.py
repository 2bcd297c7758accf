"""The running-mean regressor of ``rnn-gradients``: a recurrent layer and a Linear read-out per step."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import nn
from ..._validate import check_choice


class RunningMeanNet(nn.Module):
    """x (N, T, 1) -> RNN | LSTM | GRU (H) -> Linear(H, 1) at every step (``loss_on='all'``: (N, T, 1))
    or at the last step only (``loss_on='last'``: (N, 1)); the course project's regression model."""

    def __init__(self, cell: str, hidden: int, *, loss_on: str = "all", rng: np.random.Generator | None = None) -> None:
        super().__init__()
        check_choice(cell, "cell", ("rnn", "lstm", "gru"))
        self.loss_on = check_choice(loss_on, "loss_on", ("all", "last"))
        self.rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell](1, hidden, batch_first=True, rng=rng)
        self.head = nn.Linear(hidden, 1, rng=rng)

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, _ = self.rnn(x)  # (N, T, 1) -> (N, T, H)
        pred = self.head(out if self.loss_on == "all" else out[:, -1])  # (N, T, 1) or (N, 1)
        self._save(out.shape[1], pred)
        return pred

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> Any:
        T = self._saved(grad_out)
        dout = self.head.backward(grad_out)  # (N, T, H) or (N, H)
        assert dout is not None
        if self.loss_on == "last":  # only the last step's output was read
            full = np.zeros((dout.shape[0], T, dout.shape[1]), dtype=dout.dtype)
            full[:, -1] = dout
            dout = full
        return self.rnn.backward(dout, input_grad=input_grad)
