"""Walking a batch in cache-sized blocks of samples.

A chain of NumPy ops over a large activation reads and writes it from memory once per op; run
over ~1 MiB blocks of samples, the same chain finds each block in L2 after its first op. That is
how pooling and BatchNorm (memory-bound elementwise work) keep up with torch's fused kernels.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

BLOCK_BYTES = 1 << 20  # measured best of 0.25-4 MiB for max pooling on a 512 KiB-L2 core


def batch_blocks(a: np.ndarray, block_bytes: int = BLOCK_BYTES) -> Iterator[slice]:
    """Slices of ``a``'s first axis covering about ``block_bytes`` of ``a`` each (at least one sample)."""
    per_sample = max(1, a[0].nbytes) if a.shape[0] else 1
    step = max(1, block_bytes // per_sample)
    for n0 in range(0, a.shape[0], step):
        yield slice(n0, n0 + step)
