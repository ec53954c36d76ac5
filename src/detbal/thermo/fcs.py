"""Full counting statistics: scaled cumulant generating function, cumulants, Gallavotti–Cohen, TUR.

Tilted generator (real counting field s, exponential tilt): with 𝓛 = 𝓛_0 + Σ_k 𝓙_k and count
increments ν_k (:mod:`detbal.thermo.counting` for the conventions; the counted quantity flows from
the bath into the system),

    𝓛_s(ρ) = 𝓛_0(ρ) + Σ_k e^{s ν_k} 𝓙_k(ρ),     E[e^{s N_t}] ~ e^{θ(s) t},

θ(s) the eigenvalue of 𝓛_s with the largest real part (real by Perron–Frobenius; θ(0) = 0). The
Fourier convention e^{iχν} is s = iχ. Scaled cumulants c_n = lim_t ⟨⟨N_t^n⟩⟩/t = θ^{(n)}(0) come
from the recursive Drazin scheme (Flindt, Novotný, Braggio, Jauho 2010): with 𝓛^{(n)} = Σ_k ν_k^n 𝓙_k,
ρ^{(0)} = ρ_ss and 𝓡 the Drazin inverse of 𝓛,

    c_n = Σ_{m=1}^{n} C(n,m) Tr[𝓛^{(m)} ρ^{(n−m)}],
    ρ^{(n)} = 𝓡 Σ_{m=1}^{n} C(n,m) (c_m − 𝓛^{(m)}) ρ^{(n−m)},

so c_1 = Tr[𝓛^{(1)}ρ_ss] (= J_b for energy counting) and c_2 = Tr[𝓛^{(2)}ρ_ss] − 2Tr[𝓛^{(1)}𝓡𝓛^{(1)}ρ_ss]
(the zero-frequency noise S, including the shot-noise term; some texts use 2c_2). For several
fields the joint second cumulant is c_ij = Tr[𝓛^{(ij)}ρ] − Tr[𝓛_i𝓡𝓛_jρ] − Tr[𝓛_j𝓡𝓛_iρ].

**Structure.** A Davies generator with a non-degenerate spectrum is handled on its d×d Pauli
rate matrix: every jump maps a Bohr sector to itself, so 𝓛_s stays block diagonal, and the
Perron eigenvector of the tilted semigroup is positive semidefinite, hence has a nonzero
population part: θ(s) is the Perron root of the tilted Pauli matrix and ρ_ss, 𝓡 and all 𝓛^{(n)}ρ
stay diagonal. Other generators use their jump terms with bordered sparse-LU or preconditioned
GMRES solves (:mod:`detbal.thermo.tilted`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from .._serialize import JsonResult
from ..classical.rate_matrix import RateMatrix
from ..errors import InputError
from ..generators.base import Generator, as_generator
from ..linalg.steady import steady_state
from .counting import resolve_counting
from .currents import bath_channels, entropy_production
from .tilted import problem_for

__all__ = ["CountingStatistics", "GallavottiCohen", "counting_statistics", "gallavotti_cohen", "joint_covariance",
           "scgf", "tur_ratio"]

#: highest cumulant order computed by the recursion (round-off grows with the order)
MAX_ORDER = 12


def _no_bool(self):
    raise TypeError(f"the truth value of a {type(self).__name__} is ambiguous: compare its numbers "
                    "(e.g. `.residual < 1e-10`) instead of the result itself")


def problem(L, counting):
    """(L, problem) for a generator or rate matrix and a counting specification (shared with
    :mod:`detbal.thermo.transport`)."""
    L = L if isinstance(L, RateMatrix) else as_generator(L)
    return L, problem_for(resolve_counting(L, counting))


def _unit(F: int, f: int, m: int = 1) -> tuple:
    p = [0] * F
    p[f] = m
    return tuple(p)


def cumulants_of(prob, f: int, order: int) -> np.ndarray:
    """c_1 … c_order of field f by the recursive Drazin scheme (module docstring)."""
    F = len(prob.fields)
    rhos = [prob.stationary]
    c = np.zeros(order + 1)
    for n in range(1, order + 1):
        moments = [prob.moment(rhos[n - m], _unit(F, f, m)) for m in range(1, n + 1)]
        c[n] = sum(math.comb(n, m) * prob.trace(moments[m - 1]) for m in range(1, n + 1))
        if n < order:
            b = sum(math.comb(n, m) * (c[m] * rhos[n - m] - moments[m - 1]) for m in range(1, n + 1))
            rhos.append(prob.drazin(b))
    return c[1:]


def correlation_parts(prob) -> tuple[np.ndarray, np.ndarray]:
    """(D, K) with D_ij = Tr[𝓛^{(ij)}ρ] (instantaneous jump term, 𝓛^{(ij)} = Σ_k ν_k^{(i)}ν_k^{(j)}𝓙_k)
    and K_ij = Tr[𝓛_i 𝓡 𝓛_j ρ] (𝓛_i = Σ_k ν_k^{(i)}𝓙_k, 𝓡 the Drazin inverse): (F, F) real arrays."""
    F = len(prob.fields)
    x0 = prob.stationary
    z = [prob.drazin(prob.moment(x0, _unit(F, j))) for j in range(F)]
    D, K = np.zeros((F, F)), np.zeros((F, F))
    for i in range(F):
        for j in range(F):
            p = [0] * F
            p[i] += 1
            p[j] += 1
            D[i, j] = prob.trace(prob.moment(x0, tuple(p)))
            K[i, j] = prob.trace(prob.moment(z[j], _unit(F, i)))
    return D, K


def _joint(prob) -> np.ndarray:
    """(F, F) joint second cumulants c_ij = Tr[𝓛^{(ij)}ρ] − Tr[𝓛_i𝓡𝓛_jρ] − Tr[𝓛_j𝓡𝓛_iρ]."""
    D, K = correlation_parts(prob)
    return D - K - K.T


@dataclass(frozen=True)
class CountingStatistics(JsonResult):
    """Scaled cumulants of counted quantities at the steady state.

    Attributes:
        labels: one label per counting field, e.g. ("hot:energy",).
        cumulants: (F, order) float ndarray, row f = c_1 … c_order of field f.
        covariance: (F, F) joint second cumulants c_ij (diagonal = noise), None for order 1.
        order: highest cumulant computed.
        method: "pauli" (Davies populations), "davies-zero-sector" (degenerate Davies: populations and
            degenerate-level coherences), "rate-matrix", "jumps:sparse-lu" or "jumps:gmres".
        details: steady-state method and residual where a quantum steady state was solved.

    ``mean``, ``noise``, ``skewness`` (c_3) and ``fano`` (c_2/c_1, ±inf for c_1 = 0) are floats
    for one field and (F,) arrays for several; None when ``order`` is too low for them.
    """

    labels: tuple
    cumulants: np.ndarray
    covariance: np.ndarray | None
    order: int
    method: str
    details: dict = field(default_factory=dict)

    def _col(self, n: int):
        if self.order < n:
            return None
        col = self.cumulants[:, n - 1]
        return float(col[0]) if col.shape[0] == 1 else col.copy()

    @property
    def mean(self):
        """c_1: mean counted flow per unit time (J_b for energy counting)."""
        return self._col(1)

    @property
    def noise(self):
        """c_2: zero-frequency noise S = lim Var(N_t)/t."""
        return self._col(2)

    @property
    def skewness(self):
        """c_3: third scaled cumulant."""
        return self._col(3)

    @property
    def fano(self):
        """Fano factor c_2/c_1 (±inf when c_1 = 0 exactly)."""
        if self.order < 2:
            return None
        c1, c2 = self.cumulants[:, 0], self.cumulants[:, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            F = np.where(c1 != 0, c2 / np.where(c1 != 0, c1, 1.0), np.copysign(np.inf, c2))
        return float(F[0]) if F.shape[0] == 1 else F

    def tur(self, entropy_production_rate: float) -> float:
        """Thermodynamic-uncertainty ratio c_2·Π/c_1² of the one counted field, with Π =
        ``entropy_production_rate`` (the same number as :func:`tur_ratio`, from these cumulants).

        Returns:
            float (+inf when c_1 = 0).

        Raises:
            InputError: several fields, or ``order`` < 2.
        """
        if self.cumulants.shape[0] != 1 or self.order < 2:
            raise InputError(f"the TUR ratio needs one counting field and order ≥ 2, got {self.cumulants.shape[0]} "
                             f"field(s) and order {self.order}")
        return tur_of(float(self.cumulants[0, 0]), float(self.cumulants[0, 1]), float(entropy_production_rate))

    def __str__(self) -> str:
        rows = "; ".join(f"{lab}: " + ", ".join(f"c{n + 1}={v:.6g}" for n, v in enumerate(row))
                         for lab, row in zip(self.labels, self.cumulants))
        return f"CountingStatistics({rows}; {self.method})"


def tur_of(c1: float, c2: float, pi: float) -> float:
    """Thermodynamic-uncertainty ratio c_2·Π/c_1² from a current's mean c_1, its noise c_2 and the
    entropy production Π (+inf when c_1 = 0): the one formula behind :func:`tur_ratio`,
    :meth:`CountingStatistics.tur` and the report's counting-statistics rows."""
    return math.inf if c1 == 0 else float(c2 * pi / c1 ** 2)


