"""Heat currents, entropy production and Spohn monotonicity of open quantum systems.

Convention: J_b = Tr[H 𝓛_b(ρ)] is the heat current **into the system** from bath b (H the bare
system Hamiltonian ``L.hamiltonian``). With σ_b = e^{−β_b H}/Z_b stationary for 𝓛_b,

    Π = dS/dt − Σ_b β_b J_b = Σ_b Π_b,   dS/dt = −Tr[𝓛(ρ) log ρ],
    Π_b = −Tr[𝓛_b(ρ)(log ρ − log σ_b)] ≥ 0     (Spohn, one bath at a time),

and for a generator with a single stationary reference σ: Π = −Tr[𝓛(ρ)(log ρ − log σ)] =
−d/dt S(ρ_t‖σ) ≥ 0. log σ_b = −β_b(H − E_min) − log Σ_i e^{−β_b ε_i} is used directly (never
the log of underflowed populations). Traces with log ρ are evaluated in ρ's eigenbasis on its
support (eigenvalues > 1e-13); a flow out of the support, (U†𝓛(ρ)U)_ii > 0 on a zero eigenvalue,
makes dS/dt = +inf (a state leaving its support produces infinite entropy).

**Which parts are baths.** ``bath_channels(L)`` decomposes a generator into named baths:
- a :class:`~detbal.generators.base.SumGenerator` contributes the baths of each of its terms;
- a :class:`~detbal.generators.lindblad.Lindbladian` with ``beta`` is **one** bath named after the
  Lindbladian (all its jumps, without its Hamiltonian part);
- a Lindbladian without ``beta`` contributes its jump channels, jumps with equal ``names`` forming
  one bath (temperature unknown);
- any other generator contributes its ``channels`` (one per bath for a Davies generator), or
  itself when it has no decomposition.
The Hamiltonian in J_b is the system Hamiltonian ``L.hamiltonian``; for a sum it is the parts'
common H, never their sum (rule in :mod:`detbal.generators.base`), and the currents use only the
per-bath dissipators, so coherent parts never enter. A two-bath Lindblad model is
``Lindbladian(H, hot_jumps, name="hot", beta=bh) + Lindbladian(0·H, cold_jumps, name="cold", beta=bc)``
(or both carrying H: the same currents, but the dynamics then has −i[2H, ·], since sums add actions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike

from .._checks import as_nonnegative_scalar, as_operator, as_state
from .._serialize import JsonResult, html_table
from ..eigenbasis import eigenbasis
from ..errors import InputError, NotFaithfulError
from ..generators.base import Generator, SumGenerator, as_generator
from ..generators.lindblad import Lindbladian
from ..linalg.steady import steady_state
from ..states import SUPPORT_TOL, log_gibbs_populations

if TYPE_CHECKING:  # annotation only: thermo and dynamics are one layer
    from ..dynamics.evolve import Evolution

__all__ = [
    "EntropyProduction",
    "RelativeEntropyDecay",
    "bath_channels",
    "entropy_production",
    "heat_currents",
    "relative_entropy_decay",
]

_FLOW_TOL = 1e-12


# -- baths -----------------------------------------------------------------------------------------
def _own_baths(L: Generator) -> list[tuple[str, Generator, float | None]]:
    if isinstance(L, SumGenerator):
        return [b for t in L.terms for b in _own_baths(t)]
    if isinstance(L, Lindbladian):
        if not L.jumps:
            return []
        zero = np.zeros((L.dim, L.dim), dtype=np.complex128)
        if L.beta is not None:
            return [(L.name, Lindbladian(zero, L.jumps, L.rates, names=L.names, name=L.name, beta=L.beta), L.beta)]
        groups: dict[str, list[int]] = {}
        for k, n in enumerate(L.names):
            groups.setdefault(n, []).append(k)
        rates = L.rates
        return [(n, Lindbladian(zero, [L.jumps[k] for k in idx], rates[idx], names=[n] * len(idx), name=n), None)
                for n, idx in groups.items()]
    chans = L.channels
    if len(chans) == 1 and chans[0] is L:
        return [(L.name, L, L.beta)]
    return [(c.name, c, c.beta) for c in chans]


def bath_channels(L: Generator | ArrayLike) -> tuple[tuple[str, Generator, float | None], ...]:
    """The baths of a generator as (name, dissipative generator 𝓛_b, β_b or None) (module docs).

    Repeated names get a suffix "#2", "#3", ... so that every bath is reported separately.

    Returns:
        tuple of (name, 𝓛_b acting on (d, d) matrices, β_b or None), one per bath.
    """
    L = as_generator(L)
    out, seen = [], {}
    for name, gen, beta in _own_baths(L):
        seen[name] = seen.get(name, 0) + 1
        out.append((name if seen[name] == 1 else f"{name}#{seen[name]}", gen, beta))
    return tuple(out)


def _hamiltonian(L: Generator, hamiltonian) -> np.ndarray:
    H = L.hamiltonian if hamiltonian is None else hamiltonian
    if H is None:
        raise InputError("heat currents J_b = Tr[H 𝓛_b(ρ)] need the system Hamiltonian, but this generator has "
                         "none (built from a matrix): pass hamiltonian=H or as_generator(M, hamiltonian=H)")
    return as_operator(H, "hamiltonian", dim=L.dim, hermitian=True, sparse_ok=False)


def heat_currents(L: Generator | ArrayLike, rho: ArrayLike, *,
                  hamiltonian: ArrayLike | None = None) -> dict[str, float]:
    """Heat current into the system from each bath, J_b = Tr[H 𝓛_b(ρ)].

    Args:
        L: Generator (baths as in :func:`bath_channels`) or d²×d² matrix (then pass ``hamiltonian``).
        rho: (d, d) density matrix.
        hamiltonian: system Hamiltonian H (default ``L.hamiltonian``).

    Returns:
        {bath name: J_b} (floats; at a steady state Σ_b J_b = 0, first law).

    Example:
        >>> import numpy as np
        >>> from detbal import Lindbladian
        >>> sm = np.array([[0, 1], [0, 0]])
        >>> L = Lindbladian(np.diag([0.0, 1.0]), [sm], [1.0], name="cold", beta=1.0)
        >>> heat_currents(L, np.diag([0.0, 1.0]))      # the excited state emits at rate 1
        {'cold': -1.0}
    """
    L = as_generator(L)
    H = _hamiltonian(L, hamiltonian)
    r = as_state(rho, "rho", dim=L.dim)
    return {name: float(np.real(np.vdot(H, gen.apply(r)))) for name, gen, _ in bath_channels(L)}


# -- entropy production ----------------------------------------------------------------------------
def _trace_with_log(X: np.ndarray, lam: np.ndarray, U: np.ndarray) -> float:
    """Tr[X log ρ] with ρ = U diag(λ) U†, on the support of ρ; −inf if X flows out of the support."""
    xd = np.real(np.sum(U.conj() * (X @ U), axis=0))  # diag(U†XU): one product, no d³ einsum loop
    inside = lam > SUPPORT_TOL
    if np.any(xd[~inside] > _FLOW_TOL * max(1.0, float(np.linalg.norm(X)))):
        return -math.inf
    return float(np.dot(xd[inside], np.log(lam[inside])))


def _trace_with_log_diag(X: np.ndarray, V: np.ndarray, log_p: np.ndarray) -> float:
    """Tr[X log σ] with log σ = V diag(log p) V† (log p finite)."""
    xd = np.real(np.sum(V.conj() * (X @ V), axis=0))  # diag(V†XV)
    return float(np.dot(xd, log_p))


@dataclass(frozen=True)
class EntropyProduction(JsonResult):
    """Entropy production rate and its parts.

    Attributes:
        total: Π (thermal form: dS/dt − Σ_b β_b J_b; Spohn form: −Tr[𝓛(ρ)(log ρ − log σ)]).
        entropy_rate: dS/dt = −Tr[𝓛(ρ) log ρ] (+inf when ρ leaves the boundary).
        heat_terms: {bath: β_b J_b} (thermal form; empty in the Spohn form).
        spohn_terms: {bath: Π_b = −Tr[𝓛_b(ρ)(log ρ − log σ_b)] ≥ 0} (thermal form), or
            {generator name: Π} (Spohn form).
        currents: {bath: J_b} heat currents into the system (thermal form).
        form: "thermal" or "spohn".
        reference: how σ was chosen ("gibbs per bath", "state", "stationary").
    """

    total: float
    entropy_rate: float
    heat_terms: dict
    spohn_terms: dict
    currents: dict = field(default_factory=dict)
    form: str = "thermal"
    reference: str = ""

    def __str__(self) -> str:
        parts = ", ".join(f"{k}: {v:.6g}" for k, v in self.spohn_terms.items())
        return (f"EntropyProduction(Π={self.total:.6g}, dS/dt={self.entropy_rate:.6g}, {self.form}; "
                f"Spohn terms {{{parts}}})")

    def _repr_html_(self) -> str:
        """Jupyter display: Π and dS/dt, then one row per bath (heat current, β_b J_b, Spohn term)."""
        names = list(self.spohn_terms)
        body = [(k, f"{self.currents[k]:.6g}" if k in self.currents else "",
                 f"{self.heat_terms[k]:.6g}" if k in self.heat_terms else "", f"{self.spohn_terms[k]:.6g}")
                for k in names]
        return html_table(f"entropy production ({self.form})",
                          [("Π", f"{self.total:.6g}"), ("dS/dt", f"{self.entropy_rate:.6g}")],
                          table=(("channel", "J_b", "β_b J_b", "Spohn Π_b"), body))


def _reference_state(L: Generator, reference) -> tuple[np.ndarray, str]:
    if isinstance(reference, str):
        if reference != "stationary":
            raise InputError(f"`reference` must be a density matrix or 'stationary', got {reference!r}")
        return steady_state(L).state, "stationary"
    sigma = as_state(reference, "reference", dim=L.dim)
    r = float(np.linalg.norm(L.apply(sigma)))
    scale = L.norm_estimate()                                  # ≈ ‖𝓛‖_F of the d²×d² matrix
    if r > 1e-8 * max(scale, 1e-300) * float(np.linalg.norm(sigma)):
        raise InputError(f"`reference` is not stationary (‖𝓛(σ)‖_F = {r:.2e}): the Spohn entropy production "
                         "−Tr[𝓛(ρ)(log ρ − log σ)] is only a second-law quantity for 𝓛(σ) = 0")
    return sigma, "state"


def entropy_production(L: Generator | ArrayLike, rho: ArrayLike, *,
                       reference: ArrayLike | Literal["stationary"] | None = None,
                       hamiltonian: ArrayLike | None = None) -> EntropyProduction:
    """Entropy production rate Π of the state ρ under 𝓛.

    Thermal form (every bath of :func:`bath_channels` carries a finite β_b, and no ``reference``):
    Π = dS/dt − Σ_b β_b J_b with per-bath Spohn terms Π_b ≥ 0. Spohn form (``reference=σ`` or
    ``"stationary"``): Π = −Tr[𝓛(ρ)(log ρ − log σ)] with σ stationary and faithful.

    Args:
        L: Generator (or d²×d² matrix with ``hamiltonian``/``reference``).
        rho: (d, d) density matrix.
        reference: None, a stationary density matrix σ, or "stationary" (the steady state of 𝓛).
        hamiltonian: system Hamiltonian for the heat currents (default ``L.hamiltonian``).

    Returns:
        EntropyProduction: ``total`` Π (float, +inf when ρ leaves its support), per-bath
        ``heat_terms``, ``spohn_terms`` and ``currents`` ({bath name: float}).

    Raises:
        InputError: a bath without temperature and no ``reference`` (the message lists them),
            a zero-temperature bath, a non-stationary reference.
        NotFaithfulError: the reference σ is not full rank.

    Example:
        >>> import numpy as np
        >>> from detbal import Lindbladian, gibbs_state
        >>> sm = np.array([[0, 1], [0, 0]]); H = np.diag([0.0, 1.0])
        >>> L = Lindbladian(H, [sm, sm.T], [1.0, np.exp(-2.0)], name="bath", beta=2.0)
        >>> abs(entropy_production(L, gibbs_state(H, 2.0)).total) < 1e-12   # equilibrium
        True
    """
    L = as_generator(L)
    r = as_state(rho, "rho", dim=L.dim)
    lam, U = np.linalg.eigh(r)
    Lr = L.apply(r)
    ds = -_trace_with_log(Lr, lam, U)
    if reference is not None:
        sigma, label = _reference_state(L, reference)
        mu, V = np.linalg.eigh(sigma)
        if mu[0] <= 1e-14 * mu[-1]:
            raise NotFaithfulError(f"the reference state is not full rank (smallest eigenvalue {mu[0]:.2e}): "
                                   "log σ is undefined and the Spohn entropy production needs a faithful σ")
        total = ds + _trace_with_log_diag(Lr, V, np.log(mu))
        return EntropyProduction(total, ds, {}, {L.name: total}, {}, "spohn", label)
    parts = bath_channels(L)
    missing = [name for name, _, beta in parts if beta is None]
    if not parts or missing:
        what = f"baths without temperature: {', '.join(missing)}" if missing else "no dissipative channel"
        raise InputError(f"entropy_production needs the inverse temperature of every bath ({what}). Build the "
                         "baths with beta= (Lindbladian(..., beta=...), davies(...)) or pass "
                         "reference=sigma / reference='stationary' for the Spohn form −Tr[𝓛(ρ)(log ρ − log σ)]")
    H = _hamiltonian(L, hamiltonian)
    eb = eigenbasis(H)
    heat, spohn, currents = {}, {}, {}
    for name, gen, beta in parts:
        if math.isinf(beta):
            raise InputError(f"bath {name!r} has beta = inf (T = 0): β_b J_b and log σ_b diverge; the entropy "
                             "production of a zero-temperature bath is not finite")
        X = gen.apply(r)
        J = float(np.real(np.vdot(H, X)))
        currents[name] = J
        heat[name] = beta * J
        log_p = log_gibbs_populations(eb, beta)
        spohn[name] = -_trace_with_log(X, lam, U) + _trace_with_log_diag(X, eb.vectors, log_p)
    total = ds - sum(heat.values())
    return EntropyProduction(total, ds, heat, spohn, currents, "thermal", "gibbs per bath")


# -- Spohn monotonicity along an evolution ---------------------------------------------------------
@dataclass(frozen=True)
class RelativeEntropyDecay(JsonResult):
    """S(ρ_t‖σ) along an evolution and whether it is non-increasing (Spohn's theorem).

    Attributes:
        times: (nt,) times of the evolution.
        values: (nt,) relative entropies (inf where supp ρ_t ⊄ supp σ).
        monotone: every step S(t_{k+1}) − S(t_k) ≤ tolerance·max(1, S(t_k)).
        max_increase: largest step increase (≤ 0 when strictly decreasing).
        tolerance: the tolerance used.
    """

    times: np.ndarray
    values: np.ndarray
    monotone: bool
    max_increase: float
    tolerance: float

    def __str__(self) -> str:
        verdict = "non-increasing" if self.monotone else "INCREASES"
        return (f"RelativeEntropyDecay({self.values.size} times, S: {self.values[0]:.4g} → {self.values[-1]:.4g}, "
                f"{verdict}, max increase {self.max_increase:.2e})")

    def _repr_html_(self) -> str:
        """Jupyter display: the facts of ``str()`` as a table."""
        return html_table("S(ρ_t‖σ) along the evolution",
                          [("times", self.values.size), ("S", f"{self.values[0]:.4g} → {self.values[-1]:.4g}"),
                           ("max increase", f"{self.max_increase:.2e}")],
                          verdict=("non-increasing" if self.monotone else "INCREASES", bool(self.monotone)))


def relative_entropy_decay(evolution: Evolution, sigma: ArrayLike, *,
                           tolerance: float = 1e-10) -> RelativeEntropyDecay:
    """S(ρ_t‖σ) at every time of an :class:`~detbal.dynamics.Evolution` and a monotonicity verdict.

    For 𝓛(σ) = 0 Spohn's theorem says S(ρ_t‖σ) is non-increasing. σ is diagonalised once;
    S(ρ‖σ) = +inf when the support of ρ is not inside that of σ.

    Args:
        evolution: result of ``evolve`` with states (not ``e_ops``).
        sigma: (d, d) density matrix (typically the steady state).
        tolerance: allowed relative increase per step (round-off).

    Returns:
        RelativeEntropyDecay: ``values`` a (nt,) float ndarray, ``monotone`` the verdict.
    """
    tol = as_nonnegative_scalar(tolerance, "tolerance", strict=False)
    states = getattr(evolution, "states", None)
    if states is None:
        raise InputError("`evolution` must carry states: call evolve(L, rho0, times) without e_ops")
    d = states.shape[1]
    s = as_state(sigma, "sigma", dim=d)
    mu, V = np.linalg.eigh(s)
    outside = mu <= SUPPORT_TOL
    log_mu = np.log(np.where(outside, 1.0, mu))
    values = np.empty(states.shape[0])
    for k, rho in enumerate(states):
        rho = (rho + rho.conj().T) / 2
        lam, R = np.linalg.eigh(rho)
        keep = lam > SUPPORT_TOL
        w = lam[keep, None] * np.abs(R[:, keep].conj().T @ V) ** 2
        if np.any(w[:, outside] > SUPPORT_TOL):
            values[k] = math.inf
            continue
        values[k] = float(np.dot(lam[keep], np.log(lam[keep])) - np.sum(w[:, ~outside] * log_mu[~outside]))
    finite = np.isfinite(values)
    steps = np.diff(values)
    scale = np.maximum(1.0, np.abs(values[:-1]))
    ok_pairs = finite[1:] & finite[:-1]
    inc = np.where(ok_pairs, steps, -np.inf)
    max_inc = float(inc.max()) if inc.size else 0.0
    bad_inf = bool(np.any(~finite[1:] & finite[:-1]))  # finite → inf is an increase
    monotone = (not bad_inf) and bool(np.all(inc <= tol * scale))
    return RelativeEntropyDecay(np.asarray(evolution.times).copy(), values, monotone, max_inc, tol)
