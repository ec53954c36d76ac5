"""The second law as a check: Clausius and Spohn inequalities of a state under a multi-bath generator.

With J_b = Tr[H 𝓛_b(ρ)] the heat current into the system from bath b (H the full system
Hamiltonian) and σ_b = e^{−β_b H}/Z_b the Gibbs state of H at the bath's temperature,

    Π = dS/dt − Σ_b β_b J_b = Σ_b Π_b,     Π_b = −Tr[𝓛_b(ρ)(log ρ − log σ_b)],

(see :mod:`detbal.thermo.currents`). If every dissipator relaxes to the Gibbs state of H at its own
temperature, 𝓛_b(σ_b) = 0, Spohn's theorem gives **Π_b ≥ 0 for every bath**, and at a steady state
Π = −Σ_b β_b J_b ≥ 0 (Clausius: with two baths heat flows from hot to cold). A generator whose
dissipators are *not* thermal with respect to H — a local master equation of coupled sites, whose
jumps are eigenoperators of the uncoupled sites only (Levy & Kosloff 2014) — can give Π_b < 0, or
even Π < 0 with heat flowing from the colder bath into the hotter one. :func:`second_law` computes
Π and its parts and reports every such violation instead of hiding it; it never raises for one.

Tolerance: a term counts as negative when it is below −max(rtol·scale, floor), scale = max over
baths of |β_b J_b| and |Tr[𝓛_b(ρ) log ρ]| (the two parts whose difference is Π_b), and floor the
round-off of these traces at equilibrium, 1e3·ε·Σ_b (‖𝓛_b‖_F/d)(max|log λ(ρ)| + β_b ΔE + 1) (ΔE the
spectral width of H, ‖𝓛_b‖_F a one-probe estimate), so that a balanced generator (Π_b = 0 up to
round-off) is never flagged. Heat currents count as nonzero above max(rtol·max|J_b|, 1e3·ε·Σ_b
(‖𝓛_b‖_F/d)·ΔE).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .._checks import as_nonnegative_scalar, as_state
from .._serialize import JsonResult
from ..errors import InputError
from ..generators.base import Generator, as_generator
from ..linalg.steady import steady_state
from ..reports import no_truth_value
from ..states import SUPPORT_TOL
from .currents import EntropyProduction, _hamiltonian, bath_channels, entropy_production

__all__ = ["SecondLaw", "check_entropy_production", "second_law"]

#: round-off allowance of a trace of d×d products, in units of machine epsilon
_ROUNDOFF = 1e3 * np.finfo(float).eps


@dataclass(frozen=True)
class SecondLaw(JsonResult):
    """Verdict of the Clausius/Spohn check (module docstring).

    Attributes:
        holds: no violation: Π ≥ −tol and Π_b ≥ −tol for every bath.
        entropy_production: Π (float).
        spohn_terms: {bath: Π_b}; heat_terms: {bath: β_b J_b}; currents: {bath: J_b} (into the system).
        temperatures: {bath: T_b}.
        violations: one sentence per violated inequality (empty when ``holds``).
        tolerance: the absolute tolerance max(rtol·scale, floor) used for Π and Π_b.
    """

    holds: bool
    entropy_production: float
    spohn_terms: dict
    heat_terms: dict
    currents: dict
    temperatures: dict
    violations: tuple
    tolerance: float

    __bool__ = no_truth_value

    def __str__(self) -> str:
        head = "second law holds" if self.holds else "SECOND LAW VIOLATED"
        lines = [f"{head}: Π = {self.entropy_production:.6g} (tolerance {self.tolerance:.1e})"]
        lines += [f"  {v}" for v in self.violations]
        return "\n".join(lines)


def _clausius_pair(temps: dict, currents: dict, tol_J: float) -> str | None:
    """With exactly two baths at a steady state (J_1 = −J_2): heat into the hotter bath from the
    colder one (or between baths of equal temperature) breaks Clausius' statement."""
    (a, Ta), (b, Tb) = temps.items()
    hot, cold = (a, b) if Ta >= Tb else (b, a)
    J = currents[hot]                  # heat into the system from the hotter bath
    if J < -tol_J and abs(currents[hot] + currents[cold]) <= tol_J:
        relation = "at the same temperature as" if temps[hot] == temps[cold] else "hotter than"
        return (f"heat {-J:.3g} flows from bath {cold!r} (T = {temps[cold]:g}) into bath {hot!r} "
                f"(T = {temps[hot]:g}), which is {relation} it: Clausius' statement is broken")
    return None


