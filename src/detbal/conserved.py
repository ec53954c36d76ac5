"""Conserved quantities: the symmetry sectors that make H block diagonal (internal helpers).

A Hermitian Q diagonal in the computational basis, Q = Σ_i q_i |i⟩⟨i|, commutes with H exactly
when H never connects basis states of different eigenvalues:

    [H, Q]_ij = H_ij (q_j − q_i) = 0   for all i, j,

so the basis states with equal q_i (a *sector*) span invariant subspaces of H and H is block
diagonal. Sectors are the groups of equal labels q_i (values closer than 1e-9·max(1, max|q|)
are equal). A diagonal H is the extreme case: every basis state is its own sector.

Everything here is O(nnz(H)) or one pass over a dense H; no d×d array is allocated.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from ._checks import _to_array
from .errors import InputError

__all__ = ["COMMUTATOR_RTOL", "check_commutes", "is_diagonal", "sector_labels", "sector_partition"]

#: ‖[H, Q]‖ larger than this times ‖H‖_F·(max q − min q) means Q is not conserved
COMMUTATOR_RTOL = 1e-12
_LABEL_RTOL = 1e-9
_CHUNK = 1 << 22  # entries per row chunk when a dense H is scanned


def sector_labels(conserved, d: int, name: str = "conserved") -> np.ndarray:
    """The labels q_i of a conserved quantity, one real number per computational basis state.

    Args:
        conserved: a (d, d) Hermitian operator diagonal in the computational basis (ndarray,
            sparse, Qobj), or its diagonal as a 1-D sequence of d real numbers (sector labels).
        d: the Hilbert-space dimension.

    Returns:
        (d,) float ndarray.

    Raises:
        InputError: wrong shape or dimension, non-numeric, NaN/inf, complex labels, an operator
            that is not Hermitian or not diagonal (a non-diagonal Q is rejected: rotate H to a
            basis where Q is diagonal first, or give the labels).
    """
    a = _to_array(conserved, name)
    if sp.issparse(a):
        if a.shape != (d, d):
            raise InputError(f"`{name}` must be a {d}×{d} operator or {d} sector labels, got shape {a.shape}")
        coo = sp.coo_array(a)
        off = coo.row != coo.col
        if np.any(coo.data[off] != 0):
            raise InputError(f"`{name}` must be diagonal in the computational basis (it has "
                             f"{int(np.count_nonzero(coo.data[off]))} off-diagonal entries); give the "
                             "labels of its eigenstates or rotate H to a basis where it is diagonal")
        q = np.asarray(a.diagonal())
    else:
        if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise InputError(f"`{name}` must be numeric, got dtype {a.dtype}")
        if a.ndim == 1:
            if a.shape[0] != d:
                raise InputError(f"`{name}` must have one label per basis state ({d}), got {a.shape[0]}")
            q = a
        elif a.ndim == 2:
            if a.shape != (d, d):
                raise InputError(f"`{name}` must be a {d}×{d} operator or {d} sector labels, got shape "
                                 f"{a.shape}")
            q = np.diagonal(a).copy()
            off = a.copy()
            np.fill_diagonal(off, 0)
            if np.any(off != 0):
                raise InputError(f"`{name}` must be diagonal in the computational basis (it has "
                                 f"{int(np.count_nonzero(off))} off-diagonal entries); give the labels of "
                                 "its eigenstates or rotate H to a basis where it is diagonal")
        else:
            raise InputError(f"`{name}` must be a {d}×{d} operator or {d} sector labels, got shape {a.shape}")
    if np.iscomplexobj(q):
        if np.any(q.imag != 0):
            raise InputError(f"`{name}` must be Hermitian: its diagonal (the sector labels) must be real")
        q = q.real
    q = np.asarray(q, dtype=float)
    if not np.all(np.isfinite(q)):
        raise InputError(f"`{name}` contains NaN or infinite labels")
    return q


def sector_partition(q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group equal labels into sectors.

    Returns:
        (sector, values, counts): sector[i] the sector index of basis state i ((d,) int32),
        values the label of each sector ascending ((n_s,) float), counts its size ((n_s,) int).
    """
    q = np.asarray(q, dtype=float)
    order = np.argsort(q, kind="stable")
    s = q[order]
    tol = _LABEL_RTOL * max(1.0, float(np.max(np.abs(s), initial=0.0)))
    new = np.empty(s.size, dtype=bool)
    if s.size:
        new[0] = True
        np.greater(np.diff(s), tol, out=new[1:])
    ids = np.cumsum(new, dtype=np.int64) - 1
    sector = np.empty(q.size, dtype=np.int32)
    sector[order] = ids
    counts = np.bincount(ids)
    values = np.bincount(ids, weights=s) / np.maximum(counts, 1)
    return sector, values, counts


def check_commutes(h, sector: np.ndarray, q: np.ndarray, name: str = "conserved", hname: str = "H") -> None:
    """Raise InputError unless H is block diagonal in the sectors: ‖[H, Q]‖_F, the norm of
    H_ij (q_j − q_i) over the entries connecting different sectors, must not exceed
    COMMUTATOR_RTOL·‖H‖_F·(max q − min q). Sparse H: O(nnz); dense H: one pass in row chunks."""
    spread = float(np.ptp(q)) if q.size else 0.0
    cross2, total2, worst = 0.0, 0.0, None
    if sp.issparse(h):
        coo = sp.coo_array(h)
        cross = sector[coo.row] != sector[coo.col]
        vals = np.abs(coo.data[cross]) * np.abs(q[coo.col[cross]] - q[coo.row[cross]])
        cross2 = float(np.sum(vals ** 2))
        total2 = float(np.sum(np.abs(coo.data) ** 2))
        if vals.size:
            k = int(np.argmax(vals))
            worst = (int(coo.row[cross][k]), int(coo.col[cross][k]))
    else:
        d = h.shape[0]
        step = max(1, _CHUNK // max(d, 1))
        for a in range(0, d, step):
            rows = h[a:a + step]
            absr = np.abs(rows)
            total2 += float(np.einsum("ij,ij->", absr, absr))
            dq = np.abs(q[None, :] - q[a:a + step, None])
            dq[sector[a:a + step, None] == sector[None, :]] = 0.0
            c = absr * dq
            c2 = float(np.einsum("ij,ij->", c, c))
            if c2 > cross2 / 4 and c2 > 0:
                r, col = np.unravel_index(int(np.argmax(c)), c.shape)
                worst = (a + int(r), int(col))
            cross2 += c2
    if cross2 > (COMMUTATOR_RTOL * spread) ** 2 * total2 and cross2 > 0:
        i, j = worst if worst is not None else (0, 0)
        raise InputError(f"`{name}` does not commute with {hname}: ‖[{hname}, Q]‖_F/(‖{hname}‖_F·(max q − min q)) "
                         f"= {math.sqrt(cross2 / total2) / max(spread, 1e-300):.2e} (e.g. {hname}[{i}, {j}] "
                         f"connects labels {q[i]:g} and {q[j]:g}); it is not a conserved quantity")


def is_diagonal(h) -> bool:
    """H has no nonzero off-diagonal entry (dense: one pass; sparse: its stored entries)."""
    if sp.issparse(h):
        coo = sp.coo_array(h)
        return not np.any(coo.data[coo.row != coo.col])
    return int(np.count_nonzero(h)) == int(np.count_nonzero(np.diagonal(h)))
