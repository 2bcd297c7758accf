"""Padding, masks, teacher forcing and length buckets (text/batching.py), against arrays written by hand."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn.text import bucket_batches, key_padding_mask, mask_labels, pad_sequences, shift_right

F, T = False, True


def test_pad_sequences_pads_at_the_end_to_the_longest() -> None:
    ids, lengths = pad_sequences([[5, 6, 7], np.array([8]), []], pad_id=0)
    np.testing.assert_array_equal(ids, [[5, 6, 7], [8, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(lengths, [3, 1, 0])
    assert ids.dtype == np.int64 and lengths.dtype == np.int64
    ids, _ = pad_sequences([[4], [4, 4]], pad_id=9)
    np.testing.assert_array_equal(ids, [[4, 9], [4, 4]])
    ids, lengths = pad_sequences([], pad_id=0)
    assert ids.shape == (0, 0) and lengths.shape == (0,)


def test_pad_sequences_truncates_either_end() -> None:
    seqs = [[5, 6, 7], [8], []]
    ids, lengths = pad_sequences(seqs, pad_id=0, max_len=2)
    np.testing.assert_array_equal(ids, [[5, 6], [8, 0], [0, 0]])
    np.testing.assert_array_equal(lengths, [2, 1, 0])
    ids, _ = pad_sequences(seqs, pad_id=0, max_len=2, truncate="left")
    np.testing.assert_array_equal(ids, [[6, 7], [8, 0], [0, 0]])
    ids, _ = pad_sequences([[1, 2]], pad_id=0, max_len=5)  # max_len bounds the width, it does not set it
    np.testing.assert_array_equal(ids, [[1, 2]])


def test_pad_sequences_keeps_eos_at_the_end_of_cut_rows() -> None:
    ids, lengths = pad_sequences([[5, 6, 7], [8], []], pad_id=0, max_len=3, eos_id=2)
    np.testing.assert_array_equal(ids, [[5, 6, 2], [8, 2, 0], [2, 0, 0]])
    np.testing.assert_array_equal(lengths, [3, 2, 1])
    ids, _ = pad_sequences([[5, 6, 7]], pad_id=0, max_len=3, truncate="left", eos_id=2)
    np.testing.assert_array_equal(ids, [[6, 7, 2]])
    ids, _ = pad_sequences([[5, 6, 7]], pad_id=0, eos_id=2)
    np.testing.assert_array_equal(ids, [[5, 6, 7, 2]])


def test_key_padding_mask_from_lengths_and_from_ids() -> None:
    expected = [[F, F, F], [F, T, T], [T, T, T]]
    np.testing.assert_array_equal(key_padding_mask(np.array([3, 1, 0])), expected)
    np.testing.assert_array_equal(
        key_padding_mask(np.array([3, 1, 0]), max_len=4), [[F, F, F, T], [F, T, T, T], [T, T, T, T]]
    )
    ids = np.array([[5, 6, 7], [8, 0, 0], [0, 0, 0]])
    mask = key_padding_mask(ids, pad_id=0)
    np.testing.assert_array_equal(mask, expected)
    assert mask.dtype == np.bool_
    ids, lengths = pad_sequences([[5, 6, 7], [8], []], pad_id=0)
    np.testing.assert_array_equal(key_padding_mask(lengths), key_padding_mask(ids, pad_id=0))


def test_shift_right_starts_with_the_start_token_and_drops_the_last_label() -> None:
    labels = np.array([[5, 6, 2, 0], [7, 2, 0, 0]])  # EOS = 2, PAD = 0
    np.testing.assert_array_equal(shift_right(labels, start_id=2, pad_id=0), [[2, 5, 6, 2], [2, 7, 2, 0]])
    masked = np.array([[5, 6, 2, -100], [7, 2, -100, -100]])  # labels already masked for the loss
    np.testing.assert_array_equal(shift_right(masked, start_id=2, pad_id=0), [[2, 5, 6, 2], [2, 7, 2, 0]])
    np.testing.assert_array_equal(shift_right(np.array([[9]]), start_id=1, pad_id=0), [[1]])
    assert labels.tolist() == [[5, 6, 2, 0], [7, 2, 0, 0]]  # the input is not modified


def test_mask_labels_replaces_padding_with_ignore_index() -> None:
    labels = np.array([[5, 6, 2, 0], [7, 2, 0, 0]])
    np.testing.assert_array_equal(mask_labels(labels, pad_id=0), [[5, 6, 2, -100], [7, 2, -100, -100]])
    np.testing.assert_array_equal(mask_labels(labels, pad_id=0, ignore_index=-1), [[5, 6, 2, -1], [7, 2, -1, -1]])
    assert labels[0, 3] == 0  # a copy


def test_bucket_batches_with_one_pool_groups_neighbours_in_length() -> None:
    lengths = np.array([5, 1, 4, 2, 3, 6, 1, 2])
    batches = bucket_batches(lengths, 2, np.random.default_rng(0), pool_batches=4)
    assert sorted(sorted(lengths[b].tolist()) for b in batches) == [[1, 1], [2, 2], [3, 4], [5, 6]]
    assert all(b.dtype == np.int64 for b in batches)


def test_bucket_batches_use_every_example_once_and_reshuffle_each_epoch() -> None:
    rng = np.random.default_rng(1)
    lengths = rng.integers(1, 50, size=103)
    epoch1 = bucket_batches(lengths, 8, rng, pool_batches=3)
    epoch2 = bucket_batches(lengths, 8, rng, pool_batches=3)
    for epoch in (epoch1, epoch2):
        np.testing.assert_array_equal(np.sort(np.concatenate(epoch)), np.arange(103))
        assert sorted(b.size for b in epoch) == [7] + [8] * 12  # one short batch: 103 = 12 * 8 + 7
    assert [b.tolist() for b in epoch1] != [b.tolist() for b in epoch2]
    again = bucket_batches(lengths, 8, np.random.default_rng(5), pool_batches=3)
    assert [b.tolist() for b in again] == [
        b.tolist() for b in bucket_batches(lengths, 8, np.random.default_rng(5), pool_batches=3)
    ]
    dropped = bucket_batches(lengths, 8, np.random.default_rng(2), pool_batches=3, drop_last=True)
    assert [b.size for b in dropped] == [8] * 12 and np.unique(np.concatenate(dropped)).size == 96
    assert bucket_batches(np.array([], dtype=np.int64), 4, rng) == []


def test_bucketing_cuts_the_padding_of_random_batches() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 201, size=10_000)

    def padding(batches: list[np.ndarray]) -> int:
        return sum(int(lengths[b].max()) * b.size - int(lengths[b].sum()) for b in batches)

    bucketed = padding(bucket_batches(lengths, 32, rng))
    random = padding(bucket_batches(lengths, 32, rng, pool_batches=1))  # one pool per batch: no bucketing
    assert random > 800_000  # about 95 pad tokens per example: E[max of 32] - E[length] = 195 - 100
    # a pool of 3200 holds about 16 examples of each length, so a batch of 32 spans about two lengths:
    # about one pad token per example
    assert bucketed < 2 * 10_000 < 0.025 * random


def test_bad_arguments_name_the_argument() -> None:
    with pytest.raises(TypeError, match="`seqs`"):
        pad_sequences("abc", pad_id=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Invalid value for `seqs\[1\]`: expected a 1-D sequence of integer"):
        pad_sequences([[1], [1.5]], pad_id=0)
    with pytest.raises(ValueError, match="`max_len`: expected an int >= 1"):
        pad_sequences([[1]], pad_id=0, max_len=0)
    with pytest.raises(ValueError, match="`truncate`: expected one of 'right', 'left'"):
        pad_sequences([[1]], pad_id=0, truncate="middle")
    with pytest.raises(TypeError, match="`pad_id`"):
        pad_sequences([[1]], pad_id=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`pad_id`: expected the padding id"):
        key_padding_mask(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="`x`: expected lengths >= 0"):
        key_padding_mask(np.array([2, -1]))
    with pytest.raises(ValueError, match="`x`: expected lengths"):
        key_padding_mask(np.ones((2, 3)))
    with pytest.raises(ValueError, match="`max_len`: expected an int >= 3"):
        key_padding_mask(np.array([3, 1]), max_len=2)
    with pytest.raises(ValueError, match="`labels`: expected an .N, T. integer array"):
        shift_right(np.array([1, 2]), start_id=2, pad_id=0)
    with pytest.raises(ValueError, match="`labels`: expected at least one position"):
        mask_labels(np.zeros((2, 0), dtype=np.int64), pad_id=0)
    with pytest.raises(TypeError, match="`rng`: expected a numpy.random.Generator"):
        bucket_batches(np.array([1, 2]), 2, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`batch_size`"):
        bucket_batches(np.array([1, 2]), 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="`lengths`"):
        bucket_batches(np.array([[1, 2]]), 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="`pool_batches`"):
        bucket_batches(np.array([1, 2]), 2, np.random.default_rng(0), pool_batches=0)
