"""``KVCache``: the keys and values each attention module has already computed, for incremental decoding.

Decoding one token at a time, a decoder's self-attention at step t needs the keys and values of steps
0..t; without a cache it recomputes all of them (and every layer's output at every earlier position) at
every step, O(t) work per layer per step for the projections and O(t^2) over t steps for everything. With
the cache each step projects only its new token and appends its key and value: the attention itself still
reads all t keys, but nothing else is recomputed. Cross-attention's keys and values come from the
encoder's memory, which does not change while decoding: they are projected once and reused.

Each attention module has one entry, keyed by the module. A growing entry keeps its arrays with spare
capacity (doubling), so appending is amortised O(1) copies per step rather than a concatenation of the
whole history. Beam search reorders the batch (each beam continues some earlier beam) with :meth:`reorder`.

Shape:
    keys, values: (N, H, S, Dh), N the batch (times beams), S the steps so far (or the memory's length)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validate import check_array, invalid_value


class _Entry:
    """One module's keys and values: ``k[:, :, :length]`` and ``v[:, :, :length]`` are in use."""

    def __init__(self, k: np.ndarray, v: np.ndarray, static: bool) -> None:
        self.k, self.v, self.length, self.static = k, v, k.shape[2], static

    def append(self, k_new: np.ndarray, v_new: np.ndarray) -> None:
        n = k_new.shape[2]
        if self.length + n > self.k.shape[2]:  # out of room: double the capacity (amortised O(1) copies a step)
            cap = max(2 * self.k.shape[2], self.length + n, 8)
            grow = [(0, 0), (0, 0), (0, cap - self.k.shape[2]), (0, 0)]
            self.k, self.v = np.pad(self.k, grow), np.pad(self.v, grow)  # (N, H, S, Dh) -> (N, H, cap, Dh)
        self.k[:, :, self.length : self.length + n] = k_new
        self.v[:, :, self.length : self.length + n] = v_new
        self.length += n


class KVCache:
    """Keys and values per attention module, for :meth:`MultiheadAttention.forward_cached`.

    Create one per decoding run (per batch of sources); pass the same cache to every step. ``len(cache)``
    is the number of modules with an entry; :attr:`steps` how many target positions have been cached.
    """

    def __init__(self) -> None:
        self._entries: dict[int, _Entry] = {}
        self.steps = 0  # target positions seen so far; the decoder advances it after each step

    def __len__(self) -> int:
        return len(self._entries)

    def static(self, module: Any, compute: Any) -> tuple[np.ndarray, np.ndarray]:
        """Keys and values that never change (cross-attention over the memory): computed by ``compute()`` on
        the first call for ``module``, returned as they are afterwards."""
        entry = self._entries.get(id(module))
        if entry is None:
            k, v = compute()
            entry = self._entries[id(module)] = _Entry(k, v, static=True)
        return entry.k, entry.v

    def extend(self, module: Any, k_new: np.ndarray, v_new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Append this step's keys and values (N, H, n, Dh) for ``module``; return all so far, (N, H, S, Dh) views."""
        entry = self._entries.get(id(module))
        if entry is None:
            entry = self._entries[id(module)] = _Entry(k_new.copy(), v_new.copy(), static=False)
        else:
            entry.append(k_new, v_new)
        return entry.k[:, :, : entry.length], entry.v[:, :, : entry.length]

    def reorder(self, index: Any, *, include_static: bool = True) -> None:
        """Keep batch rows ``index`` (an int array, repeats allowed) in every entry: beam search's step,
        where beam b continues the beam index[b]. ``include_static=False`` leaves the static entries as they
        are, right when every row of a source holds the same memory (beam search never moves a beam to
        another source). Shape: index (N',) -> every entry (N', H, S, Dh)."""
        check_array(index, "index", ndim=1, floating=False)
        if index.dtype.kind not in "iu":
            raise invalid_value("index", "an integer array of batch rows", index)
        for entry in self._entries.values():
            if entry.static and not include_static:
                continue
            if index.size and (index.min() < -entry.k.shape[0] or index.max() >= entry.k.shape[0]):
                raise invalid_value("index", f"batch rows in [0, {entry.k.shape[0]})", index)
            entry.k, entry.v = entry.k[index], entry.v[index]  # fancy indexing copies: beams may share a parent
