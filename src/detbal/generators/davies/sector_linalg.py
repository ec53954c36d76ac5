"""A Davies generator assembled sector by sector, and linear algebra on its sectors (internal).

:class:`SectorForm` holds the generator in the eigenbasis (THEORY.md §7): the Pauli matrix or the
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

    Attributes (level-diagonal operators in the eigenbasis: a (d,) diagonal when the spectrum is
    non-degenerate, plus a dense (d, d) block-diagonal form on degenerate levels, else None):
        g, Gd: G = Σ_b Σ_ω γ_b(ω) A_b(ω)†A_b(ω), the total decay operator (diagonal, dense).
        ls, LSd: the Lamb-shift Hamiltonian H_LS (diagonal, dense).
        k, Kd: the coherent Hamiltonian K = nH + H_LS (diagonal, dense).
        W: the Pauli rate matrix (non-degenerate spectrum), else None.
        M0, D0: the ν = 0 sector of the generator and of its dissipative part (degenerate
            spectrum), else None.
    """

    def __init__(self, sec: Sectors, couplings, energies):
        self.sec = sec
        d = sec.dim
        config.check_memory(sector_form_bytes(sec), f"the Bohr-sector blocks of the Davies generator (d = {d})",
                            "fewer sites or a Hamiltonian without degenerate levels (e.g. small random "
                            "fields)")
        Q = couplings[0].gamma * couplings[0].St_abs2
        for c in couplings[1:]:
            Q += c.gamma * c.St_abs2
        self.g, self.Gd = _sum_level_operators(sec, [(c.gamma, c.St, c.St_abs2) for c in couplings], Q)
        lamb = [(c.lamb_table, c.St, c.St_abs2) for c in couplings if c.lamb_table is not None]
        if lamb:
            self.ls, self.LSd = _sum_level_operators(sec, lamb, None)
        else:
            self.ls, self.LSd = np.zeros(d), (np.zeros((d, d), complex) if sec.degenerate else None)
        E = np.zeros(d) if energies is None else np.asarray(energies, dtype=float)
        self.k = E + self.ls
        self.Kd = None if self.LSd is None else self.LSd + np.diag(E)
        self.dephasing = [(c.gamma0, np.real(np.diagonal(c.St)).copy()) for c in couplings]
        self._cp = couplings
        self._lam = None
        if not sec.degenerate:
            W = Q
            np.fill_diagonal(W, 0.0)
            W[np.diag_indices(d)] = -W.sum(axis=0)
            self.W, self.M0, self.D0, self.decoupled = W, None, None, True
        else:
            del Q
            M0, D0 = self.sector_matrices(sec.zero_rows[None, :], sec.zero_cols[None, :])
            self.M0, self.D0 = M0[0], D0[0]
            scale = max(float(np.max(np.abs(self.M0))), 1e-300)
            off = max(float(np.max(np.abs(self.M0[:d, d:]), initial=0.0)),
                      float(np.max(np.abs(self.M0[d:, :d]), initial=0.0)))
            self.decoupled = off <= 1e-12 * scale
            self.W = None
        self.stacks = tuple(BlockStack(r, c, nu, *self.sector_matrices(r, c)) for r, c, nu in sec.stacks)
        for a in [self.W, self.M0, self.D0] + [x for st in self.stacks for x in (st.matrices, st.dissipative)]:
            if a is not None:
                a.flags.writeable = False                # exposed through bohr_blocks: read-only

    # -- entries of the level-diagonal operators K and G ------------------------------------------
    def _entries(self, diag, dense, I, J):
        if dense is not None:
            return dense[I, J]
        return np.where(I == J, diag[I], 0.0)

    def sector_matrices(self, rows, cols):
        """(M, D): the generator and its dissipative part on stacked sectors (B, n, n)."""
        I, Kk = rows[:, :, None], cols[:, :, None]
        J, L = rows[:, None, :], cols[:, None, :]
        same = frequency_codes(self.sec, I, J) == frequency_codes(self.sec, Kk, L)
        jump = 0.0
        for c in self._cp:
            # √γ·√γ, not √(γγ): the product of two rates e^{−400} would underflow and drop them
            jump = jump + np.sqrt(c.gamma[I, J]) * np.sqrt(c.gamma[Kk, L]) * c.St[I, J] * np.conj(c.St[Kk, L])
        dK, dI = Kk == L, I == J
        G = lambda a, b: self._entries(self.g, self.Gd, a, b)
        K = lambda a, b: self._entries(self.k, self.Kd, a, b)
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
        if self._lam is None:
            # λ_ik = z_i + z̄_k + Σ_b γ_b(0) s_b,i s_b,k with z = −½g − ik: a rank-(2 + n_b) product,
            # written by one complex GEMM (no d² temporaries)
            z = -0.5 * self.g - 1j * self.k
            one = np.ones_like(z)
            U, Vt = [z, one], [one, z.conj()]
            for g0, s in self.dephasing:
                if g0 != 0 and np.any(s):
                    U.append(g0 * s + 0j)
                    Vt.append(s + 0j)
            lam = np.stack(U, axis=1) @ np.stack(Vt, axis=0)
            self._clear_shared(lam)
            lam.flags.writeable = False
            self._lam = lam
        return self._lam

    # -- actions and matrices ------------------------------------------------------------------
    def act(self, X: np.ndarray, adjoint: bool) -> np.ndarray:
        """𝓛 (or 𝓛†) on a (d, d) matrix given and returned in the eigenbasis."""
        lam = self.coherences()
        Y = (lam.conj() if adjoint else lam) * X
        sec = self.sec
        if self.W is not None:
            Y[np.diag_indices(sec.dim)] = (self.W.T if adjoint else self.W) @ np.diagonal(X)
        else:
            M = self.M0.conj().T if adjoint else self.M0
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
        if self.W is not None:
            p = np.arange(d) * (d + 1)
            Lt[np.ix_(p, p)] = self.W
        else:
            p = self.sec.zero_rows + d * self.sec.zero_cols
            Lt[np.ix_(p, p)] = self.M0
        for st in self.stacks:
            p = st.rows + d * st.cols
            Lt[p[:, :, None], p[:, None, :]] = st.matrices
        return Lt

    def K_dense(self) -> np.ndarray:
        return (np.diag(self.k).astype(np.complex128) if self.Kd is None else self.Kd.copy())

    def pauli(self) -> np.ndarray:
        if self.W is not None:
            return self.W.copy()
        if not self.decoupled:
            raise InputError("degenerate levels couple the populations to coherences inside degenerate "
                             "eigenspaces, so the populations alone follow no Pauli rate equation; use "
                             "`bohr_blocks.population` (the full ν = 0 block) instead")
        return np.ascontiguousarray(self.M0[: self.sec.dim, : self.sec.dim].real)

    def blocks(self) -> BohrBlocks:
        sec = self.sec
        pop = self.W if self.W is not None else self.M0
        rows = np.arange(sec.dim) if self.W is not None else sec.zero_rows
        cols = np.arange(sec.dim) if self.W is not None else sec.zero_cols
        return BohrBlocks(population=pop, population_rows=rows, population_cols=cols,
                          populations_decoupled=self.decoupled, coherences=self.coherences(),
                          coherence_mask=sec.single_mask, blocks=self.stacks, tol=sec.tol)


def _sum_level_operators(sec: Sectors, terms, Q):
    """Σ over couplings of :func:`level_diagonal_operator`; ``Q`` = Σ F∘P if already computed."""
    if not sec.degenerate and Q is not None:
        return Q.sum(axis=0), None
    diag, dense = 0.0, None
    for F, St, P in terms:
        dg, ds = level_diagonal_operator(sec, F, St, P)
        diag = diag + dg
        if ds is not None:
            dense = ds if dense is None else dense + ds
    return np.asarray(diag, dtype=float), dense
