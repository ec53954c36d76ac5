"""The Pauli rate matrix of a Davies generator as a sparse matrix, sector pair by sector pair.

With a conserved quantity the eigenbasis is computed sector by sector and a coupling S that
changes the conserved quantity by a fixed amount (X_0 changes Σ Z by ±2) has nonzero elements
S̃_mn = ⟨m|S|n⟩ only between a few pairs of sectors. The Pauli rates

    W_mn = Σ_b γ_b(e_n − e_m) |S̃_b,mn|²   (m ≠ n, rate n → m),   W_nn = −Σ_{m≠n} W_mn,

with e the level energies, then vanish outside those sector pairs, and so does the symmetrised
matrix at one β, Ŵ = P^{−1/2} W P^{1/2}, Ŵ_mn = γ_b(|ω|) e^{−β|ω|/2} |S̃_b,mn|² (ω = e_n − e_m; even
in ω, no overflow). Both are assembled here as ``csr_array`` from the blocks of
:meth:`~detbal.eigenbasis.Eigenbasis.rotate_block_pairs`, without any d×d array; the rates are the
ones of the dense tables (emission γ(ω) for ω > 0, absorption γ(|ω|)e^{−β|ω|} by KMS, γ(0) inside a
level), evaluated per entry. Internal module.
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
    """(γ(ω), γ(|ω|)e^{−β|ω|/2}) for the jumps n → m with ω = e_n − e_m (emission for ω > 0),
    evaluated as the dense rate tables are: emission rates on |ω|, the KMS factor applied to them,
    γ(0) for ω = 0 (InputError for a sub-ohmic bath, where it diverges)."""
    beta = float(bath.beta)
    w = np.abs(omega)
    nz = w > 0
    rate, sym = np.empty(omega.shape), np.empty(omega.shape)
    if not np.all(nz):
        try:
            g0 = float(bath.rate(0.0))
        except InputError:
            raise InputError(f"bath {name!r}: the coupling has zero-frequency (ν = 0) jumps, which need "
                             "γ(0) = 2πT·J'(0); it diverges for a sub-ohmic spectral density") from None
        rate[~nz] = sym[~nz] = g0
    if np.any(nz):
        emit = np.asarray(bath.rate(w[nz]), dtype=float)
        with np.errstate(under="ignore"):
            if math.isfinite(beta):
                rate[nz] = np.where(omega[nz] > 0, emit, emit * np.exp(-beta * w[nz]))
                sym[nz] = emit * np.exp(-0.5 * beta * w[nz])
            else:
                rate[nz] = np.where(omega[nz] > 0, emit, 0.0)
                sym[nz] = 0.0
    return rate, sym


def pauli_sparse(eb, couplings, names, symmetric: bool = False) -> sp.csr_array:
    """W (or, ``symmetric``, Ŵ at the common β of the baths) as a (d, d) csr_array.

    Args:
        eb: an :class:`~detbal.eigenbasis.Eigenbasis` (block or dense).
        couplings: [(blocks, bath)] with blocks from :func:`coupling_blocks`.
        names: bath names (error messages).
        symmetric: Ŵ = P^{−1/2}WP^{1/2} (all baths at one β); its diagonal is W's.

    Raises:
        MemoryBudgetError: the entries would exceed ``detbal.config.memory_budget``.
        InputError: ``symmetric`` with baths at different β; a sub-ohmic bath with ν = 0 jumps.
    """
    d = eb.dim
    e = eb.levels[eb.level_labels]
    if symmetric and len({float(bath.beta) for _, bath in couplings}) != 1:
        raise InputError("the symmetrised Pauli matrix needs all baths at one β")
    held = float(eb.sectors.nbytes()) if eb.sectors is not None else 0.0     # eigenvectors and the blocks
    held += sum(float(blk.nbytes) for blocks, _ in couplings for blk in block_arrays(blocks))
    config.check_memory(held + pauli_sparse_bytes([b for b, _ in couplings]),
                        f"the sparse Pauli rate matrix (d = {d}), with the eigenvectors and the coupling's blocks,",
                        config.FEWER_SITES)
    def entries(r, c, blk):
        """|S̃|² of a block and the mask of its off-diagonal nonzero entries."""
        P = blk.real ** 2 + blk.imag ** 2 if np.iscomplexobj(blk) else blk * blk
        mask = P != 0
        mask &= r[:, None] != c[None, :]
        return P, mask

    # the CSR arrays are filled in place (no COO triples): first the entries of every row
    per_row = np.ones(d, dtype=np.int64)            # the diagonal
    for blocks, _ in couplings:
        for r, c, blk in blocks.values():
            per_row[r] += entries(r, c, blk)[1].sum(axis=1)
    indptr = np.zeros(d + 1, dtype=np.int64)
    np.cumsum(per_row, out=indptr[1:])
    index_dtype = np.int32 if indptr[-1] < 2 ** 31 else np.int64
    indices = np.empty(int(indptr[-1]), dtype=index_dtype)
    data = np.empty(int(indptr[-1]))
    fill = indptr[:-1].copy()                       # next free slot of each row
    diag = np.zeros(d)
    for (blocks, bath), name in zip(couplings, names):
        for r, c, blk in blocks.values():
            P, mask = entries(r, c, blk)
            k = mask.sum(axis=1)
            if not k.any():
                continue
            n = np.broadcast_to(c[None, :], P.shape)[mask]
            m = np.repeat(r, k)
            Pv = P[mask]
            del P, mask
            rate, sym = _rates(bath, e[n] - e[m], name)
            w = rate * Pv
            diag -= np.bincount(n, weights=w, minlength=d)
            pos = np.repeat(fill[r] - (np.cumsum(k) - k), k) + np.arange(m.shape[0])
            indices[pos] = n
            data[pos] = sym * Pv if symmetric else w
            fill[r] += k
            del rate, sym, w, Pv, pos, m, n
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
