"""Exact Gibbs samplers on spin chains (model zoo)."""

from __future__ import annotations

import math

from .._checks import as_beta
from ..errors import InputError
from . import _expr
from .spec import Model, ModelSpec, SamplerSpec, build

__all__ = ["tfim_sampler"]


def tfim_sampler(n: int = 4, h: float = 1.0, beta: float = 1.0, kind: str = "ckg") -> Model:
    """Exact Gibbs sampler (CKG or DLL) of the open transverse-field Ising chain H = −Σ Z_iZ_{i+1} − h Σ X_i
    with jumps X_i and Z_i on every site, at inverse temperature β.

    The sampler is KMS-detailed-balanced w.r.t. e^{−βH}/Z by construction (not GNS); CKG uses σ_E = 1/β
    and the Metropolis weight, DLL its Gaussian filter q̂(ν) = exp(−β²ν²/8 − βν/4). d = 2^n.

    Args:
        n: number of spins (≥ 2). h: transverse field. beta: inverse temperature (> 0, finite).
        kind: "ckg" or "dll".
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise InputError(f"`n` must be an integer ≥ 2 (number of spins), got {n!r}")
    b = as_beta(beta, "beta", allow_inf=False, allow_zero=False)
    if kind not in ("ckg", "dll"):
        raise InputError(f"`kind` must be 'ckg' or 'dll', got {kind!r}")
    if not math.isfinite(float(h)):
        raise InputError(f"`h` must be a finite number, got {h!r}")
    terms = [(-1.0, f"Z{k}*Z{k + 1}") for k in range(n - 1)] + [(-float(h), f"X{k}") for k in range(n)]
    jumps = tuple(f"{p}{k}" for k in range(n) for p in "XZ")
    spec = ModelSpec(name="tfim_sampler", hamiltonian=_expr.linear(terms), sites=n,
                     description=f"{kind.upper()} Gibbs sampler of the open transverse-field Ising chain of {n} "
                                 f"spins (h = {float(h):g}) at beta = {b:g}, jumps X_i and Z_i",
                     sampler=SamplerSpec(kind=kind, temperature=1.0 / b, jumps=jumps),
                     parameters=_expr.params(n=n, h=float(h), beta=b, kind=kind))
    return build(spec)
