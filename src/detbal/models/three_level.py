"""Three-level models with cycles: the merry-go-round (the SSD maser is in :mod:`.machines`).

Levels |0⟩, |1⟩, |2⟩ with energies 0 < E_1 < E_2 (H = E_1 P11 + E_2 P22). With distinct Bohr
frequencies the Davies steady state is diagonal and its populations are the kernel of the Pauli
rate matrix W = Σ_b W_b, a 3-state ring:

* **merry-go-round** — the hot bath drives the big transition 0 ↔ 2, the cold bath the two small
  ones 0 ↔ 1 ↔ 2. Around the cycle 0 → 2 → 1 → 0 the rates multiply to
  a₁a₂a₃/(b₁b₂b₃) = e^{(β_c − β_h) E_2}, so the cycle affinity is A = (β_c − β_h) E_2 and the
  steady state carries the ring current J = (a₁a₂a₃ − b₁b₂b₃)/N on every edge: each turn
  takes E_2 from the hot bath and gives E_2 to the cold one, Π = J·A ≥ 0 (Clausius). With
  one bath (or T_hot = T_cold) A = 0 and the model is detailed-balanced w.r.t. Gibbs.
"""

from __future__ import annotations

from . import _expr
from .spec import Model, ModelSpec, build

__all__ = ["merry_go_round", "merry_go_round_thermal"]

_HOT = "P02 + P20"                 # 0 ↔ 2
_COLD = "P01 + P10 + P12 + P21"    # 0 ↔ 1 ↔ 2


def _levels_h(e1: float, e2: float) -> str:
    return _expr.linear([(e1, "P11"), (e2, "P22")])


def merry_go_round(omega1: float = 1.0, omega2: float = 1.5, T_hot: float = 4.0, T_cold: float = 1.0,
                   alpha_hot: float = 0.05, alpha_cold: float = 0.05, cutoff: float = 10.0) -> Model:
    """Three levels between two baths: a cyclic current when T_hot ≠ T_cold (module docstring).

    Args:
        omega1, omega2: gaps E_1 − E_0 and E_2 − E_1 (choose ω1 ≠ ω2 for distinct Bohr frequencies).
        T_hot: temperature of bath "hot", coupled through S_h = |0⟩⟨2| + |2⟩⟨0|.
        T_cold: temperature of bath "cold", coupled through S_c = |0⟩⟨1| + |1⟩⟨2| + h.c.; also the
            reference temperature of the Gibbs detailed-balance test.
        alpha_hot, alpha_cold, cutoff: ohmic spectral densities α ω e^{−ω/ω_c}.

    Returns:
        Model with baths ("hot", "cold"); not detailed-balanced unless T_hot = T_cold.
    """
    spec = ModelSpec(
        name="merry_go_round",
        description=(f"three levels between a hot (T = {T_hot:g}) and a cold (T = {T_cold:g}) bath: "
                     "the hot bath drives 0↔2, the cold bath 0↔1↔2"),
        levels=3,
        hamiltonian=_levels_h(omega1, omega1 + omega2),
        baths=(_expr.bath("hot", T_hot, _HOT, alpha_hot, cutoff),
               _expr.bath("cold", T_cold, _COLD, alpha_cold, cutoff)),
        reference_temperature=float(T_cold),
        parameters=_expr.params(omega1=omega1, omega2=omega2, T_hot=T_hot, T_cold=T_cold,
                                alpha_hot=alpha_hot, alpha_cold=alpha_cold, cutoff=cutoff),
    )
    return build(spec)


def merry_go_round_thermal(omega1: float = 1.0, omega2: float = 1.5, temperature: float = 1.0,
                           alpha: float = 0.05, cutoff: float = 10.0) -> Model:
    """The one-bath thermal counterpart of :func:`merry_go_round`: same levels, one bath at T
    coupled through S = S_h + S_c (all three transitions). Detailed-balanced w.r.t. Gibbs at T."""
    spec = ModelSpec(
        name="merry_go_round_thermal",
        description=f"the same three levels in one bath at T = {temperature:g} (all transitions)",
        levels=3,
        hamiltonian=_levels_h(omega1, omega1 + omega2),
        baths=(_expr.bath("bath", temperature, f"{_HOT} + {_COLD}", alpha, cutoff),),
        parameters=_expr.params(omega1=omega1, omega2=omega2, temperature=temperature, alpha=alpha,
                                cutoff=cutoff),
    )
    return build(spec)
