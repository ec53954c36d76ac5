"""Rightmost eigenvalues of a generator by matrix-free Krylov–Schur (private to :mod:`detbal.dynamics`).

The Liouvillian gap is g = −max{Re λ : λ ≠ 0}. For a trace-preserving generator the left eigenvector
of λ = 0 is vec(I) and every other right eigenvector is traceless, so the rank-one (Wielandt) update

    𝓛_c(X) = 𝓛(X) − c·Tr(X)·I/d,        c > 0,

has the spectrum of 𝓛 with one zero eigenvalue moved to −c (the others, and any further zero
eigenvalues of a degenerate kernel, are unchanged). With c = ‖𝓛‖₁ the gap eigenvalue is the
rightmost eigenvalue of 𝓛_c, which Krylov–Schur (Stewart 2001: Arnoldi with Schur-form thick restarts,
keeping the wanted Ritz vectors) finds with products 𝓛(X) only — O(d³) each for dense jumps, never
a d²×d² matrix and no linear solves.

Measured against shift-invert Arnoldi with GMRES inner solves (the previous path), random H with dense
jumps: ~10× fewer products (no inner solves) — see ``benchmarks/spectral_gap.py``. Plain Krylov
methods are slow when the dissipative rates are much smaller than the spread of the Bohr frequencies
(many eigenvalues with nearly equal real parts): then ``maxiter``/``time_limit`` stop the run with a
ConvergenceError carrying the residual reached.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.linalg as sla

from ..errors import ConvergenceError

__all__ = ["rightmost_eigenvalues"]

#: Krylov basis size and number of Ritz vectors kept per restart (defaults of the gap)
BASIS_SIZE = 60
#: relative Ritz residual ‖𝓛v − λv‖/(‖𝓛‖₁‖v‖) accepted for the wanted eigenvalues
RITZ_TOL = 1e-13


def _arnoldi_extend(matvec, V, H, start: int, stop: int, anorm: float) -> int:
    """Extend the Arnoldi relation A V[:j] = V[:j+1] H[:j+1, :j] from column ``start`` to ``stop``
    (rows of V are basis vectors; classical Gram–Schmidt, repeated when the norm drops below 0.7 of
    its value — Kahan–Parlett "twice is enough"). Returns the number of columns built (< stop on an
    invariant subspace)."""
    for j in range(start, stop):
        w = np.asarray(matvec(V[j]), dtype=V.dtype).ravel()
        Vj = V[: j + 1]
        before = float(np.linalg.norm(w))
        h = np.zeros(j + 1, dtype=V.dtype)
        for _ in range(3):
            c = np.conj(Vj @ np.conj(w))      # ⟨V_i, w⟩ without copying the basis
            w = w - c @ Vj
            h += c
            beta = float(np.linalg.norm(w))
            if beta > 0.7 * before:
                break
            before = beta
        H[: j + 1, j] = h
        H[j + 1, j] = beta
        if beta <= 1e-14 * anorm:
            return j + 1
        V[j + 1] = w / beta
    return stop


def rightmost_eigenvalues(matvec, n: int, k: int, anorm: float, *, v0: np.ndarray | None = None,
                          m: int = BASIS_SIZE, tol: float = RITZ_TOL, maxiter: int | None = None,
                          time_limit: float | None = None, progress=None, needed=None,
                          dtype=np.complex128) -> dict:
    """The k eigenvalues with the largest real part of an n×n operator (Krylov–Schur).

    Args:
        matvec: x ↦ A x on (n,) vectors.
        n: dimension; k: number wanted (complex-conjugate partners with equal real part are kept together).
        anorm: ‖A‖ estimate (scale of the residual test and of breakdown).
        v0: start vector (default: reproducible random).
        m: Krylov basis size (≥ 2k + 2); tol: relative Ritz residual ‖Av − λv‖/(anorm‖v‖) accepted.
        maxiter: cap on the restarts (default max(1000, 4n/m)); time_limit: seconds. Reaching either raises
            ConvergenceError carrying the largest Ritz residual of the wanted eigenvalues.
        progress: optional ``progress(restart, residual)`` after every restart (wanted Ritz residual).
        needed: optional ``needed(values) -> bool mask`` of the Ritz values (sorted by decreasing real
            part) that must reach ``tol``; default all k.

    Returns a dict: values (k, descending real part), vectors ((n, k) Ritz vectors, unit norm),
    residuals (relative, per value), restarts, matvecs.
    """
    m = int(min(m, n))
    k = int(min(k, m - 2))
    keep = min(max(k + (m - k) // 2, k + 1), m - 1)
    t0 = time.perf_counter()
    limit = max(1000, 4 * n // max(m, 1)) if maxiter is None else int(maxiter)
    V = np.zeros((m + 1, n), dtype=dtype)
    H = np.zeros((m + 1, m), dtype=np.complex128)
    if v0 is None:
        rng = np.random.default_rng(0)
        v0 = rng.normal(size=n) + (1j * rng.normal(size=n) if np.iscomplexobj(np.empty(0, dtype)) else 0)
    V[0] = v0 / np.linalg.norm(v0)
    p, matvecs, res = 0, 0, float("inf")
    for restart in range(1, limit + 1):
        size = _arnoldi_extend(matvec, V, H, p, m, anorm)
        matvecs += size - p
        beta = H[size, size - 1] if size == m else 0.0
        vals = sla.eigvals(H[:size, :size])
        order = np.argsort(-vals.real)
        # leading Schur block: the k wanted Ritz values and the next rightmost ones (thick restart);
        # ties (conjugate partners) stay together
        p_min = min(max(k, keep), size - 1) if size == m else size
        thr = vals[order[p_min - 1]].real - 1e-12 * anorm
        T, Z, p = sla.schur(H[:size, :size], output="complex", sort=lambda z, t=thr: z.real >= t)
        p = int(p)
        # Ritz residual of eigenvector y of T[:p, :p]: |β|·|last row of Z y|
        w, Y = sla.eig(T[:p, :p])
        Y = Y / np.linalg.norm(Y, axis=0)
        resid = np.abs(beta) * np.abs(Z[size - 1, :p] @ Y) / anorm
        want = np.argsort(-w.real)[:k]
        mask = np.ones(want.size, bool) if needed is None else np.asarray(needed(w[want]), bool)
        res = float(np.max(resid[want][mask])) if mask.any() else float(np.max(resid[want]))
        if progress is not None:
            progress(restart, res)
        if res <= tol or size < m:
            X = (Z[:, :p] @ Y[:, want]).T @ V[:size]
            X = X.T / np.linalg.norm(X, axis=1)
            return {"values": w[want], "vectors": X, "residuals": resid[want], "restarts": restart,
                    "matvecs": matvecs}
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            raise ConvergenceError(f"Krylov–Schur stopped at the time limit ({time_limit:g} s, {restart} restarts, "
                                   f"{matvecs} products) with relative Ritz residual {res:.2e}", res)
        # thick restart: keep the leading Schur vectors (a leading block of a triangular T is invariant)
        p = min(p, size - 1)
        V[:p] = Z[:, :p].T @ V[:size]
        V[p] = V[size]
        H[:] = 0
        H[:p, :p] = T[:p, :p]
        H[p, :p] = beta * Z[size - 1, :p]
    raise ConvergenceError(f"Krylov–Schur did not converge in maxiter = {limit} restarts ({matvecs} products): "
                           f"relative Ritz residual {res:.2e}", res)
