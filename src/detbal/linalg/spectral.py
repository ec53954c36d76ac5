"""Spectra and gaps of generators (private to :mod:`detbal.dynamics`; THEORY.md §9).

- Full spectra: dense ``eig`` of the d²×d² matrix (guarded by the memory budget); never a sparse
  solver for all eigenvalues.
- A few slow eigenvalues: shift-invert Arnoldi (ARPACK) around a small real z > 0 finds the
  2k + 4 eigenvalues nearest to 0; the k with the largest real part are returned. For
  Liouvillians these are the k slowest modes unless a slowly decaying coherence oscillates faster
  (|Im λ| larger) than 2k + 4 faster-decaying modes are far; each eigenpair carries its residual
  ‖Lv − λv‖/(‖L‖₁‖v‖).
(The Hermitian path for KMS-detailed-balanced generators, on the σ-transformed generator, is
physics and lives in :func:`detbal.balance.dense.hermitian_analysis`.)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse.linalg as spla

from . import linsolve as _linsolve
from .. import config
from .linsolve import ShiftedSolver, effective_hamiltonian, onenorm
from ..errors import ConvergenceError, MemoryBudgetError

__all__ = ["dense_eigenvalues", "gap_from_eigenvalues", "slow_eigenpairs", "sort_slowest"]


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


def slow_eigenpairs(L, k: int):
    """The k slowest of the 2k + 4 eigenpairs nearest to 0 (shift-invert Arnoldi, z = 1e-3‖L‖₁ > 0).

    Returns (values, vectors (d², k), relative residuals, norm, method).
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
    solver = ShiftedSolver(A, d, 1e-3 * norm, Heff=Heff, kind=kind)
    k = int(min(k, n - 2))
    kk = int(min(2 * k + 4, n - 2))
    try:
        v0 = np.random.default_rng(0).normal(size=n) + 0j  # reproducible Arnoldi start
        vals, vecs = spla.eigs(A, k=kk, sigma=solver.z, OPinv=solver.inverse_operator(), which="LM", v0=v0,
                               ncv=min(n, max(2 * kk + 1, 20)), tol=1e-13, maxiter=max(1000, 10 * n))
    except spla.ArpackNoConvergence as exc:
        raise ConvergenceError(f"shift-invert Arnoldi did not converge: {exc}") from exc
    res = np.linalg.norm(A @ vecs - vecs * vals[None, :], axis=0) / (norm * np.linalg.norm(vecs, axis=0))
    order = sort_slowest(vals)[:k]  # the k slowest of the 2k + 4 eigenvalues nearest to 0
    return vals[order], vecs[:, order], res[order], norm, f"shift-invert({kind})"


def gap_from_eigenvalues(vals: np.ndarray, norm: float, tol: float) -> tuple[float, int, int]:
    """(gap, index of the slowest nonzero eigenvalue, number of zero eigenvalues)."""
    zero = np.abs(vals) <= tol * norm
    nonzero = np.flatnonzero(~zero)
    if nonzero.size == 0:
        return float("nan"), -1, int(zero.sum())
    i = nonzero[np.argmax(vals[nonzero].real)]
    return float(-vals[i].real), int(i), int(zero.sum())
