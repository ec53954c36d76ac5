"""Quantum Otto cycle: two isochores (thermalisation with one bath at fixed Hamiltonian) and two
adiabats (Hamiltonian switched between H_h = H and H_c = c·H, c the compression ratio).

Strokes, starting from the state ρ_A at the end of the cold isochore:

1. adiabat H_c → H_h (instantaneous; H_h and H_c commute, the state is unchanged);
2. hot isochore: ρ_A → ρ_B = e^{τ_h 𝓛_h} ρ_A with the Davies generator 𝓛_h of H_h and the hot bath,
   heat Q_h = Tr[H_h(ρ_B − ρ_A)] into the system;
3. adiabat H_h → H_c;
4. cold isochore: ρ_B → e^{τ_c 𝓛_c} ρ_B with the Davies generator of H_c and the cold bath,
   heat Q_c = Tr[H_c(ρ_A − ρ_B)].

Work delivered per cycle W = Q_h + Q_c (first law). Because H_c = c·H_h and both isochores change
the same populations, Q_c = −c·Q_h for **any** stroke times: η = W/Q_h = 1 − c (engine, W > 0) and
COP = Q_c/(−W) = c/(1 − c) (refrigerator, Q_c > 0 > W). For a qubit with gaps ω_h, ω_c (c = ω_c/ω_h)
η = 1 − ω_c/ω_h and COP = ω_c/(ω_h − ω_c).

* **quasi-static** (τ → ∞): ρ_B and ρ_A are the Gibbs states of H_h at β_h and of H_c at β_c. For a
  qubit, with excited populations p_b = 1/(1 + e^{β_b ω_b}):
  Q_h = ω_h(p_h − p_c), Q_c = −ω_c(p_h − p_c), W = (ω_h − ω_c)(p_h − p_c) (:func:`otto_quasi_static`).
* **finite time**: the strokes are iterated from ρ_A = Gibbs(H_c, β_c) with :func:`detbal.evolve`
  until the state at the start of the cycle changes by less than ``tol`` in trace norm (the limit
  cycle; the cycle map contracts by ≈ e^{−Γ_h τ_h − Γ_c τ_c} per turn). For a qubit the limit cycle
  is known: p_B − p_A = (p_h − p_c)(1 − x_h)(1 − x_c)/(1 − x_h x_c), x_b = e^{−Γ_b τ_b}, Γ_b the
  population relaxation rate γ_b(ω_b) + γ_b(−ω_b).

Entropy production per cycle Σ = −β_h Q_h − β_c Q_c ≥ 0 (the system returns to its state).
"""

from __future__ import annotations

import math

import numpy as np

from ..dynamics.evolve import evolve
from ..errors import ConvergenceError, InputError
from ..generators.davies.generator import davies
from ..states import gibbs_state
from .performance import MachinePerformance, carnot_bound
from .spec import Model, _validated

__all__ = ["otto_cycle", "otto_quasi_static"]

#: relative size (of max|Q|) below which a heat counts as zero
_RTOL = 1e-9


def _excited(beta_omega: float) -> float:
    """1/(1 + e^{βω}) without overflow (βω may be inf)."""
    if beta_omega > 0:
        e = math.exp(-beta_omega) if beta_omega < 745 else 0.0
        return e / (1.0 + e)
    return 1.0 / (1.0 + math.exp(beta_omega))


def _check_positive(**values) -> None:
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise InputError(f"`{name}` must be a finite number > 0, got {v!r}")


def _check_temperature(**values) -> None:
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise InputError(f"`{name}` must be a finite temperature ≥ 0, got {v!r}")


def _beta(T: float) -> float:
    return math.inf if T == 0 else 1.0 / T


