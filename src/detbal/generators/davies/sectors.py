"""Bohr-sector bookkeeping for Davies-type generators. Internal module.

A Davies generator commutes with the modular group, so in the energy eigenbasis it maps each
**Bohr sector** 𝓑_ν = span{|i⟩⟨k| : E_i − E_k = ν} into itself. This module partitions the d²
matrix units into sectors without ever looping in Python over d² elements:

* Energies are grouped into levels (``Eigenbasis.level_labels``, tolerance ``tol``), and the
  Bohr frequencies of distinct levels a < b, gap_ab = L_b − L_a > 0, are sorted once
  (O(n_L² log n_L)) and chained into groups exactly like :meth:`Eigenbasis.bohr_frequencies`:
  consecutive sorted gaps closer than ``tol`` share a group.
* ν = 0 is the population sector (plus coherences inside degenerate levels).
* A group made of a single level pair of two non-degenerate levels gives two 1-element sectors
  (|i⟩⟨k| and |k⟩⟨i|); their generator is a scalar λ_ik (kept in a d×d array).
* Every other group (several level pairs with coinciding gaps — equally spaced ladders, or
  accidental coincidences closer than ``tol`` in large random spectra — or a degenerate level
  involved) is a dense block; blocks of equal size n are stacked in arrays of shape (B, n, n) so
  that building, applying and diagonalising them is vectorised over B.

Rates are evaluated once per pair of distinct levels (the distinct Bohr frequencies up to the
grouping), never per pair of eigenvectors.
"""

from __future__ import annotations

import functools

import math
from dataclasses import dataclass

import numpy as np

from ...errors import InputError

__all__ = [
    "BlockStack",
    "BohrBlocks",
    "Sectors",
    "frequency_codes",
    "lamb_matrix",
    "level_diagonal_operator",
    "rate_matrix",
    "rotate_superoperator",
    "sectors",
    "symmetric_rate_matrix",
]


def _row_offsets(n: int) -> np.ndarray:
    """Start of row a of the row-major strict upper triangle of an n×n matrix, a = 0 … n−1."""
    a = np.arange(n, dtype=np.int64)
    return a * n - a * (a + 1) // 2


