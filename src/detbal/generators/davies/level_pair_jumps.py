"""The jump terms of the ν = 0 sector of a blockwise Davies generator, written into the sparse block
in place (internal: :meth:`.blockwise.BlockwiseForm.zero_sector`).

The ν = 0 units are the populations |i⟩⟨i| and the coherences |i⟩⟨k| inside a degenerate level. A
transition j → i of bath b between the levels B ∋ j and A ∋ i (A ≠ B) gives, with every transition
l → k of the same bath and level pair, the entry T_b,ij conj(T_b,kl) at row (i, k), column (j, l)
(T_b,ij = √γ_b(E_j − E_i) S̃_b,ij). A level pair with a degenerate level and t transitions carries t²
of them: on the integrable XXZ chain at d = 16384 they number 1.1·10⁸, against 7.5·10⁷ Pauli rates.
Built as COO triples with their index pairs (≈ 72 B per term, 8 GB by count) they took the whole
`detbal analyze` process to 13.8 GB (measured, /usr/bin/time); here they are generated level pair by
level pair in chunks, counted per row in a first pass and written into the csr arrays of the block in
a second, so the block is the only large allocation (12 B per entry for a real one).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ... import config
from ...linalg.sparse_rows import row_chunks
from .sector_kernel import _within_groups

__all__ = ["LevelPairJumps"]

_CHUNK = 1 << 22          # jump terms per chunk


class LevelPairJumps:
    """The jump terms of the level pairs A ≠ B with a degenerate level (module docstring), and the
    ν = 0 block M0 = W + E assembled with them.

    ``form`` the :class:`.blockwise.BlockwiseForm`, ``unit(i, k)`` the ν = 0 unit of |i⟩⟨k| (of n0)."""

    def __init__(self, form, unit, n0: int, advice: str, held_text: str):
        self.form, self.unit, self.n0, self.advice, self.held_text = form, unit, int(n0), advice, held_text
        lab, deg = form.lab, form.deg
        nL = form.levels.shape[0]
        touching = [(deg[lab[c.special[0]]] > 1) | (deg[lab[c.special[1]]] > 1) for c in form.data]
        n_touch = sum(float(np.count_nonzero(m)) for m in touching)
        # per bath: positions and level-pair keys of these transitions, sorted by key (≈ 24 B each while sorting)
        config.check_memory(form._held_bytes() + 24.0 * n_touch,
                            f"the order of the {int(n_touch)} transitions at degenerate levels (d = {form.d}), "
                            f"{held_text},", advice)
        self.per_bath, self.intra = [], []
        unique_keys, weights = [], []
        for c, touch in zip(form.data, touching):
            i, j = c.special[0], c.special[1]
            same = lab[i] == lab[j]
            self.intra.append(np.flatnonzero(touch & same))
            t = np.flatnonzero(touch & ~same)
            key = lab[i[t]].astype(np.int64) * nL + lab[j[t]]
            order = np.argsort(key, kind="stable")
            t, key = t[order], key[order]
            self.per_bath.append((t, key))
            u, count = np.unique(key, return_counts=True)
            unique_keys.append(u)
            weights.append(count.astype(float) ** 2)
        keys = np.concatenate(unique_keys) if unique_keys else np.zeros(0, np.int64)
        self.keys, inverse = np.unique(keys, return_inverse=True)
        self.weights = np.bincount(inverse, weights=np.concatenate(weights) if weights else None,
                                   minlength=self.keys.size)
        self.count = float(self.weights.sum())      # an upper bound: population pairs are left out later

    def _triples(self, positions):
        """(R, C, V) of the terms of the given transitions (per bath: positions into its stored
        transitions) paired within equal ``pairs_key`` (level pair and bath), population pairs left
        out, equal places of different baths summed."""
        form, unit = self.form, self.unit
        parts = [(c.special, pos) for c, pos in zip(form.data, positions) if pos.size]
        if not parts:
            empty = np.zeros(0, np.int64)
            return empty, empty, np.zeros(0)
        i = np.concatenate([s[0][pos] for s, pos in parts])
        j = np.concatenate([s[1][pos] for s, pos in parts])
        tv = np.concatenate([s[2][pos] for s, pos in parts])
        bath = np.concatenate([np.full(pos.size, b, np.int64) for b, (_, pos) in enumerate(parts)])
        nL = form.levels.shape[0]
        a, b = _within_groups((form.lab[i].astype(np.int64) * nL + form.lab[j]) * len(parts) + bath)
        keep = (i[a] != i[b]) | (j[a] != j[b])
        a, b = a[keep], b[keep]
        R, C, V = unit(i[a], i[b]), unit(j[a], j[b]), tv[a] * np.conj(tv[b])
        if len(parts) > 1:                               # one place, several baths: one entry
            key = R.astype(np.int64) * self.n0 + C
            order = np.argsort(key, kind="stable")
            key, R, C, V = key[order], R[order], C[order], V[order]
            first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
            R, C, V = R[first], C[first], np.add.reduceat(V, first)
        return R, C, V

    def intra_level(self):
        """Lists [R], [C], [V] of the jump terms inside the degenerate levels (transitions j → i and
        l → k in one level; a small part, summed with −½{G, ·} by the caller)."""
        R, C, V = self._triples(self.intra)
        return [R], [C], [V]

    def chunks(self):
        """Yield (R, C, V) of the terms of the level pairs A ≠ B, ≈ ``_CHUNK`` at a time (whole level
        pairs, all baths)."""
        if self.keys.size == 0:
            return
        cum = np.cumsum(self.weights)
        a = 0
        while a < self.keys.size:
            done = cum[a - 1] if a else 0.0
            b = max(a + 1, int(np.searchsorted(cum, done + _CHUNK, side="right")))
            k0, k1 = self.keys[a], self.keys[b - 1]
            positions = []
            for t, key in self.per_bath:
                lo, hi = np.searchsorted(key, k0, side="left"), np.searchsorted(key, k1, side="right")
                positions.append(t[lo:hi])
            yield self._triples(positions)
            a = b

    def assemble(self, W: sp.csr_array, small: sp.csr_array) -> sp.csr_array:
        """M0 = W (top-left, populations) + ``small`` + the level-pair terms, as one n0×n0 csr filled in
        place: each row holds W's entries, then small's, then the level pairs' (in chunk order)."""
        d, n0 = W.shape[0], self.n0
        counts = np.zeros(n0, dtype=np.int64)
        counts[:d] += np.diff(W.indptr)
        counts += np.diff(small.indptr)
        for R, _, _ in self.chunks():
            counts += np.bincount(R, minlength=n0)
        nnz = int(counts.sum())
        index = np.int32 if max(nnz, n0) < 2 ** 31 else np.int64
        dtype = np.result_type(W.dtype, small.dtype, *(c.special[2].dtype for c in self.form.data))
        per_entry = np.dtype(index).itemsize + np.dtype(dtype).itemsize
        # beside the block: its row pointers and one chunk's terms with their pairs (≈ 80 B each)
        config.check_memory(self.form._held_bytes() + per_entry * nnz + 8.0 * n0 + 80.0 * min(_CHUNK, self.count),
                            f"the ν = 0 block: {nnz} entries, {int(self.count)} of them jump terms of degenerate "
                            f"levels (d = {self.form.d}), {self.held_text},", self.advice)
        indptr = np.zeros(n0 + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        del counts
        indices = np.empty(nnz, dtype=index)
        data = np.empty(nnz, dtype=dtype)
        fill = indptr[:-1].copy()                     # next free slot of each row
        for _, _, a, b, rows in row_chunks(W):
            _put(fill, indices, data, rows, W.indices[a:b], W.data[a:b])
        small_rows = np.repeat(np.arange(n0), np.diff(small.indptr))
        _put(fill, indices, data, small_rows, small.indices, small.data)
        for R, C, V in self.chunks():
            _put(fill, indices, data, R, C, V)
        return sp.csr_array((data, indices, indptr.astype(index)), shape=(n0, n0))


def _put(fill: np.ndarray, indices: np.ndarray, data: np.ndarray, R, C, V) -> None:
    """Write the entries (R, C, V) at the next free slots of their rows (``fill``, advanced)."""
    if R.size == 0:
        return
    order = np.argsort(R, kind="stable")
    R, C, V = R[order], C[order], V[order]
    first = np.flatnonzero(np.r_[True, R[1:] != R[:-1]])
    run = np.diff(np.r_[first, R.size])
    pos = np.repeat(fill[R[first]] - first, run) + np.arange(R.size)
    indices[pos] = C
    data[pos] = V
    fill[R[first]] += run