def _order(order) -> int:
    if isinstance(order, (bool, np.bool_)) or not isinstance(order, (int, np.integer)) or not 1 <= order <= MAX_ORDER:
        raise InputError(f"`order` must be an integer in [1, {MAX_ORDER}], got {order!r}")
    return int(order)


def counting_statistics(L: Generator | ArrayLike | RateMatrix, counting, *, order: int = 2) -> CountingStatistics:
    """Scaled cumulants c_1 … c_order of counted jumps at the steady state (recursive Drazin scheme).

    Args:
        L: Generator (Lindbladian, Davies, sums; Redfield baths have no jump form and cannot be
            counted), a d²×d² matrix (count explicit jump superoperators), or a RateMatrix.
        counting: ``{channel: "energy" | "number" | weights}`` (one field), a list of
            ``(J, weight)`` superoperator pairs, or a list of fields (joint statistics); see
            :mod:`detbal.thermo.counting`. For a RateMatrix: a (d, d) array ν[m, n] for n → m.
        order: highest cumulant (1 … 12).

    Returns:
        CountingStatistics: ``cumulants`` (F, order), ``covariance`` (F, F), ``mean``, ``noise``,
        ``skewness``, ``fano``.

    Raises:
        InputError: bad counting (unknown channel, no jumps, wrong weight length), bad order.
        NonUniqueSteadyStateError: the steady state is not unique.

    Example:
        >>> import numpy as np
        >>> from detbal import Lindbladian
        >>> sm = np.array([[0, 1], [0, 0]]); H = np.diag([0.0, 1.0])
        >>> L = Lindbladian(H, [sm, sm.T], [1.0, 0.5], names=["out", "in"])
        >>> cs = counting_statistics(L, {"in": [1.0]}, order=2)   # count the up-jumps
        >>> round(cs.mean, 6), round(cs.fano, 6)                    # ⟨N⟩/t = 0.5·p_0 = 1/3
        (0.333333, 0.555556)
    """
    order = _order(order)
    L, prob = problem(L, counting)
    F = len(prob.fields)
    cum = np.array([cumulants_of(prob, f, order) for f in range(F)])
    cov = None
    if order >= 2:
        cov = _joint(prob) if F > 1 else cum[:, 1:2].copy()
    details = {}
    if prob.steady is not None:
        details = {"steady_state_method": prob.steady.method, "steady_state_residual": prob.steady.residual}
    return CountingStatistics(tuple(f.label for f in prob.fields), cum, cov, order, prob.method, details)


