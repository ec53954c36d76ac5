"""Components of linked level pairs and their blocks without the list of all links (internal: the gap
of :class:`.blockwise.BlockwiseForm` when the link list of :meth:`~.blockwise.BlockwiseForm.links`
exceeds the memory budget).

A link (module docstring of :mod:`.blockwise`) is an ordered pair (t, u) of transitions t = (i ← j),
u = (k ← l) of one bath in one multi-pair Bohr group, with lab(i) ≠ lab(k) and c(i, k) = c(j, l); it is
the entry 𝓛_{(i,k),(j,l)} = T_t conj(T_u) and joins the level pairs (lab i, lab k) and (lab j, lab l).
There are Σ_g k_g² of them (k_g transitions in group g), 3·10⁸ for the XXZ chain at N = 14; they are
generated here group by group in chunks (:func:`link_chunks`) and never held all at once:

1. components (:func:`stream_components`): a union–find forest over all nL² level pairs, one parent
   per pair in a dense array (P[x] ≤ x; a root is the smallest pair of its tree), fed chunk by chunk:
   hook roots by ``minimum.at`` and shortcut pointers until every link of the chunk joins one tree.
   Roots are the smallest keys of their components, so the components are numbered as by
   ``scipy.sparse.csgraph.connected_components`` on the listed links. Memory: 4·nL² bytes (int32
   parents; nL² ≥ 2³¹: 8) and one chunk;
2. blocks (:func:`component_batches`): the components are taken in batches of consecutive numbers
   whose links fit the budget; for each batch one more pass over the chunks keeps the links whose
   level pair lies in the batch (the dense array now holds each pair's component number).

The condition c(i, k) = c(j, l) only excludes links in a group wider than ``tol`` (frequencies
chained over more than tol): for |ω_t − ω_u| ≤ tol the gaps L_lab(i) − L_lab(k) and L_lab(j) − L_lab(l)
differ by ω_u − ω_t, so they chain into one group (and have one sign, distinct levels being more than
tol apart). It is evaluated for the groups wider than tol/2 (a margin for round-off), as the listed
links evaluate it for all.

A large component is not a dense block (:func:`sparse_block_top`): its block is assembled as a sparse
matrix — the level-pair terms of each of its level pairs (a dense n_A n_C × n_A n_C block each) and its
links — and its top eigenvalue found by Lanczos on the KMS-scaled dissipative part, Hermitian for a
generator in detailed balance at one β (as :func:`.sector_kernel.stack_gap` does it densely).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

from ... import config
from ...eigenbasis import log_scaled
from ...linalg.sparse_rows import row_chunks
from .bohr_groups import transition_codes

__all__ = ["LINK_BYTES", "NodeIndex", "component_batches", "forest_bytes", "group_order", "link_chunks", "link_counts",
           "order_bytes", "pair_bound", "release", "sparse_block_top", "stream_components"]

_CHUNK = 1 << 22          # links per chunk
LINK_BYTES = 56.0         # bytes per listed link (four indices and a value, as BlockwiseForm.links)
_FOREST_CHUNK = 1 << 24   # parents per step of the global pointer jumping


def link_chunks(form, chunk: int | None = None, keep=None):
    """Yield (bath, a, b, ai, ak, ci, ck) chunk by chunk: the links of :meth:`.blockwise.BlockwiseForm.links`,
    whole groups of one bath at a time (a group of k² > ``chunk`` pairs in slices of its rows);
    ``a``, ``b`` index the bath's stored transitions (value T_a conj(T_b)). ``keep``: a function of
    the row level-pair keys lab(i)·nL + lab(k) → bool mask, applied before anything else is gathered.

    Memory: the bath's group order (:func:`group_order`, cached) and one chunk (≈ 100 B per pair)."""
    chunk = _CHUNK if chunk is None else int(chunk)
    lab, nL = form.lab, form.levels.shape[0]
    lo, hi = form.groups
    careful = (hi - lo) > 0.5 * form.eb.tol
    for bath, c in enumerate(form.data):
        i, j, _, code = c.special
        sel, starts = group_order(form, bath)
        if sel.size == 0:
            continue
        sizes = np.diff(np.r_[starts, sel.size])
        for a, b in _pair_chunks(starts, sizes, chunk):
            a, b = sel[a], sel[b]
            ai, ak = i[a], i[b]
            m = (a != b) & (lab[ai] != lab[ak])
            if keep is not None:
                m &= keep(lab[ai].astype(np.int64) * nL + lab[ak])
            a, b, ai, ak = a[m], b[m], ai[m], ak[m]
            ci, ck = j[a], j[b]
            wide = careful[np.abs(code[a]) - 1]
            if np.any(wide):
                w = np.flatnonzero(wide)
                tc = form_codes(form)
                same = tc(ai[w], ak[w]) == tc(ci[w], ck[w])
                m = np.ones(a.shape[0], bool)
                m[w[~same]] = False
                a, b, ai, ak, ci, ck = a[m], b[m], ai[m], ak[m], ci[m], ck[m]
            if a.size:
                yield bath, a, b, ai, ak, ci, ck


