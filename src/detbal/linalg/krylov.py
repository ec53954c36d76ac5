"""Krylov propagation e^{tA}v with error control and dense output (private to detbal.evolve).

Sidje's EXPOKIT scheme (ACM TOMS 24, 1998): an Arnoldi basis V_{m+1} of the Krylov space
K_m(A, w) is built once per step; the step size τ is accepted when the a-posteriori estimate
of the local error (from the augmented (m+2)×(m+2) Hessenberg matrix) is below tol·τ, otherwise
shrunk. Every requested time t inside the accepted step is then read off the same basis,
w(t) = ‖w‖ V_{m+1} [e^{(t − t_now) H̄}]_{:, 0}, at the cost of one small (m+2)×(m+2) ``expm``, so
1000 output times cost about as many matrix–vector products as one long step needs — unlike
re-running a Taylor or ODE method between consecutive outputs. Error per unit time ≤ tol·‖v0‖.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg as sla
import scipy.sparse.linalg as spla

from ..errors import ConvergenceError

__all__ = ["KRYLOV_DIM", "KRYLOV_TOL", "FactoredBlock", "krylov_chunks"]

KRYLOV_DIM = 30
KRYLOV_TOL = 1e-12
_GAMMA, _DELTA, _MAX_REJECT = 0.9, 1.2, 20


def _round_step(t: float) -> float:
    s = 10.0 ** (math.floor(math.log10(t)) - 1)
    return math.ceil(t / s) * s


class FactoredBlock:
    """States coeff @ basis ((k, cols) @ (cols, n)) kept factored: expectation values need only
    basis @ rowsᵀ, never the k full states."""

    __slots__ = ("basis", "coeff")

    def __init__(self, coeff: np.ndarray, basis: np.ndarray):
        self.coeff, self.basis = coeff, basis

    def states(self) -> np.ndarray:
        return self.coeff @ self.basis

    def project(self, rows: np.ndarray) -> np.ndarray:
        """(k, n_ops) array of rows · state for every state of the block."""
        return self.coeff @ (self.basis @ rows.T)


def _dense_output(Hs: np.ndarray, taus: np.ndarray, F: np.ndarray, t_step: float) -> np.ndarray:
    """First columns of e^{τ H} for every τ in taus (ascending), shape (len(taus), size).

    Uniformly spaced taus use the recurrence f_{q+1} = e^{ΔH} f_q (one small expm for the whole
    step); otherwise one expm per time."""
    out = np.empty((taus.size, Hs.shape[0]), dtype=np.complex128)
    dt = np.diff(taus)
    if taus.size > 2 and np.max(np.abs(dt - dt.mean())) <= 1e-12 * max(taus[-1], 1e-300):
        out[0] = F[:, 0] if taus[0] == t_step else sla.expm(taus[0] * Hs)[:, 0]
        E = sla.expm(dt.mean() * Hs)
        for q in range(1, taus.size):
            out[q] = E @ out[q - 1]
        return out
    for q, tau in enumerate(taus):
        out[q] = (F if tau == t_step else sla.expm(tau * Hs))[:, 0]
    return out


def inf_norm(A) -> float:
    if isinstance(A, spla.LinearOperator):
        return float(spla.onenormest(A.H))
    return float(abs(A).sum(axis=1).max())


def krylov_chunks(A, v0: np.ndarray, times: np.ndarray, tol: float = KRYLOV_TOL, m: int = KRYLOV_DIM):
    """(chunks, stats) for the sorted ``times`` (≥ 0), starting at t = 0.

    ``chunks`` yields (slice, FactoredBlock of k states); ``stats`` is a new dict of step counts
    ("steps", "matvecs", "rejections") updated while the chunks are consumed.

    Names: ``vnorm`` is the 2-norm of the current vector w (β in Sidje's paper; not an inverse
    temperature), ``vnorm0`` that of v0, ``anorm`` the ∞-norm of A.
    """
    n = v0.shape[0]
    m = int(min(m, n))  # m = n lets the Arnoldi process break down exactly on the whole space
    anorm = max(inf_norm(A), np.finfo(float).tiny)
    matvec = A.matvec if isinstance(A, spla.LinearOperator) else (lambda x: A @ x)
    vnorm0 = float(np.linalg.norm(v0))
    abstol = tol * max(vnorm0, np.finfo(float).tiny)
    t_end = float(times[-1])
    stats = {"steps": 0, "matvecs": 0, "rejections": 0}

    def gen():
        w = v0.copy()
        t_now = 0.0
        k = 0  # next output index
        while k < times.size and times[k] <= 0.0:
            k += 1
        if k:
            yield slice(0, k), FactoredBlock(np.ones((k, 1), dtype=np.complex128), w[None, :])
        if k == times.size:
            return
        vnorm = vnorm0
        fact = ((m + 1) / math.e) ** (m + 1) * math.sqrt(2 * math.pi * (m + 1))
        t_new = _round_step((1 / anorm) * ((fact * abstol) / (4 * max(vnorm, 1e-300) * anorm)) ** (1 / m))
        while k < times.size:
            if vnorm == 0.0:
                yield slice(k, times.size), FactoredBlock(np.zeros((times.size - k, 1), dtype=np.complex128),
                                                          np.zeros((1, n), dtype=np.complex128))
                return
            t_step = min(t_end - t_now, t_new)
            V = np.empty((m + 1, n), dtype=np.complex128)  # rows are basis vectors
            H = np.zeros((m + 2, m + 2), dtype=np.complex128)
            V[0] = w / vnorm
            breakdown, mb = False, m
            for j in range(m):
                p = np.asarray(matvec(V[j]), dtype=np.complex128).ravel()
                Vj = V[: j + 1]
                before = float(np.linalg.norm(p))
                for _ in range(2):  # classical Gram–Schmidt, reorthogonalised when cancellation is large
                    h = np.conj(Vj @ np.conj(p))  # h_i = ⟨V_i, p⟩ without copying the basis
                    p = p - h @ Vj
                    H[: j + 1, j] += h
                    s = float(np.linalg.norm(p))
                    if s > 0.7 * before:  # Kahan–Parlett "twice is enough" criterion
                        break
                    before = s
                stats["matvecs"] += 1
                if s <= 1e-13 * anorm:  # invariant subspace: the step is exact
                    breakdown, mb = True, j + 1
                    t_step = t_end - t_now
                    break
                H[j + 1, j] = s
                V[j + 1] = p / s
            if not breakdown:
                H[m + 1, m] = 1.0
                avnorm = float(np.linalg.norm(matvec(V[m])))
                stats["matvecs"] += 1
            size = mb if breakdown else m + 2
            xm = 1.0 / m
            for reject in range(_MAX_REJECT + 1):
                F = sla.expm(t_step * H[:size, :size])
                if breakdown:
                    err = 0.0
                    break
                phi1 = abs(vnorm * F[m, 0])
                phi2 = abs(vnorm * F[m + 1, 0] * avnorm)
                if phi1 > 10 * phi2:
                    err, xm = phi2, 1.0 / m
                elif phi1 > phi2:
                    err, xm = phi1 * phi2 / (phi1 - phi2), 1.0 / m
                else:
                    err, xm = phi1, 1.0 / (m - 1) if m > 1 else 1.0
                if err <= _DELTA * t_step * abstol:
                    break
                if reject == _MAX_REJECT:
                    raise ConvergenceError(f"Krylov propagation: step rejected {_MAX_REJECT} times "
                                           f"(local error {err:.2e})", err)
                t_step = _round_step(_GAMMA * t_step * (t_step * abstol / err) ** xm)
                stats["rejections"] += 1
            cols = mb if breakdown else m + 1
            t_next = t_now + t_step
            if k < times.size and times[-1] - t_next <= 1e-14 * max(1.0, t_end):
                t_next = t_end  # absorb round-off at the final time
            start = k
            while k < times.size and times[k] <= t_next:
                k += 1
            if k > start:
                coeff = vnorm * _dense_output(H[:size, :size], times[start:k] - t_now, F, t_step)[:, :cols]
                yield slice(start, k), FactoredBlock(coeff, V[:cols])
            w = (vnorm * F[:cols, 0]) @ V[:cols]
            vnorm = float(np.linalg.norm(w))
            t_now = t_next
            stats["steps"] += 1
            if not breakdown and err > 0:
                t_new = _round_step(_GAMMA * t_step * (t_step * abstol / err) ** xm)
            else:
                t_new = max(t_step, t_end - t_now) if t_end > t_now else t_step
            if k < times.size and t_new <= 1e-13 * max(1.0, t_end):
                raise ConvergenceError(f"Krylov propagation: step size {t_new:.1e} underflows at t = {t_now:.6g}")

    return gen(), stats
