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

__all__ = ["coupling_blocks", "pauli_sparse", "pauli_sparse_bytes", "sparse_components"]


def coupling_blocks(eb, S) -> dict:
    """The nonzero sector blocks of S̃ = V†S_hV, S_h = (S + S†)/2 (exactly Hermitian, as the dense
    path's (V†SV + (V†SV)†)/2): {(a, b): (rows, cols, block)}, see :meth:`Eigenbasis.rotate_block_pairs`.
    Only the blocks (a, b), a ≤ b, are rotated; the block (b, a) is a view of the conjugate
    transpose of (a, b) (the entries are stored once) and a diagonal block is Hermitised."""
    Sh = sp.csr_array(S) if sp.issparse(S) else sp.csr_array(np.asarray(S))
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


def pauli_sparse_bytes(blocks_per_bath) -> float:
    """Bytes :func:`pauli_sparse` holds at its peak: for every block entry a COO triple (16 B) and
    its CSR copy (12 B), plus 4 block-sized float temporaries of the largest block."""
    n = [float(b[2].size) for blocks in blocks_per_bath for b in blocks.values()]
    return 28.0 * sum(n) + 32.0 * max(n, default=0.0)


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
    config.check_memory(pauli_sparse_bytes([b for b, _ in couplings]),
                        f"the sparse Pauli rate matrix (d = {d})", "fewer sites")
    rows, cols, vals = [], [], []
    diag = np.zeros(d)
    for (blocks, bath), name in zip(couplings, names):
        for r, c, blk in blocks.values():
            P = blk.real ** 2 + blk.imag ** 2 if np.iscomplexobj(blk) else blk * blk
            mask = P != 0
            mask &= r.astype(np.int32)[:, None] != c.astype(np.int32)[None, :]
            m = np.broadcast_to(r.astype(np.int32)[:, None], P.shape)[mask]
            n = np.broadcast_to(c.astype(np.int32)[None, :], P.shape)[mask]
            if m.size == 0:
                continue
            Pv = P[mask]
            del P, mask
            rate, sym = _rates(bath, e[n] - e[m], name)
            w = rate * Pv
            diag -= np.bincount(n, weights=w, minlength=d)
            rows.append(m)
            cols.append(n)
            vals.append(sym * Pv if symmetric else w)
            del rate, sym, w, Pv
    idx = np.arange(d, dtype=np.int32)
    R = np.concatenate(rows + [idx])
    del rows
    C = np.concatenate(cols + [idx])
    del cols
    V = np.concatenate(vals + [diag])
    del vals
    return sp.csr_array(sp.coo_array((V, (R, C)), shape=(d, d)))


def sparse_components(W: sp.csr_array) -> int:
    """Connected components of the rate graph of a sparse Pauli matrix (edges where W_mn ≠ 0, m ≠ n).
    The number of stationary distributions when every rate has its reverse (all baths at finite β)."""
    return int(connected_components(W, directed=False)[0])
