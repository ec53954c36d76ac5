"""A Davies generator assembled sector by sector, and linear algebra on its sectors (internal).

:class:`SectorForm` holds the generator in the eigenbasis (THEORY.md §7): the Pauli matrix or the
ν = 0 block, the 1-element-sector eigenvalues λ_ik and the stacked blocks, with its action and its
dense eigenframe matrix. The functions below work on it: kernel dimensions of Pauli rate graphs
(combinatorial), the ν = 0 kernel of degenerate spectra, the population gap of a symmetrised
Pauli matrix, the Pauli kernel for several temperatures and the block-by-block norms of the
σ-transformed generator used by detailed-balance certificates (THEORY.md §4, §9).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ... import config
from ...classical.rate_matrix import closed_classes as rate_graph_closed_classes
from ...eigenbasis import log_scaled, max_log_magnitude, sigma_exponent
from ...errors import InputError
from .sectors import BlockStack, BohrBlocks, Sectors, frequency_codes, level_diagonal_operator

__all__ = ["SectorForm", "balance_norms", "block_nullity", "closed_classes", "components", "kernel_dim",
           "nullity", "pauli_kernel", "sector_form_bytes", "top_gap", "zero_sector_matrix", "zero_sector_state"]

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

    k = 1: the kernel vector, Hermitised and normalised. k > 1: the projection of I/d onto the
    kernel along the left kernel, 𝓟 = R (L†R)⁻¹ L†, a valid stationary state.
    """
    d = sec.dim
    U, _, Vh = np.linalg.svd(M0)
    R = Vh[-k:].conj().T
    v = np.zeros(M0.shape[0], dtype=np.complex128)
    v[:d] = 1.0 / d
    if k == 1:
        x = R[:, 0]
    else:
        L = U[:, -k:]
        x = R @ np.linalg.solve(L.conj().T @ R, L.conj().T @ v)
    X = np.zeros((d, d), dtype=np.complex128)
    X[sec.zero_rows, sec.zero_cols] = x
    X = (X + X.conj().T) / 2
    return X / np.trace(X).real


