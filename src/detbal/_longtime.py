"""e^{tM} of a dense generator block at any time t, at O(log t) cost (internal).

Scaling and squaring: E = e^{τM} with τ = t/2^s and ‖τM‖₁ ≤ 1, then E ← E² s times
(s = ⌈log₂(t‖M‖₁)⌉ products, so t = 1e20 costs ~70 products). Squaring doubles any error along
an eigenvalue of modulus one (the stationary projection, e.g. the trace), so after many
squarings of a converged propagator the trace would drift like 2^s·ε. The squaring therefore
stops as soon as E² = E to round-off (max|E² − E| ≤ max(64, n)·ε·max(1, max|E|), the
noise floor of an n×n product): then every decaying mode is below ε at time 2^j·τ and
e^{tM} = E for every later t (the projection onto the stationary states along the conserved
quantities). Generators with purely imaginary eigenvalues never converge and are squared to the
end; their phases carry an error ~ t‖M‖₁·ε for any method, so beyond t‖M‖₁·ε > 1e-8 a
ConvergenceError is raised instead of returning an unreliable propagator. A conserved linear form
c (cᵀM = 0: the trace, total probability) is restored after every squaring by the rank-one
correction E ← E − c(cᵀE − cᵀ)/‖c‖², so it cannot drift while the squaring converges.
Rates spanning more than ~1/(nε) are beyond any dense double-precision propagator.

Used by the generic propagator (d²×d² matrices of small d) and by the Davies sector evolution
(Pauli matrix, degenerate ν = 0 block).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg as sla

from .errors import ConvergenceError

__all__ = ["LONG_TIME", "PHASE_TOL", "is_long", "expm_any_time"]

#: t·‖M‖₁ above which a time counts as long: Taylor/Krylov propagators then cost O(t‖M‖)
LONG_TIME = 64.0
_EPS = np.finfo(float).eps
#: largest t‖M‖₁·ε accepted for a generator whose propagator does not become stationary
PHASE_TOL = 1e-8


def _norm1(M: np.ndarray) -> float:
    return float(np.max(np.sum(np.abs(M), axis=0))) if M.size else 0.0


def _phases_lost(t: float, norm: float) -> ConvergenceError:
    a = t * norm
    return ConvergenceError(
        f"e^(tL) at t = {t:.3g}: the generator has undamped (oscillating) or barely damped modes, "
        f"whose amplitudes and phases carry an error ~ t·‖L‖·ε = {a * _EPS:.1e} at this time; use times t ≤ {PHASE_TOL / (_EPS * norm):.3g}",
        residual=a * _EPS)


def is_long(M_norm1: float, t: float) -> bool:
    """Whether e^{tM} should be computed by :func:`expm_any_time` (t‖M‖₁ > LONG_TIME)."""
    return t * M_norm1 > LONG_TIME


def expm_any_time(M: np.ndarray, t: float, conserved: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
    """e^{tM} (dense, (n, n)) for t ≥ 0 by scaling and squaring with early stop at stationarity.

    Args:
        M: (n, n) dense generator (columns acting on column vectors).
        t: time ≥ 0, finite.
        conserved: optional (n,) vector c with cᵀM = 0 (checked to 1e-12·‖M‖₁, else ignored)
            kept exactly conserved, cᵀE = cᵀ.
    Returns:
        (E, stationary): E = e^{tM} as an (n, n) ndarray, and whether it is the stationary
        projection (E² = E to round-off, reached at some 2^j τ ≤ t; then E maps every vector to
        a stationary one, which no later time changes).
    Raises:
        ConvergenceError: the propagator is not yet stationary when t‖M‖₁·ε > PHASE_TOL
            (undamped, oscillating modes, or relaxation times > ~1e6/‖M‖₁): the phases and
            slow amplitudes at that time are lost to round-off.
    """
    norm = _norm1(M)
    a = t * norm
    if a <= 1.0:
        return sla.expm(M * t), False
    fix = None
    if conserved is not None:
        c = np.asarray(conserved, dtype=M.dtype)
        if np.max(np.abs(c @ M), initial=0.0) <= 1e-12 * norm * np.max(np.abs(c)):
            fix = (c, c.conj() / np.vdot(c, c).real)
    tol = max(64, M.shape[0]) * _EPS
    s = math.ceil(math.log2(a))
    E = sla.expm(M * (t / 2.0 ** s))
    reached = a / 2.0 ** s                       # τ‖M‖₁ of the current E
    for _ in range(s):
        if reached * _EPS > PHASE_TOL:           # not stationary yet and phases already lost
            raise _phases_lost(t, norm)
        E2 = E @ E
        reached *= 2
        if fix is not None:
            E2 -= np.outer(fix[1], fix[0] @ E2 - fix[0])
        if np.max(np.abs(E2 - E)) <= tol * max(1.0, float(np.max(np.abs(E)))):
            return E2, True
        E = E2
    if a * _EPS > PHASE_TOL:
        raise _phases_lost(t, norm)
    return E, False
