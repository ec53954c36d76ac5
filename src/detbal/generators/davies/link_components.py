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
from scipy.sparse.linalg import ArpackNoConvergence, eigsh

from ... import config
from ...eigenbasis import log_scaled

__all__ = ["LINK_BYTES", "component_batches", "forest_bytes", "link_chunks", "link_counts", "pair_bound", "sparse_block_top",
           "stream_components"]

_CHUNK = 1 << 22          # links per chunk
LINK_BYTES = 56.0         # bytes per listed link (four indices and a value, as BlockwiseForm.links)
_FOREST_CHUNK = 1 << 24   # parents per step of the global pointer jumping


def link_chunks(form, chunk: int | None = None, keep=None):
    """Yield (bath, a, b, ai, ak, ci, ck) chunk by chunk: the links of :meth:`.blockwise.BlockwiseForm.links`,
    whole groups of one bath at a time (a group of k² > ``chunk`` pairs in slices of its rows);
    ``a``, ``b`` index the bath's stored transitions (value T_a conj(T_b)). ``keep``: a function of
    the row level-pair keys lab(i)·nL + lab(k) → bool mask, applied before anything else is gathered.

    Memory: the order of the bath's group transitions (8 B each) and one chunk (≈ 100 B per pair)."""
    chunk = _CHUNK if chunk is None else int(chunk)
    lab, levels, nL = form.lab, form.levels, form.levels.shape[0]
    lo, hi = form.groups
    G = lo.shape[0]
    careful = (hi - lo) > 0.5 * form.eb.tol
    for bath, c in enumerate(form.data):
        i, j, _, code = c.special
        sel = np.flatnonzero((code != 0) & (np.abs(code) <= G))
        if sel.size == 0:
            continue
        sel = sel[np.argsort(code[sel], kind="stable")]
        cs = code[sel]
        starts = np.flatnonzero(np.r_[True, cs[1:] != cs[:-1]])
        sizes = np.diff(np.r_[starts, sel.size]).astype(np.int64)
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


