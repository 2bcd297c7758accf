"""``CharRNN``: a character-level language model, and sampling text from it.

    Embedding -> RNN | LSTM | GRU (num_layers, batch_first) -> Dropout -> Linear at every step

Trained with cross-entropy to predict character t+1 from characters 1..t; its validation loss in bits
per character is ``loss / ln 2``. The scores come out as (N, V, T), the class axis second, which is
what ``nn.CrossEntropyLoss`` takes for a target of shape (N, T) (torch's layout for K-dim inputs).
``forward(x, hx)`` starts from the state ``hx`` (None: zeros) and leaves the final state in
``self.state``, so a long text can be read chunk by chunk (:mod:`scratchnn.train.bptt`) and sampled
one character at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._config import get_default_dtype, get_rng
from .._validate import check_choice, check_float, check_float_dtype, check_int, invalid_value
from ..nn.dropout import Dropout
from ..nn.linear import Linear
from ..nn.module import Module
from ..nn.recurrent import GRU, LSTM, RNN
from ..nn.sparse import Embedding
from ..ops.embedding import check_ids
from .sequence_classifier import CELLS

__all__ = ["CharRNN"]


class CharRNN(Module):
    """See the module docstring. Weights get torch's default initialization (each layer's own), from ``rng``.

    Args:
        vocab_size: V, the number of character ids.
        embedding_dim: E, the size of a character's embedding.
        hidden_size: H of every recurrent layer.
        num_layers: stacked recurrent layers.
        cell: 'rnn' (tanh), 'lstm' or 'gru'.
        dropout: drop probability between recurrent layers and before the Linear.
        dtype: float32 or float64 (None: the default dtype).

    Shape:
        input: (N, T) int ids;  output: (N, V, T) scores for the next character
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int = 64,
        hidden_size: int = 256,
        num_layers: int = 1,
        *,
        cell: str = "lstm",
        dropout: float = 0.0,
        dtype: Any = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        V = check_int(vocab_size, "vocab_size", low=1)
        self.cell = check_choice(cell, "cell", CELLS)
        dt = get_default_dtype() if dtype is None else check_float_dtype(dtype)
        p = check_float(dropout, "dropout", low=0.0, high=1.0, high_open=True)
        rng = get_rng(rng)
        self.embedding = Embedding(V, embedding_dim, dtype=dt, rng=rng)
        recurrent = {"rnn": RNN, "lstm": LSTM, "gru": GRU}[self.cell]
        # torch warns of dropout between layers with one layer
        between = p if check_int(num_layers, "num_layers", low=1) > 1 else 0.0
        self.rnn = recurrent(
            embedding_dim, hidden_size, num_layers, batch_first=True, dropout=between, dtype=dt, rng=rng
        )
        self.drop = Dropout(p, rng=rng)
        self.head = Linear(hidden_size, V, dtype=dt, rng=rng)
        self.state: Any = None  # the final state of the last forward: h_n, or (h_n, c_n) for the LSTM

    def forward(self, x: np.ndarray, hx: Any = None) -> np.ndarray:
        check_ids(x, "input", self.embedding.num_embeddings)
        if x.ndim != 2:
            raise invalid_value("input", "character ids of shape (N, T)", x)
        out, self.state = self.rnn(self.embedding(x), hx)  # (N, T) -> (N, T, E) -> (N, T, H)
        scores = self.head(self.drop(out)).transpose(0, 2, 1)  # (N, T, H) -> (N, T, V) -> (N, V, T)
        self._save(True, scores)  # nothing to keep: the children hold their caches
        return scores

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> None:
        """Gradients into every parameter; the gradient into ``hx`` is dropped (truncated BPTT). Returns None."""
        self._saved(grad_out)  # checks it against the scores
        dscores = grad_out.transpose(0, 2, 1)  # (N, V, T) -> (N, T, V)
        dout = self.drop.backward(self.head.backward(dscores))  # type: ignore[arg-type]
        demb = self.rnn.backward(dout)
        if isinstance(demb, tuple):  # hx was given: (d_input, d_hx)
            demb = demb[0]
        self.embedding.backward(demb)

    def sample(
        self,
        prompt: np.ndarray,
        length: int,
        *,
        temperature: float = 1.0,
        stop: int | None = None,
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """``length`` more ids after ``prompt`` (1-D ids), drawn from softmax(scores / temperature), in eval mode.

        ``temperature`` 0 picks the most likely id (greedy); ``stop`` ends early after that id is drawn.
        The training mode is restored afterwards.
        """
        prompt = np.asarray(prompt)
        check_ids(prompt, "prompt", self.embedding.num_embeddings)
        if prompt.ndim != 1 or prompt.size == 0:
            raise invalid_value("prompt", "a non-empty 1-D array of ids", prompt)
        length = check_int(length, "length", low=0)
        temperature = check_float(temperature, "temperature", low=0.0)
        rng = get_rng(rng)
        was_training = self.training
        self.eval()
        try:
            scores = self(prompt[None, :])[0, :, -1]  # (1, V, T) -> (V,): after the whole prompt
            out: list[int] = []
            for _ in range(length):
                if temperature == 0:
                    nxt = int(np.argmax(scores))
                else:
                    z = scores.astype(np.float64) / temperature
                    p = np.exp(z - z.max())
                    nxt = int(rng.choice(p.size, p=p / p.sum()))
                out.append(nxt)
                if nxt == stop:
                    break
                scores = self(np.array([[nxt]]), self.state)[0, :, -1]  # one step from the carried state
        finally:
            self.train(was_training)
        return np.array(out, dtype=np.int64)
