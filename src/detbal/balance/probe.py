"""Matrix-free detailed-balance certificate with random probes.

Estimates r = ‖𝓜‖_F/‖𝓛̂‖_F with 𝓜 = 𝓓̂ − 𝓓̂†, 𝓓 = 𝓛 + i[K, ·], using only products: for complex
Gaussian probe matrices X_k (E|X_ij|² = 1), E‖𝓜(X)‖² = ‖𝓜‖_F² (Hutchinson), so
    r̂ = (Σ_k ‖𝓜(X_k)‖² / Σ_k ‖𝓛̂(X_k)‖²)^{1/2}.
Memory O(d²): a few d×d matrices, never a d²×d² one.

Confidence: ‖𝓜(X)‖² = Σ_i λ_i |z_i|² with λ_i the eigenvalues of 𝓜†𝓜; the rank-one case has
the widest tails on both sides, where N·t_N/‖𝓜‖² ~ Gamma(N, 1). The reported interval
[r̂/√q_hi, r̂/√q_lo] with q = Gamma(N, 1)/N quantiles at δ/2 and 1 − δ/2 holds with probability
≥ 1 − δ for any 𝓜 (the denominator, a high-rank quadratic form, is treated as exact; its
empirical relative spread is reported). ``holds`` requires the upper end ≤ tolerance.

K (the σ-commuting coherent part) is extracted as in the dense test, from the σ-antisymmetric
part via the partial-trace map T(𝓐) = Σ_ij 𝓐(|i⟩⟨j|)|j⟩⟨i|, which for Lindbladians is available in
closed form: T(Y ↦ LYR) = Tr(R)·L, T(Y ↦ HY) = d·H, T(Y ↦ YH) = Tr(H)·I (O(d²) per operator).
For a generator known only through apply/adjoint, K is the pinching of its Hamiltonian onto σ's
eigenspaces (the exact extraction would need d² products); the report says which.
For Lindbladians the σ-scaling is pushed onto the operators in σ's eigenbasis,
    𝓛̂(Y) = Σ_k γ_k L_k Y R_k − i(Ĥ_L Y − Y Ĥ_R),  L_k = σ^{−s/2}A_kσ^{s/2},  R_k = σ^{(1−s)/2}A_k†σ^{−(1−s)/2},
with H_eff = H − (i/2)Σγ_k A_k†A_k and entrywise factors exp(a(log p_i − log p_j)) evaluated as one
exponent, so only energy differences appear.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaincinv

from .._checks import frobenius, log_frobenius
from .residuals import attributed_hamiltonian
from .sigma_transform import SigmaTransformedLindblad, hamiltonian_to_eigenbasis, pinch
from ..eigenbasis import rotate_cleaned
from ..errors import InputError
from ..generators.base import Generator
from ..generators.lindblad import lindblad_terms

__all__ = ["probe_certificate", "ProbeResult"]

CONFIDENCE_DELTA = 1e-3
_MAX_HALF_RANGE = 700.0  # σ-scaling factors e^{±x} of a generic generator must stay finite floats


@dataclass(frozen=True)
class ProbeResult:
    """Norms are estimated on the scale e^{−log_scale} (common to all parts); ratios are exact."""

    residual: float
    upper: float
    lower: float
    probes: int
    channel_residuals: dict
    channel_log_weights: dict  # log of each channel's ‖𝓜_p(X)‖² sum (true scale)
    denominator_spread: float
    statement: str
    coherent_hamiltonian: np.ndarray  # the attributed Hamiltonian K_b, times e^{−log_scale}
    log_norm_hat: float  # log of the ‖𝓛̂‖_F estimate (true scale)
    log_scale: float
    symmetric: float  # estimate of ‖𝓛̂ − 𝓛̂†‖/‖𝓛̂‖ from the same probes (no error bar)


class _GenericSigmaTransformed:
    """𝓛̂ = Γ^{−1/2}𝓛Γ^{1/2} for a generator known only through apply/adjoint; K = pinched H.

    Matrix-free, the scaling is two entrywise factors around the product, e^{c − h} (output) and
    e^{h − c} (input), h_ij = (s log p_i + (1 − s) log p_j)/2 and c the midpoint of h's range; they
    must be finite floats, so the half range of h is limited to 700 (else InputError: use the dense
    test, whose entrywise log-domain scaling has no limit)."""

    log_scale = 0.0

    def __init__(self, gen: Generator, V, log_p, s, K):
        self.gen, self.V, self.K = gen, V, K
        half = (s * log_p[:, None] + (1 - s) * log_p[None, :]) / 2  # log of the Γ_s^{1/2} factor of |i⟩⟨j|
        lo, hi = float(half.min()), float(half.max())
        if (hi - lo) / 2 > _MAX_HALF_RANGE:
            raise InputError(f"method='probe' on a generator known only through apply/adjoint needs σ-scaling "
                             f"factors within e^±{_MAX_HALF_RANGE:g}, but the reference state spans "
                             f"log-populations over {hi - lo:.4g} (s-weighted): use method='dense'")
        c = (hi + lo) / 2
        self.up = np.exp(half - c)
        self.down = np.exp(c - half)

    def forward(self, Y, shift: float):
        V = self.V
        out = self.down * (V.conj().T @ self.gen.apply(V @ (self.up * Y) @ V.conj().T) @ V)
        return _finite(out) * math.exp(-shift)

    def backward(self, Y, shift: float):
        V = self.V
        out = self.up * (V.conj().T @ self.gen.adjoint(V @ (self.down * Y) @ V.conj().T) @ V)
        return _finite(out) * math.exp(-shift)


def _finite(out):
    if not np.all(np.isfinite(out)):
        raise InputError("method='probe': the σ-transformed generator overflows the floating-point range "
                         "(entries beyond e^709); use method='dense'")
    return out


def _dense(A):
    return A.toarray() if hasattr(A, "toarray") else np.asarray(A)


def _commutator(K, X):
    return K @ X - X @ K


def probe_certificate(L: Generator, V: np.ndarray, log_p: np.ndarray, s: float, groups, probes: int,
                      seed, vector_error: float = 0.0) -> ProbeResult:
    """Estimate the dissipative DB residual ‖𝓓̂ − 𝓓̂†‖/‖𝓓̂‖ with complex Gaussian probes.

    Args:
        L: the generator; V, log_p: eigenvectors and log-populations of σ; s: inner parameter.
        groups: (name, jump indices) of the channels of a Lindbladian (ignored otherwise).
        vector_error: the eigenvector error ω of V: a Lindbladian's operators are rotated and cleaned
            with it (:func:`~detbal.eigenbasis.rotate_cleaned`).

    𝓓 = 𝓛 + i[K_b, ·] with K_b the attributed Hamiltonian (:mod:`.residuals`); per channel p,
    𝓓_p = 𝓛_p + i[K_b,p, ·] with its own K_p (the coherent part's whole K_p, a jump group's
    σ-commuting part). All parts are evaluated on one scale e^{−shift}, shift = the largest
    log-coefficient over all parts, so terms of any size are exact relative to the largest.
    """
    d = log_p.shape[0]
    rng = np.random.default_rng(seed)
    terms = lindblad_terms(L)
    parts: list[tuple[str, object]] = []
    if terms is not None:
        jumps = [rotate_cleaned(A, V, vector_error) for t in terms for A in t.jumps]
        rates = np.concatenate([t.rates for t in terms])
        for name, idx in groups:
            parts.append((name, SigmaTransformedLindblad([jumps[k] for k in idx], rates[idx], log_p, s)))
        H = hamiltonian_to_eigenbasis(sum(_dense(t.hamiltonian) for t in terms), V, vector_error)
        coherent = SigmaTransformedLindblad([], [], log_p, s, hamiltonian=H)
        parts.append(("coherent part", coherent))
        # one scale for all parts: the largest of the parts 𝓓̂ is built from (a σ-commuting Hamiltonian
        # part of any size never enters 𝓓̂, so a dissipator 1e-300 below it keeps its own scale)
        live_scales = [p.log_scale for _, p in parts if np.isfinite(p.log_scale) and not p.pure_commutator]
        scales = live_scales or [p.log_scale for _, p in parts if np.isfinite(p.log_scale)]
        shift = max(scales) if scales else 0.0
        own = {name: attributed_hamiltonian(p.K_at(shift), p.K[0] if p is coherent else None, log_p)
               for name, p in parts}
        pure = [p.pure_commutator for _, p in parts]
        K_live = attributed_hamiltonian(sum((p.K_at(shift) for (_, p), x in zip(parts, pure) if not x),
                                            np.zeros((d, d), complex)), coherent.K[0], log_p)
        K = K_live + sum((p.K_at(shift) for (_, p), x in zip(parts, pure) if x), np.zeros((d, d), complex))
        method_note = "K from the partial trace of the antisymmetric part (closed form)"
    else:
        H = L.hamiltonian_part
        # work on the generator's own scale (rates 1e±300 must not over- or underflow the squares)
        scale = L.norm_estimate(seed=0)
        shift = math.log(scale) if 0 < scale < math.inf else 0.0
        K = np.zeros((d, d), complex) if H is None else pinch(hamiltonian_to_eigenbasis(H, V, vector_error), log_p)
        K = K * math.exp(-shift)
        parts.append((L.name, _GenericSigmaTransformed(L, V, log_p, s, K)))
        pure = [False]
        own = {L.name: K}
        K_live = K
        method_note = "K = σ-commuting part of the generator's Hamiltonian (generic generator)"
    # A part whose K_p is at round-off needs no commutator; a σ-commuting Hamiltonian part is exactly
    # −i[K_p, ·]: it adds nothing to 𝓜 or 𝓓̂, so its products are skipped.
    active = []
    for (name, part), exact in zip(parts, pure):
        Kp = own[name]
        scale = part.scale(shift) if isinstance(part, SigmaTransformedLindblad) else 1.0
        active.append((name, part, Kp, bool(frobenius(Kp) > 1e-13 * scale), exact))
    # 𝓓̂ = Σ_p 𝓛̂_p + i[K_b, ·]: the parts' own commutators are already in their 𝓓̂_p, so only
    # K_delta = K_b − Σ_p K_p (used ones) is added (zero when no Hamiltonian is blamed)
    K_delta = K_live - sum((Kp for _, _, Kp, use_k, exact in active if use_k and not exact),
                           np.zeros((d, d), complex))
    use_delta = bool(np.any(K_delta))
    stats = {name: [0.0, 0.0] for name, _ in parts}
    m_sq, d_sq, a_norm, l_norm, live_sq = [], [], [], [], []
    for _ in range(probes):
        X = (rng.standard_normal((d, d)) + 1j * rng.standard_normal((d, d))) / np.sqrt(2)
        M_total = np.zeros((d, d), complex)   # (𝓓̂ − 𝓓̂†)(X)
        D_total = np.zeros((d, d), complex)   # 𝓓̂(X)
        A_total = np.zeros((d, d), complex)   # (𝓛̂ − 𝓛̂†)(X), for the symmetric residual
        L_total = np.zeros((d, d), complex)   # 𝓛̂(X)
        for name, part, Kp, use_k, exact in active:
            if exact:  # 𝓛̂_p = −i[K_p, ·]: nothing in 𝓜 or 𝓓̂, −2i[K_p, X] in 𝓛̂ − 𝓛̂†
                comm = _commutator(Kp, X)
                L_total -= 1j * comm
                A_total -= 2j * comm
                continue
            fwd = part.forward(X, shift)
            antisym = fwd - part.backward(X, shift)
            comm = _commutator(Kp, X) if use_k else 0.0
            m = antisym + 2j * comm
            dp = fwd + 1j * comm
            stats[name][0] += float(np.vdot(m, m).real)
            stats[name][1] += float(np.vdot(dp, dp).real)
            M_total += m
            D_total += dp
            A_total += antisym
            L_total += fwd
            live_sq.append(float(np.vdot(fwd, fwd).real))
        if use_delta:  # the total's K_b differs from the sum of the parts' own K_p
            comm = _commutator(K_delta, X)
            M_total += 2j * comm
            D_total += 1j * comm
        m_sq.append(float(np.vdot(M_total, M_total).real))
        d_sq.append(float(np.vdot(D_total, D_total).real))
        a_norm.append(frobenius(A_total))  # may include a σ-commuting Hamiltonian e^{600} above 𝓓̂
        l_norm.append(frobenius(L_total))
    # round-off floor 1e-6·(the parts 𝓓̂ is built from); ‖[K,·]‖_F² = 2d‖K‖² − 2|Tr K|² (log domain)
    floor = (1e-6) ** 2 * sum(live_sq)
    log_comm = log_frobenius(K) + 0.5 * math.log(2 * d)
    # a generic generator's apply sums its dissipator with −i[H, ·]: a dissipator below the floor (or
    # underflowing to 0 there) cannot be told from none; a Lindbladian's parts are on their own scale
    if sum(d_sq) < floor and (terms is None or sum(d_sq) > 0):
        raise InputError(f"method='probe': the dissipative part of this generator is only "
                         f"{math.sqrt(sum(d_sq) / sum(live_sq)):.1e} of its σ-transformed norm, below the "
                         "round-off of apply/adjoint (1e-6): its detailed balance cannot be resolved by probes; "
                         "use method='structured' (Davies generators, Lindbladians) or method='dense'")
    den = max(sum(d_sq), floor)
    r_hat = float(np.sqrt(sum(m_sq) / den)) if den > 0 else 0.0
    q_lo = gammaincinv(probes, CONFIDENCE_DELTA / 2) / probes  # Gamma(N, 1) quantiles / N
    q_hi = gammaincinv(probes, 1 - CONFIDENCE_DELTA / 2) / probes
    upper, lower = r_hat / np.sqrt(q_lo), r_hat / np.sqrt(q_hi)
    spread = float(np.std(d_sq) / (np.mean(d_sq) * np.sqrt(probes))) if sum(d_sq) > 0 else 0.0
    statement = (f"r ∈ [{lower:.2e}, {upper:.2e}] with probability ≥ {1 - CONFIDENCE_DELTA:g} "
                 f"({probes} complex Gaussian probes; denominator relative spread {spread:.1e}; {method_note})")
    chan = {}
    log_weights = {}
    for name, (num, dn) in stats.items():
        dn = max(dn, floor)
        chan[name] = float(np.sqrt(num / dn)) if dn > 0 else 0.0
        log_weights[name] = math.log(num) + 2 * shift if num > 0 else -math.inf
    # ‖𝓛̂‖_F estimate (floors only), log domain: K may be far above 𝓓̂
    log_d = 0.5 * math.log(sum(d_sq) / probes) if sum(d_sq) > 0 else -math.inf
    log_norm_hat = float(np.logaddexp(log_d, log_comm)) + shift
    top = max(l_norm)
    symmetric = float(np.sqrt(sum((a / top) ** 2 for a in a_norm) / sum((x / top) ** 2 for x in l_norm))) if top else 0.0
    return ProbeResult(r_hat, float(upper), float(lower), probes, chan, log_weights, spread, statement, K,
                       log_norm_hat, shift, symmetric)
