"""The Pauli rate matrix of a Davies generator as a sparse matrix, sector pair by sector pair.

With a conserved quantity the eigenbasis is computed sector by sector and a coupling S that
changes the conserved quantity by a fixed amount (X_0 changes Σ Z by ±2) has nonzero elements
S̃_mn = ⟨m|S|n⟩ only between a few pairs of sectors. The Pauli rates

    W_mn = Σ_b γ_b(e_n − e_m) |S̃_b,mn|²   (m ≠ n, rate n → m),   W_nn = −Σ_{m≠n} W_mn,

with e the level energies, then vanish outside those sector pairs. W is assembled here as a
``csr_array`` from the blocks of :meth:`~detbal.eigenbasis.Eigenbasis.rotate_block_pairs`, without
any d×d array; the rates are the ones of the dense tables (emission γ(ω) for ω > 0, absorption
γ(|ω|)e^{−β|ω|} by KMS, γ(0) inside a level), evaluated per entry. Internal module.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ... import config
from ...errors import InputError

__all__ = ["block_arrays", "coupling_blocks", "pauli_sparse", "pauli_sparse_bytes", "sparse_components"]


def coupling_blocks(eb, S) -> dict:
    """The nonzero sector blocks of S̃ = V†S_hV, S_h = (S + S†)/2 (exactly Hermitian, as the dense
    path's (V†SV + (V†SV)†)/2): {(a, b): (rows, cols, block)}, see :meth:`Eigenbasis.rotate_block_pairs`.
    Only the blocks (a, b), a ≤ b, are rotated; the block (b, a) is the conjugate transpose of
    (a, b) — a view for a real block (stored once), a copy for a complex one — and a diagonal block
    is Hermitised."""
    Sh = sp.csr_array(S)
    Sh = (Sh + Sh.conj().T) * 0.5
    raw = eb.rotate_block_pairs(Sh, upper=True)
    out = {}
    for (a, b), (rows, cols, blk) in raw.items():
        if a == b:
            blk += blk.conj().T.copy()
            blk *= 0.5
            out[(a, a)] = (rows, cols, blk)
        elif a < b or (b, a) not in raw:
            out[(a, b)] = (rows, cols, blk)
            out[(b, a)] = (cols, rows, blk.conj().T)
    return out


def block_arrays(blocks: dict) -> list:
    """The arrays of :func:`coupling_blocks` that hold memory: each block once (a real block (b, a) is a
    view of (a, b))."""
    return [blk for (a, b), (_, _, blk) in blocks.items()
            if a <= b or (b, a) not in blocks or not np.may_share_memory(blk, blocks[(b, a)][2])]


def pauli_sparse_bytes(blocks_per_bath) -> float:
    """Bytes :func:`pauli_sparse` holds at its peak: the CSR arrays (12 B per block entry: value and
    column index) and 8 block-sized temporaries of the largest block (|S̃|², mask, indices, rates)."""
    n = [float(b[2].size) for blocks in blocks_per_bath for b in blocks.values()]
    return 12.0 * sum(n) + 64.0 * max(n, default=0.0)


def _rates(bath, omega: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(γ(ω), γ(−ω)) for the jumps n → m with ω = e_n − e_m (emission for ω > 0) and their reverses,
    evaluated as the dense rate tables are: the emission rates γ(|ω|) once, the KMS factor e^{−β|ω|}
    applied to them for absorption, γ(0) for ω = 0 (InputError for a sub-ohmic bath, where it diverges)."""
    beta = float(bath.beta)
    w = np.abs(omega)
    nz = w > 0
    rate, back = np.empty(omega.shape), np.empty(omega.shape)
    if not np.all(nz):
        try:
            g0 = float(bath.rate(0.0))
        except InputError:
            raise InputError(f"bath {name!r}: the coupling has zero-frequency (ν = 0) jumps, which need "
                             "γ(0) = 2πT·J'(0); it diverges for a sub-ohmic spectral density") from None
        rate[~nz] = back[~nz] = g0
    if np.any(nz):
        emit = np.asarray(bath.rate(w[nz]), dtype=float)
        with np.errstate(under="ignore"):
            up = emit * np.exp(-beta * w[nz]) if math.isfinite(beta) else np.zeros_like(emit)
        down = omega[nz] > 0
        rate[nz] = np.where(down, emit, up)
        back[nz] = np.where(down, up, emit)
    return rate, back


def _block_pairs(blocks: dict):
    """(rows, cols, block, mirrored) over the blocks of :func:`coupling_blocks`, each pair of sectors
    once: ``mirrored`` when the block (b, a) is the conjugate transpose of (a, b) and is covered by it."""
    for (a, b), (r, c, blk) in blocks.items():
        if a < b and (b, a) in blocks:
            yield r, c, blk, True
        elif a == b or (b, a) not in blocks:
            yield r, c, blk, False


def pauli_sparse(eb, couplings, names) -> sp.csr_array:
    """W as a (d, d) csr_array.

    A block (a, b) and its mirror (b, a) = (a, b)† are read together: |S̃_mn|² and the emission rates
    γ(|e_n − e_m|) once for both directions.

    Args:
        eb: an :class:`~detbal.eigenbasis.Eigenbasis` (block or dense).
        couplings: [(blocks, bath)] with blocks from :func:`coupling_blocks`.
        names: bath names (error messages).

    Raises:
        MemoryBudgetError: the entries would exceed ``detbal.config.memory_budget``.
        InputError: a sub-ohmic bath with ν = 0 jumps.
    """
    d = eb.dim
    e = eb.levels[eb.level_labels]
    held = float(eb.sectors.nbytes()) if eb.sectors is not None else 0.0     # eigenvectors and the blocks
    held += sum(float(blk.nbytes) for blocks, _ in couplings for blk in block_arrays(blocks))
    config.check_memory(held + pauli_sparse_bytes([b for b, _ in couplings]),
                        f"the sparse Pauli rate matrix (d = {d}), with the eigenvectors and the coupling's blocks,",
                        config.FEWER_SITES)

    def off_diagonal(r, c, blk):
        """The nonzero entries of a block that are not on the diagonal of W."""
        mask = blk != 0
        mask &= r[:, None] != c[None, :]
        return mask

    # the CSR arrays are filled in place (no COO triples): first the entries of every row
    per_row = np.ones(d, dtype=np.int64)            # the diagonal
    for blocks, _ in couplings:
        for r, c, blk, mirrored in _block_pairs(blocks):
            mask = off_diagonal(r, c, blk)
            per_row[r] += mask.sum(axis=1)
            if mirrored:
                per_row[c] += mask.sum(axis=0)
    indptr = np.zeros(d + 1, dtype=np.int64)
    np.cumsum(per_row, out=indptr[1:])
    index_dtype = np.int32 if indptr[-1] < 2 ** 31 else np.int64
    indices = np.empty(int(indptr[-1]), dtype=index_dtype)
    data = np.empty(int(indptr[-1]))
    fill = indptr[:-1].copy()                       # next free slot of each row
    diag = np.zeros(d)

    def put(rows, k, cols, values):
        """Append the entries (rows repeated k times, cols, values; row-major) to their rows."""
        pos = np.repeat(fill[rows] - (np.cumsum(k) - k), k) + np.arange(cols.shape[0])
        indices[pos] = cols
        data[pos] = values
        fill[rows] += k

    for (blocks, bath), name in zip(couplings, names):
        for r, c, blk, mirrored in _block_pairs(blocks):
            mask = off_diagonal(r, c, blk)
            if not mask.any():
                continue
            m, n = np.nonzero(mask)                 # row-major: the entries of the block (a, b)
            Pv = blk[m, n]
            Pv = Pv.real ** 2 + Pv.imag ** 2 if np.iscomplexobj(Pv) else Pv * Pv
            rate, back = _rates(bath, e[c[n]] - e[r[m]], name)
            w = rate * Pv                           # n → m
            diag -= np.bincount(c[n], weights=w, minlength=d)
            put(r, mask.sum(axis=1), c[n], w)
            del rate, w
            if mirrored:                            # the block (b, a): the reverse jumps m → n
                w = back * Pv
                diag -= np.bincount(r[m], weights=w, minlength=d)
                rev = np.zeros(mask.shape)          # its entries row-major: read through the transpose
                rev[m, n] = w
                del w, m, n, back, Pv
                n_t, m_t = np.nonzero(mask.T)
                put(c, mask.sum(axis=0), r[m_t], rev.T[n_t, m_t])
                del rev, n_t, m_t
    indices[fill] = np.arange(d)
    data[fill] = diag
    W = sp.csr_array((data, indices, indptr.astype(index_dtype)), shape=(d, d))
    if len(couplings) > 1:
        W.sum_duplicates()
    return W


def sparse_components(W: sp.csr_array) -> int:
    """Connected components of the rate graph of a sparse Pauli matrix (edges where W_mn ≠ 0, m ≠ n).
    The number of stationary distributions when every rate has its reverse (all baths at finite β)."""
    return int(connected_components(W, directed=False)[0])
