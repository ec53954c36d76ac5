"""Scans of a large CSR matrix in chunks of consecutive rows (internal; no physics).

A scan that needs per-entry temporaries (the row of each entry, a σ-exponent, a scaled copy) holds
them for one chunk of rows with ≈ ``CHUNK`` stored entries at a time, so beside the matrix itself
only O(CHUNK) numbers are allocated (a d = 16384 Pauli rate matrix has 7.5·10⁷ entries). Used by the
blockwise Davies generator, the report's sparse Pauli network and the benchmarks.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

__all__ = ["CHUNK", "entry_rows", "row_chunks", "row_ranges"]

CHUNK = 1 << 22  # stored entries per chunk (≈ 4·10⁶: 32 MB per int64/float64 temporary)


def row_ranges(A: sp.csr_array) -> Iterator[tuple[int, int]]:
    """(r0, r1): consecutive row ranges covering A, of ⌊n·CHUNK/nnz⌋ rows each (at least one), so a
    range holds ≈ CHUNK stored entries when they are spread evenly over the n rows."""
    n = A.shape[0]
    step = max(1, int(n * CHUNK // max(A.nnz, 1)))
    for r0 in range(0, n, step):
        yield r0, min(n, r0 + step)


def row_chunks(A: sp.csr_array) -> Iterator[tuple[int, int, int, int, np.ndarray]]:
    """(r0, r1, a, b, rows) for each range of :func:`row_ranges`: its entries' range a:b in A.data
    (and A.indices) and the row of each of those entries."""
    for r0, r1 in row_ranges(A):
        yield r0, r1, int(A.indptr[r0]), int(A.indptr[r1]), entry_rows(A, r0, r1)


def entry_rows(A: sp.csr_array, r0: int, r1: int) -> np.ndarray:
    """The row of every stored entry of rows r0:r1 of a csr matrix."""
    return np.repeat(np.arange(r0, r1), np.diff(A.indptr[r0:r1 + 1]))
