"""The residual formulas shared by every detailed-balance certificate, in the log domain.

Every certificate (dense, operator sums, probes, Davies sectors) measures norms of the σ-transformed
generator 𝓛̂ up to a common scale e^{C} (:mod:`.sigma_transform`); the residuals are ratios, so they
are formed here from natural logarithms of norms and never overflow.

The split of a violation (which part is wrong). Let K be the Hermitian operator extracted from the
s-antisymmetric part 𝓐̂ = (𝓛̂ − 𝓛̂†)/2 by the partial-trace map (traceless), K = K_σ + K_⊥ with
K_σ = pinch(K) its σ-commuting part. Detailed balance ⇔ 𝓐̂ = −i[K_σ, ·] (then K_⊥ = 0). The part of
K_⊥ that the generator's own Hamiltonian accounts for, B = c·K_H⊥ with K_H⊥ the non-σ-commuting part
of the K extracted from the coherent part −i[H, ·] alone and c ∈ [0, 1] the coefficient of the
orthogonal projection of K_⊥ on it (clipped: H accounts for at most its own part, so the round-off
of a σ-commuting H never takes over a dissipator's violation; B = 0 without H), is blamed on the
Hamiltonian:
    K_b = K_σ + B,
    hamiltonian_residual  = ‖[K_b, σ]‖_F/(‖K_b‖_F ‖σ‖_F)        (= ‖[B, σ]‖/…, 0 iff B = 0),
    dissipative_residual  = ‖𝓓̂ − 𝓓̂†‖_F/‖𝓓̂‖_F,  𝓓 = 𝓛 + i[K_b, ·].
So a wrong rate or jump (even with H = 0, where the whole K comes from the dissipator) is blamed on
the dissipator, a Hamiltonian that does not commute with σ on the Hamiltonian, and the verdict is
exact: for a detailed-balanced 𝓛, K_⊥ = 0, B = 0 and both residuals vanish; otherwise either B ≠ 0
(hamiltonian_residual > 0) or B = 0 and the dissipative residual is the exact ‖𝓐̂ + i[K_σ, ·]‖ test.
(Adding the non-commutator part of 𝓐̂ to the Hamiltonian residual and using the full K in 𝓓, as a
naive split would, puts a dissipator's violation into hamiltonian_residual when H = 0.)

Round-off of the rotation into σ's eigenbasis V. V comes from ``eigh`` and carries the eigenvector error
ω (:func:`~detbal.eigenbasis.eigenvector_error`: ε‖H‖/level spacing, weighted by how much the two
levels' populations differ). Operators (Lindblad jumps, Hamiltonians) are rotated and cleaned: entries
within ‖A‖_F(dε + 2ω) of zero are set to zero (:func:`~detbal.eigenbasis.rotate_cleaned`), before any
σ-scaling; rates are exact. A generator known only as a matrix: each entry of the rotated matrix
carries an error up to η = ‖M‖_F(d²ε + 4ω), which the σ-scaling turns into η·e^{x} on entry (a, b) of 𝓛̂
(x = its scaling exponent, x_ba = −x_ab). A violation is counted only beyond what such an error can
explain: entrywise, an antisymmetric entry R_ab = (𝓛̂_ab − conj 𝓛̂_ba)/2 (minus the commutator part)
is shrunk by τ_ab = η(cosh x_ab + 4) (the 4η covers the σ-commuting K extracted from the same
entries), R_ab ↦ R_ab·max(0, 1 − τ_ab/|R_ab|) (:func:`beyond_round_off`). A violation is thus
resolved iff it exceeds what any perturbation of the given matrix within its round-off can produce:
an uphill rate below η in the given matrix cannot be told from its detailed-balance value.

Floors: ‖𝓓̂‖ is measured against 1e-6‖𝓛̂‖ and ‖K‖ against 1e-6‖𝓛̂‖/√(2d), so that round-off of a
near-zero part is never mistaken for a violation.
"""

from __future__ import annotations

import math

import numpy as np

from .._checks import frobenius, log_frobenius
from .sigma_transform import _SEPARABLE_SPAN, pinch

__all__ = ["FLOOR", "attributed_hamiltonian", "beyond_round_off", "beyond_round_off_norms", "floored",
           "hamiltonian_residual", "ratio", "round_off_threshold"]

FLOOR = 1e-6
_LOG_FLOOR = math.log(FLOOR)


def ratio(log_num: float, log_den: float) -> float:
    """e^{log_num − log_den}; 0 when the numerator is zero (or both are)."""
    if log_num == -math.inf:
        return 0.0
    return math.exp(min(log_num - log_den, 700.0))