def _pairs_of(index: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Level pairs (a, b), a < b, of flat row-major upper-triangle positions."""
    off = _row_offsets(n)
    a = np.searchsorted(off, index, side="right") - 1
    return a, index - off[a] + a + 1


#: below this many levels, upper-triangle gathers/scatters use index arrays (cheaper for small n);
#: above, one contiguous slice per row (no 2 × 8-byte index arrays of n²/2 entries)
_INDEX_MAX_LEVELS = 1024


@functools.lru_cache(maxsize=4)
def _upper_mask(n: int) -> np.ndarray:
    """Read-only (n, n) boolean mask of the strict upper triangle (its True entries in row-major
    order are the row-major upper-triangle ordering)."""
    mask = np.triu(np.ones((n, n), dtype=bool), 1)
    mask.flags.writeable = False
    return mask


def _upper_triangle(L: np.ndarray) -> np.ndarray:
    """(L_b − L_a for a < b), row-major."""
    n = L.shape[0]
    if n <= _INDEX_MAX_LEVELS:
        return np.subtract.outer(L, L).T[_upper_mask(n)]
    out = np.empty(n * (n - 1) // 2)
    off = _row_offsets(n)
    for a in range(n - 1):
        np.subtract(L[a + 1:], L[a], out=out[off[a]:off[a] + n - 1 - a])
    return out


def level_pair_index(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Position of the level pair (a, b), a < b, in the row-major upper-triangle ordering."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    return a * n - a * (a + 1) // 2 + (b - a - 1)


@dataclass(frozen=True, eq=False)
class Sectors:
    """Partition of the matrix units |i⟩⟨k| of the energy eigenbasis into Bohr sectors.

    Attributes:
        energies: (d,) exact eigenvalues E_i (ascending).
        level_energies: (d,) level mean of each eigenvector, e_i (exactly equal inside a level).
        level_labels: (d,) level index of each eigenvector; levels: (n_L,) distinct energies.
        level_start: (n_L,) first eigenvector index of each level (levels are contiguous).
        degenerate: some level has multiplicity > 1.
        tol: grouping tolerance (energies and Bohr frequencies).
        gaps: (T,) L_b − L_a > 0 for the level pairs a < b in row-major order (T = n_L(n_L−1)/2):
            the positive Bohr frequencies of distinct levels.
        pair_group: (T,) index of the frequency group of each level pair (groups ascending), or
            None when every level pair is its own group (then the group of pair p is p).
        group_centers: (n_groups,) mean gap of each group (``gaps`` when pair_group is None).
        single_mask: (d, d) bool, True where |i⟩⟨k| is alone in its sector (i ≠ k).
        zero_rows, zero_cols: (n0,) the ν = 0 sector (populations first, i = k for the first d).
        stacks: tuple of (rows, cols, nu) with rows/cols (B, n) int arrays and nu (B,) floats:
            the multi-element ν ≠ 0 sectors of size n (element a of sector s is
            |rows[s, a]⟩⟨cols[s, a]|), one entry per distinct size n ≥ 2.
    """

    energies: np.ndarray
    level_energies: np.ndarray
    level_labels: np.ndarray
    levels: np.ndarray
    level_start: np.ndarray
    degenerate: bool
    tol: float
    gaps: np.ndarray
    pair_group: np.ndarray | None
    group_centers: np.ndarray
    single_mask: np.ndarray
    zero_rows: np.ndarray
    zero_cols: np.ndarray
    stacks: tuple

    @property
    def dim(self) -> int:
        return int(self.energies.shape[0])

    @property
    def n_levels(self) -> int:
        return int(self.levels.shape[0])

    @property
    def n_blocks(self) -> int:
        return int(sum(r.shape[0] for r, _, _ in self.stacks))


def index_dtype(d: int):
    """Integer type of eigenvector index arrays: int32 while every flat index i + d·k fits (d² < 2³¹),
    half the memory of the default int64 for the O(d²)-long sector lists."""
    return np.int32 if int(d) ** 2 < 2 ** 31 else np.int64


def _expand_pairs(a: np.ndarray, b: np.ndarray, start: np.ndarray, deg: np.ndarray):
    """Eigenvector pairs (i, k), i ∈ level a_p, k ∈ level b_p, for each level pair p, contiguous per p
    (index arrays of :func:`index_dtype`)."""
    it = index_dtype(int(deg.sum()))
    counts = deg[a].astype(np.int64) * deg[b]
    total = int(counts.sum())
    p = np.repeat(np.arange(a.shape[0], dtype=it), counts)
    offset = np.arange(total, dtype=it) - np.repeat((np.cumsum(counts) - counts).astype(it), counts)
    db_ = deg[b].astype(it)[p]
    i = start.astype(it)[a][p] + offset // db_
    k = start.astype(it)[b][p] + offset % db_
    return i, k, counts


def sectors(eb, tol: float) -> Sectors:
    """Bohr-sector partition of an :class:`~detbal.eigenbasis.Eigenbasis` (module docstring).

    ``eb`` must have been grouped with the same ``tol`` (levels closer than ``tol`` merged), so
    every nonzero level gap exceeds ``tol`` and the ν = 0 sector is exactly the intra-level one.
    """
    E = np.asarray(eb.energies, dtype=float)
    d = E.shape[0]
    lab = np.asarray(eb.level_labels, dtype=np.intp)
    L = np.asarray(eb.levels, dtype=float)
    nL = L.shape[0]
    deg = np.bincount(lab, minlength=nL)
    start = np.cumsum(deg) - deg
    e = L[lab]
    gaps = _upper_triangle(L)
    T = gaps.shape[0]
    # Non-degenerate levels with no coincident gaps (typical for small random spectra) need no
    # grouping: a plain sort proves it. Large spectra always have coincidences closer than tol
    # (~T²·tol/width of them), so there the grouping sort comes first.
    if nL == d and T and T * T * tol <= 10 * float(gaps.max()):
        sg = np.sort(gaps)
        if not np.any(np.diff(sg) <= tol):
            return _trivial_sectors(E, e, lab, L, start, tol, gaps)
    # group the positive gaps: sort once, chain neighbours closer than tol
    order = np.argsort(gaps, kind="quicksort")
    sg = gaps[order]
    new = np.empty(T, dtype=bool)
    if T:
        new[0] = True
        np.greater(np.diff(sg), tol, out=new[1:])
    gid_sorted = np.cumsum(new) - 1
    n_groups = int(gid_sorted[-1]) + 1 if T else 0
    pair_group = np.empty(T, dtype=np.intp)
    pair_group[order] = gid_sorted
    pairs_per_group = np.bincount(gid_sorted, minlength=n_groups)
    centers = np.bincount(gid_sorted, weights=sg, minlength=n_groups) / np.maximum(pairs_per_group, 1)

    # ν = 0 sector: all pairs inside a level, populations first
    lv = np.arange(nL)
    zi, zk, _ = _expand_pairs(lv, lv, start, deg)
    coh = zi != zk
    zero_rows = np.concatenate([np.arange(d, dtype=zi.dtype), zi[coh]])
    zero_cols = np.concatenate([np.arange(d, dtype=zk.dtype), zk[coh]])

    # multi-element sectors (several level pairs in a group, or a degenerate level involved),
    # in sorted-gap order so that each group is contiguous
    multi_sorted = pairs_per_group[gid_sorted] > 1
    if nL < d:
        a_all, b_all = _pairs_of(order, nL)
        multi_sorted |= (deg[a_all] > 1) | (deg[b_all] > 1)
        del a_all, b_all
    single_mask = np.ones((d, d), dtype=bool)
    single_mask[zero_rows, zero_cols] = False
    stacks = []
    if np.any(multi_sorted):
        mp = order[multi_sorted]                      # level pairs in multi groups, grouped
        mg = gid_sorted[multi_sorted]
        ma, mb = _pairs_of(mp, nL)
        i, k, counts = _expand_pairs(ma, mb, start, deg)
        single_mask[i, k] = False
        single_mask[k, i] = False
        # eigen-pair count of every multi group, and where each group starts in (i, k)
        gstart_pairs = np.flatnonzero(np.r_[True, mg[1:] != mg[:-1]])
        gsize = np.add.reduceat(counts, gstart_pairs)
        gstart = np.r_[0, np.cumsum(gsize)[:-1]]
        gnu = centers[mg[gstart_pairs]]
        for n in np.unique(gsize):
            sel = gsize == n
            idx = gstart[sel][:, None] + np.arange(n, dtype=np.int64)[None, :]
            rows, cols = i[idx], k[idx]               # ν = L_a − L_b < 0: |i⟩⟨k|, i in lower level
            nu = -gnu[sel]
            stacks.append((np.concatenate([rows, cols]), np.concatenate([cols, rows]),
                           np.concatenate([nu, -nu])))
    return Sectors(energies=E, level_energies=e, level_labels=lab, levels=L, level_start=start,
                   degenerate=bool(nL < d), tol=float(tol), gaps=gaps,
                   pair_group=pair_group, group_centers=centers, single_mask=single_mask,
                   zero_rows=zero_rows, zero_cols=zero_cols, stacks=tuple(stacks))


def _trivial_sectors(E, e, lab, L, start, tol, gaps) -> Sectors:
    """Non-degenerate levels and Bohr frequencies: populations + 1-element sectors only."""
    d = E.shape[0]
    single_mask = np.ones((d, d), dtype=bool)
    np.fill_diagonal(single_mask, False)
    idx = np.arange(d, dtype=index_dtype(d))
    return Sectors(energies=E, level_energies=e, level_labels=lab, levels=L, level_start=start,
                   degenerate=False, tol=float(tol), gaps=gaps, pair_group=None, group_centers=gaps,
                   single_mask=single_mask, zero_rows=idx, zero_cols=idx, stacks=())


def frequency_codes(sec: Sectors, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Code of the Bohr-frequency group of the transition j → i (emitted energy E_j − E_i).

    0 for E_j = E_i (same level), g + 1 for the g-th positive group (j above i), −(g + 1) for
    the negative one. Two transitions belong to the same jump operator A(ω) iff codes agree.
    """
    la = sec.level_labels[i]
    lb = sec.level_labels[j]
    lo = np.minimum(la, lb)
    hi = np.maximum(la, lb)
    same = la == lb
    pos = np.where(same, 0, level_pair_index(lo, np.where(same, lo + 1, hi), sec.n_levels))
    if sec.gaps.size == 0:
        g = np.zeros_like(pos)
    else:
        g = (pos if sec.pair_group is None else sec.pair_group[pos]) + 1
    return np.where(same, 0, np.where(lb > la, g, -g))


def rotate_superoperator(Lt: np.ndarray, V: np.ndarray) -> np.ndarray:
    """From the eigenframe to the original basis: the matrix of X ↦ V 𝓛̃(V† X V) V†.

    Lt is column-stacked in the eigenbasis (Lt[i + d·k, j + d·l] = ⟨i|𝓛̃(|j⟩⟨l|)|k⟩). Cost
    O(d⁵) by rotating one index at a time. Returns a (d², d²) complex ndarray.
    """
    d = V.shape[0]
    T = Lt.reshape((d, d, d, d), order="F")           # T[i, k, j, l]
    Vc = V.conj()
    T = np.tensordot(V, T, axes=(1, 0))               # [a, k, j, l]
    T = np.tensordot(T, Vc, axes=(1, 1)).transpose(0, 3, 1, 2)   # [a, b, j, l]
    T = np.tensordot(T, Vc, axes=(2, 1)).transpose(0, 1, 3, 2)   # [a, b, c, l]
    T = np.tensordot(T, V, axes=(3, 1))               # [a, b, c, e]
    return np.asarray(T.reshape((d * d, d * d), order="F"), dtype=np.complex128)


@dataclass(frozen=True, eq=False)
class BlockStack:
    """B Bohr sectors of equal size n ≥ 2, stacked (layout of :attr:`BohrBlocks.blocks`).

    Attributes:
        rows, cols: (B, n) int arrays: element a of sector s is the matrix unit
            |rows[s, a]⟩⟨cols[s, a]| of the energy eigenbasis.
        frequencies: (B,) Bohr frequency ν = E_i − E_k of each sector.
        matrices: (B, n, n) complex: matrices[s, a, c] = ⟨i_a|𝓛(|j_c⟩⟨l_c|)|k_a⟩ with
            (i_a, k_a) = (rows[s, a], cols[s, a]) and (j_c, l_c) = (rows[s, c], cols[s, c]).
        dissipative: (B, n, n) complex: the same for 𝓓 = 𝓛 + i[K, ·].
    """

    rows: np.ndarray
    cols: np.ndarray
    frequencies: np.ndarray
    matrices: np.ndarray
    dissipative: np.ndarray

    @property
    def size(self) -> int:
        return int(self.rows.shape[1])

    @property
    def count(self) -> int:
        return int(self.rows.shape[0])


@dataclass(frozen=True, eq=False)
class BohrBlocks:
    """The block-diagonal form of a Davies generator in the energy eigenbasis.

    The d² matrix units |i⟩⟨k| (eigenbasis, energies ascending) are partitioned into Bohr
    sectors; 𝓛 maps each sector into itself. Layout:

    Attributes:
        population: the ν = 0 sector block, indexed by (population_rows, population_cols).
            Non-degenerate spectrum: the (d, d) real Pauli rate matrix W (W_mn = rate n → m,
            columns sum to zero) on the populations |m⟩⟨m|. Degenerate levels: a (n0, n0)
            complex matrix on all |i⟩⟨k| with E_i = E_k, populations first
            (population[a, c] = ⟨i_a|𝓛(|i_c⟩⟨k_c|)|k_a⟩).
        population_rows, population_cols: (n0,) int arrays; the first d entries are (m, m).
        populations_decoupled: the populations are mapped into populations only (always True
            for a non-degenerate spectrum); then ``population[:d, :d]`` is the Pauli matrix.
        coherences: (d, d) complex, λ_ik for every |i⟩⟨k| alone in its sector (an eigenvector:
            𝓛(|i⟩⟨k|) = λ_ik |i⟩⟨k|); 0 elsewhere.
        coherence_mask: (d, d) bool, True exactly where ``coherences`` is defined.
        blocks: tuple of :class:`BlockStack`, one per sector size n ≥ 2 (ν ≠ 0 sectors shared
            by several matrix units: equally spaced ladders, coincident Bohr frequencies,
            degenerate levels), sorted by n.
        tol: the Bohr-frequency grouping tolerance.
    """

    population: np.ndarray
    population_rows: np.ndarray
    population_cols: np.ndarray
    populations_decoupled: bool
    coherences: np.ndarray
    coherence_mask: np.ndarray
    blocks: tuple
    tol: float

    @property
    def n_sectors(self) -> int:
        """Number of Bohr sectors (ν = 0 counts once)."""
        return 1 + int(np.count_nonzero(self.coherence_mask)) + sum(s.count for s in self.blocks)


# -- rates on the distinct level gaps --------------------------------------------------------------
def _expand_levels(table: np.ndarray, sec: Sectors) -> np.ndarray:
    """(n_L, n_L) level table → (d, d) eigenvector table (no copy for a non-degenerate spectrum)."""
    if not sec.degenerate:
        return table
    lab = sec.level_labels
    return table[lab[:, None], lab[None, :]]


def _level_table(sec: Sectors, up: np.ndarray, down: np.ndarray, zero: float) -> np.ndarray:
    """Level table T[a, b] = up (a < b), down (a > b), zero (a = b), from row-major (T,) vectors."""
    n = sec.n_levels
    table = np.empty((n, n), dtype=float)
    if n <= _INDEX_MAX_LEVELS:
        mask = _upper_mask(n)
        table[mask] = up
        table.T[mask] = down
    else:
        off = _row_offsets(n)
        for a in range(n - 1):
            sl = slice(off[a], off[a] + n - 1 - a)
            table[a, a + 1:] = up[sl]
            table[a + 1:, a] = down[sl]
    np.fill_diagonal(table, zero)
    return table


def emission_rates(bath, sec: Sectors) -> np.ndarray:
    """γ(gap), the emission rates on the positive level gaps (one vectorised ``bath.rate`` call)."""
    if sec.gaps.shape[0] == 0:
        return np.zeros(0)
    return np.asarray(bath.rate(sec.gaps), dtype=float)


def zero_rate(bath, St: np.ndarray, sec: Sectors, name: str) -> float:
    """γ(0); a sub-ohmic bath (γ(0) = ∞) is only an error if a zero-frequency jump exists."""
    try:
        return float(bath.rate(0.0))
    except InputError:
        lab = sec.level_labels
        same = lab[:, None] == lab[None, :]
        if np.max(np.abs(St[same]), initial=0.0) <= 1e-14 * max(np.max(np.abs(St)), 1e-300):
            return 0.0
        raise InputError(f"bath {name!r}: the coupling has zero-frequency (ν = 0) jumps, which need "
                         "γ(0) = 2πT·J'(0); it diverges for a sub-ohmic spectral density") from None


def rate_matrix(sec: Sectors, emit: np.ndarray, beta: float, gamma0: float) -> np.ndarray:
    """Γ[i, j] = γ(E_j − E_i), the rate of the jump j → i (d, d); absorption by KMS,
    γ(−ω) = e^{−βω}γ(ω), which :class:`~detbal.baths.Bath` guarantees by construction."""
    with np.errstate(under="ignore"):
        absorb = emit * np.exp(-beta * sec.gaps) if math.isfinite(beta) else np.zeros_like(emit)
    return _expand_levels(_level_table(sec, emit, absorb, gamma0), sec)


def symmetric_rate_matrix(sec: Sectors, emit: np.ndarray, beta: float, gamma0: float) -> np.ndarray:
    """Γ^sym[i, j] = γ(E_j − E_i) e^{−β(E_j − E_i)/2} (even in the frequency; d, d)."""
    with np.errstate(under="ignore"):
        sym = emit * np.exp(-0.5 * beta * sec.gaps) if math.isfinite(beta) else np.zeros_like(emit)
    return _expand_levels(_level_table(sec, sym, sym, gamma0), sec)


def lamb_matrix(bath, sec: Sectors) -> np.ndarray:
    """Λ[i, j] = S(E_j − E_i), the Lamb-shift function on every distinct level gap (d, d)."""
    up = np.asarray(bath.lamb_shift(sec.gaps), dtype=float) if sec.gaps.size else np.zeros(0)
    down = np.asarray(bath.lamb_shift(-sec.gaps), dtype=float) if sec.gaps.size else np.zeros(0)
    return _expand_levels(_level_table(sec, up, down, float(bath.lamb_shift(0.0))), sec)


def level_diagonal_operator(sec: Sectors, F: np.ndarray, St: np.ndarray, P: np.ndarray):
    """X = Σ_ω f(ω) A(ω)†A(ω) for F[i, j] = f(E_j − E_i): X_mn = Σ_i F[i, n] conj(S̃_im) S̃_in for
    m, n in one level. Returns (diag (d,), dense (d, d) or None when the spectrum is non-degenerate)."""
    diag = np.einsum("ij,ij->j", F, P)
    if not sec.degenerate:
        return diag, None
    X = np.diag(diag).astype(np.complex128)
    deg = np.bincount(sec.level_labels)
    for a in np.flatnonzero(deg > 1):
        idx = np.arange(sec.level_start[a], sec.level_start[a] + deg[a])
        Sa = St[:, idx]
        X[np.ix_(idx, idx)] = (Sa.conj() * F[:, idx[0]][:, None]).T @ Sa
    return diag, X
