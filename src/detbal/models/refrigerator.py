"""Linden–Popescu–Skrzypczyk absorption refrigerator: three qubits, three baths.

Qubits c (site 0, gap ω_c, cold bath T_c), w (site 1, gap ω_w, work bath T_w, the hottest) and
h (site 2, gap ω_h = ω_c + ω_w, room/sink bath T_h), with T_c < T_h < T_w:

    H = (ω_c/2) Z_0 + (ω_w/2) Z_1 + (ω_h/2) Z_2 + g (σ⁺_c σ⁺_w σ⁻_h + h.c.),

in the expression basis |0⟩ = excited (Z = +1): ``Sp0*Sp1*Sm2`` = |1_c 1_w 0_h⟩⟨0_c 0_w 1_h| in
excitation labels (it excites c and w and de-excites h; resonant since ω_h = ω_c + ω_w).
Each qubit couples to its own bath through X (global Davies generator of the full H).

Each cycle removes ω_c from the cold bath and ω_w from the work bath and dumps ω_h into the room:
ideal COP = ω_c/ω_w (exact per quantum); cooling (J_cold > 0) ⇔ ω_c/ω_w < COP_Carnot =
(1 − T_h/T_w)·T_c/(T_h − T_c). In the global Davies description the resonant doublet is split
by ±g, so the COP equals ω_c/ω_w up to O(g/ω) corrections.
"""

from __future__ import annotations

from . import _expr
from .spec import Model, ModelSpec, build

__all__ = ["lps_refrigerator"]


def lps_refrigerator(omega_c: float = 1.0, omega_w: float = 3.0, g: float = 0.1, T_c: float = 1.0,
                     T_h: float = 1.5, T_w: float = 10.0, alpha: float = 0.005,
                     cutoff: float = 20.0) -> Model:
    """Linden–Popescu–Skrzypczyk three-qubit absorption refrigerator (module docstring).

    Args:
        omega_c, omega_w: gaps of the cold and work qubits; ω_h = ω_c + ω_w.
        g: three-body interaction strength (should exceed the bath rates for the secular limit).
        T_c, T_h, T_w: temperatures of the baths "cold", "room" (sink) and "work".
        alpha, cutoff: ohmic spectral density of every bath.

    Returns:
        Model with baths ("cold", "work", "room"); reference temperature of the Gibbs test T_h.
    """
    omega_h = omega_c + omega_w
    H = _expr.linear([(omega_c / 2, "Z0"), (omega_w / 2, "Z1"), (omega_h / 2, "Z2"),
                      (g, "(Sp0*Sp1*Sm2 + Sm0*Sm1*Sp2)")])
    spec = ModelSpec(
        name="lps_refrigerator",
        description=(f"LPS three-qubit absorption refrigerator: cold T = {T_c:g}, room T = {T_h:g}, "
                     f"work T = {T_w:g}; ideal COP ω_c/ω_w = {omega_c / omega_w:.4g}"),
        sites=3,
        hamiltonian=H,
        baths=(_expr.bath("cold", T_c, "X0", alpha, cutoff),
               _expr.bath("work", T_w, "X1", alpha, cutoff),
               _expr.bath("room", T_h, "X2", alpha, cutoff)),
        reference_temperature=float(T_h),
        parameters=_expr.params(omega_c=omega_c, omega_w=omega_w, g=g, T_c=T_c, T_h=T_h, T_w=T_w,
                                alpha=alpha, cutoff=cutoff),
    )
    return build(spec)
