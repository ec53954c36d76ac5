"""Thermal qubit: H = (ω/2) Z, one ohmic bath coupled through X.

Basis convention of the expressions: Z = diag(1, −1), so |0⟩ is the excited state and |1⟩ the
ground state (QuTiP's ``sigmaz()``); ``Sm0`` = |1⟩⟨0| lowers the energy by ω. The Davies rates
are γ(ω) (decay) and γ(−ω) = e^{−βω}γ(ω) (excitation): detailed balance w.r.t. the Gibbs state
e^{−βH}/Z, which is the unique steady state; the coherence decays at half the population rate
(T₂ = 2T₁).
"""

from __future__ import annotations

from . import _expr
from .spec import Model, ModelSpec, build

__all__ = ["thermal_qubit"]


def thermal_qubit(omega: float = 1.0, temperature: float = 1.0, alpha: float = 0.05,
                  cutoff: float = 10.0) -> Model:
    """A qubit of gap ω in one ohmic bath at temperature T.

    Args:
        omega: level splitting ω (H = (ω/2) Z, energies ∓ω/2).
        temperature: bath temperature T ≥ 0.
        alpha: ohmic coupling α, J(ω) = α ω e^{−ω/ω_c}.
        cutoff: bath cutoff ω_c.

    Returns:
        Model with one bath "bath"; DB (KMS and GNS) w.r.t. the Gibbs state at T.
    """
    spec = ModelSpec(
        name="thermal_qubit",
        description=f"qubit (gap {omega:g}) in one ohmic bath at T = {temperature:g}: relaxes to Gibbs",
        sites=1,
        hamiltonian=_expr.linear([(omega / 2, "Z0")]),
        baths=(_expr.bath("bath", temperature, "X0", alpha, cutoff),),
        parameters=_expr.params(omega=omega, temperature=temperature, alpha=alpha, cutoff=cutoff),
    )
    return build(spec)
