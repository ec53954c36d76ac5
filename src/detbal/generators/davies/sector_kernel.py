"""Kernels and gaps of a Davies generator from its Bohr sectors (internal).

Kernel dimensions of Pauli rate graphs (combinatorial: closed communicating classes), the ν = 0
kernel of degenerate spectra counted exactly from the sparse ν = 0 block (nullities of its
connected components), the population gap of a symmetrised Pauli matrix, and the Pauli kernel
for several temperatures.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ... import config
from ...classical.rate_matrix import RateMatrix
from ...classical.rate_matrix import closed_classes as rate_graph_closed_classes
from ...eigenbasis import log_scaled
from ...errors import InputError, NonUniqueSteadyStateError
from ...linalg.sparse_rows import row_chunks
from .sector_linalg import _sum_level_operators
from .sectors import _expand_levels, _level_table, index_dtype

__all__ = ["block_nullity", "closed_classes", "components", "kernel_dim", "nullity", "pauli_kernel", "stack_gap",
           "top_gap", "zero_sector_matrix", "zero_sector_state"]

_NULL_RTOL = 1e-10


def components(upper: np.ndarray) -> int:
    """Number of connected components of the undirected graph with edges ``upper | upper.T``.

    A breadth-first sweep by dense boolean mat-vecs (O(d²) per step, diameter steps) settles the
    usual connected case; otherwise ``scipy.sparse.csgraph.connected_components``.
    """
    d = upper.shape[0]
    if d <= 1:
        return d
    A = (upper | upper.T).astype(np.float32)
    reached = np.zeros(d, dtype=np.float32)
    reached[0] = 1.0
    count = 1
    while True:
        new = (A @ reached > 0) | (reached > 0)
        n = int(np.count_nonzero(new))
        if n == count:
            break
        reached, count = new.astype(np.float32), n
    if count == d:
        return 1
    return int(connected_components(sp.csr_array(A), directed=False)[0])


def closed_classes(S: np.ndarray) -> int:
    """Number of closed communicating classes of the rate graph S[m, n] = (rate n → m > 0)."""
    return len(rate_graph_closed_classes(S))


def nullity(M: np.ndarray) -> int:
    """Numerical kernel dimension: singular values ≤ 1e-10 × the largest (0-matrix: its size)."""
    s = np.linalg.svd(M, compute_uv=False)
    if s.size == 0 or s[0] == 0:
        return int(M.shape[0])
    return int(np.count_nonzero(s <= _NULL_RTOL * s[0]))


def zero_sector_state(M0: np.ndarray, sec, k: int) -> np.ndarray:
    """A stationary state from the kernel of the ν = 0 block (eigenbasis, (d, d)).

    The kernel is found component by component: the connected components of the sparsity graph
    of M0 (symmetrised) are invariant subspaces, so after a permutation M0 is block diagonal, its
    singular values are the union of those of the component blocks and its right (left) kernel
    the direct sum of theirs. The k smallest singular values over all components, with their
    singular vectors, are exactly the last k of one SVD of M0 — at the cost Σ_c n_c³ instead of
    n0³ (a conserved quantity or a jump that does not mix every level splits M0).

    k = 1: the kernel vector R, phase-fixed (Tr X > 0), Hermitised and normalised. k > 1: the
    projection of I/d onto the kernel along the left kernel L, 𝓟 = R (L†R)⁻¹ L†, a valid stationary
    state. Returns (d, d) complex ndarray.
    """
    d, n0 = sec.dim, M0.shape[0]
    ncomp, lab = connected_components(sp.csr_array(M0 != 0), directed=False)
    order = np.argsort(lab, kind="stable")
    members = np.split(order, np.cumsum(np.bincount(lab, minlength=ncomp))[:-1])
    found = []                                   # (singular value, component, position in it)
    vectors = []
    for c, idx in enumerate(members):
        U, s, Vh = np.linalg.svd(M0[np.ix_(idx, idx)])
        keep = np.argsort(s, kind="stable")[:k]  # no component contributes more than k
        vectors.append((U[:, keep], Vh[keep].conj().T))
        found += [(float(s[j]), c, t) for t, j in enumerate(keep)]
    found.sort(key=lambda f: f[0])
    R = np.zeros((n0, k), dtype=np.complex128)
    L = np.zeros((n0, k), dtype=np.complex128)
    for col, (_, c, t) in enumerate(found[:k]):
        L[members[c], col] = vectors[c][0][:, t]
        R[members[c], col] = vectors[c][1][:, t]
    v = np.zeros(n0, dtype=np.complex128)
    v[:d] = 1.0 / d
    if k == 1:
        x = R[:, 0]
        t = np.sum(x[:d])
        if t != 0:
            x = x * (np.conj(t) / abs(t))
    else:
        x = R @ np.linalg.solve(L.conj().T @ R, L.conj().T @ v)
    X = np.zeros((d, d), dtype=np.complex128)
    X[sec.zero_rows, sec.zero_cols] = x
    X = (X + X.conj().T) / 2
    return X / np.trace(X).real


def top_gap(What, k: int, log_p: np.ndarray) -> float:
    """−(k+1)-th largest eigenvalue of a Hermitian negative semidefinite matrix whose k largest
    eigenvalues are 0, with √p = e^{log p/2} in its kernel (a symmetrised Pauli matrix, dense; or
    a KMS-symmetrised ν = 0 block, sparse, log p = −∞ off the populations).

    d < LANCZOS_MIN_DIM (or k > 1): LAPACK ``syevr`` for the top k+1 eigenvalues only. Larger,
    k = 1: Lanczos (``eigsh``, largest algebraic) on Ŵ − c·uuᵀ, u = √p the known kernel vector and
    c a Gershgorin bound (moves 0 below the spectrum), converged to machine precision; ``syevr``
    is the fallback if ARPACK does not converge. Measured (random-field Heisenberg chain, ~100
    Lanczos steps): d = 1024 26 ms vs 107 ms for ``eigvalsh``, d = 4096 0.5 s vs 4 s.
    """
    d = What.shape[0]
    if d <= k:
        return math.inf
    if d >= config.LANCZOS_MIN_DIM and k == 1:
        from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

        u = np.exp(0.5 * log_p)
        u /= np.linalg.norm(u)
        # Gershgorin: c ≥ max_n Σ_m |Ŵ_mn| bounds |λ|; for a dense Pauli matrix (off-diagonal
        # rates ≥ 0) the column sum Σ_m Ŵ_mn − 2Ŵ_nn is that, without a d×d |Ŵ|
        if sp.issparse(What):
            c = 1.01 * float(np.max(column_abs_sums(What)))
        else:
            c = 1.01 * float(np.max(What.sum(axis=0) - 2 * np.diagonal(What)))
        op = LinearOperator((d, d), matvec=lambda x: What @ x - c * u * (u @ x), dtype=What.dtype)
        try:
            top = eigsh(op, k=1, which="LA", v0=np.ones(d) / math.sqrt(d), maxiter=20 * d,
                        return_eigenvectors=False)
            return -float(top[0])
        except ArpackNoConvergence:
            pass
    if sp.issparse(What):
        config.check_memory(3.0 * What.dtype.itemsize * d * d, f"dense eigenvalues of a {d}×{d} sector block",
                            "fewer sites")
        What = What.toarray()
    try:
        ev = sla.eigh(What, eigvals_only=True, subset_by_index=[d - 1 - k, d - 1], driver="evr",
                      check_finite=False)
    except np.linalg.LinAlgError:   # MRRR can fail on massively repeated eigenvalues: all of them
        ev = sla.eigh(What, eigvals_only=True, driver="evd", check_finite=False)[d - 1 - k:]
    return -float(ev[0])


def column_abs_sums(A) -> np.ndarray:
    """Σ_m |A_mn| of a sparse matrix, in chunks of 2²² entries (no |A| copy)."""
    A = sp.csr_array(A)
    out = np.zeros(A.shape[1])
    for a in range(0, A.nnz, 1 << 22):
        out += np.bincount(A.indices[a:a + (1 << 22)], weights=np.abs(A.data[a:a + (1 << 22)]), minlength=A.shape[1])
    return out


def _within_groups(key: np.ndarray):
    """All ordered pairs (a, b) of positions with equal ``key`` (positions sorted by key)."""
    order = np.argsort(key, kind="stable")
    ks = key[order]
    start = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]]) if ks.size else np.zeros(0, np.intp)
    size = np.diff(np.r_[start, ks.size])
    counts = size * size
    g = np.repeat(np.arange(start.size), counts)
    off = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    n = size[g]
    return order[start[g] + off // n], order[start[g] + off % n]


def zero_sector_matrix(sec, couplings, energies, drop: float = 1e-13) -> sp.csr_array:
    """The ν = 0 block M0 (intra-level matrix units, order ``sec.zero_rows/zero_cols``) as a sparse
    matrix built from the nonzero entries of S̃_b, G and K only (no dense n0×n0 array):

        M0[(i,k),(j,l)] = Σ_b T_b,ij conj(T_b,kl) + B_ij δ_kl + δ_ij C_lk,
        T_b = √γ_b ∘ S̃_b,  B = −½G − iK,  C = −½G + iK,

    (i, k) and (j, l) in one level each, G = Σ_b Σ_ω γ_b(ω)A_b(ω)†A_b(ω) and K = H + H_LS (level
    block-diagonal). Entries below ``drop`` × the largest are dropped (eigenbasis round-off; pass 0 to
    keep every rate, e.g. for counting statistics, where a dropped small rate whose reverse is kept
    breaks local detailed balance once the counting field amplifies it).
    The memory of the pair lists is checked against ``config.memory_budget`` first."""
    d = sec.dim
    lab = sec.level_labels
    deg = np.bincount(lab)
    start = sec.level_start
    r0, c0 = sec.zero_rows, sec.zero_cols
    n0 = r0.shape[0]
    it = index_dtype(max(d, n0))
    config.check_memory(float(np.dtype(it).itemsize) * d * d, f"index of the ν = 0 sector (d = {d})", "fewer sites")
    pos = np.full(d * d, -1, dtype=it)
    pos[r0 * d + c0] = np.arange(n0)
    G = sp.csr_array(_sum_level_operators(sec, [(c.gamma, c.St, c.St_abs2) for c in couplings], None)[1])
    K = sp.diags_array(np.zeros(d) if energies is None else np.asarray(energies, float)).astype(np.complex128)
    lamb = [(c.lamb_table, c.St, c.St_abs2) for c in couplings if c.lamb_table is not None]
    if lamb:
        K = K + sp.csr_array(_sum_level_operators(sec, lamb, None)[1])
    B = sp.coo_array(-0.5 * G - 1j * K)
    C = sp.coo_array(-0.5 * G + 1j * K)
    del G, K
    # |T_ij|² = γ_ij P_ij: the scale without a complex d×d temporary
    scale = max([float(np.max(c.gamma * c.St_abs2)) for c in couplings]
                + [float(np.max(np.abs(B.data), initial=0.0)), 1e-300])
    rows, cols, vals = [], [], []
    for c in couplings:
        i, j = np.nonzero(c.gamma * c.St_abs2 > drop * scale)
        v = np.sqrt(c.gamma[i, j]) * c.St[i, j]
        key = lab[i].astype(np.int64) * sec.n_levels + lab[j]
        sizes = np.bincount(key)
        config.check_memory(40.0 * float(np.sum(sizes.astype(float) ** 2)),
                            f"jump terms of the ν = 0 sector (d = {d})", "fewer sites")
        a, b = _within_groups(key)
        rows.append(pos[i[a] * d + i[b]])
        cols.append(pos[j[a] * d + j[b]])
        vals.append(v[a] * np.conj(v[b]))
    for X, left in ((B, True), (C, False)):
        keep = np.abs(X.data) > drop * scale
        i, j, xv = X.row[keep], X.col[keep], X.data[keep]
        m = deg[lab[i]]
        config.check_memory(40.0 * float(m.sum()), f"level terms of the ν = 0 sector (d = {d})", "fewer sites")
        e = np.repeat(np.arange(i.shape[0]), m)
        k = start[lab[i]][e] + (np.arange(e.shape[0]) - np.repeat(np.cumsum(m) - m, m))
        if left:   # B_ij δ_kl: row (i, k), column (j, k)
            rows.append(pos[i[e] * d + k])
            cols.append(pos[j[e] * d + k])
        else:      # δ_ij C_lk with (l, k) = (i, j): row (m, j), column (m, i) for m in the level
            rows.append(pos[k * d + j[e]])
            cols.append(pos[k * d + i[e]])
        vals.append(xv[e])
    R, Cc, V = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    if np.any(R < 0) or np.any(Cc < 0):  # pragma: no cover - the ν = 0 sector is closed
        raise InputError("internal: a ν = 0 entry left the intra-level sector")
    return sp.csr_array(sp.coo_array((V, (R, Cc)), shape=(n0, n0)))


def block_nullity(M: sp.csr_array, rtol: float = _NULL_RTOL, hermitian: bool = False, held: float = 0.0) -> int:
    """dim ker M for a sparse square M, exactly block by block: the connected components of its
    sparsity graph are invariant subspaces, so the nullity is the sum of the nullities of the
    dense component blocks (batched SVD per block size; singular values ≤ rtol·‖M‖₁ count as
    zero — one global scale, so a block of tiny rates is not mistaken for a regular one).
    ``hermitian``: M is Hermitian, its singular values are |eigenvalues| (``eigvalsh``, 2.5× faster
    than the SVD at n = 2500).

    Memory: beside M only its sparsity graph (scipy's connected_components converts it to float and
    transposes it: measured with tracemalloc at 24.5 B per entry for int32 indices, 32.8 B for int64;
    checked against the budget with ``held``, the bytes the caller already holds)
    and one batch of dense blocks; the entries are gathered in row chunks (no COO copy of M).
    Raises MemoryBudgetError before the graph or a block batch would exceed the budget."""
    n = M.shape[0]
    if n == 0:
        return 0
    M = sp.csr_array(M)
    scale = float(column_abs_sums(M).max()) if M.nnz else 0.0
    if scale == 0.0:
        return n
    advice = "fewer sites or a non-degenerate Hamiltonian (add small random fields)"
    graph_bytes = 25.0 if M.indices.dtype.itemsize == 4 else 33.0
    config.check_memory(held + graph_bytes * M.nnz + 8.0 * n, f"the sparsity graph of the ν = 0 sector ({M.nnz} entries)",
                        advice)
    nonzero = M.data != 0          # explicit zeros are no edges
    if nonzero.all():
        pattern = sp.csr_array((np.ones(M.nnz, dtype=np.int8), M.indices, M.indptr), shape=M.shape)
    else:
        rows = np.repeat(np.arange(n), np.diff(M.indptr))[nonzero]
        pattern = sp.csr_array((np.ones(rows.size, dtype=np.int8), (rows, M.indices[nonzero])), shape=M.shape)
        del rows
    del nonzero
    ncomp, lab = connected_components(pattern, directed=False)
    del pattern
    size = np.bincount(lab, minlength=ncomp)
    order = np.argsort(lab, kind="stable")
    local = np.empty(n, dtype=np.int64)
    first = np.cumsum(size) - size
    local[order] = np.arange(n) - first[lab[order]]
    del order
    alone = size[lab] == 1                      # 1×1 blocks: the diagonal entry
    total = int(np.count_nonzero(np.abs(M.diagonal()[alone]) <= rtol * scale))
    dtype = np.result_type(M.dtype, np.float64)      # a real M: real SVD (2× faster at n = 2500)
    for s in np.unique(size[size > 1]):
        comps = np.flatnonzero(size == s)
        config.check_memory(held + 3.0 * np.dtype(dtype).itemsize * comps.shape[0] * float(s) ** 2,
                            f"{comps.shape[0]} coupled blocks of size {s} in the ν = 0 sector", advice)
        slot = np.full(ncomp, -1, dtype=np.int64)
        slot[comps] = np.arange(comps.shape[0])
        batch = np.zeros((comps.shape[0], s, s), dtype=dtype)
        for _, _, a, b, rows in row_chunks(M):
            sel = slot[lab[rows]] >= 0
            if np.any(sel):
                r, c = rows[sel], M.indices[a:b][sel]
                np.add.at(batch, (slot[lab[r]], local[r], local[c]), M.data[a:b][sel])
        sv = np.abs(np.linalg.eigvalsh(batch)) if hermitian else np.linalg.svd(batch, compute_uv=False)
        total += int(np.count_nonzero(sv <= rtol * scale))
    return total


def kernel_dim(form, couplings) -> int:
    """Kernel dimension of the ν = 0 sector: connected components of the Pauli rate graph (all
    baths at finite β: every rate has its reverse), closed classes when some bath is at T = 0,
    the numerical nullity of the ν = 0 block for degenerate levels. The graph uses the emission
    rates (W_mn, m < n), which never underflow, so β·ΔE ≫ 700 does not disconnect it."""
    if form.pauli_matrix is None:
        return nullity(form.zero_block)
    down = np.triu(form.pauli_matrix, 1) > 0                       # W_mn, m < n: n → m emits
    if all(math.isfinite(c.bath.beta) for c in couplings):
        return components(down)
    up = np.zeros_like(down)
    for c in couplings:
        if math.isfinite(c.bath.beta):
            up |= np.triu(c.gamma * c.St_abs2, 1) > 0
    return closed_classes(down | up.T)




def pauli_kernel(form, couplings, k: int) -> np.ndarray:
    """Normalised kernel of the Pauli matrix W = Σ_b W_b of baths at different temperatures.

    d ≤ GTH_MAX_DIM, or k > 1: Grassmann–Taksar–Heyman elimination (:meth:`RateMatrix.stationary`,
    subtraction-free, so every population has a small *relative* error even when they span
    hundreds of orders of magnitude; k > 1 gives the uniform mixture of the extremal stationary
    distributions). Larger d: W̃ = P⁻¹WP with P the Gibbs populations at a reference β (the
    median of the finite β_b), built from the emission rates, W̃_mn = Σ_b P_b,mn γ_b(ω)e^{−β_ref ω}
    (ω = E_n − E_m; absorption as γ_b(|ω|)e^{(β_ref − β_b)|ω|}), is solved with x₀ = 1 by LU
    (O(d³), BLAS-3) and p = x·P in the log domain; GTH is the fallback when that system is
    ill-conditioned (temperatures too far apart for one reference frame).
    """
    W, sec = form.pauli_matrix, form.sec
    d = W.shape[0]
    if k > 1 or d <= config.GTH_MAX_DIM:
        try:
            return RateMatrix(W).stationary()
        except NonUniqueSteadyStateError as exc:
            return np.mean(np.asarray(exc.basis), axis=0)
    b_ref = float(np.median([c.bath.beta for c in couplings if math.isfinite(c.bath.beta)]))
    Wt = None
    with np.errstate(under="ignore", over="ignore"):
        for c in couplings:
            up = c.emit * np.exp(-b_ref * sec.gaps)
            down = (c.emit * np.exp((b_ref - c.bath.beta) * sec.gaps) if math.isfinite(c.bath.beta)
                    else np.zeros_like(c.emit))
            term = _expand_levels(_level_table(sec, up, down, 0.0), sec) * c.St_abs2
            Wt = term if Wt is None else Wt + term
    np.fill_diagonal(Wt, np.diagonal(W))
    x = np.ones(d)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sla.LinAlgWarning)
        try:
            if not np.all(np.isfinite(Wt)):
                raise sla.LinAlgWarning("non-finite scaled rates")
            x[1:] = sla.solve(Wt[1:, 1:], -Wt[1:, 0])
        except (sla.LinAlgWarning, sla.LinAlgError):
            return RateMatrix(W).stationary()
    e = sec.level_energies
    with np.errstate(divide="ignore"):
        lq = np.log(np.maximum(x, 0.0)) - b_ref * (e - e[0])
    m = lq.max()
    return np.exp(lq - m - math.log(np.sum(np.exp(lq - m))))


def stack_gap(st, log_p: np.ndarray | None, floor: float = math.inf) -> float:
    """−max Re λ over a stack of Bohr blocks (:class:`.sectors.BlockStack`). With ``log_p`` the Gibbs
    log-populations of one finite β, and a coherent part that is −iν·I on every block (exactly equal
    frequencies, no Lamb shift inside degenerate levels): Re λ are the eigenvalues of the KMS-scaled
    dissipative blocks D̂ (D̂_ac = D_ac e^{x}, x = [log p_j + log p_l − log p_i − log p_k]/4 for
    a = |i⟩⟨k|, c = |j⟩⟨l|), Hermitian for a KMS-detailed-balanced generator: batched ``eigvalsh``.
    Otherwise batched ``eig`` of the blocks.

    ``floor``: a gap already found elsewhere (the caller takes the minimum). A block whose Gershgorin
    bound Re λ ≤ max_a (Re H_aa + Σ_{c≠a} |H_ac|) of its Hermitian part H (Re λ ≤ λ_max(H) for any
    matrix) already puts every Re λ below −floor cannot lower the minimum and is not diagonalised;
    returns inf when no block is left. Exact: the screen only drops blocks the bound excludes."""
    if log_p is not None:
        coherent = st.matrices - st.dissipative
        diag = np.diagonal(coherent, axis1=1, axis2=2)
        scale = max(float(np.max(np.abs(st.matrices))), 1e-300)
        off = coherent.copy()
        off[:, np.arange(st.size), np.arange(st.size)] = 0
        spread = np.max(np.abs(diag - diag[:, :1]), initial=0.0)
        if np.max(np.abs(off), initial=0.0) <= 1e-13 * scale and spread <= 1e-13 * scale:
            R, C = st.rows, st.cols
            g = (log_p[R] + log_p[C]) / 4
            Dh, _ = log_scaled(st.dissipative, g[:, None, :] - g[:, :, None], shift=0.0)
            if _batched_hermitian(Dh):
                Dh = (Dh + np.conj(np.swapaxes(Dh, 1, 2))) / 2
                Dh = Dh[_may_reach(Dh, floor)]
                return -float(np.max(np.linalg.eigvalsh(Dh))) if Dh.shape[0] else math.inf
    M = st.matrices
    if math.isfinite(floor):
        M = M[_may_reach((M + np.conj(np.swapaxes(M, 1, 2))) / 2, floor)]
    return -float(np.max(np.linalg.eigvals(M).real)) if M.shape[0] else math.inf


def _may_reach(H: np.ndarray, floor: float) -> np.ndarray:
    """Mask of the Hermitian blocks H (B, n, n) whose Gershgorin bound on the largest eigenvalue,
    max_a (Re H_aa + Σ_{c≠a} |H_ac|), exceeds −floor (less a round-off margin of 1e-12 of the block's
    largest entry): only those can hold an eigenvalue above −floor."""
    if not math.isfinite(floor):
        return np.ones(H.shape[0], dtype=bool)
    absH = np.abs(H)
    diag = np.diagonal(H, axis1=1, axis2=2)
    bound = np.max(diag.real + absH.sum(axis=2) - np.abs(diag), axis=1)
    return bound > -floor - 1e-12 * np.max(absH, axis=(1, 2))


def _batched_hermitian(A: np.ndarray, rtol: float = 1e-12) -> bool:
    """‖A − A†‖_F ≤ rtol·‖A‖_F for a stack (B, n, n) of blocks (each transposed separately)."""
    return float(np.linalg.norm(A - np.conj(np.swapaxes(A, 1, 2)))) <= rtol * float(np.linalg.norm(A))
