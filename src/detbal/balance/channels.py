"""Channels of a detailed-balance report: which part of a generator breaks detailed balance.

A channel is a bath of a Davies generator, a jump grouped with its adjoint partner (A_l ∝ A_k†),
a Hermitian jump, or a lone jump (never balanced on its own: its reverse process is missing).
Failing eigenoperator pairs are explained in the physicist's terms: the temperature implied by
their rate ratio against the reference temperature.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._checks import frobenius
from ..eigenbasis import rotate_cleaned
from ..generators.base import Generator
from ..generators.lindblad import Lindbladian, lindblad_terms
from ..reports import ChannelBalance

__all__ = ["FlatJumps", "channel_notes", "channel_parts", "flat_jumps", "partner_groups", "rows_to_channels"]


def _dense_op(A):
    return A.toarray() if hasattr(A, "toarray") else A


class FlatJumps(NamedTuple):
    """The jumps of a Lindbladian or a sum of Lindbladians, flattened.

    names are unique: when several terms (e.g. two thermal baths) use the same jump names, each
    is qualified by its term's name ("hot.jump0"), or by "term<i>" if those repeat too.
    terms[k] is the index of the term jump k belongs to.
    """

    jumps: list
    rates: np.ndarray
    names: list
    terms: list


def flat_jumps(L: Generator) -> FlatJumps | None:
    """:class:`FlatJumps` of a Lindbladian or a sum of Lindbladians, else None."""
    terms = lindblad_terms(L)
    if terms is None:
        return None
    jumps = [_dense_op(A) for t in terms for A in t.jumps]
    rates = np.concatenate([t.rates for t in terms]) if terms else np.zeros(0)
    names = [n for t in terms for n in t.names]
    term_of = [i for i, t in enumerate(terms) for _ in t.jumps]
    if len(set(names)) < len(names):
        labels = [t.name for t in terms]
        if len(set(labels)) < len(labels):
            labels = [f"term{i}" for i in range(len(terms))]
        names = [f"{labels[i]}.{n}" for i, n in zip(term_of, names)]
        if len(set(names)) < len(names):
            names = [f"{n}#{k}" for k, n in enumerate(names)]
    return FlatJumps(jumps, rates, names, term_of)


def partner_groups(flat: FlatJumps) -> list[tuple[str, list[int]]]:
    """Group each jump with its adjoint partner (A_l ∝ A_k†) of the same term (a bath is never
    paired with another bath); Hermitian jumps stand alone.

    A lone non-Hermitian jump is never detailed-balanced on its own (its reverse process is
    missing), so it is reported as "lone jump".
    """
    jumps, names = flat.jumps, flat.names
    left = list(range(len(jumps)))
    groups = []
    while left:
        k = left.pop(0)
        Bk = jumps[k].conj().T
        partner = None
        denom = np.vdot(Bk, Bk).real
        for l in left:
            if flat.terms[l] != flat.terms[k]:
                continue
            Al = jumps[l]
            if denom > 0:
                c = np.vdot(Bk, Al) / denom
                if frobenius(Al - c * Bk) <= 1e-10 * max(frobenius(Al), 1e-300):
                    partner = l
                    break
        if partner is not None:
            left.remove(partner)
            groups.append((f"jump pair {names[k]}/{names[partner]}", [k, partner]))
        else:
            herm = frobenius(jumps[k] - Bk) <= 1e-10 * max(frobenius(jumps[k]), 1e-300)
            groups.append((f"{'jump' if herm else 'lone jump'} {names[k]}", [k]))
    return groups


def _pair_note(jumps, rates, idx, ref, beta) -> str:
    """Explain a failing group in the physicist's terms (rate ratio vs temperature)."""
    V, lp = ref.vectors, ref.log_p
    A = rotate_cleaned(jumps[idx[0]], V, ref.vector_error)
    nz = np.abs(A) > 1e-12 * np.abs(A).max() if np.abs(A).max() > 0 else np.zeros(A.shape, bool)
    gaps = (lp[:, None] - lp[None, :])[nz]  # log p_i − log p_j over nonzero A_ij (σAσ⁻¹ = e^c A)
    if gaps.size == 0:
        return ""
    c = float(gaps.mean())
    if np.ptp(gaps) > 1e-8 * max(1.0, abs(c)):
        return ("not an eigenoperator of σ's modular group (mixes Bohr frequencies): it can be "
                "KMS-balanced only together with a coherent correction")
    if len(idx) != 2:
        return "" if abs(c) < 1e-12 else "no reverse jump: the reverse process is missing"
    B = rotate_cleaned(jumps[idx[1]], V, ref.vector_error)
    coef = np.vdot(A.conj().T, B) / np.vdot(A.conj().T, A.conj().T)
    g_fwd, g_bwd = rates[idx[0]], rates[idx[1]] * abs(coef) ** 2
    if g_fwd <= 0 or g_bwd <= 0 or c == 0:
        return "one direction has zero rate" if (g_fwd <= 0) != (g_bwd <= 0) else ""
    implied = -math.log(g_bwd / g_fwd)  # detailed balance needs γ_rev/γ_fwd = e^{−c}
    if beta is not None and math.isfinite(beta) and beta > 0:
        return f"rate ratio implies T = {c / implied / beta:.4g} but β says T = {1 / beta:.4g}"
    return f"rate ratio gives log(p_i/p_j) = {implied:.4g} but σ has {c:.4g}"


def channel_parts(L: Generator) -> list[tuple[str, Generator, list[int] | None]]:
    flat = flat_jumps(L)
    if flat is not None:
        zero = np.zeros((L.dim, L.dim), complex)
        parts = [(name, Lindbladian(zero, [flat.jumps[k] for k in idx], flat.rates[idx]), idx)
                 for name, idx in partner_groups(flat)]
        H = L.hamiltonian_part
        if H is not None and frobenius(_dense_op(H)) > 0:
            parts.append(("coherent part", Lindbladian(H, []), None))
        return parts
    if L.has_eigenbasis_gksl:
        return [(name, part, None) for name, part in L.kms_parts()]
    chans = L.channels
    if len(chans) == 1 and chans[0] is L:
        return []
    return [(c.name, c, None) for c in chans]


def channel_notes(L, failing, ref, beta) -> dict:
    """Physicist's explanation of each failing jump group of a Lindbladian (name → note)."""
    flat = flat_jumps(L)
    if flat is None or not failing:
        return {}
    return {name: _pair_note(flat.jumps, flat.rates, idx, ref, beta) for name, idx in partner_groups(flat)
            if name in failing}


def rows_to_channels(rows, tolerance, notes) -> tuple[ChannelBalance, ...]:
    """rows: (name, residual, weight ‖𝓜_g‖²) → sorted ChannelBalance with contributions."""
    total = sum(w for name, res, w in rows if res > tolerance)
    out = [ChannelBalance(name, float(res), float(w / total) if total > 0 and res > tolerance else 0.0,
                          bool(res <= tolerance), notes.get(name, "")) for name, res, w in rows]
    return tuple(sorted(out, key=lambda c: (-c.contribution, -c.residual)))
