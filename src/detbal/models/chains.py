"""Spin chains (open boundary conditions) with one bath or two boundary baths.

Qubits 0..n−1, Pauli operators ``Xk Yk Zk`` of :mod:`detbal.expressions` (Z = diag(1, −1)):

* XXZ:  H = J Σ_k (X_k X_{k+1} + Y_k Y_{k+1} + Δ Z_k Z_{k+1}) + h Σ_k Z_k;
* transverse-field Ising:  H = −J Σ_k Z_k Z_{k+1} − g Σ_k X_k − h Σ_k Z_k (h breaks the Z₂
  symmetry Π_k X_k; the baths couple through Z, which anticommutes with it);
* random-field Heisenberg:  H = J Σ_k (X_k X_{k+1} + Y_k Y_{k+1} + Z_k Z_{k+1}) + Σ_k h_k Z_k,
  h_k uniform in [−W, W] from ``numpy.random.default_rng(seed)`` (written into the model's
  expression, so a saved file is reproducible without the seed).

Baths (Davies generators): ``baths="one"`` couples one ohmic bath at T to the left end
(S = X_0, resp. Z_0 for Ising); ``baths="boundary"`` couples bath "left" at T_left to site 0 and
bath "right" at T_right to site n−1. Equal temperatures give a detailed-balanced generator
(each channel is DB w.r.t. the same Gibbs state); unequal ones drive a heat current through the
chain (J_left = −J_right at the steady state, Π = (β_right − β_left) J_left ≥ 0 for T_left > T_right).
XXZ and Heisenberg chains declare their conserved magnetisation Σ_k Z_k (``[system] conserved``), so
their Davies generators diagonalise H one magnetisation sector at a time (the largest of n = 12 has
924 states instead of 4096); the Ising chain conserves only the parity Π_k X_k, which is not
diagonal in the computational basis. The dimension is 2^n. The Davies analyses are structured (no d²×d² matrix) but hold d×d tables:
``detbal analyze xxz_chain -p n=10`` (d = 1024) takes ~0.7 GB and 1–2 min on 2 cores; beyond
``detbal.config.memory_budget`` (CLI ``--memory-budget``) a stage is skipped with a note, and a
generator whose tables alone exceed it is refused before it is built (MemoryBudgetError).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from . import _expr
from .spec import Model, ModelSpec, build

__all__ = ["xxz_chain", "ising_chain", "heisenberg_chain"]


def _check(n: int, baths: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise InputError(f"`n` must be an integer ≥ 2 (number of spins), got {n!r}")
    if baths not in ("one", "boundary"):
        raise InputError(f"`baths` must be 'one' or 'boundary', got {baths!r}")
    return int(n)


def _baths(n, baths, op, temperature, T_left, T_right, alpha, cutoff) -> tuple:
    if baths == "one":
        return (_expr.bath("bath", temperature, f"{op}0", alpha, cutoff),)
    return (_expr.bath("left", T_left, f"{op}0", alpha, cutoff),
            _expr.bath("right", T_right, f"{op}{n - 1}", alpha, cutoff))


def _describe(kind: str, n: int, baths: str, temperature, T_left, T_right) -> str:
    if baths == "one":
        return f"{kind} chain of {n} spins, one bath at T = {temperature:g} on site 0"
    return f"{kind} chain of {n} spins between boundary baths T_left = {T_left:g}, T_right = {T_right:g}"


def _spec(name, kind, n, H, baths, op, temperature, T_left, T_right, alpha, cutoff, extra,
          conserved=None) -> ModelSpec:
    ref = None if baths == "one" else float(min(T_left, T_right))
    return ModelSpec(
        conserved=conserved,
        name=name, description=_describe(kind, n, baths, temperature, T_left, T_right), sites=n,
        hamiltonian=H, baths=_baths(n, baths, op, temperature, T_left, T_right, alpha, cutoff),
        reference_temperature=ref if ref and ref > 0 else None,
        parameters=_expr.params(n=n, **extra, baths=baths, temperature=temperature, T_left=T_left,
                                T_right=T_right, alpha=alpha, cutoff=cutoff),
    )


def xxz_chain(n: int = 4, J: float = 1.0, delta: float = 0.5, h: float = 0.2, baths: str = "one",
              temperature: float = 1.0, T_left: float = 2.0, T_right: float = 0.5, alpha: float = 0.02,
              cutoff: float = 10.0) -> Model:
    """XXZ chain H = J Σ (XX + YY + Δ ZZ) + h Σ Z with one bath or two boundary baths (module doc).

    Args:
        n: number of spins (d = 2^n). J: exchange. delta: anisotropy Δ. h: uniform field.
        baths: "one" (bath "bath" at ``temperature`` on site 0) or "boundary" ("left"/"right").
        temperature, T_left, T_right: bath temperatures. alpha, cutoff: ohmic baths.
    """
    n = _check(n, baths)
    terms = [(J, f"X{k}*X{k + 1}") for k in range(n - 1)] + [(J, f"Y{k}*Y{k + 1}") for k in range(n - 1)]
    terms += [(J * delta, f"Z{k}*Z{k + 1}") for k in range(n - 1)] + [(h, f"Z{k}") for k in range(n)]
    return build(_spec("xxz_chain", "XXZ", n, _expr.linear(terms), baths, "X", temperature, T_left, T_right,
                       alpha, cutoff, dict(J=J, delta=delta, h=h), _magnetisation(n)))


def ising_chain(n: int = 4, J: float = 1.0, g: float = 0.7, h: float = 0.2, baths: str = "one",
                temperature: float = 1.0, T_left: float = 2.0, T_right: float = 0.5, alpha: float = 0.02,
                cutoff: float = 10.0) -> Model:
    """Transverse-field Ising chain H = −J Σ ZZ − g Σ X − h Σ Z, baths coupled through Z (module doc)."""
    n = _check(n, baths)
    terms = [(-J, f"Z{k}*Z{k + 1}") for k in range(n - 1)] + [(-g, f"X{k}") for k in range(n)]
    terms += [(-h, f"Z{k}") for k in range(n)]
    return build(_spec("ising_chain", "transverse-field Ising", n, _expr.linear(terms), baths, "Z",
                       temperature, T_left, T_right, alpha, cutoff, dict(J=J, g=g, h=h)))


def heisenberg_chain(n: int = 4, J: float = 1.0, W: float = 1.0, seed: int = 7, baths: str = "one",
                     temperature: float = 1.0, T_left: float = 2.0, T_right: float = 0.5,
                     alpha: float = 0.02, cutoff: float = 10.0) -> Model:
    """Random-field Heisenberg chain H = J Σ (XX + YY + ZZ) + Σ h_k Z_k, h_k ~ U[−W, W] (module doc)."""
    n = _check(n, baths)
    fields = np.random.default_rng(seed).uniform(-W, W, size=n)
    terms = [(J, f"{p}{k}*{p}{k + 1}") for k in range(n - 1) for p in "XYZ"]
    terms += [(float(fields[k]), f"Z{k}") for k in range(n)]
    return build(_spec("heisenberg_chain", "random-field Heisenberg", n, _expr.linear(terms), baths, "X",
                       temperature, T_left, T_right, alpha, cutoff, dict(J=J, W=W, seed=seed), _magnetisation(n)))


def _magnetisation(n: int) -> str:
    """Σ_k Z_k, conserved by XXZ and Heisenberg chains with fields along z."""
    return " + ".join(f"Z{k}" for k in range(n))