def round_off_threshold(eta: float, f: np.ndarray, C: float) -> np.ndarray:
    """τ_ab·e^{−C} = η(cosh x_ab + 4)·e^{−C}, x_ab = f_b − f_a (module docstring), shape (d², d²) from the
    (d²,) exponents f of the entries; inf where it exceeds the float range (which explains any
    violation of that entry).

    cosh(f_b − f_a) = (e^{f_b − m}e^{m − f_a} + e^{f_a − m}e^{m − f_b})/2 is separable: while f spans
    ≤ 600 and η e^{−C} is moderate it is two outer products of finite vectors (m the middle of f's range;
    no transcendental function per entry), else every entry is evaluated in the log domain."""
    log_scale = math.log(eta) - C
    lo, hi = float(f.min()), float(f.max())
    if hi - lo <= _SEPARABLE_SPAN and abs(log_scale) <= 100.0:
        mid = (hi + lo) / 2
        up, down = np.exp(f - mid), np.exp(mid - f)
        tau = np.multiply.outer(down, up)  # e^{f_b − f_a} at (a, b)
        tau += np.multiply.outer(up, down)
        tau *= 0.5
        tau += 4.0
        tau *= math.exp(log_scale)
        return tau
    x = np.abs(f[None, :] - f[:, None])
    with np.errstate(over="ignore"):
        # log(cosh x + 4) = |x| + log((1 + e^{−2|x|})/2 + 4e^{−|x|})
        x += np.log(0.5 * (1 + np.exp(-2 * x)) + 4 * np.exp(-x))
        x += log_scale
        return np.exp(x, out=x)


def beyond_round_off(R: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """R_ab·max(0, 1 − τ_ab/|R_ab|): the part of each entry that round-off of size τ cannot explain."""
    mag = np.abs(R)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        shrink = np.where(mag > tau, 1 - tau / np.where(mag > 0, mag, 1.0), 0.0)
    return R * shrink


def beyond_round_off_norms(R: np.ndarray, tau: np.ndarray) -> tuple[float, float]:
    """(‖R‖_F, ‖beyond_round_off(R, τ)‖_F) from one |R| array, discounted in place:
    |R_ab·max(0, 1 − τ_ab/|R_ab|)| = max(0, |R_ab| − τ_ab)."""
    mag = np.abs(R)
    plain = _magnitude_norm(mag)
    np.subtract(mag, tau, out=mag)
    np.maximum(mag, 0.0, out=mag)
    return plain, _magnitude_norm(mag)


def _magnitude_norm(mag: np.ndarray) -> float:
    """‖mag‖_F of a non-negative float array: √(Σ mag²) directly while its largest entry is within 1e±100
    (the squares of the entries that matter neither overflow nor underflow, d² ≤ 4096² terms), else
    scaled by that entry (:func:`~detbal._checks.frobenius`: a dissipator 1e-300 below 𝓛̂ keeps its norm)."""
    top = float(mag.max(initial=0.0))
    if top == 0:
        return 0.0
    if not 1e-100 < top < 1e100:
        return frobenius(mag)
    flat = mag.ravel(order="K")  # a view for a contiguous array (|R| is allocated so)
    return math.sqrt(float(flat @ flat))


def floored(log_value: float, log_norm_hat: float, extra: float = 0.0) -> float:
    """max(log_value, log(FLOOR·‖𝓛̂‖) − extra): the log of a floored denominator."""
    return max(log_value, _LOG_FLOOR + log_norm_hat - extra)


def attributed_hamiltonian(K: np.ndarray, K_h: np.ndarray | None, log_p: np.ndarray) -> np.ndarray:
    """K_b = pinch(K) + P(K − pinch K) (module docstring); K and K_h on the same scale (any)."""
    K_sigma = pinch(K, log_p)
    if K_h is None:
        return K_sigma
    h_perp = K_h - pinch(K_h, log_p)
    hh = float(np.vdot(h_perp, h_perp).real)
    if hh == 0:
        return K_sigma
    # the Hamiltonian accounts for at most its own non-commuting part (coefficient in [0, 1]), so a
    # round-off direction of a σ-commuting H never takes over a dissipator's violation
    coef = min(max(float(np.vdot(h_perp, K - K_sigma).real) / hh, 0.0), 1.0)
    return K_sigma + coef * h_perp


def hamiltonian_residual(K: np.ndarray, log_k: float, log_p: np.ndarray, log_norm_hat: float) -> float:
    """‖[K, σ]‖_F/(‖K‖_F‖σ‖_F) in σ's eigenbasis for K·e^{log_k} (the attributed Hamiltonian K_b), with
    ‖K‖ floored at 1e-6‖𝓛̂‖/√(2d) (``log_norm_hat`` = log ‖𝓛̂‖, same scale as K·e^{log_k})."""
    d = log_p.shape[0]
    p = np.exp(log_p)
    comm = K * (p[None, :] - p[:, None])
    log_comm = log_frobenius(comm)
    if log_comm == -math.inf:
        return 0.0
    log_k_norm = floored(log_frobenius(K) + log_k, log_norm_hat, 0.5 * math.log(2 * d))
    return ratio(log_comm + log_k, log_k_norm + log_frobenius(p))
