"""Propagation ρ(t) = e^{t𝓛}ρ(0) of a constant generator (private to :mod:`detbal.dynamics`).

Three exact propagators, no ODE integrator:
- "expm-multiply": the action of the exponential on a vector (Al-Mohy & Higham 2011, scipy's
  ``expm_multiply``) on the sparse d²×d² matrix, or on the matrix-free LinearOperator when the
  sparse matrix does not fit. Uniform time grids use its interval mode (one norm analysis for the
  whole grid), other grids step from one time to the next. Accurate to ~1e-15 relative.
- "krylov": Arnoldi/EXPOKIT steps with a-posteriori error control (tol 1e-12·‖ρ0‖ per unit time);
  all output times inside an accepted step are read off the same Krylov basis (:mod:`detbal._krylov`),
  so many output times cost little more than one. Default for ≥ 8 times beyond small d.
- "eig": one eigendecomposition L = V Λ V⁻¹ of the dense matrix, then vec ρ(t) = V e^{Λt} V⁻¹ vec ρ0
  for every time (O(d⁴) per time). Used for small d with many times when cond(V) ≤ 1e5, so the
  error (≈ cond(V)·ε) stays below 1e-10; otherwise "expm-multiply".

States are produced in chunks so that expectation values never need all states in memory.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse.linalg as spla

from .. import config
from .krylov import krylov_chunks
from .linsolve import generator_matrix

__all__ = ["EIG_COND_MAX", "choose_method", "propagate"]

EIG_MIN_TIMES = 16
EIG_COND_MAX = 1e5
CHUNK = 64
KRYLOV_MIN_TIMES = 8


def _uniform(times: np.ndarray) -> bool:
    if times.size < 2:
        return True
    dt = np.diff(times)
    span = max(times[-1] - times[0], np.finfo(float).tiny)
    return bool(np.all(dt > 0) and np.max(np.abs(dt - dt.mean())) <= 1e-12 * span)


def choose_method(d: int, nt: int) -> str:
    """"eig" for small d and many times, "krylov" for many times, else "expm-multiply"."""
    if d <= config.EIG_MAX_DIM and nt >= EIG_MIN_TIMES:
        return "eig"
    return "krylov" if nt >= KRYLOV_MIN_TIMES else "expm-multiply"




def _eig_chunks(L, v0, times) -> tuple[Iterator[tuple[slice, np.ndarray]] | None, float]:
    """(chunks, cond(V)); chunks is None when the eigenvectors are too ill-conditioned."""
    d = L.dim
    config.check_memory(4 * config.superoperator_bytes(d), f"eigendecomposition of the generator (d = {d})",
                        "method='expm-multiply'")
    M = L.to_dense()
    w, V = np.linalg.eig(M)
    cond = float(np.linalg.cond(V))
    if not np.isfinite(cond) or cond > EIG_COND_MAX:
        return None, cond
    c = np.linalg.solve(V, v0)

    def gen():
        for start in range(0, times.size, CHUNK):
            t = times[start:start + CHUNK]
            block = (V @ (np.exp(np.outer(w, t)) * c[:, None])).T
            yield slice(start, start + t.size), block

    return gen(), cond


def _expm_chunks(A, v0, times, matrix_free: bool) -> Iterator[tuple[slice, np.ndarray]]:
    """Chunks by scipy's ``expm_multiply`` (interval mode on uniform grids, else stepped)."""
    kw = {"traceA": 0.0} if matrix_free else {}
    uniform = _uniform(times)

    def advance(v, dt):
        if dt == 0:
            return v.copy()
        return spla.expm_multiply(A * dt if not matrix_free else _scaled(A, dt), v, **kw)

    def gen():
        v = advance(v0, float(times[0]))
        if times.size == 1:
            yield slice(0, 1), v[None, :]
            return
        if uniform:
            dt = (times[-1] - times[0]) / (times.size - 1)
            yield slice(0, 1), v[None, :]
            start = 1
            while start < times.size:
                m = min(CHUNK, times.size - start)
                block = spla.expm_multiply(A, v, start=0.0, stop=m * dt, num=m + 1, endpoint=True, **kw)
                v = block[-1]
                yield slice(start, start + m), block[1:]
                start += m
        else:
            yield slice(0, 1), v[None, :]
            for k in range(1, times.size):
                v = advance(v, float(times[k] - times[k - 1]))
                yield slice(k, k + 1), v[None, :]

    return gen()


def _scaled(op, a):
    return spla.LinearOperator(op.shape, matvec=lambda x: a * op.matvec(x), rmatvec=lambda x: a * op.rmatvec(x),
                               dtype=op.dtype)


def propagate(L, rho0: np.ndarray, times: np.ndarray, method: str) -> tuple[Iterator, dict]:
    """(chunks, info): chunks yield (slice of time indices, block of column-stacked states (m, d²)).

    ``method`` is "eig", "krylov" or "expm-multiply". ``info`` is a new dict with the method
    actually used (``info["method"]``) and diagnostics (eigenvector condition, fallback, grid;
    Krylov step statistics, filled in while the chunks are consumed). Nothing passed in is mutated.
    """
    v0 = rho0.reshape(-1, order="F").astype(np.complex128)
    info: dict = {}
    if method == "eig":
        chunks, cond = _eig_chunks(L, v0, times)
        info["eigenvector_condition"] = cond
        if chunks is not None:
            info["method"] = "eig"
            return chunks, info
        info["fallback"] = (f"eigenvector condition number {cond:.1e} > {EIG_COND_MAX:.0e}: expm-multiply used")
    A, matrix_free = generator_matrix(L)
    suffix = "(matrix-free)" if matrix_free else ""
    if method == "krylov":
        chunks, stats = krylov_chunks(A, v0, times)
        info["method"] = "krylov" + suffix
        info["krylov"] = stats
        return chunks, info
    info["method"] = "expm-multiply" + suffix
    info["grid"] = "uniform" if _uniform(times) else "stepped"
    return _expm_chunks(A, v0, times, matrix_free), info
