"""The energy eigenbasis of a Hamiltonian: the single place where ``eigh(H)`` happens.

Conventions: H = Σ_i E_i |i⟩⟨i| with energies ascending; Bohr frequencies
ν_ij = E_i − E_j. Energies (and Bohr frequencies) closer than a tolerance are treated as equal.
The default tolerance is relative to the spectral width and never below the round-off of eigh:

    tol = max(1e-12 · (E_max − E_min), 1e3 · ε_machine · max|E|),

so adding a constant to H or rescaling it does not change which levels count as degenerate.
The Davies generator is the weak-coupling limit, in which any two distinct Bohr frequencies are
separated; the tolerance only absorbs the round-off of ``eigh`` (a few ε·‖H‖; exact degeneracies
of a chain at d = 4096 spread by < 1e-15 of the width). A looser one groups frequencies that differ:
at d = 16384 the gaps of a random-field chain lie ~10⁻⁸ of the width apart, and a tolerance of 1e-9
put half of the transitions of X₀ into such accidental groups.

With a conserved quantity Q = Σ_i q_i|i⟩⟨i| ([H, Q] = 0, checked) H is diagonalised sector by
sector (one ``eigh`` per set of equal q_i; a diagonal H is only sorted): the eigenvalues of all
sectors merged in one ascending order, the eigenvectors kept per sector (:class:`SectorBlocks`),
and every rotation V†XV done sector pair by sector pair.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.linalg.blas as blas
import scipy.sparse as sp
import scipy.sparse.linalg  # noqa: F401  (sp.linalg.norm)

from . import config
from ._checks import as_operator, as_real_symmetric
from .conserved import check_commutes, is_diagonal, sector_labels, sector_partition
from .errors import InputError

__all__ = ["Eigenbasis", "SectorBlocks", "default_tolerance", "eigenbasis", "eigenvector_error", "group_values",
           "log_scaled", "max_log_magnitude", "rotation_error", "sigma_exponent"]

_REL_TOL = 1e-12


def default_tolerance(energies: np.ndarray) -> float:
    """Default grouping tolerance for energies and Bohr frequencies (module docstring)."""
    e = np.asarray(energies, dtype=float)
    width = float(e.max() - e.min()) if e.size else 0.0
    scale = float(np.abs(e).max()) if e.size else 0.0
    return max(_REL_TOL * width, 1e3 * np.finfo(float).eps * scale, np.finfo(float).tiny)


def group_values(values: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Cluster real values: consecutive sorted values closer than ``tol`` share a group.

    Returns:
        (centers, labels): the mean value of each group (ascending) and, for every input value,
        the index of its group. Shapes (n_groups,) and values.shape.
    """
    v = np.asarray(values, dtype=float)
    flat = v.ravel()
    if flat.size == 0:
        return np.zeros(0), np.zeros(v.shape, dtype=np.intp)
    order = np.argsort(flat, kind="stable")
    s = flat[order]
    new_group = np.empty(s.size, dtype=bool)
    new_group[0] = True
    new_group[1:] = np.diff(s) > tol
    sorted_labels = np.cumsum(new_group) - 1
    labels = np.empty(flat.size, dtype=np.intp)
    labels[order] = sorted_labels
    counts = np.bincount(sorted_labels)
    centers = np.bincount(sorted_labels, weights=s) / counts
    return centers, labels.reshape(v.shape)


@dataclass(frozen=True, eq=False)
class SectorBlocks:
    """The block structure of an eigenbasis computed sector by sector (a conserved Q).

    Eigenvector e (energies ascending, e = 0 … d−1) lies in the sector ``sector_of[e]``; sectors
    of one basis state have the eigenvector |slot_states[e]⟩. The dense V is never stored:

        V[slot_states[slots], slots] = local        for every (slots, local) in ``blocks``,
        V[slot_states[e], e] = 1                    for the eigenvectors of 1-state sectors.

    Attributes:
        slot_states: (d,) int: a computational basis state of the eigenvector's sector, paired with
            each eigenvector slot (a bijection; within a sector in the sector's basis order).
        sector_of: (d,) int32: sector index of each eigenvector.
        sector_values: (n_s,) float: the conserved value q of each sector, ascending.
        blocks: tuple of (slots, local): the sectors with ≥ 2 states, slots (n,) the eigenvector
            indices (ascending) and local the (n, n) eigenvectors of H restricted to the sector
            (rows: the sector's basis states in the order ``slot_states[slots]``).
    """

    slot_states: np.ndarray
    sector_of: np.ndarray
    sector_values: np.ndarray
    blocks: tuple

    @functools.cached_property
    def inverse(self) -> np.ndarray:
        """(d,) inverse permutation of ``slot_states``."""
        inv = np.empty_like(self.slot_states)
        inv[self.slot_states] = np.arange(self.slot_states.shape[0], dtype=inv.dtype)
        return inv

    @property
    def is_real(self) -> bool:
        return all(np.isrealobj(v) for _, v in self.blocks)

    def nbytes(self) -> int:
        return int(sum(v.nbytes for _, v in self.blocks) + self.slot_states.nbytes + self.sector_of.nbytes)