def top_gap(What: np.ndarray, k: int, log_p: np.ndarray) -> float:
    """−(k+1)-th largest eigenvalue of a symmetrised Pauli matrix (its k largest are 0).

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
        # Gershgorin: off-diagonal rates are ≥ 0, so Σ_m |Ŵ_mn| = Σ_m Ŵ_mn − 2Ŵ_nn bounds |λ|
        c = 1.01 * float(np.max(What.sum(axis=0) - 2 * np.diagonal(What)))
        op = LinearOperator((d, d), matvec=lambda x: What @ x - c * u * (u @ x), dtype=float)
        try:
            top = eigsh(op, k=1, which="LA", v0=np.ones(d) / math.sqrt(d), maxiter=20 * d,
                        return_eigenvectors=False)
            return -float(top[0])
        except ArpackNoConvergence:
            pass
    ev = sla.eigh(What, eigvals_only=True, subset_by_index=[d - 1 - k, d - 1], driver="evr",
                  check_finite=False)
    return -float(ev[0])


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


def zero_sector_matrix(sec, couplings, energies) -> sp.csr_array:
    """The ν = 0 block M0 (intra-level matrix units, order ``sec.zero_rows/zero_cols``) as a sparse
    matrix built from the nonzero entries of S̃_b, G and K only (no dense n0×n0 array):

        M0[(i,k),(j,l)] = Σ_b T_b,ij conj(T_b,kl) + B_ij δ_kl + δ_ij C_lk,
        T_b = √γ_b ∘ S̃_b,  B = −½G − iK,  C = −½G + iK,

    (i, k) and (j, l) in one level each, G = Σ_b Σ_ω γ_b(ω)A_b(ω)†A_b(ω) and K = H + H_LS (level
    block-diagonal). Entries below 1e-13 of the largest are dropped (eigenbasis round-off).
    The memory of the pair lists is checked against ``config.memory_budget`` first."""
    d = sec.dim
    lab = sec.level_labels
    deg = np.bincount(lab)
    start = sec.level_start
    r0, c0 = sec.zero_rows, sec.zero_cols
    n0 = r0.shape[0]
    config.check_memory(8.0 * d * d, f"index of the ν = 0 sector (d = {d})", "fewer sites")
    pos = np.full(d * d, -1, dtype=np.int64)
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
        i, j = np.nonzero(c.gamma * c.St_abs2 > 1e-13 * scale)
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
        keep = np.abs(X.data) > 1e-13 * scale
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


def block_nullity(M: sp.csr_array, rtol: float = _NULL_RTOL) -> int:
    """dim ker M for a sparse square M, exactly block by block: the connected components of its
    sparsity graph are invariant subspaces, so the nullity is the sum of the nullities of the
    dense component blocks (batched SVD per block size; singular values ≤ rtol·‖M‖₁ count as
    zero — one global scale, so a block of tiny rates is not mistaken for a regular one).
    Raises MemoryBudgetError before a block batch would exceed the budget."""
    n = M.shape[0]
    if n == 0:
        return 0
    M = sp.csr_array(M)
    M.eliminate_zeros()
    scale = float(abs(M).sum(axis=0).max()) if M.nnz else 0.0
    if scale == 0.0:
        return n
    pattern = sp.csr_array((np.ones(M.nnz, dtype=np.int8), M.indices, M.indptr), shape=M.shape)
    ncomp, lab = connected_components(pattern, directed=False)
    size = np.bincount(lab, minlength=ncomp)
    order = np.argsort(lab, kind="stable")
    local = np.empty(n, dtype=np.int64)
    first = np.cumsum(size) - size
    local[order] = np.arange(n) - first[lab[order]]
    coo = M.tocoo()
    er, ec, ev = coo.row, coo.col, coo.data
    total = 0
    for s in np.unique(size):
        comps = np.flatnonzero(size == s)
        if s == 1:  # 1×1 blocks: the diagonal entry
            diag = np.zeros(n, dtype=np.complex128)
            on = er == ec
            np.add.at(diag, er[on], ev[on])
            total += int(np.count_nonzero(np.abs(diag[np.isin(lab, comps)]) <= rtol * scale))
            continue
        config.check_memory(3 * 16.0 * comps.shape[0] * float(s) ** 2,
                            f"{comps.shape[0]} coupled blocks of size {s} in the ν = 0 sector",
                            "fewer sites or a non-degenerate Hamiltonian (add small random fields)")
        slot = np.full(ncomp, -1, dtype=np.int64)
        slot[comps] = np.arange(comps.shape[0])
        sel = slot[lab[er]] >= 0
        batch = np.zeros((comps.shape[0], s, s), dtype=np.complex128)
        np.add.at(batch, (slot[lab[er[sel]]], local[er[sel]], local[ec[sel]]), ev[sel])
        sv = np.linalg.svd(batch, compute_uv=False)
        total += int(np.count_nonzero(sv <= rtol * scale))
    return total


def kernel_dim(form, couplings) -> int:
    """Kernel dimension of the ν = 0 sector: connected components of the Pauli rate graph (all
    baths at finite β: every rate has its reverse), closed classes when some bath is at T = 0,
    the numerical nullity of the ν = 0 block for degenerate levels. The graph uses the emission
    rates (W_mn, m < n), which never underflow, so β·ΔE ≫ 700 does not disconnect it."""
    if form.W is None:
        return nullity(form.M0)
    down = np.triu(form.W, 1) > 0                       # W_mn, m < n: n → m emits
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
    from ...classical.rate_matrix import RateMatrix
    from ...errors import NonUniqueSteadyStateError
    from .sectors import _expand_levels, _level_table

    W, sec = form.W, form.sec
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


def _sumsq(A: np.ndarray) -> float:
    a = np.ravel(A)
    return float(np.vdot(a, a).real)


_KEYS = ("norm_hat", "dissipative_antisym", "dissipative_norm", "antisym")
_SEPARABLE_SPAN = 700.0  # |log p/2 − mid| below which e^{±(·)} are finite floats


class _ScaledSums:
    """Squared norms of σ-transformed blocks accumulated on one scale e^{2C} (log domain, no clipping).

    C is a running maximum of the log-magnitudes of the scaled entries seen so far; when a block
    raises it, the sums accumulated so far are rescaled by e^{2(C_old − C_new)} (terms below e^{−745}
    relative underflow, harmlessly: the certificate uses ratios only)."""

    def __init__(self):
        self.log_scale = -math.inf
        self.sums = dict.fromkeys(_KEYS, 0.0)

    def _rescale(self, c: float) -> None:
        if c > self.log_scale:
            f = math.exp(2 * (self.log_scale - c)) if np.isfinite(self.log_scale) else 0.0
            for key in _KEYS:
                self.sums[key] *= f
            self.log_scale = c

    def add(self, M, D, x) -> None:
        """Blocks M (the generator) and D (its dissipative part), scaled entrywise by e^{x}:
        adds ‖M̂‖², ‖D̂ − D̂†‖², ‖D̂‖², ‖M̂ − M̂†‖² (the last two axes are the block's)."""
        same = D is M  # the Pauli matrix: no Hamiltonian part
        c = max_log_magnitude(M, x) if same else max(max_log_magnitude(M, x), max_log_magnitude(D, x))
        if not np.isfinite(c):
            return
        self._rescale(c)
        Mh, _ = log_scaled(M, x, shift=self.log_scale)
        Dh = Mh if same else log_scaled(D, x, shift=self.log_scale)[0]
        adj = lambda A: np.conj(np.swapaxes(A, -1, -2))  # noqa: E731
        for key, v in zip(_KEYS, (_sumsq(Mh), _sumsq(Dh - adj(Dh)), _sumsq(Dh), _sumsq(Mh - adj(Mh)))):
            self.sums[key] += v

    def add_pauli(self, W, lp) -> None:
        """The Pauli block, Ŵ_mn = W_mn e^{(log p_n − log p_m)/2} (sigma_exponent of (mm),(nn)); it has
        no Hamiltonian part (D = M = W). The factor is separable: while log p spans ≤ 1400 it is
        W_mn a_n/a_m with a = e^{log p/2 − mid} (finite, no d² exponentials), else the log domain."""
        if float(np.ptp(lp)) > 2 * _SEPARABLE_SPAN:
            n = np.arange(W.shape[0])
            self.add(W, W, sigma_exponent(lp, 0.5, n[:, None], n[:, None], n[None, :], n[None, :]))
            return
        a = np.exp(lp / 2 - (float(lp.max()) + float(lp.min())) / 4)
        Wh = W * a
        Wh /= a[:, None]
        nh = _sumsq(Wh)
        if not math.isfinite(nh) or 0 < nh < 1e-300:  # squares out of range: scale the entries first
            top = float(np.abs(Wh).max(initial=0.0))
            Wh *= 1.0 / top
            self._rescale(math.log(top))
            f = math.exp(2 * (math.log(top) - self.log_scale))
            nh = _sumsq(Wh)
        elif nh == 0:
            return
        else:  # the norm itself sets the scale: no extra pass over the entries
            self._rescale(0.5 * math.log(nh))
            f = math.exp(-2 * self.log_scale)
        anti = _sumsq(Wh - Wh.T)
        for key, v in zip(_KEYS, (nh, anti, nh, anti)):
            self.sums[key] += f * v

    def add_coherences(self, lam) -> None:
        """1-element sectors |i⟩⟨k| ↦ λ_ik |i⟩⟨k|: unscaled (exponent 0); 𝓓̂ has Re λ, 𝓛̂ − 𝓛̂† is 2i Im λ."""
        top = float(np.abs(lam).max(initial=0.0))
        if top == 0:
            return
        self._rescale(math.log(top))
        if 1e-150 < top < 1e150:  # squares are finite: sum first, scale the three numbers
            f, lam_s = math.exp(-2 * self.log_scale), lam
        else:
            f, lam_s = 1.0, lam * math.exp(-self.log_scale)
        self.sums["norm_hat"] += f * _sumsq(lam_s)
        self.sums["dissipative_norm"] += f * float(np.einsum("ij,ij->", lam_s.real, lam_s.real))
        self.sums["antisym"] += f * 4.0 * float(np.einsum("ij,ij->", lam_s.imag, lam_s.imag))


def balance_norms(form, lp: np.ndarray, s: float) -> dict:
    """Squared norms of 𝓛̂, 𝓓̂ − 𝓓̂†, 𝓓̂, 𝓛̂ − 𝓛̂† (times e^{−2·log_scale}), and of 𝓛(σ), [K, σ], K
    (true scale), with "log_scale" (DaviesGenerator.structured_balance). The σ-scaling of entry
    (ij),(kl) is e^x with x = :func:`~detbal.eigenbasis.sigma_exponent`, evaluated in the log domain."""
    sec = form.sec
    p = np.exp(lp)
    acc = _ScaledSums()
    acc.add_coherences(form.coherences())
    out = {}
    if form.W is not None:
        acc.add_pauli(form.W, lp)
        out["stationary"] = _sumsq(form.W @ p)
        out["hamiltonian_commutator"] = 0.0
        out["k_norm"] = _sumsq(form.k)
    else:
        r, c = sec.zero_rows, sec.zero_cols
        acc.add(form.M0, form.D0, sigma_exponent(lp, s, r[:, None], c[:, None], r[None, :], c[None, :]))
        sig = np.zeros(r.shape[0])
        sig[: sec.dim] = p
        out["stationary"] = _sumsq(form.M0 @ sig)
        out["hamiltonian_commutator"] = _sumsq(form.Kd * np.subtract.outer(p, p))
        out["k_norm"] = _sumsq(form.Kd)
    for st in form.stacks:
        R, C = st.rows, st.cols
        acc.add(st.matrices, st.dissipative,
                sigma_exponent(lp, s, R[:, :, None], C[:, :, None], R[:, None, :], C[:, None, :]))
    out.update(acc.sums)
    out["log_scale"] = acc.log_scale if np.isfinite(acc.log_scale) else 0.0
    return out


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