def check_entropy_production(ep: EntropyProduction, temperatures: dict, *, rtol: float = 1e-8,
                             floor: float = 0.0, current_floor: float = 0.0) -> SecondLaw:
    """The second-law verdict of a thermal-form :class:`EntropyProduction` (module docstring).

    Args:
        ep: result of ``entropy_production(L, ρ)`` without ``reference`` (per-bath terms).
        temperatures: {bath name: T_b} (for the messages).
        rtol: relative tolerance (module docstring).
        floor, current_floor: absolute round-off allowances of Π_b and of J_b (module docstring).

    Returns:
        SecondLaw.
    """
    heat, spohn, currents = dict(ep.heat_terms), dict(ep.spohn_terms), dict(ep.currents)
    scale = max([abs(v) for v in heat.values()]
                + [abs(spohn[b] + heat[b]) for b in spohn if math.isfinite(spohn[b])] + [0.0])
    tol = max(rtol * scale, floor)
    violations = []
    total = float(ep.total)
    if total < -tol:
        violations.append(f"entropy production Π = {total:.4g} < 0: Σ_b β_b J_b > dS/dt, the Clausius "
                          "inequality fails")
    for name, pb in spohn.items():
        if pb < -tol:
            violations.append(f"bath {name!r}: Spohn term Π_b = {pb:.4g} < 0 — its dissipator does not relax "
                              f"to the Gibbs state of H at T = {temperatures.get(name, float('nan')):g} "
                              "(a local master equation?)")
    if len(currents) == 2 and len(temperatures) == 2 and set(temperatures) == set(currents):
        tol_J = max(rtol * max(abs(v) for v in currents.values()), current_floor, 1e-300)
        pair = _clausius_pair(temperatures, currents, tol_J)
        if pair:
            violations.append(pair)
    return SecondLaw(not violations, total, spohn, heat, currents, dict(temperatures), tuple(violations), tol)


def second_law(L: Generator | ArrayLike, rho: ArrayLike | None = None, *, rtol: float = 1e-8,
               hamiltonian: ArrayLike | None = None, production: EntropyProduction | None = None) -> SecondLaw:
    """Check the second law for ρ (default: the steady state) under a multi-bath generator 𝓛.

    Π = dS/dt − Σ_b β_b J_b and Π_b = −Tr[𝓛_b(ρ)(log ρ − log σ_b)] with σ_b the Gibbs state of the
    system Hamiltonian H at bath b's temperature; violations (Π < 0, a Π_b < 0, and with two baths
    heat flowing into the hotter one) are listed, never raised (module docstring).

    Args:
        L: Generator whose baths all carry a finite temperature T_b > 0 (Davies channels, or
            Lindbladians built with ``beta=``).
        rho: (d, d) density matrix; default the steady state of 𝓛.
        rtol: relative tolerance for "negative" (module docstring).
        hamiltonian: system Hamiltonian H (default ``L.hamiltonian``).
        production: ``entropy_production(L, rho)`` when already computed (reused, not recomputed).

    Returns:
        SecondLaw (``holds``, ``violations``, Π and its per-bath parts).

    Raises:
        InputError: a bath without temperature or at T = 0 (its β_b J_b is undefined), bad rtol.

    Example:
        >>> import detbal as db
        >>> m = db.models.coupled_qubits(master_equation="global")
        >>> db.second_law(m.generator).holds
        True
        >>> db.second_law(db.models.coupled_qubits(master_equation="local").generator).holds
        False
    """
    rtol = as_nonnegative_scalar(rtol, "rtol", strict=False)
    L = as_generator(L)
    if rho is None:
        rho = steady_state(L).state
    ep = entropy_production(L, rho, hamiltonian=hamiltonian) if production is None else production
    if ep.form != "thermal":
        raise InputError("`production` must be the thermal form (entropy_production without `reference`)")
    energies = np.linalg.eigvalsh(_hamiltonian(L, hamiltonian))
    width = float(energies[-1] - energies[0])
    r = as_state(rho, "rho", dim=L.dim)
    lam = np.linalg.eigvalsh((r + r.conj().T) / 2)
    logs = float(np.max(np.abs(np.log(lam[lam > SUPPORT_TOL]))))
    floor = current_floor = 0.0
    temps = {}
    for name, gen, beta in bath_channels(L):
        rate = gen.norm_estimate() / L.dim            # typical size of an entry of 𝓛_b(ρ) per unit ρ
        floor += _ROUNDOFF * rate * (logs + beta * width + 1.0)
        current_floor += _ROUNDOFF * rate * width
        temps[name] = math.inf if beta == 0 else 1.0 / beta
    return check_entropy_production(ep, temps, rtol=rtol, floor=floor, current_floor=current_floor)
