"""Batches of token sequences for a seq2seq model: padding, key-padding masks, teacher forcing, length buckets.

    src, src_len = pad_sequences(tok.encode_batch(docs), tok.pad_id, max_len=512, eos_id=tok.eos_id)
    tgt, _ = pad_sequences(tok.encode_batch(sums), tok.pad_id, max_len=64, eos_id=tok.eos_id)
    src_mask = key_padding_mask(src_len)                   # (N, S) bool, True = padding
    dec_in = shift_right(tgt, tok.eos_id, tok.pad_id)      # (N, T): EOS, y_0, ..., y_{T-2}
    labels = mask_labels(tgt, tok.pad_id)                  # (N, T): y with padding -> -100
    for idx in bucket_batches(src_len, 32, rng): ...       # one epoch, similar lengths per batch

Teacher forcing: the decoder reads ``y_<t`` and predicts ``y_t``, so its input is the labels shifted one step
right behind a start token. The course project (and BART) start with EOS rather than a separate BOS; any id
works as long as training and decoding agree. Labels at padding are ``-100``, the ``ignore_index`` of
``CrossEntropyLoss``, so padding adds nothing to the loss nor to its mean.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validate import check_bool, check_choice, check_int, invalid_type, invalid_value

IGNORE_INDEX = -100  # CrossEntropyLoss's default ignore_index (torch and scratchnn.nn)


def pad_sequences(
    seqs: Sequence[Sequence[int] | np.ndarray],
    pad_id: int,
    max_len: int | None = None,
    truncate: str = "right",
    eos_id: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Stack token sequences into one array, padded at the end with ``pad_id``.

    Args:
        seqs: N sequences of token ids (lists or 1-D integer arrays), of any lengths.
        pad_id: the id written after each sequence's end.
        max_len: cut longer sequences to this many tokens (``eos_id`` included); ``None`` keeps them whole.
        truncate: ``"right"`` drops tokens from the end (keeps a document's lead, where the summary-worthy
            text usually is), ``"left"`` from the start (Hugging Face's ``truncation_side``).
        eos_id: if given, appended to every sequence after truncation to ``max_len - 1``, so each row ends
            with EOS even when it was cut.

    Returns:
        ``(ids, lengths)``: ids (N, T) int64 with T the longest length after truncation, and lengths (N,)
        int64, the number of real tokens in each row.
    """
    if isinstance(seqs, (str, bytes)) or not isinstance(seqs, Sequence | np.ndarray):
        raise invalid_type("seqs", "a sequence of token-id sequences", seqs)
    pad_id = check_int(pad_id, "pad_id")
    if max_len is not None:
        max_len = check_int(max_len, "max_len", low=1)
    truncate = check_choice(truncate, "truncate", ("right", "left"))
    eos = [] if eos_id is None else [check_int(eos_id, "eos_id")]
    keep = None if max_len is None else max_len - len(eos)
    rows = []
    for i, s in enumerate(seqs):
        arr = np.asarray(s)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise invalid_value(f"seqs[{i}]", "a 1-D sequence of integer token ids", s)
        if keep is not None and arr.size > keep:
            arr = arr[:keep] if truncate == "right" else arr[arr.size - keep :]
        rows.append(np.concatenate([arr.astype(np.int64), np.array(eos, dtype=np.int64)]))
    lengths = np.array([r.size for r in rows], dtype=np.int64)  # (N,)
    ids = np.full((len(rows), int(lengths.max(initial=0))), pad_id, dtype=np.int64)  # (N, T)
    for i, r in enumerate(rows):
        ids[i, : r.size] = r
    return ids, lengths


def key_padding_mask(x: np.ndarray, pad_id: int | None = None, max_len: int | None = None) -> np.ndarray:
    """Where the padding is: True = a pad position, not to be attended (torch's ``key_padding_mask``).

    Args:
        x: either lengths (N,) of integers, the mask then being ``mask[n, t] = t >= lengths[n]``; or ids
            (N, T), the mask then being ``ids == pad_id``. Prefer lengths when ``pad_id`` may also occur
            inside a sequence.
        pad_id: the padding id; required with ids, unused with lengths.
        max_len: with lengths, the width T (default: the largest length).

    Returns:
        (N, T) bool.
    """
    x = np.asarray(x)
    if x.dtype.kind not in "iu" or x.ndim not in (1, 2):
        raise invalid_value("x", "lengths (N,) or token ids (N, T) of integers", x)
    if x.ndim == 2:
        if pad_id is None:
            raise invalid_value("pad_id", "the padding id when `x` holds token ids (N, T)", pad_id)
        return x == check_int(pad_id, "pad_id")  # (N, T)
    if x.size and x.min() < 0:
        raise invalid_value("x", "lengths >= 0", x)
    longest = int(x.max(initial=0))
    T = longest if max_len is None else check_int(max_len, "max_len", low=longest)
    return np.arange(T)[None, :] >= x[:, None]  # (1, T) >= (N, 1) -> (N, T)


