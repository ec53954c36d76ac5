"""The report's counting-statistics rows: per bath, the energy counted from the bath into the system.

For each bath b of a model: mean current c_1 (= the heat current J_b), zero-frequency noise c_2,
Fano factor c_2/c_1 (energy counting: units of energy), TUR ratio c_2Π/c_1² (Π the steady-state
entropy production; ≥ 2 for classical jump processes, reported, not checked) and, for models with
exactly two thermal baths, the Gallavotti–Cohen residual max_s |θ(s) − θ(−s − A)| with
A = β_other − β_b on an 11-point grid. A bath whose counted mean differs from J_b = Tr[H 𝓛_b(ρ)] (a
local master equation: its jumps carry the quanta of the bath's own local Hamiltonian, not the
Bohr frequencies of H) says so in its note; the TUR ratio is not shown when Π < 0. With one bath
every cumulant vanishes exactly; values at round-off level are shown as 0. Size limits keep
``detbal analyze`` fast: cumulants on the jump path (generators other than Davies) up to d =
FCS_MAX_DIM, its SCGF (d²×d² eigenvalues) up to d = GC_MAX_DIM; on the sector path (Davies
generators: Pauli matrix or ν = 0 Bohr sector) up to PAULI_FCS_MAX_DIM and PAULI_GC_MAX_DIM; beyond,
the row says why it was skipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import DetbalError
from ..thermo.fcs import cumulants_of, gallavotti_cohen_of, problem, tur_of
from ..thermo.tilted import SectorProblem

__all__ = ["FCS_MAX_DIM", "GC_MAX_DIM", "PAULI_FCS_MAX_DIM", "PAULI_GC_MAX_DIM", "FluctuationRow", "fluctuation_rows"]

#: largest d for cumulants on the jump path (bordered sparse LU of the d²×d² generator, ~0.1 s at 64)
FCS_MAX_DIM = 64
#: largest d for the SCGF on the jump path (dense eig of the d²×d² tilted generator, 23 per bath)
GC_MAX_DIM = 12
#: largest d on the sector path: cumulants (dense LU of the bordered rate matrix) and the SCGF
#: (23 dense eig of the d×d tilted rate matrix per bath, ~1 s at d = 256)
PAULI_FCS_MAX_DIM = 2048
PAULI_GC_MAX_DIM = 256
#: points of the Gallavotti–Cohen grid in the report
GC_POINTS = 11
#: the counted mean c_1 and the heat current J_b agree when |c_1 − J_b|·(E_max − E_min) ≤ this ×
#: Tr[𝓛^{(2)}ρ] (exact for Davies baths of H; a local master equation misses it by the interaction)
HEAT_MATCH_RTOL = 1e-7
#: a mean current c_1 counts as zero when |c_1|·(E_max − E_min) ≤ this × Tr[𝓛^{(2)}ρ] (the energy²
#: traffic Σ_k ν_k² ⟨𝓙_k⟩ with the bath: round-off of a current that vanishes exactly)
ZERO_CURRENT_RTOL = 1e-9


@dataclass(frozen=True)
class FluctuationRow:
    """Counting statistics of the energy from one bath (module docstring); None where not computed,
    ``note`` says why."""

    bath: str
    mean: float | None
    noise: float | None
    fano: float | None
    tur_ratio: float | None
    gc_residual: float | None
    affinity: float | None
    note: str = ""


#: the note of the row of a model with one bath
ONE_BATH_NOTE = "one bath: the energy it exchanges is bounded by the system's, every cumulant vanishes"


def _first_line(exc) -> str:
    return str(exc).splitlines()[0]


def fluctuation_rows(L, baths, entropy_production: float | None, energy_width: float,
                     heat_currents: dict | None = None) -> tuple:
    """One :class:`FluctuationRow` per bath name in ``baths`` (energy counting).

    Args:
        L: the model's generator.
        baths: bath names (channels of ``L``).
        entropy_production: steady-state Π (None when undefined: no TUR ratio).
        energy_width: E_max − E_min (decides when a mean current is zero).
        heat_currents: optional {bath: J_b = Tr[H 𝓛_b(ρ)]}; a row whose mean differs says so.

    Returns:
        tuple of FluctuationRow.
    """
    if not baths:
        return ()
    fields = [{b: "energy"} for b in baths]
    try:
        _, prob = problem(L, fields)
    except DetbalError as exc:
        return tuple(FluctuationRow(b, None, None, None, None, None, None,
                                    f"counting statistics: {_first_line(exc)}") for b in baths)
    jump_path = not isinstance(prob, SectorProblem)
    fcs_max, gc_max = (FCS_MAX_DIM, GC_MAX_DIM) if jump_path else (PAULI_FCS_MAX_DIM, PAULI_GC_MAX_DIM)
    if L.dim > fcs_max:
        why = (f"skipped at d = {L.dim} > {fcs_max} ({'no Pauli or Bohr-sector form' if jump_path else 'Pauli / Bohr-sector form'}; "
               "use db.counting_statistics directly)")
        return tuple(FluctuationRow(b, None, None, None, None, None, None, why) for b in baths)
    rows = []
    for f, b in enumerate(baths):
        notes = []
        try:
            c1, c2 = (float(x) for x in cumulants_of(prob, f, 2))
        except DetbalError as exc:
            rows.append(FluctuationRow(b, None, None, None, None, None, None, _first_line(exc)))
            continue
        e2 = [0] * len(baths)
        e2[f] = 2
        traffic = abs(prob.trace(prob.moment(prob.stationary, tuple(e2))))
        flowing = abs(c1) * max(energy_width, 1e-300) > ZERO_CURRENT_RTOL * traffic
        fano = c2 / c1 if flowing else None
        tur = None
        J = (heat_currents or {}).get(b)
        local = J is not None and abs(c1 - J) * max(energy_width, 1e-300) > HEAT_MATCH_RTOL * traffic
        if local:
            notes.append(f"counts the quanta of the bath's local Hamiltonian (local master equation): "
                         f"⟨J⟩ ≠ J_b = Tr[H𝓛_bρ] = {J:+.4e}; fluctuation theorems of H need not hold")
        if len(baths) == 1:
            notes.append(ONE_BATH_NOTE)
            if not flowing and abs(c2) <= ZERO_CURRENT_RTOL * traffic:
                c1 = c2 = 0.0                     # exact zeros; what was computed is round-off (even c₂ < 0)
        elif not flowing:
            notes.append("no net current: Fano factor and TUR ratio undefined")
        elif entropy_production is not None and entropy_production < 0:
            notes.append("TUR ratio not shown: Π < 0 (second law violated)")
        elif entropy_production is not None and math.isfinite(entropy_production):
            tur = tur_of(c1, c2, entropy_production)     # c1 ≠ 0 here (a net current flows)
        gc = affinity = None
        if len(baths) > 2:
            notes.append("Gallavotti–Cohen needs two thermal baths and no other channel (a single affinity); "
                         f"this model has {len(baths)} channels")
        elif len(baths) == 1:
            pass
        elif L.dim > gc_max:
            notes.append(f"Gallavotti–Cohen skipped at d = {L.dim} > {gc_max} ({'d²×d²' if jump_path else 'd×d'} "
                         "eigenvalues on the grid)")
        else:
            try:
                res = gallavotti_cohen_of(L, prob, f, points=GC_POINTS)
                gc, affinity = res.residual, res.affinity
            except DetbalError as exc:
                notes.append(f"Gallavotti–Cohen: {_first_line(exc)}")
        rows.append(FluctuationRow(b, c1, c2, fano, tur, gc, affinity, "; ".join(notes)))
    return tuple(rows)