def joint_covariance(L: Generator | ArrayLike | RateMatrix, counting) -> np.ndarray:
    """(F, F) joint second scaled cumulants c_ij of several counting fields (a list of fields).

    Returns:
        (F, F) real symmetric ndarray; c_ii is the noise of field i.
    """
    _, prob = problem(L, counting)
    return _joint(prob)


def _grid(s, name: str = "s") -> tuple[np.ndarray, bool]:
    try:
        a = np.asarray(s, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"`{name}` must be a real number or a 1-D array of real numbers, got {s!r}") from exc
    if a.ndim > 1 or not np.all(np.isfinite(a)) or a.size == 0:
        raise InputError(f"`{name}` must be a finite real number or a non-empty 1-D array, got shape {a.shape}")
    return np.atleast_1d(a), a.ndim == 0


def _thetas(prob, grid: np.ndarray, f: int | None = None) -> np.ndarray:
    """θ(s) along the axis of field f (the only field when f is None)."""
    F = len(prob.fields)
    if f is None:
        if F != 1:
            raise InputError(f"the SCGF takes one counting field, got {F} (use counting_statistics for joint "
                             "cumulants)")
        f = 0
    out = np.empty(grid.shape[0])
    for k, x in enumerate(grid):
        sv = np.zeros(F)
        sv[f] = x
        out[k] = prob.theta(sv)
    return out


