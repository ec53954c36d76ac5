"""Spectra and gaps of generators (private to :mod:`detbal.dynamics`).

- Full spectra: dense ``eig`` of the d²×d² matrix (guarded by the memory budget); never a sparse
  solver for all eigenvalues.
- A few slow eigenvalues: shift-invert Arnoldi (ARPACK) around a small real z > 0 finds the
  2k + 4 eigenvalues nearest to 0; the k with the largest real part are returned. For
  Liouvillians these are the k slowest modes unless a slowly decaying coherence oscillates faster
  (|Im λ| larger) than 2k + 4 faster-decaying modes are far; each eigenpair carries its residual
  ‖Lv − λv‖/(‖L‖₁‖v‖).
- Hermitian slow eigenvalues (:func:`hermitian_slow_eigenvalues`, large d): for a generator that
  is KMS-detailed-balanced w.r.t. σ = V diag(p) V†, the σ-transformed generator in σ's eigenbasis,
  𝓛̂(X) = p^{-1/4} ∘ V†𝓛(V (p^{1/4} ∘ X ∘ p^{1/4}) V†)V ∘ p^{-1/4} (∘: row/column scaling), has a
  Hermitian part 𝓓̂ = (𝓛̂ + 𝓛̂†)/2 whose top eigenvalues are found by matrix-free Lanczos (ARPACK
  ``eigsh``, which="LA") through ``apply``/``adjoint`` only: O(d³) per step, no d²×d² matrix, no
  linear solves. The known zero mode vec(σ^{1/2}) = diag(p^{1/2}) (𝓛̂σ^{1/2} = 𝓛̂†σ^{1/2} = 0) is
  deflated by the rank-one shift 𝓓̂ − c·ss†, c = 2‖𝓓̂‖-estimate. Re spec 𝓛 = spec 𝓓̂ when 𝓛̂ is
  normal; normality is tested on random vectors, ‖[𝓛̂, 𝓛̂†]x‖ ≤ 1e-9·max(‖𝓛̂𝓛̂†x‖, ‖𝓛̂†𝓛̂x‖).
(The dense Hermitian path for small d is physics and lives in
:func:`detbal.balance.dense.hermitian_analysis`.)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse.linalg as spla

from .. import config
from ..errors import ConvergenceError, MemoryBudgetError
from . import linsolve as _linsolve
from .linsolve import (
    ShiftedSolver,
    adjoint_apply,
    effective_hamiltonian,
    eigen_frame,
    identity_vector,
    onenorm,
)
from .rightmost import rightmost_eigenvalues

__all__ = [
    "dense_eigenvalues",
    "dissipation_ratio",
    "gap_from_eigenvalues",
    "hermitian_eigenbasis_eigenvalues",
    "hermitian_slow_eigenvalues",
    "rightmost_gap_eigenpairs",
    "slow_eigenpairs",
    "sort_slowest",
]

#: largest spread (max − min) of log p accepted by the matrix-free Hermitian path: the scalings
#: p^{±1/4} then stay within e^{±75}, far inside the floating-point range
MAX_LOG_SPREAD = 300.0
SHIFT = 1e-3


def sort_slowest(vals: np.ndarray) -> np.ndarray:
    """Order eigenvalues by decreasing real part (slowest first), ties by imaginary part."""
    vals = np.asarray(vals)
    return np.lexsort((vals.imag, -vals.real))


def dense_eigenvalues(L, vectors: bool = False):
    """All d² eigenvalues by dense ``eig`` (memory-budget guarded)."""
    d = L.dim
    config.check_memory(4 * config.superoperator_bytes(d), f"dense eigendecomposition of the generator (d = {d})",
                        "spectrum(L, k=...) (shift-invert Arnoldi for the k slowest eigenvalues)")
    M = L.to_dense()
    if vectors:
        w, V = np.linalg.eig(M)
        return M, w, V
    return M, np.linalg.eigvals(M), None


def slow_eigenpairs(L, k: int, maxiter: int | None = None):
    """The k slowest of the 2k + 4 eigenpairs nearest to 0 (shift-invert Arnoldi, z = 1e-3‖L‖₁ > 0).

    ``maxiter`` caps the Arnoldi restarts and the GMRES iterations of every solve (ConvergenceError
    carrying the residual reached). Returns (values, vectors (d², k), relative residuals, norm, method).
    """
    A, matrix_free = _linsolve.generator_matrix(L)
    n = A.shape[0]
    d = L.dim
    norm = max(onenorm(A), np.finfo(float).tiny)
    Heff = effective_hamiltonian(L)
    if matrix_free and Heff is None:
        raise MemoryBudgetError(f"the sparse d²×d² matrix (d = {d}) exceeds detbal.config.memory_budget and "
                                "matrix-free shift-invert needs a Lindbladian (its Sylvester preconditioner)")
    kind = "lu" if (Heff is None or (d <= config.LU_MAX_DIM and not matrix_free)) else "gmres"
    frame = _linsolve.eigen_frame(L, Heff) if kind == "gmres" else None
    solver = ShiftedSolver(A, d, SHIFT * norm, Heff=Heff, kind=kind, maxiter=maxiter, frame=frame)
    k = int(min(k, n - 2))
    kk = int(min(2 * k + 4, n - 2))
    try:
        v0 = np.random.default_rng(0).normal(size=n) + 0j  # reproducible Arnoldi start
        vals, vecs = spla.eigs(A, k=kk, sigma=solver.z, OPinv=solver.inverse_operator(), which="LM", v0=v0,
                               ncv=min(n, max(2 * kk + 1, 20)), tol=1e-13,
                               maxiter=max(1000, 10 * n) if maxiter is None else maxiter)
    except spla.ArpackNoConvergence as exc:
        raise ConvergenceError(f"shift-invert Arnoldi did not converge: {exc}",
                               _arpack_residual(A, exc, norm)) from exc
    res = np.linalg.norm(A @ vecs - vecs * vals[None, :], axis=0) / (norm * np.linalg.norm(vecs, axis=0))
    order = sort_slowest(vals)[:k]  # the k slowest of the 2k + 4 eigenvalues nearest to 0
    return vals[order], vecs[:, order], res[order], norm, f"shift-invert({kind})"


#: below this dissipation ratio (:func:`dissipation_ratio`) Krylov–Schur can converge to a slow
#: eigenvalue that is not the rightmost one (measured on random H + 1–2 dense jumps, d = 6…24: wrong
#: gaps at ratios ≤ 0.04, none at ≥ 0.044 in 72 models); 0.2 keeps a margin
WEAK_DISSIPATION_RATIO = 0.2


def dissipation_ratio(L) -> float | None:
    """max_a Γ_a / (max_a E_a − min_a E_a) for H_eff = H − (i/2)Σ_k γ_k A_k†A_k with eigenvalues
    μ_a = E_a − iΓ_a/2: the decay rates of the no-jump part over the spread of its Bohr frequencies
    (inf when all E_a coincide; None when 𝓛 is not a Lindbladian or a sum of them). Small values
    mean many eigenvalues of 𝓛 with nearly equal real parts spread along the imaginary axis."""
    Heff = effective_hamiltonian(L)
    if Heff is None:
        return None
    mu = np.linalg.eigvals(Heff)
    spread = float(np.ptp(mu.real))
    rate = float(np.max(-2 * mu.imag))
    return float("inf") if spread == 0 else max(rate, 0.0) / spread


def rightmost_gap_eigenpairs(L, zero_tol: float, k: int = 6, maxiter: int | None = None,
                             time_limit: float | None = None, progress=None):
    """The k rightmost eigenvalues of the trace-deflated generator 𝓛_c(X) = 𝓛(X) − c·Tr(X)·I/d
    (c = ‖𝓛‖₁; the zero eigenvalue whose left eigenvector is vec(I) moves to −c, every other
    eigenvalue stays), by matrix-free Krylov–Schur (:func:`detbal.linalg.rightmost.rightmost_eigenvalues`).

    Products run in the eigenframe of H_eff when it is well conditioned (2 d×d products per jump),
    else through the sparse matrix or ``L.apply`` (:func:`detbal.linalg.linsolve.generator_matrix`).
    A generator that is not trace preserving is not deflated (its rightmost eigenvalues are returned).
    The Ritz residual test applies to the rightmost value with |λ| > zero_tol·‖𝓛‖₁ (the gap) and to
    every value to its right; if every value found is zero (a degenerate kernel), k is doubled.

    Returns (values (≤ k,), relative residuals ‖𝓛v − λv‖/(‖𝓛‖₁‖v‖) in the original basis, norm,
    method, stats) — values sorted by decreasing real part; stats: restarts, products, deflated.
    """
    A, matrix_free = _linsolve.generator_matrix(L)
    d = L.dim
    n = d * d
    norm = max(onenorm(A), np.finfo(float).tiny)
    u = identity_vector(d)
    deflate = float(np.linalg.norm(adjoint_apply(A, u))) <= 1e-10 * norm * np.sqrt(d)
    frame = eigen_frame(L, effective_hamiltonian(L))
    c = norm if deflate else 0.0
    if frame is not None:
        row, col = frame.trace_row.conj(), frame.identity

        def matvec(y):
            return frame.matvec(y) - (c * (row @ y) / d) * col

        to_original = frame.from_frame
    else:
        Aop = A.matvec if matrix_free else (lambda x: A @ x)

        def matvec(x):
            return Aop(x) - (c * (u @ x) / d) * u

        def to_original(x):
            return x
    apply = A.matvec if matrix_free else (lambda x: A @ x)
    k = int(min(k, n - 2))

    def needed(vals):  # the rightmost nonzero value and everything at least as far right
        nonzero = np.flatnonzero(np.abs(vals) > zero_tol * norm)
        if nonzero.size == 0:
            return np.ones(vals.size, bool)
        return vals.real >= vals[nonzero[0]].real - 1e-8 * norm

    while True:
        out = rightmost_eigenvalues(matvec, n, k, norm, maxiter=maxiter, time_limit=time_limit, progress=progress,
                                    needed=needed)
        vals = out["values"]
        if np.any(np.abs(vals) > zero_tol * norm) or 2 * k > n - 2:
            break
        k = 2 * k
    X = np.column_stack([to_original(x) for x in out["vectors"].T])
    LX = np.column_stack([apply(x) for x in X.T])
    res = np.linalg.norm(LX - X * vals[None, :], axis=0) / (norm * np.linalg.norm(X, axis=0))
    how = "krylov-schur" + ("(eigenframe)" if frame is not None else "")
    stats = {"restarts": out["restarts"], "products": out["matvecs"], "deflated": bool(deflate)}
    return vals, res, norm, how, stats


def gap_from_eigenvalues(vals: np.ndarray, norm: float, tol: float) -> tuple[float, int, int]:
    """(gap, index of the slowest nonzero eigenvalue, number of zero eigenvalues)."""
    zero = np.abs(vals) <= tol * norm
    nonzero = np.flatnonzero(~zero)
    if nonzero.size == 0:
        return float("nan"), -1, int(zero.sum())
    i = nonzero[np.argmax(vals[nonzero].real)]
    return float(-vals[i].real), int(i), int(zero.sum())


def _arpack_residual(A, exc: spla.ArpackNoConvergence, norm: float) -> float:
    """Largest relative residual of the eigenpairs ARPACK had converged (inf if none)."""
    vals, vecs = exc.eigenvalues, exc.eigenvectors
    if vals is None or len(vals) == 0:
        return float("inf")
    r = np.linalg.norm(A @ vecs - vecs * vals[None, :], axis=0) / (norm * np.linalg.norm(vecs, axis=0))
    return float(np.max(r))


def hermitian_slow_eigenvalues(op: spla.LinearOperator, V: np.ndarray, log_p: np.ndarray, tol: float,
                               k: int = 4, maxiter: int | None = None) -> dict:
    """Top eigenvalues of 𝓓̂ (Hermitian part of the σ-transformed generator), matrix-free Lanczos.

    Args:
        op: the d²×d² generator on column-stacked vectors (original basis), ``matvec`` = 𝓛 and
            ``rmatvec`` = 𝓛† (e.g. ``Generator.linear_operator()``, O(d³) per product).
        V, log_p: σ's eigenvectors (columns) and log-populations (spread ≤ MAX_LOG_SPREAD).
        tol: eigenvalues with |λ| ≤ 10·tol·‖𝓓̂‖ count as zero.
        k: number of top eigenvalues of the deflated operator computed first (grows while all are zero).
        maxiter: cap on the Lanczos restarts (ConvergenceError with the residual reached).

    Returns a dict: values (the top eigenvalues of 𝓓̂ found, descending, kernel mode included as
    0), hermitian_gap (−largest nonzero), zero_modes, residual (‖𝓓̂u − λu‖/‖𝓓̂‖ of the gap
    eigenvector), normal (randomised commutator test), norm (‖𝓓̂‖₂ estimate), steps (Lanczos
    operator applications).
    """
    d = V.shape[0]
    n = d * d
    lp = np.asarray(log_p, dtype=float)
    lp = lp - lp.max()
    q = np.exp(lp / 4)          # p^{1/4} (relative to the largest population)
    qi = np.exp(-lp / 4)        # p^{-1/4} ≤ e^{MAX_LOG_SPREAD/4}
    Vh = V.conj().T

    def apply(X):
        return op.matvec(X.reshape(-1, order="F")).reshape((d, d), order="F")

    def adjoint(X):
        return op.rmatvec(X.reshape(-1, order="F")).reshape((d, d), order="F")

    def hat(x):                 # 𝓛̂ on a column-stacked vector in σ's eigenbasis
        X = x.reshape((d, d), order="F")
        Y = Vh @ apply(V @ (q[:, None] * X * q[None, :]) @ Vh) @ V
        return (qi[:, None] * Y * qi[None, :]).reshape(-1, order="F")

    def hat_h(x):               # 𝓛̂† = Γ^{1/2} 𝓛† Γ^{-1/2}
        X = x.reshape((d, d), order="F")
        Y = Vh @ adjoint(V @ (qi[:, None] * X * qi[None, :]) @ Vh) @ V
        return (q[:, None] * Y * q[None, :]).reshape(-1, order="F")

    s = _kernel_vector(lp, np.complex128)
    rng = np.random.default_rng(0)
    x = rng.normal(size=n) + 1j * rng.normal(size=n)
    x /= np.linalg.norm(x)
    Lx, Lhx = hat(x), hat_h(x)
    D_norm = max(np.linalg.norm(Lx + Lhx) / 2, np.finfo(float).tiny)  # lower estimate of ‖𝓓̂‖₂
    # normality of 𝓛̂ on a random vector (a nonzero commutator misses it with probability 0)
    comm = hat(Lhx) - hat_h(Lx)
    scale = max(np.linalg.norm(hat(Lhx)), np.linalg.norm(hat_h(Lx)), np.finfo(float).tiny)
    normal = bool(np.linalg.norm(comm) <= 1e-9 * scale)
    out = _deflated_lanczos(lambda v: (hat(v) + hat_h(v)) / 2, s, x, D_norm, tol, k, maxiter)
    out["normal"] = normal
    return out


def hermitian_eigenbasis_eigenvalues(hat, log_p: np.ndarray, tol: float, real: bool = False, k: int = 4,
                                     maxiter: int | None = None) -> dict:
    """Top eigenvalues of a σ-transformed generator 𝓛̂ that is Hermitian by construction (a
    KMS-self-adjoint generator given in σ's eigenbasis, e.g. an exact Gibbs sampler), by matrix-free
    Lanczos on 𝓛̂ itself: one product per step, no basis rotation, no symmetrisation.

    Args:
        hat: Y ↦ 𝓛̂(Y) on (d, d) arrays in σ's eigenbasis (Hermitian for the HS inner product).
        log_p: (d,) σ's log-populations (the kernel vector is σ^{1/2} = diag(p^{1/2})).
        tol: eigenvalues with |λ| ≤ 10·tol·‖𝓛̂‖ count as zero.
        real: 𝓛̂ maps real matrices to real matrices (real H and jumps): Lanczos runs on real
            vectors (the spectrum on complex matrices is the same), half the arithmetic.
        k, maxiter: as for :func:`hermitian_slow_eigenvalues`.

    Returns the dict of :func:`hermitian_slow_eigenvalues` (``normal`` is True: 𝓛̂ is Hermitian).
    """
    lp = np.asarray(log_p, dtype=float)
    lp = lp - lp.max()
    d = lp.shape[0]
    n = d * d
    dtype = np.float64 if real else np.complex128

    def apply(v):
        return np.asarray(hat(np.asarray(v, dtype=dtype).reshape((d, d), order="F")), dtype=dtype).reshape(-1, order="F")

    rng = np.random.default_rng(0)
    x = rng.normal(size=n) if real else rng.normal(size=n) + 1j * rng.normal(size=n)
    x /= np.linalg.norm(x)
    D_norm = max(float(np.linalg.norm(apply(x))), np.finfo(float).tiny)
    out = _deflated_lanczos(apply, _kernel_vector(lp, dtype), x, D_norm, tol, k, maxiter, dtype)
    out["normal"] = True
    return out


def _kernel_vector(lp: np.ndarray, dtype) -> np.ndarray:
    """vec(σ^{1/2}) normalised: the known zero mode of a KMS-DB 𝓛̂ (𝓛̂σ^{1/2} = 𝓛̂†σ^{1/2} = 0)."""
    d = lp.shape[0]
    s = np.zeros(d * d, dtype=dtype)
    s[np.arange(d) * (d + 1)] = np.exp(lp / 2)
    return s / np.linalg.norm(s)


def _deflated_lanczos(herm, s: np.ndarray, x: np.ndarray, D_norm: float, tol: float, k: int,
                      maxiter: int | None, dtype=np.complex128) -> dict:
    """Top eigenvalues of the Hermitian map ``herm`` with its known zero mode ``s`` deflated by the
    rank-one shift herm − c·ss†, c = 4·D_norm (ARPACK eigsh, which="LA", start vector x); k grows
    while every value found is zero. Returns values, hermitian_gap, zero_modes, residual, norm, steps."""
    n = s.shape[0]
    steps = [0]
    c = 4.0 * D_norm            # moves the known zero mode to −c·(something) below the spectrum's top

    def dmat(v):
        v = np.ravel(v)
        steps[0] += 1
        return herm(v) - c * s * np.vdot(s, v)

    Dop = spla.LinearOperator((n, n), matvec=dmat, dtype=dtype)
    k = int(min(k, n - 2))
    while True:
        try:
            w, U = spla.eigsh(Dop, k=k, which="LA", v0=x, ncv=min(n, max(2 * k + 1, 24)), tol=1e-12,
                              maxiter=max(1000, n) if maxiter is None else maxiter)
        except spla.ArpackNoConvergence as exc:
            res = float("inf")
            if exc.eigenvalues is not None and len(exc.eigenvalues):
                res = float(max(np.linalg.norm(dmat(u) - lam * u) for lam, u in
                                zip(exc.eigenvalues, exc.eigenvectors.T)) / D_norm)
            raise ConvergenceError(f"Lanczos on the Hermitian part of the σ-transformed generator did not "
                                   f"converge ({exc})", res) from exc
        order = np.argsort(-w)
        w, U = w[order], U[:, order]
        D_norm = max(D_norm, float(np.max(np.abs(w))))
        zero = np.abs(w) <= 10 * tol * D_norm
        if not zero.all() or k >= n - 2:
            break
        k = min(2 * k, n - 2)
    nonzero = np.flatnonzero(~zero)
    values = np.concatenate([[0.0], w])
    if nonzero.size == 0:
        return {"values": values, "hermitian_gap": float("nan"), "zero_modes": int(zero.sum()) + 1,
                "residual": 0.0, "norm": D_norm, "steps": steps[0]}
    i = nonzero[0]
    u = U[:, i]
    residual = float(np.linalg.norm(dmat(u) - w[i] * u) / D_norm)
    return {"values": values, "hermitian_gap": float(-w[i]), "zero_modes": int(zero.sum()) + 1,
            "residual": residual, "norm": D_norm, "steps": steps[0]}
