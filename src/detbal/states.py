"""Gibbs states, equilibrium thermodynamics and entropies, in the log domain.

With shifted energies ε_i = E_i − E_min ≥ 0 and g₀ the ground degeneracy:
log Z = −βE_min + log g₀ + log1p(R), R = Σ_{ε_i > 0} e^{−βε_i}/g₀ (nothing overflows, and
log1p keeps the relative precision of log Z − (−βE_min) ≈ R when R ≪ ε: log Z of diag(0, 1) at
β = 100 is 3.7e-44, not 0), p_i = e^{−βε_i}/(g₀(1 + R)). ``beta=inf`` gives the ground-space
projector divided by its degeneracy; ``beta=0`` the maximally mixed state.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ._checks import as_beta, as_state
from ._serialize import html_table
from .eigenbasis import eigenbasis

__all__ = [
    "gibbs_state",
    "gibbs_populations",
    "log_gibbs_populations",
    "thermodynamics",
    "Thermodynamics",
    "von_neumann_entropy",
    "relative_entropy",
]

#: eigenvalues below this (relative to 1) count as outside the support of a state
SUPPORT_TOL = 1e-13


def log_gibbs_populations(H, beta: float) -> np.ndarray:
    """log p_i of the Gibbs state in the eigenbasis of H (−inf where p_i = 0 at β = inf).

    Args:
        H: Hamiltonian or :class:`~detbal.eigenbasis.Eigenbasis`.
        beta: inverse temperature ≥ 0 or inf.

    Returns:
        (d,) float ndarray, energies ascending as in ``eigenbasis(H)``.
    """
    eb = eigenbasis(H)
    b = as_beta(beta)
    eps = eb.levels[eb.level_labels] - eb.levels[0]
    if math.isinf(b):
        g = int(np.count_nonzero(eb.level_labels == 0))
        return np.where(eb.level_labels == 0, -math.log(g), -np.inf)
    x = -b * eps
    return x - _logsumexp_shifted(x)


def _logsumexp_shifted(x: np.ndarray) -> float:
    """log Σ e^{x_i} for x ≤ 0 with max x = 0 (the shifted-energy case), to relative precision:
    log g₀ + log1p(Σ_{x_i < 0} e^{x_i}/g₀) with g₀ = #{x_i = 0}."""
    g0 = int(np.count_nonzero(x == 0))
    return math.log(g0) + math.log1p(float(np.sum(np.exp(x[x < 0]))) / g0)


def gibbs_populations(H, beta: float) -> np.ndarray:
    """Gibbs populations p_i in the eigenbasis of H (ascending energies)."""
    return np.exp(log_gibbs_populations(H, beta))


def gibbs_state(H, beta: float) -> np.ndarray:
    """Gibbs state σ_β = e^{−βH}/Z, stable at any β (energies shifted by E_min).

    Args:
        H: (d, d) Hermitian Hamiltonian or an Eigenbasis.
        beta: inverse temperature ≥ 0; ``float("inf")`` gives P_ground/g.

    Returns:
        (d, d) complex128 ndarray, Hermitian, trace 1.

    Example:
        >>> import numpy as np
        >>> gibbs_state(np.diag([0.0, 1.0]), float("inf")).real.tolist()
        [[1.0, 0.0], [0.0, 0.0]]
    """
    eb = eigenbasis(H)
    p = gibbs_populations(eb, beta)
    V = eb.vectors
    sigma = (V * p) @ V.conj().T
    return (sigma + sigma.conj().T) / 2


@dataclass(frozen=True)
class Thermodynamics:
    """Equilibrium thermodynamics of H at inverse temperature β (ħ = k_B = 1).

    Attributes:
        beta: inverse temperature.
        log_Z: log of the partition function (±inf at β = inf unless E_min = 0).
        energy: ⟨H⟩ = Σ p_i E_i.
        free_energy: F = −log Z / β (E_min at β = inf; −inf at β = 0).
        entropy: S = −Σ p_i log p_i.
        heat_capacity: C = β² Var_σ(H) (0 at β = inf).
    """

    beta: float
    log_Z: float
    energy: float
    free_energy: float
    entropy: float
    heat_capacity: float

    def to_dict(self) -> dict:
        """The fields as a JSON-friendly dictionary (non-finite floats as strings)."""
        return {k: (v if math.isfinite(v) else str(v)) for k, v in asdict(self).items()}

    def _repr_html_(self) -> str:
        """Jupyter display: the fields as a table."""
        return html_table("Gibbs-state thermodynamics", [(k, f"{v:.10g}") for k, v in asdict(self).items()])


