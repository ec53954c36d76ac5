"""Quantum heat machines: the SSD maser, the LPS absorption refrigerator, the local-vs-global
two-qubit conductor and the qubit Otto cycle (:mod:`.otto`), with their thermodynamic performance.

Units ħ = k_B = 1. Heat J_b = Tr[H 𝓛_b(ρ)] flows **into the system** from channel b; at a steady
state Σ_b J_b = 0. The roles of the channels are stored in the model's ``[machine]`` table
(``ModelSpec.machine``): kind "engine" or "refrigerator" with channels ``hot``, ``cold`` and
``work`` (the output/input channel: a thermal bath at T_w, or bare jumps = a work source, β_w = 0),
or kind "otto" (:mod:`detbal.models.otto`).

**Performance** (:func:`machine_performance`, steady state ρ):

* engine: input Q̇_h = J_hot, output power P = −J_work, efficiency η = P/J_hot;
* refrigerator: cooling power J_cold, input J_work, COP = J_cold/J_work.

**Reversible (Carnot) bound** from Π = −Σ_b β_b J_b ≥ 0 and Σ_b J_b = 0 with the work channel at
β_w (0 for a work source, where it is the textbook Carnot value):

    η ≤ (β_c − β_h)/(β_c − β_w)      (→ 1 − T_c/T_h for β_w = 0),
    COP ≤ (β_h − β_w)/(β_c − β_h)    (= (1 − T_h/T_w)·T_c/(T_h − T_c), absorption refrigerator).

The models (tight coupling: every bath exchanges fixed quanta, so the ratios are exact):

* :func:`ssd_maser` — three levels g < 1 < 2: hot bath on g↔2 (ω_h), cold bath on g↔1 (ω_c), the
  output is a **load bath** on 1↔2 (ω_s = ω_h − ω_c). The Pauli network is one 3-cycle, so every
  current is its gap × the ring current: η = −J_load/J_hot = ω_s/ω_h = 1 − ω_c/ω_h exactly, for any
  rates. A load at temperature T_load is a work reservoir only for T_load → ∞ (it then takes energy
  without entropy); the bound above accounts for its finite temperature. Amplification (p_2 > p_1
  when the load is weak) ⇔ β_h ω_h < β_c ω_c ⇔ η < 1 − T_c/T_h. ``output="drive"`` replaces the
  load bath by an incoherent drive (a β = 0 work reservoir): power flows into it exactly then.
* :func:`lps_refrigerator` — three qubits c, w, h (gaps ω_c, ω_w, ω_h = ω_c + ω_w) with the
  resonant exchange g(|1_c 1_w 0_h⟩⟨0_c 0_w 1_h| + h.c.); each quantum removes ω_c from the cold
  bath, ω_w from the work bath and dumps ω_h into the room: COP = ω_c/ω_w, cooling ⇔
  ω_c/ω_w < COP_Carnot. ``master_equation="local"``: each qubit is damped by its own bath with
  the Davies dissipator of its own site (J_c/J_w = ω_c/ω_w exactly); "global": Davies on the full H.
* :func:`coupled_qubits` — two exchange-coupled qubits between a hot and a cold bath (Levy &
  Kosloff 2014): the local master equation transports heat according to the local occupations,
  against the temperature gradient for β_h ω_1 > β_c ω_2 — a second-law violation that
  :func:`detbal.second_law` reports; the global one never does.

Local rates are set by κ: each bath is ohmic with α chosen so that γ(ω_site) = κ(n_B(ω_site) + 1)
and γ(−ω_site) = κ n_B(ω_site) at its site's gap, i.e. α = κ/(2π ω_site e^{−ω_site/ω_cut}).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import DetbalError, InputError
from ..linalg.steady import steady_state
from ..thermo.clausius import second_law
from ..thermo.currents import bath_channels, heat_currents
from . import _expr
from .otto import otto_cycle
from .performance import MachinePerformance, carnot_bound
from .spec import JumpSpec, Model, ModelSpec, build

__all__ = [
    "MachinePerformance",
    "carnot_bound",
    "coupled_qubits",
    "kappa_alpha",
    "lps_refrigerator",
    "machine_performance",
    "otto_qubit",
    "ssd_maser",
]

#: relative size (of max|J_b|) below which a current counts as zero
_RTOL = 1e-9


# -- steady-state machines ---------------------------------------------------------------------------
def _roles(model: Model) -> dict:
    spec = model.info.spec
    table = dict(spec.machine) if spec is not None else {}
    if not table:
        raise InputError(f"model {model.name!r} has no [machine] table (kind and channel roles): build it with a "
                         "zoo machine (ssd_maser, lps_refrigerator, otto_qubit) or add [machine] to the file")
    return table


def machine_performance(model: Model, rho: np.ndarray | None = None) -> MachinePerformance:
    """Heat per channel, power, efficiency or COP, Carnot bound and entropy production of a machine.

    Steady-state machines (kind "engine"/"refrigerator") use ρ (default: the steady state of the
    model's generator); kind "otto" runs the cycle (:func:`detbal.models.otto.otto_cycle`). The
    entropy production and the Clausius/Spohn verdict come from :func:`detbal.second_law` when every
    channel has a temperature > 0; otherwise Π = −Σ_b β_b J_b with β = 0 for a work source.

    Args:
        model: a :class:`~detbal.models.Model` with a ``[machine]`` table.
        rho: optional (d, d) state (steady-state machines).

    Returns:
        MachinePerformance.

    Raises:
        InputError: no [machine] table.

    Example:
        >>> import detbal as db
        >>> p = db.machine_performance(db.models.ssd_maser(omega_h=3.0, omega_c=1.0))
        >>> p.regime, round(p.efficiency, 12)
        ('engine', 0.666666666667)
    """
    table = _roles(model)
    if table["kind"] == "otto":
        return otto_cycle(model)
    L = model.generator
    if rho is None:
        rho = steady_state(L).state
    currents = heat_currents(L, rho)
    betas = {name: beta for name, _, beta in bath_channels(L)}
    temps = {name: (None if b is None else (0.0 if math.isinf(b) else 1.0 / b)) for name, b in betas.items()}
    roles = {r: table[r] for r in ("hot", "cold", "work")}
    heat = {name: float(J) for name, J in currents.items()}
    kind = table["kind"]
    scale = max([abs(v) for v in heat.values()] + [1e-300])
    tiny = _RTOL * scale
    J_h, J_c, J_w = (heat[roles[r]] for r in ("hot", "cold", "work"))
    notes = []
    if kind == "engine":
        inp, out = J_h, -J_w
        running = inp > tiny and out > tiny
        regime = "engine" if running else (f"no power output: P = −J[{roles['work']}] = {out:.3g} ≤ 0" if out <= tiny
                                           else f"no heat from the hot bath: J[{roles['hot']}] = {inp:.3g}")
    else:
        inp, out = J_w, J_c
        running = inp > tiny and out > tiny
        regime = "refrigerator" if running else (f"no cooling: J[{roles['cold']}] = {out:.3g} ≤ 0" if out <= tiny
                                                 else f"no drive: J[{roles['work']}] = {inp:.3g} ≤ 0")
    carnot = carnot_bound(kind, temps[roles["hot"]], temps[roles["cold"]], temps[roles["work"]])
    ep, verdict = _entropy(L, rho, heat, betas, notes)
    article = "an" if kind == "engine" else "a"
    return MachinePerformance(kind, regime if running else f"not {article} {kind}: {regime}", roles, heat, temps,
                              float(inp), float(out), float(out / inp) if running else None, carnot,
                              float(out), ep, verdict, float(-J_w), False, None, tuple(notes))


def _entropy(L, rho, heat: dict, betas: dict, notes: list) -> tuple:
    """(Π, second-law verdict) at a steady state; violations and gaps go to ``notes``."""
    zero_T = [n for n, b in betas.items() if b is not None and math.isinf(b)]
    if zero_T:
        notes.append(f"entropy production not finite: bath {', '.join(map(repr, zero_T))} at T = 0")
        return None, None
    if any(b is None for b in betas.values()):
        notes.append("channels without temperature are counted as work sources (β = 0): Π = −Σ_b β_b J_b; "
                     "no per-bath Spohn check")
        return float(-sum(b * heat[n] for n, b in betas.items() if b is not None)), None
    try:
        law = second_law(L, rho)
    except DetbalError as exc:
        notes.append(f"entropy production: {str(exc).splitlines()[0]}")
        return None, None
    notes.extend(law.violations)
    return float(law.entropy_production), bool(law.holds)


# -- zoo models ----------------------------------------------------------------------------------------
def kappa_alpha(kappa: float, omega: float, cutoff: float) -> float:
    """Ohmic α with γ(ω) = κ(n_B(ω) + 1) at the gap ω: α = κ/(2π ω e^{−ω/ω_cut}) (module docstring)."""
    for name, v in (("kappa", kappa), ("omega", omega), ("cutoff", cutoff)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise InputError(f"`{name}` must be a finite number > 0, got {v!r}")
    return float(kappa / (2 * math.pi * omega * math.exp(-omega / cutoff)))


def _positive(**values) -> None:
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise InputError(f"`{name}` must be a finite number > 0, got {v!r}")


def _temperatures(**values) -> None:
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise InputError(f"`{name}` must be a finite temperature ≥ 0, got {v!r}")


def _master_equation(value: str) -> bool:
    if value not in ("local", "global"):
        raise InputError(f"`master_equation` must be 'local' or 'global', got {value!r}")
    return value == "local"


def ssd_maser(omega_h: float = 3.0, omega_c: float = 1.0, T_hot: float = 1 / 0.3, T_cold: float = 0.5,
              T_load: float = 100.0, alpha: float = 0.05, alpha_load: float | None = None,
              cutoff: float = 10.0, output: str = "bath", drive_rate: float = 0.1) -> Model:
    """Scovil–Schulz-DuBois three-level maser with the output modelled as a load bath (module docstring).

    Args:
        omega_h: gap g ↔ 2 (hot transition); omega_c: gap g ↔ 1 (cold transition), 0 < ω_c < ω_h.
        T_hot, T_cold, T_load: temperatures of the baths "hot" (g↔2), "cold" (g↔1), "load" (1↔2);
            a hot load (T_load ≫ ω_s) takes the output as work, with little entropy.
        alpha, cutoff: ohmic spectral density of the baths (alpha_load for the load, default alpha;
            a weak load lets the hot and cold baths set the populations, p_2/p_1 =
            e^{β_c ω_c − β_h ω_h}: population inversion ⇔ β_h ω_h < β_c ω_c).
        output: "bath" (the load bath above) or "drive": instead of the load bath, one GKSL channel
            "drive" with the Hermitian jump |1⟩⟨2| + |2⟩⟨1| at ``drive_rate`` — an incoherent field
            that pumps 1 ↔ 2 equally both ways (a work reservoir, β = 0): power flows into it exactly
            when p_2 > p_1, i.e. η < 1 − T_c/T_h, and the Carnot bound is 1 − T_c/T_h.

    Returns:
        Model with baths ("hot", "cold", "load") — or ("hot", "cold") and the jump "drive" — and
        [machine] kind "engine" (work = "load" / "drive"); efficiency −J_work/J_hot = 1 − ω_c/ω_h.
        Reference temperature of the Gibbs test: T_cold.

    Raises:
        InputError: a non-positive gap, ω_c ≥ ω_h, a negative temperature, an unknown ``output``.
    """
    _positive(omega_h=omega_h, omega_c=omega_c, drive_rate=drive_rate)
    _temperatures(T_hot=T_hot, T_cold=T_cold, T_load=T_load)
    if not omega_c < omega_h:
        raise InputError(f"`omega_c` must be smaller than `omega_h` (levels g < 1 < 2), got {omega_c!r} ≥ {omega_h!r}")
    if output not in ("bath", "drive"):
        raise InputError(f"`output` must be 'bath' (a load bath) or 'drive' (an incoherent drive), got {output!r}")
    drive = output == "drive"
    a_load = alpha if alpha_load is None else alpha_load
    load = (f"drive (rate {drive_rate:g}) on 1↔2" if drive else f"load (T = {T_load:g}) on 1↔2")
    spec = ModelSpec(
        name="ssd_maser",
        description=(f"SSD three-level maser: hot (T = {T_hot:.3g}) on g↔2, cold (T = {T_cold:g}) on g↔1, "
                     f"{load}; efficiency 1 − ω_c/ω_h = {1 - omega_c / omega_h:.4g}"),
        levels=3,
        hamiltonian=_expr.linear([(omega_c, "P11"), (omega_h, "P22")]),
        baths=(_expr.bath("hot", T_hot, "P02 + P20", alpha, cutoff),
               _expr.bath("cold", T_cold, "P01 + P10", alpha, cutoff))
        + (() if drive else (_expr.bath("load", T_load, "P12 + P21", a_load, cutoff),)),
        jumps=(JumpSpec("drive", "P12 + P21", float(drive_rate)),) if drive else (),
        reference_temperature=float(T_cold) if T_cold > 0 else None,
        parameters=_expr.params(omega_h=omega_h, omega_c=omega_c, T_hot=T_hot, T_cold=T_cold, T_load=T_load,
                                alpha=alpha, alpha_load=a_load, cutoff=cutoff, output=output, drive_rate=drive_rate),
        machine=(("kind", "engine"), ("hot", "hot"), ("cold", "cold"), ("work", "drive" if drive else "load")),
    )
    return build(spec)


def lps_refrigerator(omega_c: float = 1.0, omega_w: float = 3.0, g: float = 0.01, T_c: float = 1.0,
                     T_h: float = 1.5, T_w: float = 10.0, kappa: float = 0.02, cutoff: float = 20.0,
                     master_equation: str = "local") -> Model:
    """Linden–Popescu–Skrzypczyk three-qubit absorption refrigerator (module docstring).

    H = (ω_c/2) Z_0 + (ω_w/2) Z_1 + (ω_h/2) Z_2 + g (σ⁺_c σ⁺_w σ⁻_h + h.c.), ω_h = ω_c + ω_w, in the
    expression basis |0⟩ = excited (Z = +1). Qubit k couples to its bath through X_k.

    Args:
        omega_c, omega_w: gaps of the cold and work qubits; ω_h = ω_c + ω_w.
        g: three-body exchange; the global description needs g ≫ κ (secular limit), the local one
            g ≲ κ.
        T_c, T_h, T_w: temperatures of the baths "cold", "room" (sink) and "work" (hottest).
        kappa: local rate κ: γ(±ω_k) = κ(n_B + 1), κ n_B at the qubit's own gap (module docstring).
        cutoff: ohmic cutoff of every bath.
        master_equation: "local" (qubit dissipators of the uncoupled qubits) or "global" (Davies
            generator of the full H).

    Returns:
        Model with baths ("cold", "work", "room") and [machine] kind "refrigerator"
        (hot = "room", work = "work"); reference temperature of the Gibbs test T_h.
    """
    local = _master_equation(master_equation)
    _positive(omega_c=omega_c, omega_w=omega_w, kappa=kappa, cutoff=cutoff)
    _temperatures(T_c=T_c, T_h=T_h, T_w=T_w)
    if isinstance(g, bool) or not isinstance(g, (int, float)) or not math.isfinite(g):
        raise InputError(f"`g` must be a finite number, got {g!r}")
    omega_h = omega_c + omega_w
    gaps = (omega_c, omega_w, omega_h)
    H = _expr.linear([(omega_c / 2, "Z0"), (omega_w / 2, "Z1"), (omega_h / 2, "Z2"),
                      (g, "(Sp0*Sp1*Sm2 + Sm0*Sm1*Sp2)")])
    baths = tuple(
        _local_bath(name, T, f"X{k}", kappa_alpha(kappa, gaps[k], cutoff), cutoff,
                    _expr.linear([(gaps[k] / 2, f"Z{k}")]) if local else "")
        for k, (name, T) in enumerate((("cold", T_c), ("work", T_w), ("room", T_h))))
    spec = ModelSpec(
        name="lps_refrigerator",
        description=(f"LPS three-qubit absorption refrigerator ({master_equation} master equation): cold "
                     f"T = {T_c:g}, room T = {T_h:g}, work T = {T_w:g}; ideal COP ω_c/ω_w = {omega_c / omega_w:.4g}"),
        sites=3,
        hamiltonian=H,
        baths=baths,
        reference_temperature=float(T_h) if T_h > 0 else None,
        parameters=_expr.params(omega_c=omega_c, omega_w=omega_w, g=g, T_c=T_c, T_h=T_h, T_w=T_w, kappa=kappa,
                                cutoff=cutoff, master_equation=master_equation),
        machine=(("kind", "refrigerator"), ("hot", "room"), ("cold", "cold"), ("work", "work")),
    )
    return build(spec)


def coupled_qubits(omega1: float = 2.0, omega2: float = 1.0, g: float = 0.1, T_hot: float = 1.0,
                   T_cold: float = 1 / 1.5, kappa: float = 0.05, cutoff: float = 20.0,
                   master_equation: str = "local") -> Model:
    """Two exchange-coupled qubits between a hot and a cold bath: local vs global master equation.

    H = (ω_1/2) Z_0 + (ω_2/2) Z_1 + g (σ⁺_0 σ⁻_1 + σ⁻_0 σ⁺_1); bath "hot" couples through X_0,
    "cold" through X_1. With the local master equation (site dissipators) the heat follows the local
    occupations n_B(ω_site, T_b): for β_h ω_1 > β_c ω_2 it flows from the cold bath into the hot one
    (Levy & Kosloff 2014), which :func:`detbal.second_law` reports; the global (Davies) one obeys
    the second law for every temperature.

    Args:
        omega1, omega2: site gaps; g: exchange coupling.
        T_hot, T_cold: bath temperatures (sites 0 and 1).
        kappa: local rate κ at each site's gap (module docstring); cutoff: ohmic cutoff.
        master_equation: "local" or "global".

    Returns:
        Model with baths ("hot", "cold"); reference temperature of the Gibbs test T_cold.
    """
    local = _master_equation(master_equation)
    _positive(omega1=omega1, omega2=omega2, kappa=kappa, cutoff=cutoff)
    _temperatures(T_hot=T_hot, T_cold=T_cold)
    if isinstance(g, bool) or not isinstance(g, (int, float)) or not math.isfinite(g):
        raise InputError(f"`g` must be a finite number, got {g!r}")
    H = _expr.linear([(omega1 / 2, "Z0"), (omega2 / 2, "Z1"), (g, "(Sp0*Sm1 + Sm0*Sp1)")])
    baths = tuple(
        _local_bath(name, T, f"X{k}", kappa_alpha(kappa, w, cutoff), cutoff,
                    _expr.linear([(w / 2, f"Z{k}")]) if local else "")
        for k, (name, T, w) in enumerate((("hot", T_hot, omega1), ("cold", T_cold, omega2))))
    spec = ModelSpec(
        name="coupled_qubits",
        description=(f"two coupled qubits (ω = {omega1:g}, {omega2:g}; g = {g:g}) between baths T_hot = "
                     f"{T_hot:.4g} and T_cold = {T_cold:.4g}, {master_equation} master equation"),
        sites=2,
        hamiltonian=H,
        baths=baths,
        reference_temperature=float(T_cold) if T_cold > 0 else None,
        parameters=_expr.params(omega1=omega1, omega2=omega2, g=g, T_hot=T_hot, T_cold=T_cold, kappa=kappa,
                                cutoff=cutoff, master_equation=master_equation),
    )
    return build(spec)


def _local_bath(name, T, coupling, alpha, cutoff, local: str):
    b = _expr.bath(name, T, coupling, alpha, cutoff)
    return b if not local else type(b)(b.name, b.temperature, b.coupling, b.kind, b.params, local)


def otto_qubit(omega_h: float = 2.0, omega_c: float = 1.0, T_hot: float = 3.0, T_cold: float = 1.0,
               alpha: float = 0.05, cutoff: float = 10.0, stroke_time: float | None = None) -> Model:
    """Qubit Otto cycle: gap ω_h in the hot isochore, ω_c in the cold one (:mod:`detbal.models.otto`).

    The model's generator is the working medium H = (ω_h/2) Z in contact with both baths (through
    X); the ``[machine]`` table (kind "otto", compression ω_c/ω_h) tells :func:`machine_performance`
    to alternate them instead: η = 1 − ω_c/ω_h (engine, β_h ω_h < β_c ω_c) or COP = ω_c/(ω_h − ω_c)
    (refrigerator, β_c ω_c < β_h ω_h with ω_h > ω_c).

    Args:
        omega_h, omega_c: qubit gaps of the hot and cold strokes (> 0).
        T_hot, T_cold: temperatures of the baths "hot" and "cold".
        alpha, cutoff: ohmic spectral density of both baths.
        stroke_time: duration of each isochore (finite-time cycle), or None (quasi-static).

    Returns:
        Model with baths ("hot", "cold") and [machine] kind "otto".
    """
    _positive(omega_h=omega_h, omega_c=omega_c, alpha=alpha, cutoff=cutoff)
    _temperatures(T_hot=T_hot, T_cold=T_cold)
    machine = [("kind", "otto"), ("hot", "hot"), ("cold", "cold"), ("compression", float(omega_c / omega_h))]
    if stroke_time is not None:
        _positive(stroke_time=stroke_time)
        machine += [("stroke_time_hot", float(stroke_time)), ("stroke_time_cold", float(stroke_time))]
    how = "quasi-static" if stroke_time is None else f"strokes of duration {stroke_time:g}"
    spec = ModelSpec(
        name="otto_qubit",
        description=(f"qubit Otto cycle, gap {omega_h:g} with the hot bath (T = {T_hot:g}) and {omega_c:g} with the "
                     f"cold bath (T = {T_cold:g}), {how}; the generator is the qubit in both baths"),
        sites=1,
        hamiltonian=_expr.linear([(omega_h / 2, "Z0")]),
        baths=(_expr.bath("hot", T_hot, "X0", alpha, cutoff), _expr.bath("cold", T_cold, "X0", alpha, cutoff)),
        reference_temperature=float(T_cold) if T_cold > 0 else None,
        parameters=_expr.params(omega_h=omega_h, omega_c=omega_c, T_hot=T_hot, T_cold=T_cold, alpha=alpha,
                                cutoff=cutoff) + ((("stroke_time", float(stroke_time)),) if stroke_time else ()),
        machine=tuple(machine),
    )
    return build(spec)
