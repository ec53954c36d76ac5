"""Linear transport near equilibrium: Onsager matrix, fluctuation–dissipation and Green–Kubo.

Currents J_i (counted as in :mod:`detbal.thermo.counting`: flows from bath i into the system) and
their conjugate affinities A_j: J_i = Σ_j L_ij A_j + O(A²). For heat exchanged between baths
b = 1 … n and a reference bath 0 the entropy production is Π = Σ_b (β_0 − β_b) J_b, so the
affinity of the energy current of bath b is A_b = β_0 − β_b (for quanta of energy ω:
A_b = (β_0 − β_b)ω; for particles at chemical potentials μ_b: A_b = β(μ_b − μ_0)).

The Onsager matrix is computed two ways:

* **response**: central differences of the steady currents of a *family* of generators
  𝓛(A) around A = 0 (equilibrium), L_ij = ∂⟨J_i⟩/∂A_j, with one Richardson step
  (D(h) and D(h/2) → (4D(h/2) − D(h))/3, error O(h⁴));
* **noise** (fluctuation–dissipation): L_ij = S_ij/2 at equilibrium with S the joint
  zero-frequency noise, S_ij = Tr[𝓛^{(ij)}ρ] − Tr[𝓛_i𝓡𝓛_jρ] − Tr[𝓛_j𝓡𝓛_iρ] (c_2 for i = j).

Green–Kubo: L_ij = ∫_0^∞ dt ⟨δI_i(t) δI_j(0)⟩_eq including the instantaneous jump term, which for
jump currents is ½Tr[𝓛^{(ij)}ρ] − Tr[𝓛_i𝓡𝓛_jρ] (𝓡 the Drazin inverse, −𝓡 = ∫_0^∞ e^{t𝓛}(1 − P) dt);
its symmetric part is S/2. Reciprocity: L_ij = L_ji for time-reversal-invariant dynamics,
L_ij(B) = L_ji(−B) with a magnetic field B; the second law makes the symmetric part of L
positive semidefinite (Π = Σ_ij L_ij A_i A_j ≥ 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._serialize import JsonResult
from ..classical.rate_matrix import RateMatrix
from ..errors import InputError
from ..generators.base import Generator
from .fcs import _no_bool, correlation_parts, problem

__all__ = ["OnsagerMatrix", "green_kubo", "onsager_matrix"]


@dataclass(frozen=True)
class OnsagerMatrix(JsonResult):
    """Onsager coefficients L_ij = ∂J_i/∂A_j at equilibrium, from response and from noise.

    Attributes:
        labels: (n,) the counted currents.
        response: (n, n) central-difference coefficients (Richardson-extrapolated).
        noise: (n, n) S/2 from the equilibrium joint noise (fluctuation–dissipation).
        green_kubo: (n, n) ½Tr[𝓛^{(ij)}ρ] − Tr[𝓛_i𝓡𝓛_jρ] at equilibrium (:func:`green_kubo`),
            whose antisymmetric part carries the magnetic-field response that S/2 cannot.
        step: the largest affinity step h of the central differences (h and h/2 are used).
        symmetry_residual: ‖L − Lᵀ‖_F/‖L‖_F of ``response`` (0 for reciprocal transport
            without magnetic field).
        fdt_residual: ‖(L + Lᵀ)/2 − S/2‖_F/‖S/2‖_F (response vs noise).
        green_kubo_residual: ‖L − L_GK‖_F/‖L_GK‖_F (response vs Green–Kubo, antisymmetric part included).
        min_eigenvalue: smallest eigenvalue of (L + Lᵀ)/2 (≥ 0 by the second law).
        equilibrium_current: max_i |⟨J_i⟩| at A = 0 (≈ 0 when the family starts at equilibrium).
    """

    labels: tuple
    response: np.ndarray
    noise: np.ndarray
    green_kubo: np.ndarray
    step: float
    symmetry_residual: float
    fdt_residual: float
    green_kubo_residual: float
    min_eigenvalue: float
    equilibrium_current: float

    __bool__ = _no_bool

    def __str__(self) -> str:
        return (f"OnsagerMatrix({len(self.labels)}×{len(self.labels)}, symmetry residual "
                f"{self.symmetry_residual:.1e}, FDT residual {self.fdt_residual:.1e}, min eigenvalue "
                f"{self.min_eigenvalue:.3g}, step {self.step:g})")


def _fields(counting) -> list:
    if isinstance(counting, dict):
        return [counting]
    if isinstance(counting, (list, tuple)) and counting:
        return list(counting)
    raise InputError("`counting` must be one counting field per affinity: a list of dicts such as "
                     f"[{{'hot': 'energy'}}, {{'warm': 'energy'}}], got {counting!r}"[:300])


def _means(L, fields) -> np.ndarray:
    _, prob = problem(L, fields)
    F = len(fields)
    out = np.empty(F)
    for f in range(F):
        e = [0] * F
        e[f] = 1
        out[f] = prob.trace(prob.moment(prob.stationary, tuple(e)))
    return out


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    scale = max(float(np.linalg.norm(b)), np.finfo(float).tiny)
    return float(np.linalg.norm(a - b) / scale)


def onsager_matrix(family: Callable, counting, *, step: float = 1e-3) -> OnsagerMatrix:
    """Onsager matrix of a family of generators around equilibrium, by response and by noise.

    Args:
        family: callable A ↦ generator (Generator, d²×d² matrix or RateMatrix) for an affinity
            vector A of shape (n,); ``family(np.zeros(n))`` must be at equilibrium. For thermal
            biases around β with reference bath "cold" and energy counting, e.g.
            ``lambda A: model(beta_hot=beta - A[0], beta_warm=beta - A[1], beta_cold=beta)``
            (A_b = β_0 − β_b).
        counting: n counting fields, the currents conjugate to A (a list of dicts, or one dict
            for n = 1), e.g. ``[{"hot": "energy"}, {"warm": "energy"}]``.
        step: largest affinity step h > 0 (h and h/2 are used).

    Returns:
        OnsagerMatrix: ``response`` and ``noise`` (n, n) with their residuals.

    Example:
        >>> import numpy as np
        >>> from detbal import Lindbladian
        >>> sm = np.array([[0, 1], [0, 0]]); H = np.diag([0.0, 1.0])
        >>> def family(A):                         # two baths at β = 1 − A and β = 1
        ...     return (Lindbladian(H, [sm, sm.T], [1, np.exp(-(1 - A[0]))], name="hot", beta=1 - A[0])
        ...             + Lindbladian(0 * H, [sm, sm.T], [1, np.exp(-1.0)], name="cold", beta=1.0))
        >>> om = onsager_matrix(family, {"hot": "energy"})
        >>> bool(abs(om.response[0, 0] - om.noise[0, 0]) < 1e-10)
        True
    """
    fields = _fields(counting)
    n = len(fields)
    try:
        h = float(step)
    except (TypeError, ValueError) as exc:
        raise InputError(f"`step` must be a positive number, got {step!r}") from exc
    if not (math.isfinite(h) and h > 0):
        raise InputError(f"`step` must be a positive finite number, got {step!r}")
    if not callable(family) or isinstance(family, (Generator, RateMatrix)):
        raise InputError(f"`family` must be a callable A ↦ generator (A of shape ({n},)), not a single "
                         f"{type(family).__name__}: the response needs the generator at biased affinities")
    L0 = family(np.zeros(n))
    _, prob = problem(L0, fields)
    D, K = correlation_parts(prob)
    noise = (D - K - K.T) / 2
    j0 = _means(L0, fields)

    def derivative(j: int, hh: float) -> np.ndarray:
        e = np.zeros(n)
        e[j] = hh
        return (_means(family(e), fields) - _means(family(-e), fields)) / (2 * hh)

    R = np.empty((n, n))
    for j in range(n):
        R[:, j] = (4 * derivative(j, h / 2) - derivative(j, h)) / 3
    sym = (R + R.T) / 2
    labels = tuple(f.label for f in prob.fields)
    gk = D / 2 - K
    return OnsagerMatrix(labels, R, noise, gk, h, _relative(R, R.T) if np.any(R) else 0.0, _relative(sym, noise),
                         _relative(R, gk), float(np.linalg.eigvalsh(sym)[0]), float(np.max(np.abs(j0))))


def green_kubo(L, counting) -> np.ndarray:
    """Green–Kubo coefficients L_ij = ∫_0^∞ ⟨δI_i(t)δI_j(0)⟩ dt (with the jump term) at a steady state.

    L_ij = ½Tr[𝓛^{(ij)}ρ] − Tr[𝓛_i𝓡𝓛_jρ] with 𝓡 the Drazin inverse (bordered solves); its
    symmetric part is half the joint zero-frequency noise S_ij. At equilibrium it is the Onsager
    matrix of the currents counted by ``counting``.

    Args:
        L: generator at equilibrium (or any steady state; the formula is then the current
            correlation integral there).
        counting: a list of n counting fields (or one dict).

    Returns:
        (n, n) float ndarray.
    """
    _, prob = problem(L, _fields(counting))
    D, K = correlation_parts(prob)
    return D / 2 - K