def _result(Q_h: float, Q_c: float, names: tuple, temps: tuple, width: float,
            cycle_time: float) -> MachinePerformance:
    """MachinePerformance of one cycle from its heats (module docstring for the regimes); heats below
    max(rtol·max|Q|, 100·ε·width) (round-off of Tr[H Δρ], width = spectral width of H_h) are zero."""
    hot, cold = names
    T_h, T_c = temps
    W = Q_h + Q_c
    tiny = max(_RTOL * max(abs(Q_h), abs(Q_c)), 100 * np.finfo(float).eps * width, 1e-300)
    notes = []
    if W > tiny and Q_h > tiny:
        regime, kind, inp, out = "engine", "engine", Q_h, W
    elif W < -tiny and Q_c > tiny:
        regime, kind, inp, out = "refrigerator", "refrigerator", -W, Q_c
    else:
        kind, inp, out = None, -W, 0.0
        regime = ("idle: no heat exchanged" if max(abs(Q_h), abs(Q_c)) <= tiny else
                  f"neither engine nor refrigerator: W = {W:.3g}, Q_h = {Q_h:.3g}, Q_c = {Q_c:.3g}")
    eff = out / inp if kind else None
    carnot = carnot_bound(kind, T_h, T_c) if kind else None
    sigma = 0.0
    for T, Q, name in ((T_h, Q_h, hot), (T_c, Q_c, cold)):
        if T == 0:
            if Q < -tiny:
                sigma = None
                notes.append(f"entropy production per cycle infinite: heat {-Q:.3g} into bath {name!r} at T = 0")
                break
            continue                                    # β Q = 0·inf would be NaN; a T = 0 bath gives no heat
        sigma -= Q / T
    holds = None if sigma is None else bool(sigma >= -tiny / max(min(T_h, T_c), 1e-300))
    if holds is False:
        notes.append(f"entropy production per cycle Σ = {sigma:.4g} < 0")
    power = 0.0 if math.isinf(cycle_time) else out / cycle_time
    return MachinePerformance("otto", regime, {"hot": hot, "cold": cold}, {hot: float(Q_h), cold: float(Q_c)},
                              {hot: float(T_h), cold: float(T_c)}, float(inp), float(out),
                              None if eff is None else float(eff), carnot, float(power),
                              None if sigma is None else float(sigma), holds, float(W), True, float(cycle_time),
                              tuple(notes))


def otto_quasi_static(omega_h: float, omega_c: float, T_hot: float, T_cold: float) -> MachinePerformance:
    """Quasi-static qubit Otto cycle in closed form (module docstring).

    Args:
        omega_h, omega_c: qubit gaps in the hot and cold isochores (> 0).
        T_hot, T_cold: bath temperatures (≥ 0).

    Returns:
        MachinePerformance with per-cycle heats {"hot": Q_h, "cold": Q_c}, ``work`` W, η = 1 − ω_c/ω_h
        (engine) or COP = ω_c/(ω_h − ω_c) (refrigerator), the Carnot bound and Σ per cycle.

    Example:
        >>> p = otto_quasi_static(2.0, 1.0, 3.0, 1.0)
        >>> p.regime, p.efficiency, round(p.carnot, 4)
        ('engine', 0.5, 0.6667)
    """
    _check_positive(omega_h=omega_h, omega_c=omega_c)
    _check_temperature(T_hot=T_hot, T_cold=T_cold)
    p_h = _excited(_beta(T_hot) * omega_h) if T_hot > 0 else 0.0
    p_c = _excited(_beta(T_cold) * omega_c) if T_cold > 0 else 0.0
    dp = p_h - p_c
    return _result(omega_h * dp, -omega_c * dp, ("hot", "cold"), (float(T_hot), float(T_cold)),
                   float(omega_h), math.inf)


def _trace_norm(X: np.ndarray) -> float:
    return float(np.sum(np.abs(np.linalg.eigvalsh((X + X.conj().T) / 2))))