class Eigenbasis:
    """Energies and eigenvectors of a Hermitian H, with degeneracy information.

    Attributes:
        energies: (d,) float ndarray, ascending.
        vectors: (d, d) ndarray V with H = V diag(E) V†; column i is |i⟩. For an eigenbasis computed
            sector by sector (``sectors`` not None) it is assembled on first access (memory-budget
            checked); the operations below never need it.
        tol: tolerance used to group energies and Bohr frequencies.
        level_labels: (d,) ints: index of the degenerate level each eigenvector belongs to.
        levels: (n_levels,) distinct energies (group means).
        sectors: :class:`SectorBlocks` when H was diagonalised block by block (a conserved
            quantity, or a diagonal H), else None.
    """

    def __init__(self, energies: np.ndarray, vectors: np.ndarray | None = None, tol: float = 0.0,
                 level_labels: np.ndarray | None = None, levels: np.ndarray | None = None,
                 sectors: SectorBlocks | None = None):
        if vectors is None and sectors is None:
            raise InputError("an Eigenbasis needs `vectors` or `sectors`")
        self.energies = energies
        self._vectors = vectors
        self.tol = tol
        self.level_labels = level_labels
        self.levels = levels
        self.sectors = sectors

    def __repr__(self) -> str:
        kind = "dense" if self.sectors is None else f"{self.sectors.sector_values.shape[0]} sectors"
        return f"Eigenbasis(dim={self.dim}, levels={self.levels.shape[0]}, tol={self.tol:.3g}, {kind})"

    @property
    def vectors(self) -> np.ndarray:
        if self._vectors is None:
            sec, d = self.sectors, self.dim
            itemsize = 8 if sec.is_real else 16
            config.check_memory(float(itemsize) * d * d, f"the dense eigenvectors V (d = {d})",
                                "the sector-by-sector operations of the Eigenbasis")
            V = np.zeros((d, d), dtype=np.float64 if sec.is_real else np.complex128)
            V[sec.slot_states, np.arange(d)] = 1.0
            for slots, local in sec.blocks:
                V[np.ix_(sec.slot_states[slots], slots)] = local
            self._vectors = V
        return self._vectors

    @property
    def dim(self) -> int:
        return int(self.energies.shape[0])

    @property
    def degeneracies(self) -> np.ndarray:
        """(n_levels,) multiplicity of each distinct energy."""
        return np.bincount(self.level_labels)

    @property
    def is_degenerate(self) -> bool:
        return self.levels.shape[0] < self.dim

    @property
    def is_real(self) -> bool:
        """The eigenvectors are real (H real symmetric)."""
        return self.sectors.is_real if self._vectors is None else bool(np.isrealobj(self._vectors))

    def to_eigen(self, X: np.ndarray) -> np.ndarray:
        """Matrix elements in the eigenbasis: V† X V.  (d, d) dense or sparse → (d, d).

        With real V (real H) a complex X is rotated as its real and imaginary parts (real
        products, the imaginary one skipped when zero): a quarter of the complex cost. Sector by
        sector (``sectors``): a sparse X block pair by block pair (``rotate_block_pairs``: only the
        sector pairs X connects, e.g. neighbouring magnetisation sectors for a spin flip), a dense X
        by a permutation and one product per sector on its rows and columns, O(d·Σ_s n_s²) instead
        of O(d³).
        """
        if self.sectors is None:
            return _sandwich(X, self.vectors)
        if sp.issparse(X):
            return self._assemble(self.rotate_block_pairs(X), X.dtype)
        if self.sectors.is_real and np.iscomplexobj(X):
            out = self.to_eigen(X.real)
            if np.count_nonzero(X.imag):
                out = out + 1j * self.to_eigen(X.imag)
            return out
        sec = self.sectors
        st = sec.slot_states
        Y = np.asarray(X)[np.ix_(st, st)]
        Y = Y.astype(np.result_type(Y, np.float64 if sec.is_real else np.complex128), copy=False)
        for slots, local in sec.blocks:
            Y[slots, :] = local.conj().T @ Y[slots, :]
            Y[:, slots] = Y[:, slots] @ local
        return Y

    def _assemble(self, blocks: dict, dtype) -> np.ndarray:
        """The (d, d) matrix whose nonzero sector blocks are ``blocks`` (``rotate_block_pairs``)."""
        d = self.dim
        out = np.zeros((d, d), dtype=np.result_type(dtype, np.float64 if self.sectors.is_real else np.complex128))
        for rows, cols, blk in blocks.values():
            out[np.ix_(rows, cols)] = blk
        return out

    def vector_error(self, log_p: np.ndarray) -> float:
        """ω of :func:`eigenvector_error` for σ = V diag(e^{log_p}) V† in this basis: 0 when V is exact
        (a diagonal H: a permutation), else from the energies of each ``eigh`` (per sector)."""
        if self.sectors is not None:
            blocks = [slots for slots, _ in self.sectors.blocks]
            return eigenvector_error(self.energies, log_p, blocks) if blocks else 0.0
        if is_signed_permutation(self.vectors):
            return 0.0
        return eigenvector_error(self.energies, log_p)

    def to_eigen_cleaned(self, A) -> np.ndarray:
        """V†AV with the rotation's round-off (entries ≤ d·ε·‖A‖_F) set to zero, as
        :func:`rotate_cleaned`; exact (nothing cleared) when V is a permutation (diagonal H)."""
        if self.sectors is None:
            return rotate_cleaned(A, self.vectors)
        out = self.to_eigen(A)
        if self.sectors.blocks:
            norm = float(sp.linalg.norm(A)) if sp.issparse(A) else float(np.linalg.norm(A))
            out[np.abs(out) <= out.shape[0] * np.finfo(float).eps * norm] = 0.0
        return out

    def rotate_block_pairs(self, X, upper: bool = False) -> dict:
        """The nonzero sector blocks of V†XV, computed block pair by block pair (no d×d array).

        Block (a, b) is V_a† X_ab V_b with X_ab the sparse rows of sector a and columns of sector b
        of X: the product is contracted over the rows of X_ab that hold an entry only (X_ab V_b,
        sparse times dense, then V_a†[:, r] (X_ab V_b)[r]), so a coupling that flips one spin costs
        n_a·n_b·m flops (m ≈ n_a/2 occupied rows) instead of n_a·n_b·(n_a + n_b) for two dense products.

        Args:
            X: (d, d) operator (sparse or dense) in the computational basis.
            upper: only the pairs (a, b) with a ≤ b (for a Hermitian X the block (b, a) is the
                conjugate transpose of (a, b)); a pair (b, a) whose mirror (a, b) has no entry is kept.
        Returns:
            dict {(a, b): (rows, cols, block)}: rows/cols the eigenvector indices of sectors a and b
            and block = ``(V†XV)[rows][:, cols]`` as a dense (n_a, n_b) array, for every pair of sectors
            that X connects (a dense eigenbasis: the single pair (0, 0) with all indices).
        """
        d = self.dim
        if self.sectors is None:
            idx = np.arange(d)
            return {(0, 0): (idx, idx, self.to_eigen(X))}
        sec = self.sectors
        # one sparse copy of X, in the format the block loop slices (rows, then columns)
        X = sp.csr_array(X) if sp.issparse(X) else sp.csr_array(np.asarray(X))
        keep = X.data != 0
        inv = sec.inverse
        r_slot = inv[np.repeat(np.arange(d, dtype=X.indices.dtype), np.diff(X.indptr))[keep]]  # entries' rows
        c_slot = inv[X.indices[keep]]
        a, b = sec.sector_of[r_slot], sec.sector_of[c_slot]
        n_s = sec.sector_values.shape[0]
        pairs = {divmod(int(p), n_s) for p in np.unique(a.astype(np.int64) * n_s + b)}
        if upper:
            pairs = {(ia, ib) for ia, ib in pairs if ia <= ib or (ib, ia) not in pairs}
        local = {int(sec.sector_of[slots[0]]): v for slots, v in sec.blocks}
        members = _sector_members(sec.sector_of, n_s)
        # the blocks are dense (n_a, n_b) arrays: checked, with the eigenvectors held, before the first
        sizes = [float(members[ia].shape[0]) * float(members[ib].shape[0]) for ia, ib in pairs]
        item = np.dtype(np.result_type(X.dtype, *(v.dtype for v in local.values()))).itemsize
        config.check_memory(float(sec.nbytes()) + item * (sum(sizes) + 2.0 * max(sizes, default=0.0)),
                            f"the {len(pairs)} rotated sector blocks of a coupling (d = {d}), with the eigenvectors,",
                            config.FEWER_SITES)
        out = {}
        for ia, ib in sorted(pairs):
            rows, cols = members[ia], members[ib]
            Xab = X[sec.slot_states[rows]][:, sec.slot_states[cols]]
            r = np.flatnonzero(np.diff(Xab.indptr))          # the rows of sector a that X_ab reaches
            Y = Xab[r] @ local[ib] if ib in local else Xab[r].toarray()
            if ia in local:
                blk = local[ia][r].conj().T @ Y
            else:
                blk = np.zeros((rows.shape[0], cols.shape[0]), dtype=Y.dtype)
                blk[r] = Y
            out[(ia, ib)] = (rows, cols, blk)
        return out

    @functools.cached_property
    def _adjoint_rows(self) -> np.ndarray:
        """V† as a C-contiguous array (row r is ⟨r| in the original basis), computed once."""
        return np.ascontiguousarray(self.vectors.conj().T)

    def entries(self, XV_Ts, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Selected matrix elements (V†X_kV)[rows, cols] of several operators, from XV_Ts[k] =
        (X_k V)ᵀ (C-contiguous), without full rotations. Returns (K, m).

        When the m pairs fill a product set R × C (|R|·|C| ≤ 4m, e.g. the coherences of a state
        in one symmetry sector) one small product V†[R]·(X_kV)[:, C]; otherwise rows of V† and
        (X_kV)ᵀ are gathered and contracted (O(m·d), in chunks of ≤ 2²² numbers).
        """
        rows, cols = np.asarray(rows).reshape(-1), np.asarray(cols).reshape(-1)
        Vh = self._adjoint_rows
        d, m = Vh.shape[0], rows.shape[0]
        dtype = np.result_type(Vh, *XV_Ts) if XV_Ts else Vh.dtype
        out = np.empty((len(XV_Ts), m), dtype=dtype)
        if m == 0 or not XV_Ts:
            return out
        R, r_at = np.unique(rows, return_inverse=True)
        C, c_at = np.unique(cols, return_inverse=True)
        if R.size * C.size <= 4 * m:
            left = Vh[R]
            for k, XV_T in enumerate(XV_Ts):
                out[k] = (left @ XV_T[C].T)[r_at, c_at]
            return out
        step = max(1, (1 << 22) // d)
        for a in range(0, m, step):
            left = Vh[rows[a:a + step]]
            for k, XV_T in enumerate(XV_Ts):
                out[k, a:a + step] = np.einsum("ia,ia->i", left, XV_T[cols[a:a + step]])
        return out

    def from_populations(self, p: np.ndarray) -> np.ndarray:
        """V diag(p) V† for p ≥ 0 (a state diagonal in the eigenbasis), exactly Hermitian.

        Real V with d ≥ 512: one symmetric rank-k update (BLAS syrk) of V·diag(√p), half the
        flops of a general product (measured, one thread: 0.25 s vs 0.34 s at d = 2048; at
        d = 256 the GEMM is faster). Sector by sector: block diagonal, one product per sector.
        """
        p = np.asarray(p, dtype=float)
        config.check_memory((8.0 if self.is_real else 16.0) * self.dim ** 2,
                            f"the dense state V diag(p) V† (d = {self.dim})", "the populations in the eigenbasis")
        if self.sectors is not None:
            sec = self.sectors
            out = np.zeros((self.dim, self.dim), dtype=np.float64 if sec.is_real else np.complex128)
            out[sec.slot_states, sec.slot_states] = p
            for slots, local in sec.blocks:
                st = sec.slot_states[slots]
                out[np.ix_(st, st)] = (local * p[slots]) @ local.conj().T
            return out
        V = self.vectors
        keep = p > 0
        if not np.all(keep):
            V, p = V[:, keep], p[keep]
        if not np.isrealobj(V) or V.shape[0] < SYRK_MIN_DIM:
            return (V * p) @ V.conj().T
        A = V * np.sqrt(p)
        # the C-ordered A is the F-ordered Aᵀ: syrk(trans=1) gives (Aᵀ)ᵀAᵀ = A Aᵀ
        return _symmetric_from_upper(blas.dsyrk(1.0, A.T, trans=1, lower=0))

    def from_eigen(self, Y: np.ndarray) -> np.ndarray:
        """Back to the computational basis: V Y V†."""
        if self.sectors is None:
            V = self.vectors
            return V @ Y @ V.conj().T
        sec = self.sectors
        Z = np.array(Y, dtype=np.result_type(Y, np.float64 if sec.is_real else np.complex128))
        for slots, local in sec.blocks:
            Z[slots, :] = local @ Z[slots, :]
            Z[:, slots] = Z[:, slots] @ local.conj().T
        inv = sec.inverse
        return Z[np.ix_(inv, inv)]

    def bohr_frequencies(self, tol: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Grouped Bohr frequencies ν_ij = E_i − E_j.

        Returns:
            (nu, labels): the distinct frequencies ascending (shape (n_ν,)) and a (d, d) integer
            array with labels[i, j] = index of the group of E_i − E_j. The group containing 0 is
            the population sector (it also holds coherences inside degenerate levels).
        """
        t = self.tol if tol is None else float(tol)
        # Round-off in E_i − E_j is about twice that of the energies, so group on the level
        # means: exactly degenerate levels then give exactly equal differences.
        e = self.levels[self.level_labels]
        diffs = e[:, None] - e[None, :]
        return group_values(diffs, t)

    def operator(self) -> np.ndarray:
        """The Hamiltonian rebuilt from the decomposition, V diag(E) V†."""
        if self.sectors is not None:
            return self.from_eigen(np.diag(self.energies))
        return (self.vectors * self.energies) @ self.vectors.conj().T

    def same_as(self, other: Eigenbasis) -> bool:
        """Identical factorisations (energies, tolerance and eigenvectors, compared exactly)."""
        if self is other:
            return True
        if self.dim != other.dim or self.tol != other.tol or not np.array_equal(self.energies, other.energies):
            return False
        a, b = self.sectors, other.sectors
        if a is None or b is None:
            return a is None and b is None and np.array_equal(self.vectors, other.vectors)
        return (np.array_equal(a.slot_states, b.slot_states) and len(a.blocks) == len(b.blocks)
                and all(np.array_equal(s1, s2) and np.array_equal(v1, v2)
                        for (s1, v1), (s2, v2) in zip(a.blocks, b.blocks)))


def _sector_members(sector_of: np.ndarray, n_s: int) -> list:
    """Eigenvector indices of each sector (ascending), as a list of n_s arrays."""
    order = np.argsort(sector_of, kind="stable")
    counts = np.bincount(sector_of, minlength=n_s)
    return np.split(order, np.cumsum(counts)[:-1])


#: from this dimension on, V diag(p) Vᵀ uses BLAS syrk instead of a general product
SYRK_MIN_DIM = 512


def _symmetric_from_upper(upper: np.ndarray) -> np.ndarray:
    """Full symmetric matrix from a BLAS syrk result (upper triangle set, strict lower zero)."""
    full = upper.T + upper  # C-ordered (upper.T of the F-ordered result is C-contiguous)
    full[np.diag_indices_from(full)] *= 0.5
    return full


def is_signed_permutation(V: np.ndarray) -> bool:
    """True when every column of V has a single nonzero entry of modulus 1 (then V†XV only
    permutes and rephases the entries of X: no round-off)."""
    nz = V[V != 0]
    return nz.size == V.shape[0] and bool(np.all(np.abs(nz) == 1))


def _sandwich(X, V: np.ndarray) -> np.ndarray:
    """V† X V for dense or sparse X; real V with complex X: real and imaginary parts separately."""
    if np.isrealobj(V) and np.iscomplexobj(X):
        out = _sandwich(X.real, V)
        imag = X.imag
        if imag.count_nonzero() if sp.issparse(imag) else np.count_nonzero(imag):
            out = out + 1j * _sandwich(imag, V)
        return out
    if sp.issparse(X):
        return V.conj().T @ np.asarray(X @ V)  # sparse first product: O(nnz·d)
    return V.conj().T @ np.asarray(X) @ V


_ERROR_COLUMNS = 512


def eigenvector_error(values: np.ndarray, log_p: np.ndarray, blocks=None) -> float:
    """ω: a bound on the harmful error of eigenvectors V computed by ``eigh`` (from ``values``, the
    eigenvalues of the matrix diagonalised: H's energies, or σ's populations), per column of V.

    A backward-stable ``eigh`` returns the exact eigenvectors of a matrix perturbed by δ, |δ| ≤ d·ε·max|v|,
    so V = V_exact(I + Ω) with Ω_cb ≈ δ_cb/(v_b − v_c) (first order). Mixing two eigenvectors with equal
    populations is harmless (σ is the same in any basis of the pair) and, for close populations, the part
    of a rotated operator that σ-scalings can turn into a violation is Ω_cb·sinh(|log p_c − log p_b|/2), so

        ω_cb = min(1, d·ε·max|v| / |v_c − v_b|) · min(1, |log p_c − log p_b|/2),   ω = max_b (Σ_c ω_cb²)^{1/2},

    (a rotated operator V†AV then has per-entry error ≤ ‖A‖_F·(d·ε + 2ω), :func:`rotation_error`). Only pairs
    diagonalised together count: ``blocks`` lists the index arrays of separate ``eigh`` calls (sectors);
    None means one ``eigh`` of the whole matrix. Returns a float in [0, √d]; 0 for d ≤ 1."""
    v = np.asarray(values, dtype=float)
    lp = np.asarray(log_p, dtype=float)
    d = v.shape[0]
    if d <= 1:
        return 0.0
    delta = d * np.finfo(float).eps * float(np.max(np.abs(v)))
    worst = 0.0
    for idx in ([np.arange(d)] if blocks is None else blocks):
        vb, lb = v[idx], lp[idx]
        for start in range(0, vb.shape[0], _ERROR_COLUMNS):  # columns in chunks: O(n·chunk) memory
            cols = slice(start, start + _ERROR_COLUMNS)
            gap = np.abs(vb[:, None] - vb[None, cols])
            with np.errstate(divide="ignore", invalid="ignore"):
                mix = np.minimum(1.0, delta / gap)  # gap 0 (exactly equal values): 1, harm decides
            harm = np.minimum(1.0, np.abs(lb[:, None] - lb[None, cols]) / 2)
            harm[np.isnan(harm)] = 1.0  # −inf − (−inf): a zero population on both sides
            col = np.sqrt(np.sum((mix * harm) ** 2, axis=0))
            worst = max(worst, float(col.max(initial=0.0)))
    return worst


def rotation_error(norm: float, d: int, vector_error: float = 0.0) -> float:
    """Per-entry error bound of V†AV for ‖A‖_F = ``norm``: ‖A‖_F·(d·ε + 2ω), the rotation's round-off
    (d-term sums) plus the eigenvector error ω of :func:`eigenvector_error` entering through
    V†AV ≈ (I − Ω)A_exact(I + Ω): |[A, Ω]_ab| ≤ 2‖A‖_F·ω."""
    return norm * (d * np.finfo(float).eps + 2.0 * vector_error)


def rotate_cleaned(A, V: np.ndarray, vector_error: float = 0.0) -> np.ndarray:
    """V† A V (A dense or sparse) with the entries within the rotation's error bound
    (:func:`rotation_error`: ‖A‖_F·(d·ε + 2ω), ω = ``vector_error`` the eigenvector error of V, 0 if
    V is taken as exact) set to zero — unless V is a signed permutation, whose rotation is exact.

    Those entries are not resolved by a floating-point rotation with this V; left in place they would be
    amplified by σ-scalings (e^{βΔE/2}) or kept as spurious coherences. Entries above the bound keep
    an error ≤ the bound, relative to themselves.
    """
    out = _sandwich(A, V)  # a fresh array
    if not is_signed_permutation(V):
        norm = float(sp.linalg.norm(A)) if sp.issparse(A) else float(np.linalg.norm(A))
        out[np.abs(out) <= rotation_error(norm, out.shape[0], vector_error)] = 0.0
    return out


def eigenbasis(H, tol: float | None = None, name: str = "H", conserved=None) -> Eigenbasis:
    """Diagonalise a Hermitian Hamiltonian once (dense ``eigh``, or sector by sector).

    Args:
        H: (d, d) Hermitian operator (ndarray, sparse, Qobj) or an existing :class:`Eigenbasis`
            (returned unchanged unless ``tol`` differs) — lets sweeps reuse a factorisation.
        tol: grouping tolerance for degenerate energies; default :func:`default_tolerance`.
        conserved: a conserved quantity Q, Hermitian and diagonal in the computational basis
            ((d, d) operator, or its d diagonal entries as sector labels). [H, Q] = 0 is checked
            (InputError otherwise) and H is diagonalised block by block: one ``eigh`` per sector
            of equal q, Σ_s n_s³ instead of d³, no d×d eigenvector matrix stored. A diagonal H
            needs no Q: it is detected and sorted (every basis state its own sector, no ``eigh``).

    Returns:
        Eigenbasis with energies ascending (``sectors`` set for a block-diagonalised H).

    Example:
        >>> import numpy as np
        >>> eb = eigenbasis(np.diag([1.0, 0.0, 1.0]))
        >>> eb.energies.tolist(), eb.degeneracies.tolist()
        ([0.0, 1.0, 1.0], [1, 2])
    """
    if isinstance(H, Eigenbasis):
        if conserved is not None and H.sectors is None:
            raise InputError("`conserved` cannot be applied to an existing dense Eigenbasis; pass the "
                             "Hamiltonian instead")
        if tol is None or float(tol) == H.tol:
            return H
        return _make(H.energies, H._vectors, float(tol), H.sectors)
    if tol is not None:
        tol = float(tol)
        if not np.isfinite(tol) or tol < 0:
            raise InputError(f"`tol` must be a finite number ≥ 0, got {tol}")
    if isinstance(H, np.ndarray) and H.dtype.kind in "fiu" and H.ndim == 2 and H.shape[0] == H.shape[1] > 0:
        h = as_real_symmetric(np.asarray(H, dtype=np.float64), name)  # checked without a complex copy
    else:
        h = as_operator(H, name, hermitian=True, sparse_ok=True)
        data = h.data if sp.issparse(h) else h
        if not np.any(data.imag):  # real symmetric H: the real eigh is about 4× cheaper
            h = h.real if sp.issparse(h) else np.ascontiguousarray(h.real)
        if sp.issparse(h) and conserved is None and not is_diagonal(h):
            h = h.toarray()
    if conserved is not None:
        return diagonalise_sectors(h, sector_labels(conserved, h.shape[0]), tol, name)
    if is_diagonal(h):
        return diagonalise_sectors(h, None, tol, name)
    return diagonalise(h, tol)


def diagonalise(h: np.ndarray, tol: float | None = None) -> Eigenbasis:
    """The Eigenbasis of an already validated, exactly Hermitian dense h (real or complex): one
    divide-and-conquer ``eigh`` (LAPACK syevd/heevd), or a sort when h is diagonal. ``tol`` as in
    :func:`eigenbasis`."""
    if is_diagonal(h):
        return diagonalise_sectors(h, None, tol)
    energies, vectors = sla.eigh(h, driver="evd", check_finite=False)
    return _make(energies, vectors, default_tolerance(energies) if tol is None else float(tol))


def diagonalise_sectors(h, labels: np.ndarray | None, tol: float | None = None, name: str = "H") -> Eigenbasis:
    """Block-by-block Eigenbasis of a validated Hermitian h (dense or sparse) that conserves the
    labels q_i of the computational basis states (``labels`` None: h is diagonal, each basis
    state its own sector, and nothing is diagonalised).

    [H, Q] = 0 is checked first (InputError naming ``conserved``); then one ``eigh`` per sector of
    ≥ 2 states, energies merged into one ascending order (a stable sort: ties keep the sector
    order). Memory: Σ_s n_s² eigenvector entries (checked against the budget) instead of d².
    """
    d = h.shape[0]
    diag = np.real(h.diagonal() if sp.issparse(h) else np.diagonal(h)).astype(float)
    if labels is None:
        order = np.argsort(diag, kind="stable")
        energies = diag[order]
        # sector e is the basis state order[e] alone; its "conserved value" is its energy
        sec = SectorBlocks(slot_states=order.astype(np.int32 if d < 2 ** 31 else np.int64),
                           sector_of=np.arange(d, dtype=np.int32), sector_values=energies, blocks=())
        return _make(energies, None, default_tolerance(energies) if tol is None else float(tol), sec)
    sector, values, counts = sector_partition(labels)
    check_commutes(h, sector, labels, "conserved", name)
    itemsize = 8 if (np.isrealobj(h.data) if sp.issparse(h) else np.isrealobj(h)) else 16
    big = counts[counts > 1].astype(float)
    config.check_memory(itemsize * (float(np.sum(big ** 2)) + 3 * float(np.max(big, initial=0.0)) ** 2) + 40.0 * d,
                        f"the sector-by-sector eigenvectors (d = {d}, largest sector {int(np.max(counts))})",
                        "fewer sites")
    members = np.argsort(sector, kind="stable")                # basis states, sector by sector
    start = np.concatenate([[0], np.cumsum(counts)])
    hs = sp.csr_array(h) if sp.issparse(h) else h
    energies_s = np.empty(d)
    local = []
    for a in range(values.shape[0]):
        st = members[start[a]:start[a + 1]]
        if st.shape[0] == 1:
            energies_s[start[a]] = diag[st[0]]
            continue
        blk = hs[st][:, st]
        blk = blk.toarray() if sp.issparse(blk) else np.array(blk)
        blk = (blk + blk.conj().T) / 2
        e, v = sla.eigh(blk, driver="evd", overwrite_a=True, check_finite=False)
        energies_s[start[a]:start[a + 1]] = e
        local.append((a, v))
    order = np.argsort(energies_s, kind="stable")              # slot e ← sector-ordered eigenvector order[e]
    position = np.empty(d, dtype=np.int64)
    position[order] = np.arange(d)
    sector_sorted = np.repeat(np.arange(values.shape[0], dtype=np.int32), counts)
    itype = np.int32 if d < 2 ** 31 else np.int64
    blocks = tuple((position[start[a]:start[a + 1]], v) for a, v in local)
    sec = SectorBlocks(slot_states=members[order].astype(itype), sector_of=sector_sorted[order],
                       sector_values=values, blocks=blocks)
    energies = energies_s[order]
    return _make(energies, None, default_tolerance(energies) if tol is None else float(tol), sec)


def _make(energies: np.ndarray, vectors: np.ndarray | None, tol: float, sectors: SectorBlocks | None = None
          ) -> Eigenbasis:
    levels, labels = group_values(energies, tol)
    return Eigenbasis(energies=energies, vectors=vectors, tol=tol, level_labels=labels, levels=levels,
                      sectors=sectors)


# -- σ-scaling in σ's eigenbasis, in the log domain ---------------------------------------------------
# The σ-transform 𝓛̂ = Γ_s^{−1/2} 𝓛 Γ_s^{1/2} multiplies the entry (ij),(kl) of a
# generator written in σ's eigenbasis by e^{x}, x = sigma_exponent(...), which can be e^{±10⁴}. These
# two primitives live here, below both generators/ (Davies' structured certificate) and balance/
# (every other certificate), so that there is exactly one way to evaluate that scaling.
_EXP_SAFE = 700.0  # |exponent| below which exp() and a product with a float can neither over- nor underflow badly


def sigma_exponent(log_p: np.ndarray, s: float, i, j, k, l) -> np.ndarray:
    """x = [s(log p_k − log p_i) + (1 − s)(log p_l − log p_j)]/2: 𝓛̂_{(ij),(kl)} = 𝓛_{(ij),(kl)}·e^x.

    ``i, j, k, l`` are broadcastable index arrays into the (d,) log-populations ``log_p``. One exponent
    per entry (only population ratios, i.e. energy differences, appear; σ⁻¹ is never formed)."""
    return (s * (log_p[k] - log_p[i]) + (1 - s) * (log_p[l] - log_p[j])) / 2


def max_log_magnitude(M: np.ndarray, exponent) -> float:
    """max over the nonzero entries of log|M| + exponent (−inf when M is zero)."""
    return float(np.max(_log_magnitudes(np.asarray(M), exponent), initial=-np.inf))


def _log_magnitudes(M: np.ndarray, exponent) -> np.ndarray:
    """log|M| + exponent entrywise, −inf where M = 0 (one fresh float array, computed in place)."""
    t = np.abs(M).astype(float, copy=False)
    with np.errstate(divide="ignore"):
        np.log(t, out=t)
    np.add(t, exponent, out=t)  # ``exponent`` broadcasts to M's shape
    return t


def log_scaled(M: np.ndarray, exponent, shift: float | None = None) -> tuple[np.ndarray, float]:
    """(M ∘ e^{exponent − C}, C) evaluated without clipping, over- or underflow of the factors.

    C = max over the nonzero entries of log|M| + exponent (the largest log-magnitude of M ∘ e^exponent)
    unless ``shift`` is given; C = −inf when M is zero. Each entry is e^{log|M| + x − C} times the
    phase of M, so an entry underflows only when it is below e^{−745} relative to e^{C}: quantities
    that are relative (ratios of norms) are exact at any exponent, and e^{C} carries the scale.
    When all exponents are within ±700 of C the product M·e^{x − C} is formed directly (same
    numbers up to rounding).
    """
    M = np.asarray(M)
    x = np.asarray(exponent, dtype=float)
    t = None
    if shift is None:
        t = _log_magnitudes(M, x)
        shift = float(np.max(t, initial=-np.inf))
    dtype = np.result_type(M.dtype, float)
    if shift == -np.inf:
        return np.zeros(M.shape, dtype=dtype), -np.inf
    xmax, xmin = float(np.max(x)), float(np.min(x))
    if xmax - shift <= _EXP_SAFE and xmin - shift >= -_EXP_SAFE and np.all(np.isfinite(M)):
        return M * np.exp(x - shift), shift
    if t is None:
        t = _log_magnitudes(M, x)
    t = t - shift
    with np.errstate(under="ignore", invalid="ignore"):
        mag = np.exp(t)
        absm = np.abs(M)
        phase = np.where(M != 0, M / np.where(M != 0, absm, 1.0), 0.0)
    return (mag * phase).astype(dtype, copy=False), shift