def form_codes(form):
    """c(i, k) of eigenvector pairs (:func:`.blockwise.transition_codes` of the form's levels)."""
    from .blockwise import transition_codes

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
    G = form.groups[0].shape[0]
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
    component numbers (ordered by each component's smallest key), and ``labels`` the dense (nL²,)
    array holding comp at the linked keys (garbage elsewhere). Memory: :func:`forest_bytes`, one
    chunk of links, 16 B per linked pair."""
    nL = form.levels.shape[0]
    N = nL * nL
    dtype = np.int32 if N < 2 ** 31 else np.int64
    config.check_memory(held + forest_bytes(nL) + 100.0 * min(_CHUNK, pair_bound(form)),
                        f"the union–find forest of the {N} level pairs (d = {form.d}) and one chunk of links",
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
    comp = P[root].astype(np.int64)
    del root, is_root
    P[keys] = comp
    return keys, comp, ncomp, P


def link_counts(form, labels: np.ndarray, ncomp: int) -> np.ndarray:
    """Number of links per component (one pass over the chunks)."""
    nL = form.levels.shape[0]
    out = np.zeros(ncomp, np.int64)
    for _, _, _, ai, ak, _, _ in link_chunks(form):
        out += np.bincount(labels[form.lab[ai].astype(np.int64) * nL + form.lab[ak]], minlength=ncomp)
    return out


def component_batches(form, labels, comp_bytes: np.ndarray, room: float):
    """Yield (c0, c1, links) for consecutive component ranges [c0, c1) whose ``comp_bytes`` sum to at
    most ``room`` (a component alone may exceed it; the caller checks the budget): ``links`` the
    (ai, ak, ci, ck, value) of the links of those components, one pass over the chunks per range."""
    nL = form.levels.shape[0]
    lab = form.lab
    ncomp = comp_bytes.shape[0]
    cum = np.cumsum(comp_bytes)
    c0 = 0
    while c0 < ncomp:
        base = cum[c0] - comp_bytes[c0]
        c1 = max(c0 + 1, int(np.searchsorted(cum, base + room, side="right")))

        def keep(key, c0=c0, c1=c1):
            lb = labels[key]
            return (lb >= c0) & (lb < c1)

        out = [[], [], [], [], []]
        for bath, a, b, ai, ak, ci, ck in link_chunks(form, keep=keep):
            tv = form.data[bath].special[2]
            for x, arr in zip(out, (ai, ak, ci, ck, tv[a] * np.conj(tv[b]))):
                x.append(arr)
        yield c0, c1, tuple(np.concatenate(x) if x else np.zeros(0) for x in out)
        c0 = c1


def sparse_block_top(rows, cols, lp_entries, link_entries, E_coh, log_p, held: float, advice: str) -> float:
    """max Re λ of one component's block, assembled sparse.

    Args:
        rows, cols: (n,) the units |rows⟩⟨cols| of the component.
        lp_entries: (r, c, D, M − D) of the level-pair terms (local unit indices r, c; D the dissipative
            value, M − D the coherent one, nonzero on the diagonal only).
        link_entries: (r, c, value) of the links (dissipative).
        E_coh: (n,) the coherent diagonal −i n(E_i − E_k) of the units.
        log_p: Gibbs log-populations of the common β, or None.

    With ``log_p`` and a coherent part −iν·I (spread ≤ 1e-13 of the block's largest entry), Re λ are the
    eigenvalues of the KMS-scaled D̂ (D̂_ac = D_ac e^{g_c − g_a}, g = (log p_i + log p_k)/4); when D̂ is
    Hermitian (‖D̂ − D̂†‖_F ≤ 1e-12‖D̂‖_F) its top eigenvalue comes from Lanczos (``eigsh``, largest
    algebraic, to machine precision). Otherwise, or if ARPACK does not converge, the dense eigenvalues
    (memory-budget checked)."""
    n = rows.shape[0]
    r = np.concatenate([lp_entries[0], link_entries[0]])
    c = np.concatenate([lp_entries[1], link_entries[1]])
    v = np.concatenate([lp_entries[2], link_entries[2]])
    config.check_memory(held + 60.0 * r.shape[0] + 200.0 * n, f"the sparse block of {n} coupled units ({r.shape[0]} "
                        "entries)", advice)
    D = sp.csr_array(sp.coo_array((v, (r, c)), shape=(n, n)))
    del r, c, v
    scale = max(float(np.max(np.abs(D.data), initial=0.0)), float(np.max(np.abs(E_coh), initial=0.0)), 1e-300)
    spread = float(np.max(np.abs(E_coh - E_coh[0]), initial=0.0))
    if log_p is not None and spread <= 1e-13 * scale:
        g = (log_p[rows] + log_p[cols]) / 4
        Dh = sp.coo_array(D)
        Dh = sp.csr_array((log_scaled(Dh.data, g[Dh.col] - g[Dh.row], shift=0.0)[0], (Dh.row, Dh.col)), shape=(n, n))
        diff = Dh - Dh.conj().T
        fro = math.sqrt(float(np.sum(np.abs(Dh.data) ** 2)))
        if math.sqrt(float(np.sum(np.abs(diff.data) ** 2))) <= 1e-12 * fro:
            del diff
            A = sp.csr_array((Dh + Dh.conj().T) / 2)
            if not np.any(np.iscomplex(A.data)):
                A = sp.csr_array(A.real) if np.iscomplexobj(A.data) else A
            try:
                top = eigsh(A, k=1, which="LA", v0=np.ones(n) / math.sqrt(n), tol=0.0, maxiter=20 * n,
                            return_eigenvectors=False)
                return float(top[0])
            except ArpackNoConvergence:
                config.check_memory(held + 3.0 * 16 * n * n, f"dense eigenvalues of a block of {n} coupled units",
                                    advice)
                return float(np.max(np.linalg.eigvalsh(A.toarray())))
    config.check_memory(held + 4.0 * 16 * n * n, f"dense eigenvalues of a non-Hermitian block of {n} coupled units",
                        advice)
    M = D.toarray().astype(complex)
    M[np.arange(n), np.arange(n)] += E_coh
    return float(np.max(np.linalg.eigvals(M).real))

