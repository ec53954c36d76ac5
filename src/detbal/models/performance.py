"""Result type and reversible bounds of heat machines (:mod:`detbal.models.machines`, :mod:`.otto`).

Units ħ = k_B = 1; heat counts **into the system**. With the work channel at inverse temperature
β_w (β_w = 0 for a work source), Π = −Σ_b β_b J_b ≥ 0 and Σ_b J_b = 0 give the reversible bounds

    engine:        η = −J_w/J_h ≤ (β_c − β_h)/(β_c − β_w)      (= 1 − T_c/T_h for β_w = 0),
    refrigerator:  COP = J_c/J_w ≤ (β_h − β_w)/(β_c − β_h)     (= T_c/(T_h − T_c) for β_w = 0;
                   (1 − T_h/T_w)·T_c/(T_h − T_c) for an absorption refrigerator driven by a bath at T_w).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .._serialize import JsonResult
from ..errors import InputError

__all__ = ["MachinePerformance", "carnot_bound"]


@dataclass(frozen=True)
class MachinePerformance(JsonResult):
    """What a heat machine does and how well (module docstring for the formulas).

    Attributes:
        kind: "engine", "refrigerator" or "otto" (the declared machine).
        regime: what it does at these parameters: "engine", "refrigerator", or a sentence saying
            why it is neither (e.g. "no cooling: J_cold = −2.7e-05 ≤ 0").
        roles: {"hot"|"cold"|"work": channel name}.
        heat: {channel: heat into the system} — rates J_b (steady state) or heats per cycle (Otto).
        temperatures: {channel: T_b} (None for a work source).
        input: heat from the hot bath (engine) or from the work channel (refrigerator), per time or
            per cycle.
        output: work delivered (engine) or heat removed from the cold bath (refrigerator).
        efficiency: η = output/input (engine) or COP (refrigerator); None when not running as one.
        carnot: the reversible bound of that efficiency for these temperatures (None if undefined).
        power: output per unit time (steady state: ``output``; Otto: output/cycle time, 0 when
            quasi-static).
        entropy_production: Π (per time, steady state) or per cycle (Otto); None when a bath at
            T = 0 makes it infinite or a channel has no temperature.
        second_law: the Clausius/Spohn verdict (None when not evaluated); violations in ``notes``.
        work: work delivered by the machine: −J_work per time (steady state; for an absorption
            refrigerator minus the heat from the work bath) or W = Q_h + Q_c per cycle (Otto).
        per_cycle: heats and work are per cycle (Otto), not rates.
        cycle_time: duration of one cycle (inf quasi-static; None for a steady state).
        notes: sentences (violations, why a quantity is missing).
    """

    kind: str
    regime: str
    roles: dict
    heat: dict
    temperatures: dict
    input: float
    output: float
    efficiency: float | None
    carnot: float | None
    power: float
    entropy_production: float | None
    second_law: bool | None
    work: float
    per_cycle: bool = False
    cycle_time: float | None = None
    notes: tuple = field(default_factory=tuple)

    def __str__(self) -> str:
        what = "η" if self.kind == "engine" or self.regime == "engine" else "COP"
        eff = "—" if self.efficiency is None else f"{self.efficiency:.6g}"
        bound = "—" if self.carnot is None else f"{self.carnot:.6g}"
        unit = " per cycle" if self.per_cycle else ""
        heats = ", ".join(f"{k}: {v:+.4g}" for k, v in self.heat.items())
        lines = [(f"{self.kind} ({self.regime}): {what} = {eff} (Carnot {bound}); heat in{unit} {{{heats}}}; "
                  f"power {self.power:.4g}")]
        lines += [f"  {n}" for n in self.notes]
        return "\n".join(lines)


def _beta(T: float | None) -> float:
    """β of a temperature; None (a work source) is β = 0."""
    if T is None:
        return 0.0
    return math.inf if T == 0 else 1.0 / T


def carnot_bound(kind: str, T_hot: float, T_cold: float, T_work: float | None = None) -> float:
    """Reversible bound of η (engine) or COP (refrigerator) (module docstring).

    Args:
        kind: "engine" or "refrigerator".
        T_hot, T_cold: temperatures ≥ 0 of the hot (sink, for a refrigerator) and cold baths.
        T_work: temperature of the work channel (None: a work source, β_w = 0).

    Returns:
        η_C = (β_c − β_h)/(β_c − β_w) or COP_C = (β_h − β_w)/(β_c − β_h) where the denominator is
        positive. Limits: no engine runs without a gradient (β_c ≤ β_h: 0) and an engine whose work
        channel is its coldest sink is unbounded (inf); moving heat into a bath that is not hotter
        costs nothing (β_c ≤ β_h: inf) and a work bath not hotter than the sink cannot drive cooling
        (β_w ≥ β_h: 0). T_c = 0: η_C = 1, COP_C = 0.

    Example:
        >>> round(carnot_bound("engine", 3.0, 1.0), 12), round(carnot_bound("refrigerator", 1.5, 1.0, 10.0), 12)
        (0.666666666667, 1.7)
    """
    if kind not in ("engine", "refrigerator"):
        raise InputError(f"`kind` must be 'engine' or 'refrigerator', got {kind!r}")
    for name, T in (("T_hot", T_hot), ("T_cold", T_cold), ("T_work", T_work)):
        if T is not None and (isinstance(T, bool) or not isinstance(T, (int, float)) or not T >= 0
                              or math.isinf(T)):
            raise InputError(f"`{name}` must be a finite temperature ≥ 0, got {T!r}")
    bh, bc, bw = _beta(T_hot), _beta(T_cold), _beta(T_work)
    if kind == "engine":
        if not bc > bh:
            return 0.0
        if math.isinf(bc):
            return 1.0
        return (bc - bh) / (bc - bw) if bc > bw else math.inf
    if not bc > bh:
        return math.inf
    if math.isinf(bc) or not bh > bw:
        return 0.0
    return (bh - bw) / (bc - bh)
