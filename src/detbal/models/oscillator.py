"""Truncated harmonic oscillator: H = ω a†a on `levels` levels, one bath coupled through a + a†.

The ladder is equally spaced, so every Bohr frequency is degenerate (sector ν = kω contains all
|n+k⟩⟨n|): the Davies generator is block diagonal in these sectors with dense blocks.
Rates: a|n⟩ = √n|n−1⟩ gives W(n → n−1) = n γ(ω), W(n−1 → n) = n γ(−ω) = n e^{−βω} γ(ω):
detailed balance w.r.t. the (truncated) Gibbs state p_n ∝ e^{−βωn}.
"""

from __future__ import annotations

from . import _expr
from .spec import Model, ModelSpec, build

__all__ = ["oscillator"]


def oscillator(omega: float = 1.0, levels: int = 6, temperature: float = 1.0, alpha: float = 0.05,
               cutoff: float = 10.0) -> Model:
    """A truncated harmonic oscillator in one ohmic bath.

    Args:
        omega: frequency ω (H = ω n, energies 0, ω, …, (levels − 1)ω).
        levels: truncation d (number of Fock states kept).
        temperature: bath temperature T.
        alpha, cutoff: ohmic spectral density J(ω) = α ω e^{−ω/ω_c}.

    Returns:
        Model with one bath "bath", coupling S = a + a†.
    """
    spec = ModelSpec(
        name="oscillator",
        description=f"harmonic oscillator ({levels} levels) in one ohmic bath at T = {temperature:g}",
        levels=int(levels),
        hamiltonian=_expr.linear([(omega, "n")]),
        baths=(_expr.bath("bath", temperature, "a + ad", alpha, cutoff),),
        parameters=_expr.params(omega=omega, levels=int(levels), temperature=temperature, alpha=alpha,
                                cutoff=cutoff),
    )
    return build(spec)
