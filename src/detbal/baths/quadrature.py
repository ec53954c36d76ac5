"""Quadratures for bath functions (internal): ``scipy.integrate.quad`` with the library's options,
and the principal-value transform that gives Lamb shifts.
"""

from __future__ import annotations

import math
import warnings
from typing import Callable

import numpy as np
from scipy import integrate

from .._checks import as_nonnegative_scalar, as_real_array, scalar_or_array
from ..errors import InputError

__all__ = ["principal_value_shift", "quad"]

_TWO_PI = 2.0 * math.pi
_QUAD = dict(limit=200, epsrel=1e-12)


def quad(f, a, b, **kw) -> tuple[float, float]:
    """scipy.integrate.quad with full output and IntegrationWarning silenced: (value, abserr)."""
    opts = dict(_QUAD, **kw)
    if opts.get("weight") in ("cos", "sin") and math.isinf(b):
        opts.pop("epsrel")                     # QAWF uses epsabs only
        opts["limlst"] = 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        res = integrate.quad(f, a, b, full_output=1, **opts)
    return float(res[0]), float(res[1])


def principal_value_shift(rate_fn: Callable, omega, *, scale: float = 1.0) -> np.ndarray | float:
    """Principal-value transform S(ω) = (1/2π) P∫_{−∞}^{∞} dω' γ(ω')/(ω − ω') of a rate function.

    Method (subtraction of the singularity): with δ = ½ min(scale, |ω|) (½·scale at ω = 0),
        P∫_{ω−δ}^{ω+δ} γ(ω')/(ω − ω') dω' = ∫_0^δ [γ(ω − u) − γ(ω + u)]/u du   (regular),
    the rest of the window [−W, W], W = |ω| + δ + 20·scale, is integrated piecewise with
    scipy.integrate.quad split at ω' = 0 (kinks or integrable singularities of bath rates live
    there), and the tails |ω'| > W with quad on infinite intervals. γ is never evaluated at ω
    itself nor at 0 (unless ω = 0). Absolute tolerance 1e-14 × the size of γ near ω and ±scale;
    for γ decaying at least like 1/|ω'| the tests reach ~1e-15 relative (Lorentzian test function,
    exact (Γ₀κ/2) ω/(ω² + κ²)) and ~2e-14 (ohmic bath at T = 0 and T > 0, closed forms in Ei).

    Args:
        rate_fn: callable γ(ω') of a real scalar, returning a real scalar.
        omega: real scalar or array.
        scale: characteristic frequency of γ (sets δ and W), > 0.
    Returns:
        float64 ndarray of the shape of ``omega`` (a float64 scalar for scalar input).
    """
    if not callable(rate_fn):
        raise InputError(f"`rate_fn` must be callable γ(ω), got {type(rate_fn).__name__}")
    sc = as_nonnegative_scalar(scale, "scale", True)
    w = as_real_array(omega, "omega")
    out = np.empty_like(w)
    for idx, wi in np.ndenumerate(w):
        out[idx] = _pv_one(lambda x: float(rate_fn(x)), float(wi), sc)
    return scalar_or_array(out)


def _pv_one(g: Callable[[float], float], w: float, scale: float) -> float:
    d = 0.5 * min(scale, abs(w)) if w != 0 else 0.5 * scale
    mag = max(abs(g(w + d)), abs(g(w - d)), abs(g(scale)), abs(g(-scale)))
    eps = 1e-14 * mag if mag > 0 else 1e-300              # absolute tolerance in units of γ
    total, _ = quad(lambda u: (g(w - u) - g(w + u)) / u, 0.0, d, epsabs=eps)
    W = abs(w) + d + 20.0 * scale
    edges = sorted({-W, w - d, w + d, W} | ({0.0} if not (w - d < 0.0 < w + d) else set()))
    f = lambda x: g(x) / (w - x)  # noqa: E731
    for lo, hi in zip(edges[:-1], edges[1:]):
        if lo != w - d:                                  # skip the core [ω−δ, ω+δ]
            total += quad(f, lo, hi, epsabs=eps)[0]
    total += quad(f, W, math.inf, epsabs=eps)[0] + quad(f, -math.inf, -W, epsabs=eps)[0]
    return total / _TWO_PI