def group_order(form, bath: int):
    """(sel, starts) of one bath: the positions of its transitions in multi-pair groups sorted by code
    (stable; int32 when they fit) and the first position of each group; cached on the form
    (``_group_order``, dropped by :func:`release`)."""
    cache = form.__dict__.setdefault("_group_order", {})
    if bath not in cache:
        code = form.data[bath].special[3]
        G = len(form.groups)
        sel = np.flatnonzero((code != 0) & (np.abs(code) <= G))
        sel = sel[np.argsort(code[sel], kind="stable")]
        cs = code[sel]
        starts = np.flatnonzero(np.r_[True, cs[1:] != cs[:-1]]) if sel.size else np.zeros(0, np.int64)
        del cs
        cache[bath] = (sel.astype(np.int32) if code.shape[0] < 2 ** 31 else sel, starts)
    return cache[bath]


def order_bytes(form) -> float:
    """Bytes of the cached group orders of all baths (an upper bound before they are built)."""
    G = len(form.groups)
    total = 0.0
    for c in form.data:
        code = c.special[3]
        n = float(np.count_nonzero((code != 0) & (np.abs(code) <= G)))
        total += 12.0 * n
    return total


def _search_right(sorted_values: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``np.searchsorted(sorted_values, x, side="right")``, the needles sorted first when the values
    do not fit in cache: ordered needles keep the binary search in cache. Measured, 4·10⁶ needles:
    1.6× faster in 10⁶ values, break-even near 3·10⁵, 2.8× slower in 3·10³ (the argsort dominates)."""
    if x.size < 1 << 12 or sorted_values.size < 1 << 18:
        return np.searchsorted(sorted_values, x, side="right")
    order = np.argsort(x)
    out = np.empty(x.shape, dtype=np.intp)
    out[order] = np.searchsorted(sorted_values, x[order], side="right")
    return out


def release(form) -> None:
    """Drop the cached group orders."""
    form.__dict__.pop("_group_order", None)


def form_codes(form):
    """c(i, k) of eigenvector pairs (:func:`.bohr_groups.transition_codes` of the form's levels)."""
    return lambda i, k: transition_codes(form.levels, form.lab, form.groups, i, k)[0]


def _pair_chunks(starts: np.ndarray, sizes: np.ndarray, chunk: int):
    """(a, b) positions (into the sorted transitions) of all ordered pairs inside each group (groups at
    ``starts`` of ``sizes``), row-major per group as :func:`.sector_kernel._within_groups`, in chunks of
    ≈ ``chunk`` pairs: consecutive small groups together, a group of more pairs in slices of rows."""
    sq = sizes * sizes
    cum = np.cumsum(sq)
    g0, ng = 0, starts.shape[0]
    while g0 < ng:
        base = cum[g0] - sq[g0]
        g1 = int(np.searchsorted(cum, base + chunk, side="right"))
        if g1 <= g0:                        # one group of more than ``chunk`` pairs: rows in slices
            s, k = int(starts[g0]), int(sizes[g0])
            step = max(1, chunk // k)
            for r0 in range(0, k, step):
                r1 = min(k, r0 + step)
                off = np.arange((r1 - r0) * k, dtype=np.int64)
                yield s + r0 + off // k, s + off % k
            g0 += 1
            continue
        st, sz, q = starts[g0:g1], sizes[g0:g1], sq[g0:g1]
        g = np.repeat(np.arange(g1 - g0), q)
        off = np.arange(int(q.sum()), dtype=np.int64) - np.repeat(np.cumsum(q) - q, q)
        yield st[g] + off // sz[g], st[g] + off % sz[g]
        g0 = g1


def _shortcut(P: np.ndarray, x: np.ndarray) -> None:
    """Point every x at its root (P[x] ← P[P[x]] until P[x] is a fixed point)."""
    while True:
        p = P[x]
        pp = P[p]
        if np.array_equal(p, pp):
            return
        P[x] = pp


def _union(P: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
    """Join the trees of u[e] and v[e] for every e: hook the larger root under the smaller
    (``minimum.at``: of several hooks of one root the smallest wins, the others are retried)."""
    while u.size:
        _shortcut(P, u)
        _shortcut(P, v)
        ru, rv = P[u], P[v]
        ne = ru != rv
        if not np.any(ne):
            return
        u, v, ru, rv = u[ne], v[ne], ru[ne], rv[ne]
        np.minimum.at(P, np.maximum(ru, rv), np.minimum(ru, rv))


def pair_bound(form) -> float:
    """Σ_b Σ_g k_b,g²: the ordered pairs of transitions inside the multi-pair groups, bath by bath
    (the links are those of different level pairs among them)."""
    G = len(form.groups)
    total = 0.0
    for c in form.data:
        code = c.special[3]
        counts = np.unique(code[(code != 0) & (np.abs(code) <= G)], return_counts=True)[1].astype(float)
        total += float(np.sum(counts * counts))
    return total


def forest_bytes(nL: int) -> float:
    """Bytes of the dense parent array over the nL² level pairs and the flags of linked ones."""
    n = float(nL) * nL
    return (4.0 if n < 2 ** 31 else 8.0) * n + n


def stream_components(form, held: float, advice: str):
    """(keys, comp, ncomp, labels) of the linked level pairs, as :meth:`.blockwise.BlockwiseForm._components`
    finds them from the listed links: ``keys`` the sorted level-pair keys A·nL + C, ``comp`` their
    component numbers (ordered by each component's smallest key; int32 below 2³¹ pairs), and ``labels`` the dense (nL²,)
    array holding comp at the linked keys (garbage elsewhere). Memory: :func:`forest_bytes`, one
    chunk of links, 16 B per linked pair."""
    nL = form.levels.shape[0]
    N = nL * nL
    dtype = np.int32 if N < 2 ** 31 else np.int64
    config.check_memory(held + forest_bytes(nL) + order_bytes(form) + 100.0 * min(_CHUNK, pair_bound(form)),
                        f"the union–find forest of the {N} level pairs (d = {form.d}), the order of the "
                        "transitions in their groups and one chunk of links",
                        advice)
    P = np.arange(N, dtype=dtype)
    lab = form.lab
    for _, _, _, ai, ak, ci, ck in link_chunks(form):
        u = (lab[ai].astype(np.int64) * nL + lab[ak]).astype(dtype)
        v = (lab[ci].astype(np.int64) * nL + lab[ck]).astype(dtype)
        _union(P, u, v)
    # every pair at its root (pointer jumping over the whole array), then the linked pairs: those
    # not a root and the roots they point at
    while True:
        changed = False
        for s in range(0, N, _FOREST_CHUNK):
            p = P[s:s + _FOREST_CHUNK]
            pp = P[p]
            if not np.array_equal(p, pp):
                P[s:s + _FOREST_CHUNK] = pp
                changed = True
        if not changed:
            break
    linked = np.zeros(N, bool)
    for s in range(0, N, _FOREST_CHUNK):
        p = P[s:s + _FOREST_CHUNK]
        nr = np.flatnonzero(p != np.arange(s, s + p.shape[0], dtype=dtype))
        linked[s + nr] = True
        linked[p[nr]] = True
    keys = np.flatnonzero(linked).astype(np.int64)
    del linked
    root = P[keys]
    is_root = root == keys
    ncomp = int(np.count_nonzero(is_root))
    P[keys[is_root]] = np.arange(ncomp, dtype=dtype)
    comp = P[root]
    del root, is_root
    P[keys] = comp
    release(form)                 # the group orders are rebuilt by the blocks' passes, not held in between
    return keys, comp, ncomp, P


def link_counts(form, labels: np.ndarray, ncomp: int) -> np.ndarray:
    """Number of links per component (one pass over the chunks)."""
    nL = form.levels.shape[0]
    out = np.zeros(ncomp, np.int64)
    for _, _, _, ai, ak, _, _ in link_chunks(form):
        out += np.bincount(labels[form.lab[ai].astype(np.int64) * nL + form.lab[ak]], minlength=ncomp)
    return out


class NodeIndex:
    """The level pairs ``keys`` (sorted) of components ``comp`` (0..ncomp−1) and their units: a
    component's units are its level pairs' units (i, k), i in A, k in C, level pairs in key order,
    each as :func:`.sectors._expand_pairs` lists them. ``first[c]``: the first unit of component c in
    the concatenation; ``offset[p]``: the first unit of level pair p inside its component."""

    def __init__(self, form, keys, comp, ncomp):
        nL = form.levels.shape[0]
        self.form, self.keys, self.comp, self.ncomp = form, keys, comp, ncomp
        A, C = np.divmod(keys, nL)
        size = (form.deg[A] * form.deg[C]).astype(np.int64)
        self.units = np.bincount(comp, weights=size, minlength=ncomp).astype(np.int64)
        self.first = np.cumsum(self.units) - self.units
        self.order = np.argsort(comp, kind="stable")          # level pairs by component, keys ascending
        before = np.cumsum(size[self.order]) - size[self.order]
        self.offset = np.empty(keys.shape[0], np.int64)
        self.offset[self.order] = before - self.first[comp[self.order]]

    def local(self, i, k):
        """(component, unit inside it) of the units (i, k) of linked level pairs."""
        f = self.form
        li, lk = f.lab[i], f.lab[k]
        p = _search_right(self.keys, li.astype(np.int64) * f.levels.shape[0] + lk) - 1
        return self.comp[p], self.offset[p] + (i - f.start[li]) * f.deg[lk] + (k - f.start[lk])

    def group(self, ai, ak, ci, ck, val, counts=None):
        """The links (ai, ak) ← (ci, ck) with values ``val``, as (loff, la, lc, lval): grouped by
        component (component c's links are loff[c]:loff[c+1], in the given order), la, lc their units
        inside it (int32 when the largest component allows)."""
        c, la = self.local(ai, ak)
        _, lc = self.local(ci, ck)
        o = np.argsort(c, kind="stable")
        it = np.int32 if int(self.units.max(initial=0)) < 2 ** 31 else np.int64
        loff = np.r_[0, np.cumsum(np.bincount(c, minlength=self.ncomp))]
        return loff, la[o].astype(it), lc[o].astype(it), val[o]


def component_batches(form, keys, comp, labels, nlinks, cost: np.ndarray, room: float, value_dtype):
    """Yield (c0, c1, index, links) for consecutive component ranges [c0, c1) whose ``cost`` sums to at
    most ``room`` (a component alone may exceed it; the caller checks the budget): ``index`` the
    :class:`NodeIndex` of those components (numbered from 0), ``links`` their links as
    :meth:`NodeIndex.group` gives them, written chunk by chunk into arrays allocated once (``nlinks``:
    links per component, from :func:`link_counts`). One pass over the chunks per range."""
    ncomp = cost.shape[0]
    cum = np.cumsum(cost)
    c0 = 0
    while c0 < ncomp:
        base = cum[c0] - cost[c0]
        c1 = max(c0 + 1, int(np.searchsorted(cum, base + room, side="right")))
        m = (comp >= c0) & (comp < c1)
        index = NodeIndex(form, keys[m], comp[m] - c0, c1 - c0)
        del m
        counts = nlinks[c0:c1]
        loff = np.r_[0, np.cumsum(counts)]
        n = int(loff[-1])
        it = np.int32 if int(index.units.max(initial=0)) < 2 ** 31 else np.int64
        la, lc, lval = np.empty(n, it), np.empty(n, it), np.empty(n, value_dtype)
        cursor = loff[:-1].copy()

        def keep(key, c0=c0, c1=c1):
            lb = labels[key]
            return (lb >= c0) & (lb < c1)

        for bath, a, b, ai, ak, ci, ck in link_chunks(form, keep=keep):
            tv = form.data[bath].special[2]
            cc, xa = index.local(ai, ak)
            _, xc = index.local(ci, ck)
            o = np.argsort(cc, kind="stable")
            cc = cc[o]
            heads = np.flatnonzero(np.r_[True, cc[1:] != cc[:-1]])
            rank = np.arange(cc.shape[0]) - np.repeat(heads, np.diff(np.r_[heads, cc.shape[0]]))
            pos = cursor[cc] + rank
            la[pos], lc[pos], lval[pos] = xa[o], xc[o], (tv[a] * np.conj(tv[b]))[o]
            np.add.at(cursor, cc[heads], np.diff(np.r_[heads, cc.shape[0]]))
        yield c0, c1, index, (loff, la, lc, lval)
        del la, lc, lval, index
        c0 = c1


def sparse_block_top(rows, cols, lp_entries, link_entries, E_coh, log_p, held: float, advice: str,
                     spread_tol: float = 0.0) -> float:
    """max Re λ of one component's block M = P + L + diag(E_coh), assembled sparse.

    Args:
        rows, cols: (n,) the units |rows⟩⟨cols| of the component.
        lp_entries: (r, c, D) of the level-pair terms P (local unit indices r, c; dissipative values).
        link_entries: (r, c, value) of the links L (dissipative); these arrays are reordered (by row)
            and KMS-scaled in place: L is a csr matrix on them, no copy.
        E_coh: (n,) the coherent diagonal −i n(E_i − E_k) of the units.
        log_p: Gibbs log-populations of the common β, or None.
        spread_tol: the spread of the coherent diagonal that counts as one frequency ν (besides
            1e-13 of the largest entry, the dense blocks' criterion).

    With ``log_p`` and a coherent part −iν·I + iΔ (Δ real, spread ≤ the tolerance): the KMS scaling
    (D̂_ac = D_ac e^{g_c − g_a}, g = (log p_i + log p_k)/4, in place by row chunks) is a similarity and
    leaves the diagonal alone, so M ~ D̂ + diag(E_coh). When D̂ is Hermitian (checked on two random
    vectors as :func:`.blockwise._kms_hermitian` does; D̂† applied through transposed views) it is the
    Hermitian part of that matrix: every eigenvalue has Re λ ≤ λ_max(D̂) (numerical range), with
    equality for Δ = 0 and an O(‖Δ‖²/separation) difference otherwise (Δ ≤ n·tol: round-off of
    eigenvalues grouped as one Bohr frequency). λ_max(D̂) comes from Lanczos on x ↦ (D̂x + D̂†x)/2
    (``eigsh``, largest algebraic, to machine precision). Otherwise, or if ARPACK does not converge,
    the dense eigenvalues (memory-budget checked).

    Memory: beside the given arrays one index per row and the per-chunk temporaries of the scaling;
    the sort by rows takes 16 B per link while it runs."""
    n = rows.shape[0]
    la, lc, lval = link_entries
    nnz = la.shape[0]
    config.check_memory(held + 16.0 * nnz + 40.0 * lp_entries[0].shape[0] + 200.0 * n,
                        f"the sparse block of {n} coupled units ({nnz} links)", advice)
    o = np.argsort(la, kind="stable")
    for x in (la, lc, lval):
        x[:] = x[o]
    del o
    it = np.int32 if max(nnz, n) < 2 ** 31 else np.int64
    indptr = np.zeros(n + 1, it)
    np.cumsum(np.bincount(la, minlength=n), out=indptr[1:])
    L = sp.csr_array((lval, lc.astype(it, copy=False), indptr), shape=(n, n), copy=False)
    P = sp.csr_array(sp.coo_array((lp_entries[2], (lp_entries[0], lp_entries[1])), shape=(n, n)))
    P.sum_duplicates()
    top_entry = 0.0
    for _, _, a, b, _ in row_chunks(L):
        top_entry = max(top_entry, float(np.max(np.abs(L.data[a:b]), initial=0.0)))
    scale = max(top_entry, float(np.max(np.abs(P.data), initial=0.0)),
                float(np.max(np.abs(P.diagonal() + E_coh), initial=0.0)), 1e-300)
    spread = float(np.max(np.abs(E_coh - E_coh[0]), initial=0.0))
    if log_p is not None:
        g = (log_p[rows] + log_p[cols]) / 4
        for A in (L, P):
            for _, _, a, b, r in row_chunks(A):
                A.data[a:b] = log_scaled(A.data[a:b], g[A.indices[a:b]] - g[r], shift=0.0)[0]
    if log_p is not None and spread <= max(1e-13 * scale, spread_tol):
        Lt, Pt = L.T, P.T                         # csc views: D̂†x = conj(D̂ᵀ conj x)
        fro = math.sqrt(sum(float(np.sum(np.abs(A.data[a:b]) ** 2)) for A in (L, P) for _, _, a, b, _ in row_chunks(A)))
        real = not (np.iscomplexobj(L.data) or np.iscomplexobj(P.data))

        def adjoint(x):
            return (Lt @ x + Pt @ x) if real else np.conj(Lt @ np.conj(x) + Pt @ np.conj(x))

        rng = np.random.default_rng(0)
        hermitian = True
        for _ in range(2):
            v = rng.standard_normal(n)
            if np.linalg.norm(L @ v + P @ v - adjoint(v)) > 2e-12 * fro:
                hermitian = False
        if hermitian:
            op = LinearOperator((n, n), dtype=np.result_type(L.dtype, P.dtype),
                                matvec=lambda x: 0.5 * (L @ x + P @ x + adjoint(x)))
            try:
                top = eigsh(op, k=1, which="LA", v0=np.ones(n) / math.sqrt(n), tol=0.0, maxiter=20 * n,
                            return_eigenvectors=False)
                return float(top[0])
            except ArpackNoConvergence:
                config.check_memory(held + 16.0 * nnz + 3.0 * 16 * n * n,
                                    f"dense eigenvalues of a block of {n} coupled units", advice)
                A = (L + P).toarray()
                return float(np.max(np.linalg.eigvalsh((A + A.conj().T) / 2)))
    # the dense eigenvalues of D̂ + diag(E_coh) (similar to M; D̂ = D without log_p)
    config.check_memory(held + 16.0 * nnz + 4.0 * 16 * n * n,
                        f"dense eigenvalues of a non-Hermitian block of {n} coupled units", advice)
    M = (L + P).toarray().astype(complex)
    M[np.arange(n), np.arange(n)] += E_coh
    return float(np.max(np.linalg.eigvals(M).real))