def thermodynamics(H, beta: float) -> Thermodynamics:
    """log Z, ⟨H⟩, F, S and C of the Gibbs state, to relative precision at any β.

    Over the distinct levels ε_k = E_k − E_min (degeneracy g_k), r_k = (g_k/g₀)e^{−βε_k} (k ≥ 1),
    R = Σ r_k, u = Σ r_k ε_k/(1 + R) = ⟨H⟩ − E_min:
    log Z = −βE_min + log g₀ + log1p(R), F = E_min − (log g₀ + log1p(R))/β,
    S = βu + log g₀ + log1p(R), C = β² Σ_k P_k (ε_k − u)² with P = (1, r)/(1 + R) —
    every piece a sum of non-negative terms, so e.g. S of diag(0, 1) at β = 100 is
    101·e^{−100}(1 + O(e^{−100})) to round-off (the naive −Σ p log p loses the log1p term).

    Example:
        >>> import numpy as np
        >>> th = thermodynamics(np.diag([0.0, 1.0]), 0.7)
        >>> round(th.energy, 7), round(th.heat_capacity, 7)
        (0.3318122, 0.1086393)
    """
    eb = eigenbasis(H)
    b = as_beta(beta)
    e_min = float(eb.levels[0])
    g = eb.degeneracies.astype(float)
    if math.isinf(b):
        log_z = math.log(g[0]) if e_min == 0 else (-math.inf if e_min > 0 else math.inf)
        return Thermodynamics(b, log_z, e_min, e_min, math.log(g[0]), 0.0)
    eps = eb.levels - e_min                         # per distinct level, eps[0] = 0
    r = g[1:] / g[0] * np.exp(-b * eps[1:])         # level weights relative to the ground level
    R = float(np.sum(r))
    log_ratio = math.log(g[0]) + math.log1p(R)      # log Z + βE_min, ≥ 0
    u = float(np.dot(r, eps[1:])) / (1 + R)         # ⟨H⟩ − E_min
    P = np.concatenate(([1.0], r)) / (1 + R)        # level populations
    var = float(np.dot(P, (eps - u) ** 2))          # two-pass: a sum of non-negative terms
    log_z = -b * e_min + log_ratio
    free = -math.inf if b == 0 else e_min - log_ratio / b
    entropy = b * u + log_ratio
    return Thermodynamics(b, float(log_z), e_min + u, free, entropy, b * b * var)


def von_neumann_entropy(rho) -> float:
    """S(ρ) = −Tr ρ log ρ = −Σ λ log λ over eigenvalues λ > 1e-13 (0 log 0 = 0)."""
    r = as_state(rho, "rho")
    lam = np.linalg.eigvalsh(r)
    lam = lam[lam > SUPPORT_TOL]
    return float(-np.dot(lam, np.log(lam)))


def relative_entropy(rho, sigma) -> float:
    """Quantum relative entropy S(ρ‖σ) = Tr ρ(log ρ − log σ) ≥ 0.

    Computed from the eigendecompositions ρ = Σ λ_a |r_a⟩⟨r_a|, σ = Σ μ_b |s_b⟩⟨s_b|:
    S = Σ λ_a log λ_a − Σ_{a,b} λ_a |⟨r_a|s_b⟩|² log μ_b. Returns ``inf`` when the support of ρ
    is not contained in that of σ (some λ_a|⟨r_a|s_b⟩|² > 1e-13 with μ_b ≤ 1e-13), never NaN.
    """
    r = as_state(rho, "rho")
    s = as_state(sigma, "sigma", dim=r.shape[0])
    lam, R = np.linalg.eigh(r)
    mu, S = np.linalg.eigh(s)
    overlap = np.abs(R.conj().T @ S) ** 2  # [a, b] = |⟨r_a|s_b⟩|²
    keep = lam > SUPPORT_TOL
    weights = lam[keep, None] * overlap[keep]  # λ_a |⟨r_a|s_b⟩|²
    outside = mu <= SUPPORT_TOL
    if np.any(weights[:, outside] > SUPPORT_TOL):
        return math.inf
    log_mu = np.log(np.where(outside, 1.0, mu))
    value = float(np.dot(lam[keep], np.log(lam[keep])) - np.sum(weights[:, ~outside] * log_mu[~outside]))
    return max(value, 0.0) if value > -1e-12 else value
