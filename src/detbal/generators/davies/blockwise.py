"""A Davies generator assembled from the sector-pair blocks of its couplings, with no d×d table
(internal: the route of :class:`~detbal.generators.davies.DaviesGenerator` when a conserved quantity
splits the eigenbasis and the d×d rate tables exceed the memory budget).

Energy eigenbasis, levels A, C of H (multiplicity n_A, eigenvector energies E_i). The transition
j → i of bath b has the rate Γ_b,ij = γ_b(E_j − E_i) and the amplitude T_b,ij = √Γ_b,ij S̃_b,ij; its
*code* c(i, j) names the Bohr-frequency group of E_j − E_i (0 inside a level, opposite signs for the
two orientations; level gaps closer than ``tol`` are chained into groups exactly as by
:func:`.sectors.sectors`). On the matrix units |i⟩⟨k|

    𝓛(|j⟩⟨l|) = Σ_b Σ_{c(i,j) = c(k,l)} T_b,ij conj(T_b,kl) |i⟩⟨k| − ½{G, |j⟩⟨l|} − i[K, |j⟩⟨l|],

G = Σ_b Σ_ω γ_b(ω)A_b(ω)†A_b(ω) and K = nH (no Lamb shift), both block diagonal in the levels.
The invariant sets used here:

* the ν = 0 sector (i, k in one level): the populations, on which 𝓛 is the Pauli rate matrix W,
  and the coherences inside degenerate levels — one sparse matrix M0;
* a *level pair* (A, C), A ≠ C, carries the n_A·n_C units A × C with the block
  −½(G_A ⊗ 1 + 1 ⊗ G_Cᵀ) − i n(E_i − E_k) + Σ_b T_b,AA ⊗ conj(T_b,CC) (T_b,AA = √γ_b(0) S̃_b,AA);
  for two simple levels the scalar λ_ik = −i n(E_i − E_k) − ½(g_i + g_k) + Σ_b γ_b(0) s_b,i s_b,k
  (g = diag G, s_b = diag S̃_b);
* two different transitions A ← B and C ← D of one bath in one Bohr group of several level pairs
  (degenerate Bohr frequencies, c(A, B) = c(C, D) ≠ 0) *link* the level pairs (A, C) and (B, D)
  (entry T_b,ij conj(T_b,kl)); a connected component of linked level pairs is one dense block.

The dense path (:class:`.sector_linalg.SectorForm`) keeps each Bohr sector as one block; here a
sector is split into the parts that are coupled, which changes no norm and no eigenvalue. The
transitions are read block by block from :func:`.sparse_pauli.coupling_blocks`, the scalar
coherences are scanned in row chunks and the blocks are built in batches: memory O(Σ blocks +
number of special transitions), time O(d²) for the scan. The certificate does not build the
components: the links enter its norms through per-group Gram sums of the transitions
(:mod:`.link_sums`), every level pair with a degenerate level is its own block there; the gap needs
the components: from the listed links (:meth:`BlockwiseForm.links`, Σ k² entries for groups of k
transitions) while they fit the budget and take fewer bytes than a forest over the level pairs, else
streamed (:mod:`.link_components`: a union–find forest fed chunk by chunk, the blocks in batches of
components, one pass over the links per batch); a component of more than ``_DENSE_UNITS`` units is a
sparse block whose top eigenvalue comes from Lanczos. The ν = 0 block is written in place (:mod:`.level_pair_jumps`). The certificate
norms, the gap, the kernel dimension and the populations' flows match the dense path to round-off.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import eigsh

from ... import config
from ...classical.rate_matrix import RateMatrix
from ...eigenbasis import log_scaled, max_log_magnitude, sigma_exponent
from ...errors import InputError, MemoryBudgetError, NonUniqueSteadyStateError
from ...linalg.sparse_rows import entry_rows, row_chunks
from ...states import log_gibbs_populations
from . import link_components
from .bohr_groups import in_multi_group, transition_codes
from .level_pair_jumps import LevelPairJumps
from .link_sums import add_link_sums
from .sector_balance import _ScaledSums, _sumsq, add_stacks_and_finish
from .sector_kernel import (
    _within_groups,
    block_nullity,
    column_abs_sums,
    stack_gap,
    top_gap,
    zero_sector_state,
)
from .sectors import BlockStack, _expand_pairs
from .sparse_pauli import _rates, block_arrays, coupling_blocks, pauli_sparse, sparse_components

__all__ = ["BlockwiseForm", "CouplingData", "held_bytes"]

_CHUNK = 1 << 22          # entries per chunk of the scans
_DENSE_UNITS = 768        # a component of more coupled units is a sparse block (Lanczos, :meth:`block_gaps`)
_ADVICE = config.FEWER_SITES


def held_bytes(eb, *arrays) -> float:
    """Bytes the blockwise form already holds: the eigenvectors and the given arrays or sparse
    matrices. A budget check of a new allocation adds them, so the budget bounds what the generator
    holds at once, not each array alone."""
    total = float(eb.sectors.nbytes()) if eb.sectors is not None else 0.0
    for a in arrays:
        if sp.issparse(a):
            total += _sparse_bytes(a)
        elif a is not None:
            total += float(np.asarray(a).nbytes)
    return total


_HELD = "with what the generator already holds (eigenvectors, Pauli matrix, Bohr groups, transitions)"


class CouplingData:
    """One bath's coupling S̃_b = V†S_bV in sector-pair blocks and what the blockwise form needs.

    Attributes:
        W: (d, d) csr Pauli rate matrix of this bath (:func:`.sparse_pauli.pauli_sparse`).
        g: (d,) diagonal of G_b, g_n = Σ_m Γ_b,mn |S̃_b,mn|².
        t0: (d, d) csr T_b restricted to intra-level transitions (√γ_b(0) S̃_b inside levels).
        G_deg: (d, d) csr G_b inside the degenerate levels (all their entries), zero elsewhere.
        special: (i, j, T_b,ij, code) of the transitions in multi-pair Bohr groups or touching a
            degenerate level (int32, int32, float/complex, int64 arrays).
    """

    def __init__(self, eb, S, bath, name: str, groups):
        """``groups``: a callable returning :func:`.bohr_groups.frequency_groups` of ``eb`` (computed only when the
        special transitions are needed)."""
        d = eb.dim
        self.name, self.bath = name, bath
        blocks = coupling_blocks(eb, S)
        self.W = pauli_sparse(eb, [(blocks, bath)], [name])
        s = np.zeros(d)
        for (a, b), (rows, cols, blk) in blocks.items():
            if a == b:
                s[rows] = np.real(np.diagonal(blk))
        try:
            gamma0 = float(bath.rate(0.0))
        except InputError:
            if np.max(np.abs(s), initial=0.0) > 1e-14 * max((float(np.max(np.abs(b[2]))) for b in blocks.values()),
                                                             default=1e-300):
                raise InputError(f"bath {name!r}: the coupling has zero-frequency (ν = 0) jumps, which need "
                                 "γ(0) = 2πT·J'(0); it diverges for a sub-ohmic spectral density") from None
            gamma0 = 0.0
        self.gamma0, self._s, self._S, self._groups = gamma0, s, S, groups
        self.g = -self.W.diagonal() + gamma0 * s * s
        self._special = None
        self._blocks = blocks        # kept for the special transitions (rotating again costs as much), then freed
        self._eb = eb

    def held_arrays(self) -> list:
        """The arrays this coupling holds beyond W: the stored transitions, or the sector-pair blocks
        they are read from (each block once: a real (b, a) block is a view of (a, b))."""
        if self._special is not None:
            return list(self._special)
        return [] if self._blocks is None else block_arrays(self._blocks)

    @property
    def special(self):
        self._ensure_special()
        return self._special

    @property
    def t0(self):
        self._ensure_special()
        return self._t0

    @property
    def G_deg(self):
        self._ensure_special()
        return self._G_deg

    def _ensure_special(self) -> None:
        """Fill the special transitions once; a refusal by the budget is remembered for that budget
        (the count pass over all blocks is not repeated by every stage that asks)."""
        if self._special is not None:
            return
        refused = getattr(self, "_refused", None)
        if refused is not None and refused[0] == config.budget():
            raise MemoryBudgetError(refused[1], required=refused[2], budget=refused[3], what=refused[4])
        try:
            self._fill_special()
        except MemoryBudgetError as exc:   # keep the message only: a kept traceback would keep the blocks
            self._refused = (config.budget(), str(exc), exc.required, exc.budget, exc.what)
            raise MemoryBudgetError(str(exc), required=exc.required, budget=exc.budget, what=exc.what) from None

    def _fill_special(self) -> None:
        """The transitions in multi-pair Bohr groups or touching a degenerate level (a second pass
        over the sector-pair blocks, kept from ``__init__`` and freed here; the Pauli rates alone, e.g.
        for heat currents, never need them)."""
        eb, bath, name, gamma0, s = self._eb, self.bath, self.name, self.gamma0, self._s
        blocks = self._blocks if self._blocks is not None else coupling_blocks(eb, self._S)
        self._blocks = None
        groups = self._groups()
        d = eb.dim
        lab, levels = eb.level_labels, eb.levels
        deg = np.bincount(lab)
        e = levels[lab]
        touch = deg[lab] > 1

        def chunks(blocks):
            """(sub-block, i, j, I, J) chunk by chunk over the sector-pair blocks: the nonzero entries
            (I, J) of the sub-block and their eigenvector indices i, j."""
            for rows, cols, blk in blocks.values():
                step = max(1, _CHUNK // max(blk.shape[1], 1))
                for r0 in range(0, blk.shape[0], step):
                    sub = blk[r0:r0 + step]
                    I, J = np.nonzero(sub)
                    yield sub, rows[r0 + I], cols[J], I, J

        # count first (no storage but one bit per transition), so that a refusal comes before
        # anything large is allocated
        kept_bits, count = [], 0
        for _, i, j, _, _ in chunks(blocks):
            keep = in_multi_group(levels, lab, groups, i, j) | touch[i] | touch[j]
            count += int(np.count_nonzero(keep))
            kept_bits.append(np.packbits(keep))
        dtype = np.result_type(float, *(blk.dtype for _, _, blk in blocks.values()))
        # stored: i, j (int32), T_ij and the code (int64), in arrays allocated once
        config.check_memory(held_bytes(eb, self.W, *groups, *block_arrays(blocks))
                            + (16.0 + np.dtype(dtype).itemsize) * count,
                            f"the {count} transitions of bath {name!r} in degenerate Bohr groups or levels "
                            f"(d = {d}), {_HELD},", _ADVICE)
        special = (np.empty(count, np.int32), np.empty(count, np.int32), np.empty(count, dtype),
                   np.empty(count, np.int64))
        at = 0
        for bits, (sub, i, j, I, J) in zip(kept_bits, chunks(blocks)):
            keep = np.unpackbits(bits, count=i.shape[0]).astype(bool)
            i, j = i[keep], j[keep]
            if i.size == 0:
                continue
            rate = _rates(bath, e[j] - e[i], name)[0]
            for out, x in zip(special, (i, j, np.sqrt(rate) * sub[I[keep], J[keep]],
                                        transition_codes(levels, lab, groups, i, j)[0])):
                out[at:at + i.size] = x
            at += i.size
        del blocks, kept_bits
        i, j, tv, code = special
        # T_b inside levels (dephasing s and the intra-level jumps of degenerate levels)
        intra = code == 0
        diag = np.arange(d)
        self._t0 = sp.csr_array(sp.coo_array(
            (np.concatenate([math.sqrt(gamma0) * s, tv[intra & (i != j)]]),
             (np.concatenate([diag, i[intra & (i != j)]]), np.concatenate([diag, j[intra & (i != j)]]))),
            shape=(d, d)))
        # G_b inside degenerate levels: G_mn = Σ_i conj(T_im) T_in for m, n in one level B, i.e.
        # G_B = X_B† X_B with X_B the columns of B of the transitions into degenerate levels
        into = touch[j]
        X = sp.csc_array((tv[into], (i[into], j[into])), shape=(d, d))
        del into
        R, C, V = [], [], []
        start = np.cumsum(deg) - deg                    # eigenvectors are ordered by level
        for B in np.flatnonzero(deg > 1):
            m = np.arange(start[B], start[B] + deg[B])
            XB = X[:, m]
            GB = (XB.conj().T @ XB).toarray()
            R.append(np.repeat(m, m.size))
            C.append(np.tile(m, m.size))
            V.append(GB.ravel())
        del X
        self._G_deg = sp.csr_array(sp.coo_array((np.concatenate(V), (np.concatenate(R), np.concatenate(C))),
                                                shape=(d, d))) if R else sp.csr_array((d, d), dtype=dtype)
        self._special = special


def _level_entries(diag: np.ndarray, off: sp.csr_array, I: np.ndarray, J: np.ndarray, inside: np.ndarray):
    """Entries X[I, J] of a level-block-diagonal X stored as its diagonal (simple levels) and a sparse
    matrix (all entries of the degenerate levels); ``inside`` marks pairs in one level."""
    out = np.where(I == J, diag[np.minimum(I, diag.shape[0] - 1)], 0.0).astype(np.result_type(diag, off.dtype))
    sel = np.flatnonzero(inside.ravel())
    if sel.size and off.nnz:
        vals = np.asarray(off[I.ravel()[sel], J.ravel()[sel]]).ravel()
        flat = out.reshape(-1)
        hit = vals != 0
        flat[sel[hit]] = vals[hit]
    return out


class BlockwiseForm:
    """The generator of a set of baths (:class:`CouplingData`) with coherent part −i[nH, ·], sector by
    sector without d×d tables (module docstring). ``h_count`` is n."""

    def __init__(self, eb, data: list, h_count: int, groups):
        """``groups``: a callable returning :func:`.bohr_groups.frequency_groups` of ``eb``."""
        self.eb, self.data, self.h, self._group_fn = eb, list(data), int(h_count), groups
        self.d = eb.dim
        self.lab, self.levels = eb.level_labels, eb.levels
        self.deg = np.bincount(self.lab)
        self.start = np.cumsum(self.deg) - self.deg
        self.E = np.asarray(eb.energies, dtype=float)
        self.W = self.data[0].W if len(self.data) == 1 else sp.csr_array(sum(c.W for c in self.data))
        self.g = sum(c.g for c in self.data)
        self._G_deg = None
        self.degenerate = bool(np.any(self.deg > 1))
        self._links = None
        self._zero = None
        self.zero_coherent = None       # −i n(E_i − E_k) on the ν = 0 coherences, when beyond round-off (zero_sector)
        self.scalar_top = None          # max Re λ of the scalar coherences, set by a pass of scalar_chunks
        self._scalar_top_all = None     # the same with the linked ones counted as scalars (certificate pass)
        self._scalar_sums = None        # their squared norms (:class:`_ScaledSums`), the same for every σ and s

    @property
    def groups(self):
        return self._group_fn()

    def _held_bytes(self) -> float:
        """Bytes this form holds (:func:`held_bytes`): eigenvectors, Pauli matrices, Bohr groups (computed
        by the time a transition is stored), the stored transitions of every bath and, once built, the
        ν = 0 block."""
        arrays = [c.W for c in self.data] + ([self.W] if len(self.data) > 1 else []) + list(self.groups)
        for c in self.data:
            arrays += c.held_arrays()
        if self._zero is not None and self._zero[2] is not self.W:
            arrays.append(self._zero[2])
        return held_bytes(self.eb, *arrays)

    @property
    def G_deg(self) -> sp.csr_array:
        """G = Σ_b G_b inside the degenerate levels (sparse, (d, d))."""
        if self._G_deg is None:
            self._G_deg = sp.csr_array(sum((c.G_deg for c in self.data), sp.csr_array((self.d, self.d))))
        return self._G_deg

    # -- the ν = 0 sector ---------------------------------------------------------------------------
    def zero_sector(self):
        """(rows, cols, M0): the ν = 0 units (populations first) and the sparse block of 𝓛 on them
        (= W for a non-degenerate spectrum); cached.

        The coherences |i⟩⟨k| inside a degenerate level have the Bohr frequency 0: −i[K, ·] puts
        −i n(E_i − E_k) on their diagonal, which is round-off when the eigenvector energies of a level
        agree to 1e3·ε·max|E| (the default grouping), and is then left out, so M0 is the dissipator's
        block (real for real couplings, :attr:`zero_coherent` None). A coarse ``bohr_tol`` groups
        energies that differ by more: those terms are kept (as the dense path keeps them) and
        :attr:`zero_coherent` is their (n0,) diagonal. M0 is written in place, row by row: W's rates,
        the intra-level terms, then the jump terms of the level pairs (:mod:`.level_pair_jumps`);
        never as COO triples of its 10⁸ entries."""
        if self._zero is not None:
            return self._zero
        d = self.d
        if not self.degenerate:
            idx = np.arange(d)
            self._zero = (idx, idx, self.W)
            return self._zero
        deg, start = self.deg, self.start
        lv = np.arange(deg.shape[0])
        zi, zk, _ = _expand_pairs(lv, lv, start, deg)
        coh = zi != zk
        rows = np.concatenate([np.arange(d, dtype=zi.dtype), zi[coh]])
        cols = np.concatenate([np.arange(d, dtype=zk.dtype), zk[coh]])
        n0 = rows.shape[0]
        key = rows.astype(np.int64) * d + cols
        order = np.argsort(key)
        skey = key[order]

        index = np.int32 if n0 < 2 ** 31 else np.int64
        order = order.astype(index)

        def unit(i, k):
            return order[np.searchsorted(skey, np.asarray(i, np.int64) * d + k)]

        # E = M0 − W in two parts: the jump terms T_ij conj(T_kl) of level pairs A ≠ B (the bulk,
        # 10⁸ at d = 16384), generated level pair by level pair in chunks and written into M0's csr
        # arrays in place (a counting pass, then a filling pass: no triples of them are ever held), and
        # the small intra-level part (jumps inside a level, −½{G, ·}, −i n(E_i − E_k)) as a csr of its own
        jumps = LevelPairJumps(self, unit, n0, _ADVICE, _HELD)
        R, C, V = jumps.intra_level()
        for A in np.flatnonzero(deg > 1):       # −½(G_ij δ_kl + δ_ij G_lk) on the units with a coherence
            m = np.arange(start[A], start[A] + deg[A])
            GA = self.G_deg[m][:, m].toarray()
            n = m.shape[0]
            p, q, r = np.meshgrid(np.arange(n), np.arange(n), np.arange(n), indexing="ij")
            p, q, r = p.ravel(), q.ravel(), r.ravel()       # unit (p, q), partner index r
            for left in (True, False):
                if left:      # row (p, q), column (r, q): −½ G_pr
                    ri, rk, ci, ck, val = p, q, r, q, -0.5 * GA[p, r]
                else:         # row (p, q), column (p, r): −½ G_rq
                    ri, rk, ci, ck, val = p, q, p, r, -0.5 * GA[r, q]
                pp = (ri == rk) & (ci == ck)
                R.append(unit(m[ri[~pp]], m[rk[~pp]]))
                C.append(unit(m[ci[~pp]], m[ck[~pp]]))
                V.append(val[~pp])
        if self.h:
            k_diag = np.zeros(n0)
            k_diag[d:] = self.h * (self.E[rows[d:]] - self.E[cols[d:]])
            if np.max(np.abs(k_diag)) > 1e3 * np.finfo(float).eps * self.h * float(np.max(np.abs(self.E))):
                self.zero_coherent = k_diag
                R.append(np.arange(d, n0))
                C.append(np.arange(d, n0))
                V.append(-1j * k_diag[d:])
        small = sp.csr_array(sp.coo_array((np.concatenate(V), (np.concatenate(R), np.concatenate(C))),
                                          shape=(n0, n0)))
        del R, C, V
        small.sum_duplicates()
        M0 = _real_if_possible(jumps.assemble(self.W, small))
        self._zero = (rows, cols, M0)
        return self._zero

    # -- links between level pairs (degenerate Bohr frequencies) ------------------------------------
    def links(self):
        """(a_i, a_k, c_i, c_k, value) of the entries 𝓛_{(i,k),(j,l)} = Σ_b T_b,ij conj(T_b,kl) between
        coherences of different level pairs in one Bohr sector; cached."""
        if self._links is not None:
            return self._links
        lab, levels = self.lab, self.levels
        out = [[], [], [], [], []]
        for c in self.data:
            i, j, tv, code = c.special
            m = np.abs(code) <= len(self.groups)
            m &= code != 0
            i, j, tv, code = i[m], j[m], tv[m], code[m]
            size, n = self._link_list_bytes(c)
            config.check_memory(self._held_bytes() + size,
                                f"the couplings of {n} transitions of bath {c.name!r} in degenerate "
                                f"Bohr groups (d = {self.d}), {_HELD},", _ADVICE)
            a, b = _within_groups(code)
            a, b = a[a != b], b[a != b]
            ai, ak, ci, ck = i[a], i[b], j[a], j[b]
            keep = lab[ai] != lab[ak]
            ai, ak, ci, ck, a, b = ai[keep], ak[keep], ci[keep], ck[keep], a[keep], b[keep]
            same = (transition_codes(levels, lab, self.groups, ai, ak)[0]
                    == transition_codes(levels, lab, self.groups, ci, ck)[0])
            for k, arr in enumerate((ai[same], ak[same], ci[same], ck[same], tv[a[same]] * np.conj(tv[b[same]]))):
                out[k].append(arr)
        self._links = tuple(np.concatenate(x) if x else np.zeros(0) for x in out)
        return self._links

    def _link_list_bytes(self, c) -> tuple[float, int]:
        """(bytes of the listed links of bath ``c``, its transitions in multi-pair groups): a group of k
        transitions gives k² links of ``link_components.LINK_BYTES`` each."""
        code = c.special[3]
        code = code[(code != 0) & (np.abs(code) <= len(self.groups))]
        counts = np.unique(code, return_counts=True)[1].astype(float)
        return link_components.LINK_BYTES * float(np.sum(counts * counts)), int(counts.sum())

    def _link_list_fits(self) -> bool:
        """Whether the components are found from :meth:`links` (listed): the list fits the budget (its
        check, bath by bath) and takes fewer bytes than the forest of the streamed route
        (:func:`.link_components.forest_bytes`, 5 B per level pair; measured at the XXZ chain N = 12:
        the streamed gap 19 s, the listed one 25 s, both ≈ 1 GB at their peak). Otherwise the links are
        generated chunk by chunk (:mod:`.link_components`)."""
        total = 0.0
        for c in self.data:
            size = self._link_list_bytes(c)[0]
            if not config.fits_memory(self._held_bytes() + size):
                return False
            total += size
        return total < link_components.forest_bytes(self.levels.shape[0])

    def _components(self):
        """Linked level pairs: (pair keys sorted, component of each, number of components); cached.
        From the listed links when they fit the budget, else streamed (:func:`.link_components.stream_components`,
        whose dense component labels are kept for :meth:`block_gaps` in ``_labels``)."""
        if getattr(self, "_comp", None) is None:
            if self._link_list_fits():
                self._comp = self._find_components()
            else:
                keys, comp, ncomp, self._labels = link_components.stream_components(self, self._held_bytes(), _ADVICE)
                self._comp = (keys, comp, ncomp)
        return self._comp

    def _find_components(self):
        ai, ak, ci, ck, _ = self.links()
        nL = self.levels.shape[0]
        pa = self.lab[ai].astype(np.int64) * nL + self.lab[ak]
        pc = self.lab[ci].astype(np.int64) * nL + self.lab[ck]
        keys = np.unique(np.concatenate([pa, pc]))
        if keys.size == 0:
            return keys, np.zeros(0, np.int64), 0
        u, v = np.searchsorted(keys, pa), np.searchsorted(keys, pc)
        graph = sp.coo_array((np.ones(u.shape[0], np.int8), (u, v)), shape=(keys.size, keys.size))
        ncomp, comp = connected_components(graph, directed=False)
        return keys, comp, ncomp

    # -- the blocks ----------------------------------------------------------------------------------
    def _block_matrices(self, rows, cols, link_entries=None):
        """(M, D) on stacked unit lists rows/cols (B, n) of level pairs (A ≠ C): the level-pair terms
        −½(G_ij δ_kl + δ_ij G_lk) + Σ_b T_b,ij conj(T_b,kl) − i n(E_i − E_k)δ_ac, plus the link entries
        (block, a, c, value)."""
        I, Kk = rows[:, :, None], cols[:, :, None]
        J, L = rows[:, None, :], cols[:, None, :]
        lab = self.lab
        in_ij, in_kl = lab[I] == lab[J], lab[Kk] == lab[L]
        I, J, Kk, L = np.broadcast_arrays(I, J, Kk, L)
        in_ij, in_kl = np.broadcast_to(in_ij, I.shape), np.broadcast_to(in_kl, I.shape)
        D = np.zeros(I.shape, dtype=complex)
        for c in self.data:
            D += (_level_entries(c.t0.diagonal(), c.t0, I, J, in_ij & (I != J))
                  * np.conj(_level_entries(c.t0.diagonal(), c.t0, Kk, L, in_kl & (Kk != L))))
        G_IJ = _level_entries(self.g, self.G_deg, I, J, in_ij & (I != J))
        G_LK = _level_entries(self.g, self.G_deg, L, Kk, in_kl & (Kk != L))
        D -= 0.5 * (G_IJ * (Kk == L) + (I == J) * G_LK)
        if link_entries is not None:
            blk, a, c, val = link_entries
            np.add.at(D, (blk, a, c), val)
        M = D.copy()
        n = rows.shape[1]
        M[:, np.arange(n), np.arange(n)] -= 1j * self.h * (self.E[rows] - self.E[cols])
        return M, D

    def blocks(self, batch: int = 1 << 16):
        """Yield :class:`BlockStack` batches of every coherence block that is not a scalar: the
        components of linked level pairs (all dense, from the listed links) and the unlinked level
        pairs with a degenerate level. (The gap takes them from :meth:`block_gaps`.)"""
        keys, comp, ncomp = self._find_components() if getattr(self, "_comp", None) is None else self._comp
        if ncomp:
            index = link_components.NodeIndex(self, keys, comp, ncomp)
            yield from self._component_parts(index, index.group(*self.links()), batch, dense_units=None)
        yield from self.pair_blocks(skip_linked=True)

    def block_gaps(self, log_p, floor: float = math.inf, batch: int = 1 << 16):
        """Yield −max Re λ over the coherence blocks that are not scalars (:meth:`blocks`), batch by
        batch: stacks of dense blocks (:func:`.sector_kernel.stack_gap`), a component of more than
        ``_DENSE_UNITS`` units as a sparse block (:func:`.link_components.sparse_block_top`). When the
        link list does not fit the budget the components are taken in batches of consecutive numbers,
        each with its own pass over the links (:meth:`_streamed_batches`)."""
        keys, comp, ncomp = self._components()
        if ncomp:
            labels = getattr(self, "_labels", None)
            if labels is None and not self._link_list_fits():      # a second gap: find them again
                labels = link_components.stream_components(self, self._held_bytes(), _ADVICE)[3]
            if labels is None:
                index = link_components.NodeIndex(self, keys, comp, ncomp)
                batches = [(0, ncomp, index, index.group(*self.links()))]
            else:
                batches = self._streamed_batches(keys, comp, ncomp, labels)
            self._labels = labels = None
            for _, _, index, links in batches:
                for part in self._component_parts(index, links, batch, dense_units=_DENSE_UNITS):
                    if isinstance(part, BlockStack):
                        yield stack_gap(part, log_p, floor)
                    else:
                        yield -link_components.sparse_block_top(*part, log_p, self._held_bytes(), _ADVICE,
                                                                self.h * self.eb.tol)
                del index, links
            link_components.release(self)
        for st in self.pair_blocks(skip_linked=True):
            yield stack_gap(st, log_p, floor)

    def _streamed_batches(self, keys, comp, ncomp, labels):
        """(c0, c1, index, links) batches of consecutive components (:func:`.link_components.component_batches`)
        whose links and units take at most half the budget left beside what the form holds, the dense
        labels and the component arrays; a counting pass over the links first."""
        nlinks = link_components.link_counts(self, labels, ncomp)
        nL = self.levels.shape[0]
        A, C = np.divmod(keys, nL)
        units = np.bincount(comp, weights=self.deg[A] * self.deg[C], minlength=ncomp)
        del A, C
        dtype = np.result_type(float, *(c.special[2].dtype for c in self.data))
        held = (self._held_bytes() + float(labels.nbytes + keys.nbytes + comp.nbytes)
                + sum(float(sel.nbytes + st.nbytes) for sel, st in getattr(self, "_group_order", {}).values()))
        # per link: its two units and value, and one more of each while a sparse block is built;
        # per unit: the index of its level pair and the unit lists
        per_link = 2.0 * (8.0 + np.dtype(dtype).itemsize)
        cost = per_link * nlinks + 80.0 * units
        room = 0.5 * (config.budget() - held)
        big = int(np.argmax(cost))
        config.check_memory(held + float(cost[big]), f"the links of a component of {int(units[big])} coupled units "
                            f"({int(nlinks[big])} links, d = {self.d})", _ADVICE)
        return link_components.component_batches(self, keys, comp, labels, nlinks, cost, max(room, float(cost[big])),
                                                 dtype)

    def _component_parts(self, index, links, batch, dense_units):
        """Yield the components of ``index`` (:class:`.link_components.NodeIndex`) with their ``links``
        (loff, la, lc, lval) (:meth:`.link_components.NodeIndex.group`): :class:`BlockStack` batches of
        dense blocks of equal size, and — for more than ``dense_units`` units (None: never) — the
        arguments of :func:`.link_components.sparse_block_top` (rows, cols, level-pair entries, link
        entries, coherent diagonal) one component at a time."""
        keys, units_per, first = index.keys, index.units, index.first
        loff, la, lc, lval = links
        nL = self.levels.shape[0]
        dense = units_per if dense_units is None else units_per[units_per <= dense_units]
        big = int(dense.max()) if dense.size else 0
        config.check_memory(self._held_bytes() + 6 * 16.0 * big * big,
                            f"a coherence block of {big} coupled units (d = {self.d})", _ADVICE)
        A, C = np.divmod(keys[index.order], nL)
        pi, pk, _ = _expand_pairs(A, C, self.start, self.deg)        # the units, component by component
        del A, C
        for n in np.unique(units_per):
            cs = np.flatnonzero(units_per == n)
            if dense_units is not None and n > dense_units:
                for c in cs:
                    x0, x1 = loff[c], loff[c + 1]
                    rows, cols = pi[first[c]:first[c] + n], pk[first[c]:first[c] + n]
                    yield (rows, cols, self._pair_entries(rows, cols), (la[x0:x1], lc[x0:x1], lval[x0:x1]),
                           -1j * self.h * (self.E[rows] - self.E[cols]))
                continue
            step = max(1, batch // max(int(n) * int(n), 1))
            for s0 in range(0, cs.shape[0], step):
                sel = cs[s0:s0 + step]
                idx = first[sel][:, None] + np.arange(n)[None, :]
                rows, cols = pi[idx], pk[idx]
                cnt = loff[sel + 1] - loff[sel]
                lm = np.repeat(loff[sel] - np.r_[0, np.cumsum(cnt)[:-1]], cnt) + np.arange(int(cnt.sum()))
                blk = np.repeat(np.arange(sel.shape[0]), cnt)
                M, D = self._block_matrices(rows, cols, (blk, la[lm], lc[lm], lval[lm]))
                yield BlockStack(rows, cols, self.E[rows[:, 0]] - self.E[cols[:, 0]], M, D)

    def _pair_entries(self, rows, cols):
        """(r, c, D) of the level-pair terms of :meth:`_block_matrices` on the units rows/cols of one
        component (its level pairs contiguous, in key order): each level pair's dense n_A n_C × n_A n_C
        block, at the local unit indices."""
        lab = self.lab
        head = np.flatnonzero(np.r_[True, (lab[rows[1:]] != lab[rows[:-1]]) | (lab[cols[1:]] != lab[cols[:-1]])])
        sizes = np.diff(np.r_[head, rows.shape[0]])
        R, C, V = [], [], []
        for s in np.unique(sizes):
            h = head[sizes == s]
            idx = h[:, None] + np.arange(s)[None, :]
            _, D = self._block_matrices(rows[idx], cols[idx])
            R.append(np.broadcast_to(idx[:, :, None], D.shape).ravel())
            C.append(np.broadcast_to(idx[:, None, :], D.shape).ravel())
            V.append(D.ravel())
        return np.concatenate(R), np.concatenate(C), np.concatenate(V)

    def pair_blocks(self, skip_linked: bool, batch: int = 1 << 16):
        """Yield :class:`BlockStack` batches of the level pairs (A, C) with a degenerate level as blocks of
        their own (level-pair terms only, no links); ``skip_linked``: only the pairs not linked to
        another (the rest are parts of the components of :meth:`blocks`)."""
        nL = self.levels.shape[0]
        deg, start = self.deg, self.start
        lv = np.arange(nL)
        keys = self._components()[0] if skip_linked else np.zeros(0, np.int64)
        if keys.size:   # the linked pairs (A, P) are keys[A·nL ≤ key < (A+1)·nL]; (P, A) those of tkeys
            key_a, key_c = np.divmod(keys, nL)
            tkeys = np.sort(key_c * nL + key_a)
        for A in np.flatnonzero(deg > 1):
            for orient in (0, 1):
                partners = lv[lv != A] if orient == 0 else lv[(lv != A) & (deg == 1)]
                if keys.size:
                    ks = keys if orient == 0 else tkeys
                    lo, hi = np.searchsorted(ks, [A * nL, (A + 1) * nL])
                    partners = partners[~np.isin(partners, ks[lo:hi] - A * nL)]
                for m in np.unique(deg[partners]):
                    ps = partners[deg[partners] == m]
                    n = int(deg[A] * m)
                    step = max(1, batch // (n * n))
                    for s0 in range(0, ps.shape[0], step):
                        P = ps[s0:s0 + step]
                        a_lv = np.full(P.shape, A) if orient == 0 else P
                        c_lv = P if orient == 0 else np.full(P.shape, A)
                        ri, ci_, _ = _expand_pairs(a_lv, c_lv, start, deg)
                        rows, cols = ri.reshape(P.shape[0], n), ci_.reshape(P.shape[0], n)
                        M, D = self._block_matrices(rows, cols)
                        yield BlockStack(rows, cols, self.E[rows[:, 0]] - self.E[cols[:, 0]], M, D)

    def _linked_simple_units(self) -> np.ndarray:
        """Sorted keys i·d + k of the coherences |i⟩⟨k| of linked level pairs of two simple levels."""
        if getattr(self, "_lsu", None) is None:
            keys, _, _ = self._components()
            A, C = np.divmod(keys, self.levels.shape[0])
            simple = (self.deg[A] == 1) & (self.deg[C] == 1)
            self._lsu = np.sort(self.start[A[simple]].astype(np.int64) * self.d + self.start[C[simple]])
        return self._lsu

    def scalar_chunks(self, with_linked: bool = False):
        """Yield (first row, Re λ, Im λ) over all coherences |i⟩⟨k|, rows in chunks: λ_ik of the scalar
        ones (two simple levels), 0 elsewhere (the ν = 0 sector and the blocks); Im λ is None without a
        coherent part.

        ``with_linked`` False (the gap): the coherences of linked level pairs are left to their blocks
        (:meth:`blocks`), and a complete pass records max Re λ over the rest (``scalar_top``).
        True (the certificate): they count as scalars too — their links are added apart
        (:mod:`.link_sums`) — and no link is listed; a complete pass records max Re λ over all of them
        (``_scalar_top_all``: the gap's value when no level pairs are linked, so one scan serves both)."""
        d, lab = self.d, self.lab
        simple = self.deg[lab] == 1
        linked = np.zeros(0, np.int64) if with_linked else self._linked_simple_units()
        step = max(1, _CHUNK // max(d, 1))
        t0 = [t for t in (c.t0.diagonal() for c in self.data) if np.any(t)]     # dephasing amplitudes
        top = -math.inf
        for r0 in range(0, d, step):
            r = np.arange(r0, min(d, r0 + step))
            re = -0.5 * (self.g[r][:, None] + self.g[None, :])
            for t in t0:
                re += t[r][:, None] * t[None, :]
            a, b = np.searchsorted(linked, [r0 * d, (r[-1] + 1) * d])
            if self.degenerate:
                bad = (lab[r][:, None] == lab[None, :]) | ~simple[r][:, None] | ~simple[None, :]
                if b > a:
                    i, k = np.divmod(linked[a:b], d)
                    bad[i - r0, k] = True
            else:              # simple levels only: the populations (i, i) and the linked coherences
                i, k = np.divmod(linked[a:b], d)
                bad = (np.r_[r - r0, i - r0], np.r_[r, k])
            re[bad] = -math.inf
            top = max(top, float(re.max(initial=-math.inf)))
            re[bad] = 0.0
            im = None
            if self.h:
                im = -self.h * (self.E[r][:, None] - self.E[None, :])
                im[bad] = 0.0
            yield r0, re, im
        if with_linked:
            self._scalar_top_all = top
        else:
            self.scalar_top = top

    # -- what the generator needs -----------------------------------------------------------------------
    def balance_norms(self, lp: np.ndarray, s: float) -> dict:
        """The squared norms of :meth:`DaviesGenerator.structured_balance`, sector by sector."""
        acc = _ScaledSums()
        rows, cols, M0 = self.zero_sector()
        if self.zero_coherent is None:
            _add_sparse(acc, M0, lp, s, rows, cols, ("hat", "dis"), self._held_bytes())
        else:                             # a coarse grouping: the dissipative part has no −i n(E_i − E_k)
            _add_sparse(acc, M0, lp, s, rows, cols, ("hat",), self._held_bytes())
            config.check_memory(self._held_bytes() + 4.0 * _sparse_bytes(M0),
                                f"the dissipative part of the ν = 0 sector ({M0.shape[0]} units)", _ADVICE)
            D0 = sp.csr_array(M0 + 1j * sp.diags_array(self.zero_coherent))
            _add_sparse(acc, D0, lp, s, rows, cols, ("dis",), self._held_bytes() + _sparse_bytes(D0))
        sig = np.zeros(rows.shape[0])
        sig[: self.d] = np.exp(lp)
        out = {"stationary": _sumsq(M0 @ sig), "hamiltonian_commutator": 0.0, "k_norm": _sumsq(self.h * self.E)}
        if self._scalar_sums is None:     # a 1×1 sector is unscaled (exponent 0): its sums depend on no σ, no s
            self._scalar_sums = _ScaledSums()
            for _, re, im in self.scalar_chunks(with_linked=True):
                self._scalar_sums.add_coherence_parts(re, im)
        acc.merge(self._scalar_sums)
        add_link_sums(acc, [c.special for c in self.data], self.levels, self.lab, self.groups, self.eb.tol, lp, s,
                      self._held_bytes(), _ADVICE)
        return add_stacks_and_finish(acc, self.pair_blocks(skip_linked=False), lp, s, out)

    def pauli_stationary(self) -> np.ndarray:
        """Normalised kernel of W (non-degenerate spectrum, baths at different temperatures) by GTH
        elimination of the dense W (memory-budget checked); several stationary distributions: their
        uniform mixture."""
        d = self.d
        config.check_memory(24.0 * d * d, f"the Pauli kernel of baths at different temperatures (d = {d})", _ADVICE)
        try:
            return RateMatrix(self.W.toarray()).stationary()
        except NonUniqueSteadyStateError as exc:
            return np.mean(np.asarray(exc.basis), axis=0)

    def steady_state_eigen(self, k: int) -> np.ndarray:
        """A stationary state in the eigenbasis ((d, d), memory-budget checked): diag of
        :meth:`pauli_stationary`, or the kernel of the dense ν = 0 block for degenerate levels."""
        d = self.d
        if not self.degenerate:
            config.check_memory(8.0 * d * d, f"the dense steady state (d = {d})", _ADVICE)
            return np.diag(self.pauli_stationary()).astype(complex)
        rows, cols, M0 = self.zero_sector()
        n0 = M0.shape[0]
        config.check_memory(64.0 * n0 * n0 + 16.0 * d * d, f"the kernel of the dense ν = 0 sector ({n0} units)",
                            _ADVICE)
        layout = SimpleNamespace(dim=d, zero_rows=rows, zero_cols=cols)
        return zero_sector_state(M0.toarray().astype(complex), layout, k)

    def _scaled_zero(self, lp):
        """The KMS-scaled ν = 0 block M̂0 (entries e^{(lp_j + lp_l − lp_i − lp_k)/4}), or None when it
        is not Hermitian (:func:`_kms_hermitian`)."""
        rows, cols, M0 = self.zero_sector()
        return _kms_hermitian(M0, (lp[rows] + lp[cols]) / 4, self._held_bytes())

    def kernel_dim(self, betas) -> int:
        """dim ker 𝓛 = dim ker M0: rate-graph components (non-degenerate, finite β), else the exact
        block nullity of the sparse ν = 0 block — at one finite β of the Hermitian KMS-scaled M̂0
        (similar to M0: the same nullity; eigenvalues instead of an SVD), else of M0; beyond the
        budget, at one finite β, the zero eigenvalues of M̂0 counted by Lanczos."""
        M0 = self.zero_sector()[2]
        finite = all(math.isfinite(b) for b in betas)
        if not self.degenerate and finite:
            return sparse_components(M0)
        one_beta = finite and len(set(betas)) == 1
        Mh = self._scaled_zero(log_gibbs_populations(self.eb, betas[0])) if one_beta else None
        try:
            if Mh is None:
                return block_nullity(M0, held=self._held_bytes())
            return block_nullity(Mh, hermitian=True, held=self._held_bytes() + _sparse_bytes(Mh))
        except MemoryBudgetError as exc:
            err = exc
        if Mh is None:
            raise err
        scale = float(np.max(column_abs_sums(Mh)))
        ev = eigsh(Mh, k=min(8, Mh.shape[0] - 1), which="LA", return_eigenvectors=False,
                   v0=np.ones(Mh.shape[0]) / math.sqrt(Mh.shape[0]))
        return int(np.count_nonzero(ev >= -1e-10 * scale))

    def gap(self, k: int, beta, log_p) -> float:
        """−max Re λ over λ ≠ 0 (``k`` zero eigenvalues in the ν = 0 sector); ``beta`` the common finite
        β or None, ``log_p`` its Gibbs log-populations."""
        M0 = self.zero_sector()[2]
        gaps = []
        Mh = self._scaled_zero(log_p) if beta is not None and math.isfinite(beta) else None
        if Mh is not None:
            lp0 = np.full(Mh.shape[0], -np.inf)
            lp0[: self.d] = log_p
            gaps.append(top_gap(Mh, k, lp0))
            del Mh, lp0                 # not held while the blocks are built
        else:
            n0 = M0.shape[0]
            config.check_memory(48.0 * n0 * n0, f"dense eigenvalues of the ν = 0 sector ({n0} units)", _ADVICE)
            ev = np.linalg.eigvals(M0.toarray())
            rest = ev[np.argsort(np.abs(ev))][k:]
            gaps.append(-float(np.max(rest.real)) if rest.size else math.inf)
        if self.scalar_top is None and self._scalar_top_all is not None and self._linked_simple_units().size == 0:
            self.scalar_top = self._scalar_top_all          # nothing linked: the certificate's scan said it
        if self.scalar_top is None:
            for _ in self.scalar_chunks():
                pass
        self._lsu = None                # the scan's list of linked units is not held while the blocks are built
        top = self.scalar_top
        gaps.append(-top)
        lp = log_p if beta is not None and math.isfinite(beta) else None
        gaps += list(self.block_gaps(lp, floor=min(gaps)))
        return max(float(min(gaps)), 0.0)


def _kms_hermitian(M: sp.csr_array, g: np.ndarray, held: float, tol: float = 1e-12) -> sp.csr_array | None:
    """M̂ = (M ∘ e^{g_n − g_m})_mn, or None when it is not Hermitian.

    M is the ν = 0 block of a Davies generator whose baths share one finite β; KMS detailed balance
    makes M̂ Hermitian up to round-off. That is verified on two random vectors v (E‖Av‖² = ‖A‖_F²):
    ‖(M̂ − M̂†)v‖ ≤ 2·tol·‖M̂‖_F, with M̂†v = conj(M̂ᵀ conj v) from M̂ itself (a CSC view, no transposed
    copy). M̂ is scaled in row chunks (log domain, no overflow): one matrix of M's size is allocated
    (a d = 16384 Pauli matrix: 7.5·10⁷ rates, 0.9 GB)."""
    config.check_memory(held + _sparse_bytes(M), f"the KMS-scaled ν = 0 block ({M.nnz} entries)", _ADVICE)
    Mh = sp.csr_array(M, copy=True)
    for _, _, a, b, rows in row_chunks(Mh):
        Mh.data[a:b] = log_scaled(Mh.data[a:b], g[Mh.indices[a:b]] - g[rows], shift=0.0)[0]
    frobenius = math.sqrt(_sumsq(Mh.data))
    rng = np.random.default_rng(0)
    for _ in range(2):
        v = rng.standard_normal(Mh.shape[0])
        if np.linalg.norm(Mh @ v - np.conj(Mh.T @ v)) > 2 * tol * frobenius:
            return None
    return Mh


def _sparse_bytes(A) -> float:
    """Bytes of a csr matrix's arrays."""
    return float(A.data.nbytes + A.indices.nbytes + A.indptr.nbytes)


def _real_if_possible(A: sp.csr_array) -> sp.csr_array:
    """A csr matrix with an identically zero imaginary part as a real one (its own arrays)."""
    if np.iscomplexobj(A.data) and not np.any(A.data.imag):
        return sp.csr_array((np.ascontiguousarray(A.data.real), A.indices.copy(), A.indptr.copy()), shape=A.shape)
    return A


def _add_sparse(acc: _ScaledSums, A, lp, s, rows, cols, groups, held: float) -> None:
    """Add the σ-scaled sparse ν = 0 block A (units rows/cols) to the accumulated norms of ``groups``:
    "hat" (𝓛̂) and/or "dis" (𝓓̂) — both when A has no coherent part (:meth:`BlockwiseForm.zero_sector`).
    ``held``: the bytes already held (the budget check of the adjoint copy adds them).

    In chunks of rows of ≈ ``sparse_rows.CHUNK`` entries: the rows r0:r1 of Â and of Â† (from one conjugate
    transposed copy of A), Â_mn = A_mn e^{x(m, n)} with x of :func:`sigma_exponent`, so that beside A
    and A† only O(chunk) numbers are held (a d = 16384 Pauli matrix has 7.5·10⁷ rates)."""
    A = sp.csr_array(A)
    if A.nnz == 0:
        return
    config.check_memory(held + 1.5 * _sparse_bytes(A), f"the adjoint of the ν = 0 block ({A.nnz} entries)", _ADVICE)
    A.sum_duplicates()                              # canonical: sorted indices, no duplicates
    At = sp.csr_array(A.T.tocsr())                  # one transposed copy (canonical too), conjugated in place
    if np.iscomplexobj(At.data):
        np.conjugate(At.data, out=At.data)
    # a structurally symmetric A (every rate has its reverse): Â and Â† share one pattern, and Â − Â† is
    # the difference of their data; otherwise it is assembled per chunk
    same = np.array_equal(A.indptr, At.indptr) and np.array_equal(A.indices, At.indices)
    n = A.shape[0]
    for r0, r1, a, b, _ in row_chunks(A):
        ri, ci, di, xi = _scaled_rows(A, r0, r1, lp, s, rows, cols, False)
        if same:        # Â†'s entries at the same places: conj A_nm, scaled by x(n, m) = −x(m, n)
            dj, xj = At.data[a:b], -xi
        else:
            rj, cj, dj, xj = _scaled_rows(At, r0, r1, lp, s, rows, cols, True)
        c = max(max_log_magnitude(di, xi), max_log_magnitude(dj, xj))
        if not np.isfinite(c):
            continue
        hi, hj = log_scaled(di, xi, shift=c)[0], log_scaled(dj, xj, shift=c)[0]
        if same:
            anti = _sumsq(hi - hj)
        else:
            shape = (r1 - r0, n)
            anti = _sumsq((sp.csr_array((hi, (ri, ci)), shape=shape)
                           - sp.csr_array((hj, (rj, cj)), shape=shape)).data)
        norm = _sumsq(hi)
        for group, key_norm, key_anti in (("hat", "norm_hat", "antisym"),
                                          ("dis", "dissipative_norm", "dissipative_antisym")):
            if group not in groups:
                continue
            acc._rescale(group, c)
            acc._put(key_norm, norm, c)
            acc._put(key_anti, anti, c)


def _scaled_rows(A: sp.csr_array, r0: int, r1: int, lp, s, rows, cols, swap: bool):
    """(local row, column, value, σ-exponent) of the entries in rows r0:r1 of A; ``swap``: A holds
    the entries of 𝓛† (A_mn = conj 𝓛_nm), scaled by x(n, m)."""
    a, b = A.indptr[r0], A.indptr[r1]
    r = entry_rows(A, r0, r1)
    c = A.indices[a:b]
    if swap:
        x = sigma_exponent(lp, s, rows[c], cols[c], rows[r], cols[r])
    else:
        x = sigma_exponent(lp, s, rows[r], cols[r], rows[c], cols[c])
    return r - r0, c, A.data[a:b], x