def scgf(L: Generator | ArrayLike | RateMatrix, counting, s) -> float | np.ndarray:
    """Scaled cumulant generating function θ(s): top eigenvalue of the tilted generator 𝓛_s.

    Davies generators with non-degenerate levels and rate matrices: eigenvalues of the d×d
    tilted Pauli matrix (module docstring); otherwise the d²×d² tilted generator, dense ``eig``
    for d² ≤ 1024, ARPACK (largest real part) on the sparse matrix above.

    Args:
        L: as in :func:`counting_statistics`.
        counting: one counting field.
        s: real number or 1-D array of counting fields.

    Returns:
        float for scalar ``s``, else (len(s),) float ndarray.

    Example:
        >>> import numpy as np
        >>> from detbal import Lindbladian
        >>> sm = np.array([[0, 1], [0, 0]]); H = np.diag([0.0, 1.0])
        >>> L = Lindbladian(H, [sm, sm.T], [1.0, 0.5], names=["out", "in"])
        >>> abs(scgf(L, {"in": [1.0]}, 0.0)) < 1e-12
        True
    """
    grid, scalar = _grid(s)
    _, prob = problem(L, counting)
    th = _thetas(prob, grid)
    return float(th[0]) if scalar else th


# -- fluctuation theorems --------------------------------------------------------------------------
@dataclass(frozen=True)
class GallavottiCohen(JsonResult):
    """Gallavotti–Cohen symmetry θ(s) = θ(−s − A) tested on a grid.

    Attributes:
        affinity: A (for energy counting of bath b against bath c: β_c − β_b).
        s: (n,) grid; theta: θ(s); mirror: θ(−s − A).
        residual: max_s |θ(s) − θ(−s − A)|; relative_residual: residual / max(max|θ|, tiny).
        theta_at_minus_affinity: θ(−A) (0 when the symmetry holds).
        affinity_source: "given" or how A was derived from the bath temperatures.
        label: the counting field.
    """

    affinity: float
    s: np.ndarray
    theta: np.ndarray
    mirror: np.ndarray
    residual: float
    relative_residual: float
    theta_at_minus_affinity: float
    affinity_source: str
    label: str

    __bool__ = _no_bool

    def __str__(self) -> str:
        return (f"GallavottiCohen(A={self.affinity:.6g} [{self.affinity_source}], residual={self.residual:.2e} on "
                f"{self.s.size} points, θ(−A)={self.theta_at_minus_affinity:.2e})")


def _auto_affinity(L, info) -> tuple[float, str]:
    if isinstance(L, RateMatrix):
        raise InputError("a rate matrix has no bath temperatures: pass `affinity` (e.g. the Schnakenberg cycle "
                         "affinity of the counted current)")
    if len(info.parts) != 1:
        raise InputError(f"`affinity` can be derived only when one bath is counted (got {info.label}); pass it")
    name, beta, mode = info.parts[0]
    baths = bath_channels(L)
    thermal = [(n, b) for n, _, b in baths if b is not None]
    if len(baths) != 2 or len(thermal) != 2 or beta is None:
        raise InputError("`affinity` is derived from the bath temperatures only for exactly two thermal baths; "
                         f"this generator has channels {[(n, b) for n, _, b in baths]}: pass affinity=")
    other_name, other = next((n, b) for n, b in thermal if n != name)
    if not (math.isfinite(other) and math.isfinite(beta)):
        raise InputError("`affinity` is infinite with a zero-temperature bath (β = inf): the Gallavotti–Cohen "
                         "mirror θ(−s − A) is not defined; pass a finite affinity or use finite temperatures")
    if mode == "energy":
        return other - beta, f"β_{other_name} − β_{name} (energy counting)"
    if mode == "number" and len(info.frequencies) == 1:
        w = info.frequencies[0]
        return (other - beta) * w, f"(β_{other_name} − β_{name})·ω, ω = {w:.6g} (number counting)"
    raise InputError(f"`affinity` cannot be derived for {info.label}: number counting with several transition "
                     f"frequencies {list(info.frequencies)} or explicit weights; pass affinity=")


