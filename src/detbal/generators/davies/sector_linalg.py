"""A Davies generator assembled sector by sector, and linear algebra on its sectors (internal).

:class:`SectorForm` holds the generator in the eigenbasis: the Pauli matrix or the
ν = 0 block, the 1-element-sector eigenvalues λ_ik and the stacked blocks, with its action and its
dense eigenframe matrix. Kernels and gaps live in
:mod:`.sector_kernel`, the detailed-balance norms in :mod:`.sector_balance`.
"""

from __future__ import annotations


import numpy as np

from ... import config
from ...errors import InputError
from .sectors import BlockStack, BohrBlocks, Sectors, frequency_codes, level_diagonal_operator

__all__ = ["SectorForm", "sector_form_bytes"]


def sector_form_bytes(sec: Sectors) -> float:
    """Bytes :class:`SectorForm` allocates: M and D (2 × 16 B) for every entry of the ν = 0 block
    (degenerate levels) and of the stacked blocks, plus ~8 complex temporaries of the largest stack
    while it is built, plus the d×d tables."""
    sizes = [float(r.shape[0]) * float(r.shape[1]) ** 2 for r, _, _ in sec.stacks]
    if sec.degenerate:
        sizes.append(float(sec.zero_rows.shape[0]) ** 2)
    return 32.0 * sum(sizes) + 128.0 * max(sizes, default=0.0) + 64.0 * float(sec.dim) ** 2


