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

Long times (t·‖𝓛‖₁ > LONG_TIME, e.g. t = 1e8 or 1e20) cost O(log t) for d ≤ LONG_DENSE_MAX_DIM:
the time steps are taken with e^{Δt𝓛} of the dense matrix by scaling and squaring, which stops
at the stationary projection once every decaying mode is below round-off (trace preserved,
the state then equals the stationary one exactly and later times copy it); a grid's repeated
steps reuse one propagator. (expm-multiply and Krylov cost O(t‖𝓛‖) matrix–vector products.)
Beyond that d, a GKSL generator (Lindbladian or sum of them) at long times is propagated by
``expm_multiply`` in doubling windows only until the state is stationary: with ρ_∞ = 𝓟(ρ0) (the
kernel projection from ``steady_state(L, initial=ρ0)``), every CPTP map e^{s𝓛} fixes ρ_∞ and
contracts the trace norm, so ‖ρ(t) − ρ_∞‖₁ ≤ ‖ρ(t₁) − ρ_∞‖₁ for every t ≥ t₁. Once that distance
is ≤ STATIONARY_TOL (or stops decreasing at the round-off floor ≤ 1e-9) every later time returns
ρ_∞, whose trace is exactly 1; the bound reached is reported in ``info["long_time_stats"]["bound"]``. Cost
O(t₁‖𝓛‖) with t₁ a few relaxation times, independent of t.

States are produced in chunks so that expectation values never need all states in memory.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse.linalg as spla

from .. import config
from .._longtime import PHASE_TOL, expm_any_time, is_long
from ..errors import ConvergenceError, InputError
from ..generators.lindblad import lindblad_terms
from .krylov import krylov_chunks
from .linsolve import generator_matrix, onenorm
from .steady import steady_state

__all__ = ["EIG_COND_MAX", "choose_method", "propagate"]

EIG_MIN_TIMES = 16
EIG_COND_MAX = 1e5
CHUNK = 64
KRYLOV_MIN_TIMES = 8
#: dense scaling and squaring for long times up to this d (a d²×d² = 256×256 propagator)
LONG_DENSE_MAX_DIM = 32
#: largest t·‖𝓛‖₁ for method="krylov": its step errors add up to ~1e-17 per unit of t‖𝓛‖₁ (qubit: trace
#: error 1.7e-12 at t‖𝓛‖₁ = 2.6e5, 4e-9 at 2.6e8, 1.5e-5 at 2.6e12); beyond, the long-time paths
KRYLOV_MAX_SPAN = 1e5
#: trace distance to the stationary state below which a state counts as stationary (long times)
STATIONARY_TOL = 1e-13


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




def _long_chunks(M: np.ndarray, v0, times) -> Iterator[tuple[slice, np.ndarray]]:
    """Step from time to time with E = e^{Δt M} (scaling and squaring, one E per distinct Δt);
    once a step's E is the stationary projection the state is stationary and is copied."""
    n = int(round(np.sqrt(M.shape[0])))
    trace_row = np.eye(n).reshape(-1)  # Tr ρ = vec(I)ᵀ vec(ρ), conserved by a trace-preserving 𝓛

    def gen():
        v, prev, stationary, cache = v0, 0.0, False, {}
        for k, t in enumerate(times):
            dt = float(t) - prev
            if dt > 0 and not stationary:
                if dt not in cache:
                    cache.clear()
                    cache[dt] = expm_any_time(M, dt, conserved=trace_row)
                E, stationary = cache[dt]
                v = E @ v
            prev = float(t)
            yield slice(k, k + 1), v[None, :]

    return gen()


def _trace_distance(v: np.ndarray, w: np.ndarray) -> float:
    n = int(round(np.sqrt(v.size)))
    X = (v - w).reshape((n, n), order="F")
    return float(np.sum(np.abs(np.linalg.eigvalsh((X + X.conj().T) / 2))))