def otto_cycle(model: Model, stroke_time_hot: float | None = None, stroke_time_cold: float | None = None, *,
               tol: float = 1e-12, max_cycles: int = 100_000) -> MachinePerformance:
    """Run the Otto cycle of a model with a ``[machine]`` table of kind "otto" (module docstring).

    Args:
        model: Model whose spec names the ``hot`` and ``cold`` baths and the ``compression`` c
            (H_c = c·H); the bath couplings and spectral densities are the model's.
        stroke_time_hot, stroke_time_cold: isochore durations (> 0); default the table's
            ``stroke_time_hot``/``stroke_time_cold``, and quasi-static (Gibbs states) when absent.
            Give both or neither.
        tol: trace-norm change of ρ_A per cycle at which the limit cycle is reached.
        max_cycles: cap on the iterations.

    Returns:
        MachinePerformance with per-cycle heats, ``work`` W, ``cycle_time`` τ_h + τ_c (inf when
        quasi-static) and power W/τ (engine) or Q_c/τ (refrigerator).

    Raises:
        InputError: no otto table, one stroke time only, a non-positive stroke time, local baths.
        ConvergenceError: the limit cycle is not reached within ``max_cycles``.
    """
    spec = model.info.spec
    table = dict(spec.machine) if spec is not None else {}
    if table.get("kind") != "otto":
        raise InputError(f"model {model.name!r} has no [machine] table of kind 'otto'")
    t_h = table.get("stroke_time_hot") if stroke_time_hot is None else stroke_time_hot
    t_c = table.get("stroke_time_cold") if stroke_time_cold is None else stroke_time_cold
    if (t_h is None) != (t_c is None):
        raise InputError("give both `stroke_time_hot` and `stroke_time_cold` (finite-time cycle) or neither "
                         f"(quasi-static), got {t_h!r} and {t_c!r}")
    if t_h is not None:
        _check_positive(stroke_time_hot=t_h, stroke_time_cold=t_c)
    checked = _validated(spec)
    H, couplings, local = checked.H, checked.couplings, checked.local
    c = float(table["compression"])
    index = {bath.name: k for k, (_, bath) in enumerate(couplings)}
    (S_h, bath_h), (S_c, bath_c) = couplings[index[table["hot"]]], couplings[index[table["cold"]]]
    if local[index[table["hot"]]] is not None or local[index[table["cold"]]] is not None:
        raise InputError("the Otto cycle thermalises with Davies generators of H and c·H: its baths must not "
                         "have a `local_hamiltonian`")
    H_h, H_c = H, c * H
    names = (bath_h.name, bath_c.name)
    temps = (bath_h.temperature, bath_c.temperature)
    rho_A = gibbs_state(H_c, bath_c.beta)
    if t_h is None:
        rho_B = gibbs_state(H_h, bath_h.beta)
        end = rho_A
        cycle_time = math.inf
    else:
        L_h = davies(H_h, [(S_h, bath_h)], lamb_shift=spec.lamb_shift)
        L_c = davies(H_c, [(S_c, bath_c)], lamb_shift=spec.lamb_shift)
        cycle_time = float(t_h) + float(t_c)
        for _ in range(int(max_cycles)):
            rho_B = evolve(L_h, rho_A, [float(t_h)]).states[-1]
            end = evolve(L_c, rho_B, [float(t_c)]).states[-1]
            change = _trace_norm(end - rho_A)
            if change <= tol:
                break
            rho_A = end
        else:
            raise ConvergenceError(f"Otto cycle: the limit cycle was not reached in {max_cycles} cycles (last change "
                                   f"{change:.2e} > tol = {tol:.1e}); lengthen the strokes or raise max_cycles",
                                   residual=change)
    Q_h = float(np.real(np.vdot(H_h, rho_B - rho_A)))
    Q_c = float(np.real(np.vdot(H_c, end - rho_B)))
    energies = np.linalg.eigvalsh(H_h)
    return _result(Q_h, Q_c, names, temps, float(energies[-1] - energies[0]), cycle_time)
