"""Helpers that write zoo models as operator expressions (numbers formatted to round-trip)."""

from __future__ import annotations

import math

from .spec import BathSpec

__all__ = ["num", "linear", "bath", "params"]


def num(x: float) -> str:
    """repr of a finite float (round-trips exactly through the expression parser)."""
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"non-finite coefficient {x}")
    return repr(x)


def linear(terms) -> str:
    """Σ c_k·op_k as an expression; terms with c = 0 are dropped; "0" if none remain.

    >>> linear([(0.5, "Z0"), (-1.0, "X0*X1"), (0.0, "Z1")])
    '0.5*Z0 - 1.0*X0*X1'
    """
    out = ""
    for c, op in terms:
        c = float(c)
        if c == 0:
            continue
        sign = "-" if c < 0 else "+"
        body = f"{num(abs(c))}*{op}"
        out = (f"-{body}" if sign == "-" else body) if not out else f"{out} {sign} {body}"
    return out or "0"


def bath(name: str, temperature: float, coupling: str, alpha: float, cutoff: float) -> BathSpec:
    """An ohmic bath J(ω) = α ω e^{−ω/ω_c} at temperature T coupled through S."""
    params = (("alpha", float(alpha)), ("cutoff", float(cutoff)))
    return BathSpec(name, float(temperature), coupling, "ohmic", params)


def params(**kw) -> tuple:
    return tuple((k, v) for k, v in kw.items())