def gallavotti_cohen(L: Generator | ArrayLike | RateMatrix, counting, affinity: float | None = None, *,
                     s: ArrayLike | None = None) -> GallavottiCohen:
    """Residual of the Gallavotti–Cohen symmetry θ(s) = θ(−s − A) of the SCGF.

    With energy counting of bath b in a system between two thermal baths b, c, the entropy flow is
    −β_b N_b − β_c N_c and energy conservation gives A = β_c − β_b; with number counting of jumps of
    one frequency ω, A = (β_c − β_b)ω. For a rate matrix pass A (the cycle affinity). The
    symmetry follows from local detailed balance of every bath; it fails when that breaks.

    Args:
        L, counting: as in :func:`scgf` (one field).
        affinity: A, or None to derive it from the two bath temperatures.
        s: grid (default 41 points symmetric about −A/2, half-width |A|/2 + 1).

    Returns:
        GallavottiCohen (residual, θ and its mirror on the grid, θ(−A)).
    """
    L, prob = problem(L, counting)
    if len(prob.fields) != 1:
        raise InputError("gallavotti_cohen takes one counting field")
    return gallavotti_cohen_of(L, prob, 0, affinity, s)


def gallavotti_cohen_of(L, prob, f: int, affinity: float | None = None, s=None, points: int = 41) -> GallavottiCohen:
    """:func:`gallavotti_cohen` for field ``f`` of an already resolved problem (shared with the report)."""
    info = prob.fields[f]
    if affinity is None:
        A, source = _auto_affinity(L, info)
    else:
        A, source = float(affinity), "given"
        if not math.isfinite(A):
            raise InputError(f"`affinity` must be finite, got {affinity!r}")
    if s is None:
        grid = -A / 2 + np.linspace(-1.0, 1.0, points) * (abs(A) / 2 + 1.0)
    else:
        grid, _ = _grid(s)
    th = _thetas(prob, grid, f)
    mirror = _thetas(prob, -grid - A, f)
    res = float(np.max(np.abs(th - mirror)))
    scale = max(float(np.max(np.abs(th))), np.finfo(float).tiny)
    at = float(_thetas(prob, np.array([-A]), f)[0])
    return GallavottiCohen(A, grid, th, mirror, res, res / scale, at, source, info.label)


def tur_ratio(L: Generator | ArrayLike | RateMatrix, counting, *, entropy_production_rate: float | None = None) -> float:
    """Thermodynamic-uncertainty ratio c_2·Π/c_1² of one counted current at the steady state.

    Classical Markov jump processes obey c_2Π/c_1² ≥ 2 (Barato–Seifert; Gingrich et al.); quantum
    coherent dynamics can go below 2, so the number is reported, not checked. Π is the steady-state
    entropy production: Σ_b(−β_b J_b) for thermal baths, the Schnakenberg form for a RateMatrix,
    or ``entropy_production_rate`` when given.

    Returns:
        float (+inf when c_1 = 0).

    Raises:
        InputError: Π cannot be computed (a bath without temperature or at T = 0) and was not given.
    """
    L, prob = problem(L, counting)
    if len(prob.fields) != 1:
        raise InputError("tur_ratio takes one counting field")
    c1, c2 = cumulants_of(prob, 0, 2)
    if entropy_production_rate is not None:
        pi = float(entropy_production_rate)
    elif isinstance(L, RateMatrix):
        pi = L.entropy_production()
    else:
        rho = prob.steady.state if prob.steady is not None else steady_state(L).state
        pi = entropy_production(L, rho).total
    return tur_of(c1, c2, pi)