def shift_right(labels: np.ndarray, start_id: int, pad_id: int, ignore_index: int = IGNORE_INDEX) -> np.ndarray:
    """The decoder input for teacher forcing: ``start_id`` then the labels without their last position.

    ``out[:, 0] = start_id``, ``out[:, t] = labels[:, t - 1]``; an ``ignore_index`` in the labels (labels
    already masked by :func:`mask_labels`) becomes ``pad_id``, since it is no token id.

    Shape: labels (N, T) -> (N, T).
    """
    labels = _check_ids(labels, "labels")
    out = np.empty_like(labels)  # (N, T)
    out[:, 0] = check_int(start_id, "start_id")
    out[:, 1:] = labels[:, :-1]  # (N, T - 1)
    out[out == ignore_index] = check_int(pad_id, "pad_id")
    return out


def mask_labels(labels: np.ndarray, pad_id: int, ignore_index: int = IGNORE_INDEX) -> np.ndarray:
    """A copy of ``labels`` with every ``pad_id`` replaced by ``ignore_index``, which the loss skips.

    Shape: labels (N, T) -> (N, T).
    """
    labels = _check_ids(labels, "labels")
    return np.where(labels == check_int(pad_id, "pad_id"), check_int(ignore_index, "ignore_index"), labels)


def bucket_batches(
    lengths: np.ndarray,
    batch_size: int,
    rng: np.random.Generator,
    *,
    pool_batches: int = 100,
    drop_last: bool = False,
) -> list[np.ndarray]:
    """One epoch of index batches whose examples have similar lengths, so little of each batch is padding.

    The indices are shuffled, cut into pools of ``pool_batches * batch_size``, each pool sorted by length
    (ties in shuffled order) and cut into batches; the batches are then shuffled. Every index is in exactly
    one batch; only the last pool's last batch may be short (``drop_last`` drops it). ``pool_batches=1``
    gives plain random batches; a pool of the whole set gives the least padding and the least randomness
    (the same groups every epoch, only their order changes).

    Args:
        lengths: (N,) the length of each example (its source length, or the larger of source and target).
        batch_size: examples per batch.
        rng: draws the shuffles; the same generator state gives the same epoch.
        pool_batches: how many batches' worth of examples are sorted together.
        drop_last: drop the short batch, if there is one.

    Returns:
        the batches in training order, each an int64 array of indices into ``lengths``.
    """
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or (lengths.size and (lengths.dtype.kind not in "iu" or lengths.min() < 0)):
        raise invalid_value("lengths", "a 1-D array of integer lengths >= 0", lengths)
    batch_size = check_int(batch_size, "batch_size", low=1)
    if not isinstance(rng, np.random.Generator):
        raise invalid_type("rng", "a numpy.random.Generator", rng)
    pool = check_int(pool_batches, "pool_batches", low=1) * batch_size
    drop_last = check_bool(drop_last, "drop_last")
    order = rng.permutation(lengths.size)  # (N,)
    batches = []
    for start in range(0, lengths.size, pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]  # stable: equal lengths stay shuffled
        batches += [chunk[i : i + batch_size] for i in range(0, chunk.size, batch_size)]
    if drop_last and batches and batches[-1].size < batch_size:
        batches.pop()
    return [batches[i].astype(np.int64) for i in rng.permutation(len(batches))]


def _check_ids(ids: np.ndarray, name: str) -> np.ndarray:
    if not isinstance(ids, np.ndarray) or ids.dtype.kind not in "iu" or ids.ndim != 2:
        raise invalid_value(name, "an (N, T) integer array of token ids", ids)
    if ids.shape[1] == 0:
        raise invalid_value(name, "at least one position (T >= 1)", ids)
    return ids
