"""Row chunks of a CSR matrix (detbal.linalg.sparse_rows): every stored entry once, with its row."""

from itertools import pairwise

import numpy as np
import pytest
import scipy.sparse as sp

from detbal.linalg import sparse_rows


@pytest.mark.parametrize("chunk", [1, 7, 1 << 22])
def test_row_chunks_visit_every_entry_once_with_its_row(chunk, monkeypatch):
    """A 50×40 matrix with empty rows (the first and last among them): the chunks tile the rows in
    order, a:b tile A.data, and (rows, A.indices[a:b]) rebuild A exactly."""
    monkeypatch.setattr(sparse_rows, "CHUNK", chunk)
    rng = np.random.default_rng(3)
    D = rng.standard_normal((50, 40)) * (rng.random((50, 40)) < 0.2)
    D[[0, 17, 18, 49]] = 0.0
    A = sp.csr_array(D)
    chunks = list(sparse_rows.row_chunks(A))
    assert chunks[0][0] == 0 and chunks[-1][1] == 50 and all(c[1] == e[0] for c, e in pairwise(chunks))
    assert [(c[0], c[1]) for c in chunks] == list(sparse_rows.row_ranges(A))
    assert [c[2] for c in chunks] == [int(A.indptr[c[0]]) for c in chunks] and chunks[-1][3] == A.nnz
    if chunk == 1 << 22:
        assert len(chunks) == 1
    else:   # ⌊n·CHUNK/nnz⌋ rows per chunk
        assert len(chunks) == -(-50 // max(1, 50 * chunk // A.nnz)) > 1
    rows = np.concatenate([c[4] for c in chunks])
    cols = np.concatenate([A.indices[c[2]:c[3]] for c in chunks])
    data = np.concatenate([A.data[c[2]:c[3]] for c in chunks])
    B = np.zeros_like(D)
    B[rows, cols] = data
    assert rows.size == A.nnz and np.array_equal(B, D)


def test_an_empty_matrix_is_one_chunk_of_no_entries():
    A = sp.csr_array((5, 5))
    ((r0, r1, a, b, rows),) = sparse_rows.row_chunks(A)
    assert (r0, r1, a, b, rows.size) == (0, 5, 0, 0, 0)
