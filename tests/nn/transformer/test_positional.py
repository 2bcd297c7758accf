"""PositionalEncoding and LearnedPositionalEmbedding (nn/transformer/positional.py): layouts, dtypes, buffers,
and bad input raising the template error that names the argument (sequences longer than the table included)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from scratchnn import nn


def msg(text: str) -> str:
    return "^" + re.escape(text) + "$"


@pytest.mark.parametrize("batch_first", [False, True])
def test_layouts_add_the_same_encoding_to_every_sequence(batch_first: bool) -> None:
    m = nn.PositionalEncoding(4, max_len=6, batch_first=batch_first, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((3, 5, 4))  # (N, T, E)
    out = m(x if batch_first else x.transpose(1, 0, 2))
    out = out if batch_first else out.transpose(1, 0, 2)
    np.testing.assert_array_equal(out, x + m.pe[:5])
    np.testing.assert_array_equal(m(x[0]), x[0] + m.pe[:5])  # unbatched (T, E): time is axis 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_follows_the_buffer_and_to_casts_it(dtype: Any) -> None:
    m = nn.PositionalEncoding(4, max_len=6, dtype=dtype)
    assert m.pe.dtype == dtype and m(np.zeros((2, 1, 4), dtype)).dtype == dtype
    other = np.float64 if dtype == np.float32 else np.float32
    m.to(other)
    assert m.pe.dtype == other and m(np.zeros((2, 1, 4), other)).dtype == other


def test_to_clears_the_cache() -> None:
    m = nn.PositionalEncoding(4, max_len=6)
    m(np.zeros((2, 1, 4), np.float32))
    m.to(np.float64)
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        m.backward(np.ones((2, 1, 4)))


def test_buffer_is_in_the_state_dict_and_loads() -> None:
    m = nn.PositionalEncoding(4, max_len=6)
    sd = m.state_dict()
    assert list(sd) == ["pe"] and list(m.parameters()) == [] and sd["pe"].shape == (6, 4)
    sd["pe"] = np.full((6, 4), 2.0, np.float32)
    m.load_state_dict(sd)
    np.testing.assert_array_equal(m(np.zeros((1, 1, 4), np.float32))[0, 0], np.full(4, 2.0))


def test_full_table_length_is_allowed() -> None:
    m = nn.PositionalEncoding(4, max_len=6, batch_first=True)
    assert m(np.zeros((1, 6, 4), np.float32)).shape == (1, 6, 4)
    assert m(np.zeros((1, 1, 4), np.float32), offset=5).shape == (1, 1, 4)
    e = nn.LearnedPositionalEmbedding(6, 2)
    assert e(np.zeros((3, 6), np.int64)).shape == (3, 6, 2)
    assert e(np.zeros((3, 1), np.int64), offset=5).shape == (3, 1, 2)


PE = nn.PositionalEncoding(4, max_len=6)
PE_BF = nn.PositionalEncoding(4, max_len=6, batch_first=True)
LPE = nn.LearnedPositionalEmbedding(6, 2)
F32 = np.float32


@pytest.mark.parametrize(
    "call,exc,text",
    [
        (lambda: PE(np.zeros((7, 2, 4), F32)), ValueError,
         "Invalid shape for `input`: expected a sequence of at most 6 positions along axis 0 (the table's size). "
         "Received: input.shape=(7, 2, 4)"),
        (lambda: PE_BF(np.zeros((2, 7, 4), F32)), ValueError,
         "Invalid shape for `input`: expected a sequence of at most 6 positions along axis 1 (the table's size). "
         "Received: input.shape=(2, 7, 4)"),
        (lambda: PE(np.zeros((2, 2, 4), F32), offset=5), ValueError,
         "Invalid value for `offset`: expected an int in [0, 4] for 2 positions of a table of 6. Received: offset=5"),
        (lambda: PE(np.zeros((2, 2, 4), F32), offset=-1), ValueError,
         "Invalid value for `offset`: expected an int >= 0. Received: offset=-1"),
        (lambda: PE(np.zeros((2, 2, 5), F32)), ValueError,
         "Invalid shape for `input`: expected (T, N, d_model) or (T, d_model) with d_model=4. "
         "Received: input.shape=(2, 2, 5)"),
        (lambda: PE(np.zeros(4, F32)), ValueError,
         "Invalid shape for `input`: expected a 2-D or 3-D array. Received: input.shape=(4,)"),
        (lambda: LPE(np.zeros((2, 7), np.int64)), ValueError,
         "Invalid shape for `input`: expected a sequence of at most 6 positions along its last axis (the table's "
         "size). Received: input.shape=(2, 7)"),
        (lambda: LPE(np.zeros((2, 3), np.int64), offset=4), ValueError,
         "Invalid value for `offset`: expected an int in [0, 3] for 3 positions of a table of 6. Received: offset=4"),
        (lambda: LPE(np.zeros(()), 0), TypeError,
         "Invalid type for `input`: expected an integer numpy.ndarray of token ids (*, T), not dtype float64. "
         "Received: input of type ndarray"),
        (lambda: LPE(np.array(3)), ValueError,
         "Invalid shape for `input`: expected (*, T) token ids, time last. Received: input.shape=()"),
        (lambda: nn.PositionalEncoding(0), ValueError,
         "Invalid value for `d_model`: expected an int >= 1. Received: d_model=0"),
        (lambda: nn.PositionalEncoding(4, dropout=1.0), ValueError,
         "Invalid value for `dropout`: expected a float in [0, 1). Received: dropout=1.0"),
        (lambda: nn.PositionalEncoding(4, 0.1), TypeError,  # the tutorial's argument order: (d_model, dropout, ...)
         "Invalid type for `max_len`: expected an int >= 1. Received: max_len of type float"),
        (lambda: nn.LearnedPositionalEmbedding(0, 3), ValueError,
         "Invalid value for `num_positions`: expected an int >= 1. Received: num_positions=0"),
    ],
)  # fmt: skip
def test_bad_input_raises_the_template(call: Callable[[], Any], exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=msg(text)):
        call()


def test_input_dtype_must_match_the_buffer() -> None:
    with pytest.raises(TypeError, match=r"^Invalid dtype for `input`: expected float32"):
        PE(np.zeros((2, 2, 4)))


def test_injected_mask_of_the_wrong_shape_is_refused() -> None:
    m = nn.PositionalEncoding(4, max_len=6, dropout=0.5)
    m.draw_dropout_mask = lambda shape, dtype: np.ones((1, 4), dtype)
    with pytest.raises(ValueError, match=r"^Invalid shape for `dropout mask`: expected \(2, 3, 4\)"):
        m(np.zeros((2, 3, 4), np.float32))


def test_learned_returns_none_for_the_ids_and_checks_grad_out() -> None:
    e = nn.LearnedPositionalEmbedding(6, 2, dtype=np.float64)
    e(np.zeros((3, 4), np.uint8))
    assert e.backward(np.ones((3, 4, 2))) is None
    with pytest.raises(ValueError, match=r"^Invalid shape for `grad_out`: expected \(3, 4, 2\)"):
        e.backward(np.ones((4, 2)))