def _stationary_chunks(L, A, v0, times, matrix_free: bool, info: dict) -> Iterator[tuple[slice, np.ndarray]]:
    """Long times of a GKSL generator at large d (module docstring): exact propagation in doubling
    windows until ‖ρ − ρ_∞‖₁ ≤ STATIONARY_TOL, then ρ_∞ = 𝓟(ρ0) for every later time."""
    n = int(round(np.sqrt(v0.size)))
    rho0 = v0.reshape((n, n), order="F")
    target = steady_state(L, initial=rho0).state.reshape(-1, order="F")
    norm = max(onenorm(A), np.finfo(float).tiny)
    kw = {"traceA": 0.0} if matrix_free else {}
    window0 = 1.0 / norm

    def advance(v, dt):
        return spla.expm_multiply(A * dt if not matrix_free else _scaled(A, dt), v, **kw)

    stats = info["long_time_stats"] = {}   # shared: filled while the chunks run

    def gen():
        v, now, done, window, last = v0, 0.0, False, window0, np.inf
        stats["bound"] = _trace_distance(v0, target)
        for k, t in enumerate(times):
            t = float(t)
            while not done and now < t:
                step = min(window, t - now)
                v = advance(v, step)
                now += step
                window *= 2
                dist = _trace_distance(v, target)
                stats["bound"] = dist
                if dist <= STATIONARY_TOL or (dist <= 1e-9 and dist > 0.5 * last):
                    done = True          # below tolerance, or at the round-off floor
                    stats["stationary_from"] = now
                elif now * norm * np.finfo(float).eps > PHASE_TOL:
                    raise ConvergenceError(f"e^(tL) at t = {now:.3g}: the state is still at trace distance "
                                           f"{dist:.2e} from the stationary one (undamped or barely damped "
                                           "modes)", dist)
                last = dist
            yield slice(k, k + 1), (target if done else v)[None, :]

    return gen()


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
    A, matrix_free = generator_matrix(L)
    suffix = "(matrix-free)" if matrix_free else ""
    norm = onenorm(A)
    long = bool(times[-1] > 0 and is_long(norm, float(times[-1])))
    dense_long = L.dim <= LONG_DENSE_MAX_DIM and config.fits_memory(4 * config.superoperator_bytes(L.dim))
    stationary_long = lindblad_terms(L) is not None and L.dim > LONG_DENSE_MAX_DIM
    if method == "krylov" and times[-1] * norm > KRYLOV_MAX_SPAN:
        # Arnoldi steps cost O(t‖𝓛‖₁) and their per-step error accumulates: the trace drifts (1.5e-5
        # at t = 1e12 for a qubit, NaN at 1e20); the long-time paths are exact and O(log t)
        if not (dense_long or stationary_long):
            raise InputError(f"method='krylov' cannot reach t = {times[-1]:.3g} (t·‖𝓛‖₁ = {times[-1] * norm:.2e}): "
                             "its steps grow with t and lose the trace; long times are exact for d ≤ "
                             f"{LONG_DENSE_MAX_DIM} or for a Lindbladian (method='auto'); otherwise use shorter "
                             "times or steady_state(L, initial=rho0) for the t → ∞ limit")
        info["replaced"] = (f"method='krylov' at t·‖𝓛‖₁ = {times[-1] * norm:.2e} would lose the trace: the exact "
                            "long-time path is used instead")
        method = "expm-multiply"
    if long and method in ("eig", "expm-multiply") and dense_long:
        info["method"] = "expm-multiply"
        info["long_time"] = "dense scaling and squaring, stopped at the stationary projection"
        return _long_chunks(L.to_dense() if matrix_free else A.toarray(), v0, times), info
    if long and stationary_long:
        info["method"] = "expm-multiply" + suffix
        info["long_time"] = ("propagated until ‖ρ − 𝓟(ρ0)‖₁ ≤ 1e-13 (trace-norm contraction), "
                             "then the kernel projection 𝓟(ρ0)")
        return _stationary_chunks(L, A, v0, times, matrix_free, info), info
    if method == "eig":
        chunks, cond = _eig_chunks(L, v0, times)
        info["eigenvector_condition"] = cond
        if chunks is not None:
            info["method"] = "eig"
            return chunks, info
        info["fallback"] = (f"eigenvector condition number {cond:.1e} > {EIG_COND_MAX:.0e}: expm-multiply used")
    if method == "krylov":
        chunks, stats = krylov_chunks(A, v0, times)
        info["method"] = "krylov" + suffix
        info["krylov"] = stats
        return chunks, info
    info["method"] = "expm-multiply" + suffix
    info["grid"] = "uniform" if _uniform(times) else "stepped"
    return _expm_chunks(A, v0, times, matrix_free), info