# -- the assembled generator ---------------------------------------------------------------------
class SectorForm:
    """A Davies generator assembled sector by sector in the eigenbasis (see :class:`BohrBlocks`).

    Args:
        sec: the sector partition.
        couplings: objects with ``St`` (S̃, d×d), ``St_abs2`` (|S̃|²), ``gamma`` (Γ, d×d), ``gamma0``
            (γ(0)) and ``lamb_table`` (Λ, d×d, or None without Lamb shift).
        energies: (d,) eigenvalues for −i[H, ·], or None (a channel: no Hamiltonian part).

    Attributes (d = ``sec.dim``; operators are in the eigenbasis). G, H_LS and K are
    *level-diagonal* (they commute with H), so each is stored as its (d,) diagonal ``*_diag`` plus,
    only when some level is degenerate, its (d, d) complex block-diagonal matrix ``*_dense``
    (None when the operator is diagonal: a non-degenerate spectrum, or H_LS and K without Lamb shift):

        decay_diag, decay_dense: the total decay operator G = Σ_b Σ_ω γ_b(ω) A_b(ω)†A_b(ω),
            G_mn = Σ_b Σ_i Γ_b,in conj(S̃_b,im) S̃_b,in for m, n in one level (Γ_b,in = γ_b(E_n − E_i)).
        lamb_diag, lamb_dense: the Lamb-shift Hamiltonian H_LS = Σ_b Σ_ω S_b(ω) A_b(ω)†A_b(ω)
            (the same formula with the principal-value rates Λ_b; zero without Lamb shift).
        coherent_diag, coherent_dense: the coherent Hamiltonian K = nH + H_LS (n =
            ``hamiltonian_count``; ``energies`` already carries the factor n).
        dephasing: list of (γ_b(0), diag S̃_b) per bath: the pure-dephasing (ν = 0) jumps.
        pauli_matrix: non-degenerate spectrum: the (d, d) real Pauli rate matrix W,
            W_mn = Σ_b Γ_b,mn |S̃_b,mn|² (m ≠ n, rate n → m), W_nn = −Σ_{m≠n} W_mn; else None.
        zero_block: degenerate spectrum: the (n0, n0) complex ν = 0 block M0 of 𝓛 on the matrix
            units (``sec.zero_rows``, ``sec.zero_cols``) (populations first),
            M0[a, c] = ⟨i_a|𝓛(|i_c⟩⟨k_c|)|k_a⟩; else None.
        zero_dissipative: the same block of the dissipative part 𝓓 = 𝓛 + i[K, ·]; else None.
        populations_decoupled: the populations are mapped into populations only (always True
            for a non-degenerate spectrum), so a Pauli rate equation exists.
        stacks: tuple of :class:`BlockStack`, the ν ≠ 0 sectors of size ≥ 2 with 𝓛 and 𝓓 on them.
    """

    def __init__(self, sec: Sectors, couplings, energies):
        self.sec = sec
        d = sec.dim
        config.check_memory(sector_form_bytes(sec), f"the Bohr-sector blocks of the Davies generator (d = {d})",
                            "fewer sites or a Hamiltonian without degenerate levels (e.g. small random "
                            "fields)")
        # Σ_b Γ_b ∘ |S̃_b|²: the off-diagonal Pauli rates, and its column sums the diagonal of G
        weighted_rates = couplings[0].gamma * couplings[0].St_abs2
        for c in couplings[1:]:
            weighted_rates += c.gamma * c.St_abs2
        self.decay_diag, self.decay_dense = _sum_level_operators(
            sec, [(c.gamma, c.St, c.St_abs2) for c in couplings], weighted_rates)
        lamb = [(c.lamb_table, c.St, c.St_abs2) for c in couplings if c.lamb_table is not None]
        if lamb:
            self.lamb_diag, self.lamb_dense = _sum_level_operators(sec, lamb, None)
        else:
            self.lamb_diag, self.lamb_dense = np.zeros(d), None    # H_LS = 0: K = nH is diagonal
        E = np.zeros(d) if energies is None else np.asarray(energies, dtype=float)
        self.coherent_diag = E + self.lamb_diag
        self.coherent_dense = None if self.lamb_dense is None else self.lamb_dense + np.diag(E)
        self.dephasing = [(c.gamma0, np.real(np.diagonal(c.St)).copy()) for c in couplings]
        self._couplings = couplings
        self._coherence_cache = None
        if not sec.degenerate:
            W = weighted_rates
            np.fill_diagonal(W, 0.0)
            W[np.diag_indices(d)] = -W.sum(axis=0)
            self.pauli_matrix, self.zero_block, self.zero_dissipative = W, None, None
            self.populations_decoupled = True
        else:
            del weighted_rates
            block, dissipative = self.sector_matrices(sec.zero_rows[None, :], sec.zero_cols[None, :])
            self.zero_block, self.zero_dissipative = block[0], dissipative[0]
            scale = max(float(np.max(np.abs(self.zero_block))), 1e-300)
            off = max(float(np.max(np.abs(self.zero_block[:d, d:]), initial=0.0)),
                      float(np.max(np.abs(self.zero_block[d:, :d]), initial=0.0)))
            self.populations_decoupled = off <= 1e-12 * scale
            self.pauli_matrix = None
        self.stacks = tuple(BlockStack(r, c, nu, *self.sector_matrices(r, c)) for r, c, nu in sec.stacks)
        exposed = [self.pauli_matrix, self.zero_block, self.zero_dissipative]
        for a in exposed + [x for st in self.stacks for x in (st.matrices, st.dissipative)]:
            if a is not None:
                a.flags.writeable = False                # exposed through bohr_blocks: read-only

    # -- entries of the level-diagonal operators K and G ------------------------------------------
    def _entries(self, diag, dense, I, J):
        if dense is not None:
            return dense[I, J]
        return np.where(I == J, diag[I], 0.0)

    def sector_matrices(self, rows, cols):
        """(M, D): the generator and its dissipative part on stacked sectors, each (B, n, n) complex:
        for element a = |i⟩⟨k| and c = |j⟩⟨l| of one sector (rows/cols (B, n) int arrays),

            D[a, c] = Σ_b √Γ_b,ij √Γ_b,kl S̃_b,ij conj(S̃_b,kl) [same frequency group]
                      − ½(G_ij δ_kl + δ_ij G_lk),
            M[a, c] = D[a, c] − i(K_ij δ_kl − δ_ij K_lk)."""
        I, Kk = rows[:, :, None], cols[:, :, None]
        J, L = rows[:, None, :], cols[:, None, :]
        same = frequency_codes(self.sec, I, J) == frequency_codes(self.sec, Kk, L)
        jump = 0.0
        for c in self._couplings:
            # √γ·√γ, not √(γγ): the product of two rates e^{−400} would underflow and drop them
            jump = jump + np.sqrt(c.gamma[I, J]) * np.sqrt(c.gamma[Kk, L]) * c.St[I, J] * np.conj(c.St[Kk, L])
        dK, dI = Kk == L, I == J
        G = lambda a, b: self._entries(self.decay_diag, self.decay_dense, a, b)
        K = lambda a, b: self._entries(self.coherent_diag, self.coherent_dense, a, b)
        D = np.where(same, jump, 0.0) - 0.5 * (G(I, J) * dK + dI * G(L, Kk))
        M = D - 1j * (K(I, J) * dK - dI * K(L, Kk))
        return np.asarray(M, dtype=np.complex128), np.asarray(D, dtype=np.complex128)

    # -- 1-element sectors -----------------------------------------------------------------------
    def _clear_shared(self, A: np.ndarray) -> None:
        """Zero the entries of A that are not 1-element sectors (ν = 0 sector and blocks)."""
        sec = self.sec
        A[sec.zero_rows, sec.zero_cols] = 0
        for st in self.stacks:
            A[st.rows, st.cols] = 0

    def coherences(self) -> np.ndarray:
        """λ_ik = −i(K_ii − K_kk) − ½(G_ii + G_kk) + Σ_b γ_b(0) S̃_b,ii S̃_b,kk on the 1-element
        sectors (d, d complex; 0 elsewhere; cached, read-only)."""
        if self._coherence_cache is None:
            # λ_ik = z_i + z̄_k + Σ_b γ_b(0) s_b,i s_b,k with z = −½g − ik: a rank-(2 + n_b) product,
            # written by one complex GEMM (no d² temporaries)
            z = -0.5 * self.decay_diag - 1j * self.coherent_diag
            one = np.ones_like(z)
            U, Vt = [z, one], [one, z.conj()]
            for g0, s in self.dephasing:
                if g0 != 0 and np.any(s):
                    U.append(g0 * s + 0j)
                    Vt.append(s + 0j)
            lam = np.stack(U, axis=1) @ np.stack(Vt, axis=0)
            self._clear_shared(lam)
            lam.flags.writeable = False
            self._coherence_cache = lam
        return self._coherence_cache

    # -- actions and matrices ------------------------------------------------------------------
    def act(self, X: np.ndarray, adjoint: bool) -> np.ndarray:
        """𝓛 (or 𝓛†) on a (d, d) matrix given and returned in the eigenbasis."""
        lam = self.coherences()
        Y = (lam.conj() if adjoint else lam) * X
        sec = self.sec
        if self.pauli_matrix is not None:
            Y[np.diag_indices(sec.dim)] = (self.pauli_matrix.T if adjoint else self.pauli_matrix) @ np.diagonal(X)
        else:
            M = self.zero_block.conj().T if adjoint else self.zero_block
            Y[sec.zero_rows, sec.zero_cols] = M @ X[sec.zero_rows, sec.zero_cols]
        for st in self.stacks:
            M = st.matrices.conj().transpose(0, 2, 1) if adjoint else st.matrices
            Y[st.rows, st.cols] = np.einsum("bac,bc->ba", M, X[st.rows, st.cols])
        return Y

    def eigenframe_dense(self) -> np.ndarray:
        """Column-stacked d²×d² matrix in the eigenbasis (index i + d·k for |i⟩⟨k|)."""
        d = self.sec.dim
        Lt = np.zeros((d * d, d * d), dtype=np.complex128)
        ii, kk = np.nonzero(self.sec.single_mask)
        p = ii + d * kk
        Lt[p, p] = self.coherences()[ii, kk]
        if self.pauli_matrix is not None:
            p = np.arange(d) * (d + 1)
            Lt[np.ix_(p, p)] = self.pauli_matrix
        else:
            p = self.sec.zero_rows + d * self.sec.zero_cols
            Lt[np.ix_(p, p)] = self.zero_block
        for st in self.stacks:
            p = st.rows + d * st.cols
            Lt[p[:, :, None], p[:, None, :]] = st.matrices
        return Lt

    def coherent_matrix(self) -> np.ndarray:
        """K = nH + H_LS as a (d, d) complex matrix in the eigenbasis (a new array)."""
        if self.coherent_dense is None:
            return np.diag(self.coherent_diag).astype(np.complex128)
        return self.coherent_dense.copy()

    def pauli(self) -> np.ndarray:
        """The (d, d) Pauli rate matrix (a copy); InputError when the populations are coupled to
        coherences of degenerate levels."""
        if self.pauli_matrix is not None:
            return self.pauli_matrix.copy()
        if not self.populations_decoupled:
            raise InputError("degenerate levels couple the populations to coherences inside degenerate "
                             "eigenspaces, so the populations alone follow no Pauli rate equation; use "
                             "`bohr_blocks.population` (the full ν = 0 block) instead")
        return np.ascontiguousarray(self.zero_block[: self.sec.dim, : self.sec.dim].real)

    def blocks(self) -> BohrBlocks:
        sec = self.sec
        pop = self.pauli_matrix if self.pauli_matrix is not None else self.zero_block
        rows = np.arange(sec.dim) if self.pauli_matrix is not None else sec.zero_rows
        cols = np.arange(sec.dim) if self.pauli_matrix is not None else sec.zero_cols
        return BohrBlocks(population=pop, population_rows=rows, population_cols=cols,
                          populations_decoupled=self.populations_decoupled, coherences=self.coherences(),
                          coherence_mask=sec.single_mask, blocks=self.stacks, tol=sec.tol)


def _sum_level_operators(sec: Sectors, terms, weighted_rates):
    """Σ over couplings of :func:`level_diagonal_operator` for terms (F, S̃, |S̃|²); returns
    (diagonal (d,), block-diagonal (d, d) or None). ``weighted_rates`` = Σ F∘|S̃|² if already
    computed (its column sums are the diagonal), else None."""
    if not sec.degenerate and weighted_rates is not None:
        return weighted_rates.sum(axis=0), None
    diag, dense = 0.0, None
    for F, St, P in terms:
        dg, ds = level_diagonal_operator(sec, F, St, P)
        diag = diag + dg
        if ds is not None:
            dense = ds if dense is None else dense + ds
    return np.asarray(diag, dtype=float), dense
