"""The dense detailed-balance test: the (d², d²) σ-transformed generator 𝓛̂.

𝓛̂ = Γ_s^{−1/2}𝓛Γ_s^{1/2} is built in σ's eigenbasis by :mod:`.sigma_transform` up to a scale e^{C}
(never clipped). From it (column stacking, index i + d·j for |i⟩⟨j|):
- 𝓐̂ = (𝓛̂ − 𝓛̂†)/2 and its partial trace T(𝓐̂) = Σ_ij 𝓐̂(|i⟩⟨j|)|j⟩⟨i| give K = (i/d)(T − Tr(T)/d);
- the attributed Hamiltonian K_b and the residuals of :mod:`.residuals`;
- with a time reversal Θ: 𝓓̂† = 𝚯𝓓̂𝚯⁻¹ and 𝚯(K) = K, K the σ-commuting part of H;
- the Hermitian analysis of a KMS-detailed-balanced generator used by ``spectral_gap``
  (eigenvalues of 𝓓̂ = (𝓛̂ + 𝓛̂†)/2: absolute, so 𝓛̂ itself is needed, see
  :func:`~detbal.balance.sigma_transform.sigma_transformed_absolute`).
Memory: a few d²×d² complex matrices (guarded by the memory budget; d ≤ 64 by default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .reference import ReferenceState
from .reversal import TimeReversal
from .._checks import log_frobenius
from .residuals import (FLOOR, attributed_hamiltonian, beyond_round_off_norms, hamiltonian_residual, ratio,
                        round_off_threshold)
from .sigma_transform import (SigmaTransformedLindblad, eigenframe_matrix, eigenframe_with_round_off,
                              hamiltonian_to_eigenbasis, pair_exponents, pinch, sigma_transformed_absolute,
                              sigma_transformed_matrix)
from ..errors import InputError
from ..generators.base import Generator

__all__ = ["DenseResiduals", "coherent_direction", "dense_channel_rows", "dense_residuals", "hermitian_analysis",
           "reversal_residuals"]


def _commutator_matrix(K: np.ndarray) -> np.ndarray:
    """Column-stacked matrix of X ↦ −i[K, X]."""
    d = K.shape[0]
    eye = np.eye(d)
    return -1j * (np.kron(eye, K) - np.kron(K.T, eye))


def coherent_direction(L: Generator, ref: ReferenceState, s: float) -> np.ndarray | None:
    """K extracted from the coherent part −i[H, ·] of 𝓛 alone (H = ``L.hamiltonian_part``), any scale;
    None without a Hamiltonian. Only its non-σ-commuting direction is used (:mod:`.residuals`)."""
    H = L.hamiltonian_part
    if H is None:
        return None
    Hr = hamiltonian_to_eigenbasis(H, ref.vectors, ref.vector_error)
    if not np.any(Hr):
        return None
    return SigmaTransformedLindblad([], [], ref.log_p, s, hamiltonian=Hr).K[0]


@dataclass(frozen=True)
class DenseResiduals:
    dissipative: float
    hamiltonian: float
    symmetric: float
    stationary: float
    log_weight: float  # log ‖𝓓̂ − 𝓓̂†‖²/4 (true scale): a channel's share of the violation
    raw_dissipative: float  # the dissipative residual before round-off is discounted (equal when η = 0)


def dense_residuals(M: np.ndarray, ref: ReferenceState, s: float, K_h: np.ndarray | None,
                    round_off: float = 0.0) -> DenseResiduals:
    """Residuals of the eigenframe matrix M (module docstring); K_h from :func:`coherent_direction`;
    ``round_off``: the bound η on the error of each entry of M (0: exact entries), whose σ-amplified
    effect is not counted as a violation (:func:`~detbal.balance.residuals.beyond_round_off`).

    Work: 𝓛̂ once; 𝓐̂ = (𝓛̂ − 𝓛̂†)/2 once; the commutator 𝓒 = −i[K, ·] only on its 2d³ entries (never a
    d²×d² matrix), subtracted in place (𝓐̂ − 𝓒, then 𝓛̂ − 𝓒 = 𝓓̂); each norm from one |·| pass
    (:func:`~detbal.balance.residuals.beyond_round_off_norms`)."""
    lp = ref.log_p
    d = lp.shape[0]
    Lh, C = sigma_transformed_matrix(M, lp, s)
    norm = float(np.linalg.norm(Lh))
    if norm == 0:
        return DenseResiduals(0.0, 0.0, 0.0, 0.0, -math.inf, 0.0)
    log_hat = math.log(norm) + C
    T = _partial_trace(Lh)
    T = (T - T.conj().T) / 2  # T(𝓛̂†) = T(𝓛̂)†: the partial trace of 𝓐̂
    K = 1j / d * (T - np.trace(T) / d * np.eye(d))
    K = attributed_hamiltonian((K + K.conj().T) / 2, K_h, lp)
    tau = _round_off(Lh, K)
    if round_off > 0:
        tau += round_off_threshold(round_off, pair_exponents(lp, s), C)
    A = Lh - Lh.conj().T
    A *= 0.5
    _, antisym = beyond_round_off_norms(A, tau)
    _subtract_commutator(A, K)  # A is now R = 𝓐̂ − 𝓒
    raw, remainder = beyond_round_off_norms(A, tau)  # scaled norms: a dissipator 1e-300 below 𝓛̂ stays > 0
    del A
    _subtract_commutator(Lh, K)  # Lh is now 𝓓̂ = 𝓛̂ − 𝓒
    d_plain, d_norm = beyond_round_off_norms(Lh, tau)
    p = np.exp(lp)
    stationary = ratio(log_frobenius(M @ np.diag(p).reshape(-1, order="F")), log_hat + log_frobenius(p))
    return DenseResiduals(2 * remainder / d_norm if remainder else 0.0, hamiltonian_residual(K, C, lp, log_hat),
                          2 * antisym / norm, stationary,
                          2 * (math.log(remainder) + C) if remainder > 0 else -math.inf,
                          2 * raw / max(d_plain, np.finfo(float).tiny))


def _partial_trace(X: np.ndarray) -> np.ndarray:
    """T(X)_ab = Σ_j X_{(aj),(bj)} (column stacking: the sum of the d diagonal d×d blocks), O(d³)."""
    d = math.isqrt(X.shape[0])
    T = np.zeros((d, d), dtype=X.dtype)
    for j in range(d):
        T += X[d * j:d * (j + 1), d * j:d * (j + 1)]
    return T


def _subtract_commutator(X: np.ndarray, K: np.ndarray) -> None:
    """X ← X − 𝓒 in place for 𝓒 = −i[K, ·] column-stacked, 𝓒_{(ij),(kl)} = −i(K_ik δ_jl − K_lj δ_ik):
    the diagonal d×d blocks (j = l, i ≠ k) get +iK_ik, the strided blocks X[i::d, i::d] (i = k, j ≠ l) get
    −iK_lj, and the entries (ij),(ij) get +i(K_ii − K_jj) in one step (a dissipator 1e-300 below the
    Hamiltonian survives there only if the two commutator terms cancel before they meet it)."""
    d = K.shape[0]
    iK = 1j * K
    np.fill_diagonal(iK, 0.0)
    for j in range(d):
        X[d * j:d * (j + 1), d * j:d * (j + 1)] += iK
    iKt = iK.T
    for i in range(d):
        X[i::d, i::d] -= iKt
    k = np.diagonal(K)
    idx = np.arange(d * d)
    X[idx, idx] += 1j * (k[idx % d] - k[idx // d])


def _round_off(Lh: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Entrywise bound 4dε(|𝓛̂_ab| + |𝓛̂_ba| + |𝓒_ab|) on the round-off of (𝓛̂ − 𝓛̂†)/2 − 𝓒 and 𝓛̂ − 𝓒,
    𝓒 = −i[K, ·] with K a d-term partial trace of the same entries (|𝓒| added on its 2d³ entries only:
    |K_ik| for j = l, i ≠ k; |K_lj| for i = k, j ≠ l; |K_ii − K_jj| on the diagonal). Discounted entrywise
    (:func:`~detbal.balance.residuals.beyond_round_off`) instead of a floor relative to ‖𝓛̂‖, so a
    dissipator 10⁻³⁰⁰ times smaller than the Hamiltonian is still tested at its own scale wherever its
    entries are not summed with the Hamiltonian's."""
    d = K.shape[0]
    c = 4 * d * np.finfo(float).eps
    tau = np.abs(Lh)
    tau += tau.T
    tau *= c
    off = c * np.abs(K)
    np.fill_diagonal(off, 0.0)
    for j in range(d):
        tau[d * j:d * (j + 1), d * j:d * (j + 1)] += off
    off_t = off.T
    for i in range(d):
        tau[i::d, i::d] += off_t
    k = np.diagonal(K)
    idx = np.arange(d * d)
    tau[idx, idx] += c * np.abs(k[idx % d] - k[idx // d])
    return tau


def dense_channel_rows(parts, ref: ReferenceState, ss) -> list[list]:
    """Per s in ``ss``: the rows (name, residual, log weight) of each channel (name, generator, _). Each
    channel's eigenframe matrix is built once for all s (the costly O(d⁵) part)."""
    rows: list[list] = [[] for _ in ss]
    for name, part, _ in parts:
        M, eta = eigenframe_with_round_off(part, ref.vectors, ref.vector_error)
        for out, s in zip(rows, ss):
            r = dense_residuals(M, ref, s, coherent_direction(part, ref, s), eta)
            out.append((name, max(r.dissipative, r.hamiltonian), r.log_weight))
        del M
    return rows


def reversal_residuals(L: Generator, ref: ReferenceState, s: float, M: np.ndarray, reversal):
    """DB with time reversal: 𝓓̂† = 𝚯𝓓̂𝚯⁻¹ and 𝚯(K) = K, K the σ-commuting part of H.

    Returns (dissipative, hamiltonian, symmetric, stationary, details)."""
    if not isinstance(reversal, TimeReversal):
        raise InputError(f"`reversal` must be a TimeReversal, got {type(reversal).__name__}")
    if reversal.dim != L.dim:
        raise InputError(f"`reversal` acts on dimension {reversal.dim}, the generator on {L.dim}")
    V, lp = ref.vectors, ref.log_p
    sigma = ref.matrix()
    if np.linalg.norm(reversal.apply(sigma) - sigma) > 1e-10 * np.linalg.norm(sigma):
        raise InputError("the reference state is not invariant under `reversal` (Θ σ Θ⁻¹ ≠ σ)")
    d = L.dim
    H = L.hamiltonian_part
    K = np.zeros((d, d), complex) if H is None else pinch(hamiltonian_to_eigenbasis(H, V, ref.vector_error), lp)
    Lh, C = sigma_transformed_matrix(M, lp, s)
    norm = float(np.linalg.norm(Lh))
    plain = dense_residuals(M, ref, s, coherent_direction(L, ref, s))
    details = {"reversal_square": reversal.square, "plain_residual": max(plain.dissipative, plain.hamiltonian)}
    if norm == 0:
        return 0.0, 0.0, plain.symmetric, plain.stationary, details
    Ks = K * math.exp(min(-C, 700.0))  # on the scale of Lh
    D_hat = Lh - _commutator_matrix(Ks)
    theta = reversal.in_basis(V)
    d_norm = max(float(np.linalg.norm(D_hat)), FLOOR * norm)
    dissipative = float(np.linalg.norm(D_hat.conj().T - theta.superoperator(D_hat))) / d_norm
    k_norm = max(float(np.linalg.norm(Ks)), FLOOR * norm / math.sqrt(2 * d))
    theta_k = theta.U @ Ks.conj() @ theta.U.conj().T
    hamiltonian = float(np.linalg.norm(theta_k - Ks)) / k_norm
    return dissipative, hamiltonian, plain.symmetric, plain.stationary, details


def hermitian_analysis(M: np.ndarray, V: np.ndarray, log_p: np.ndarray, tol: float) -> dict:
    """λ_D, normality of 𝓛̂ (KMS, s = ½) and (if 𝓛̂ is normal with a one-dimensional ker 𝓓̂) the gap.

    Its Hermitian part 𝓓̂ has real spectrum ≤ 0 (``eigh``); λ_D = gap(−𝓓̂). If 𝓛̂ is normal (K and
    𝓓 commute: Davies, covariant generators) Re spec 𝓛 = spec 𝓓̂ and the Liouvillian gap is λ_D.

    Args:
        M: (d², d²) column-stacked generator in the original basis; V, log_p: σ's eigenvectors and
            log-populations; tol: eigenvalues with |λ| ≤ 10·tol·‖𝓛̂‖ count as zero.

    Returns a dict with keys hermitian_gap, normal, symmetric, gap (None unless normal),
    residual (eigh residual of the gap eigenvector), zero_modes.
    """
    Lh = sigma_transformed_absolute(eigenframe_matrix(M, V), log_p, 0.5, "the Hermitian spectral-gap path")
    nrm = float(np.linalg.norm(Lh))
    D = (Lh + Lh.conj().T) / 2
    w, U = np.linalg.eigh(D)  # ascending, ≤ 0 up to round-off
    zero = np.abs(w) <= tol * max(nrm, np.finfo(float).tiny) * 10
    zero_modes = int(zero.sum())
    nonzero = np.flatnonzero(~zero)
    i = nonzero[-1] if nonzero.size else None
    lam_d = float(-w[i]) if i is not None else float("nan")
    residual = float(np.linalg.norm(D @ U[:, i] - w[i] * U[:, i])) / max(nrm, 1e-300) if i is not None else 0.0
    comm = Lh @ Lh.conj().T - Lh.conj().T @ Lh
    normal = bool(np.linalg.norm(comm) <= 1e-9 * nrm * nrm)
    symmetric = bool(np.linalg.norm(Lh - Lh.conj().T) <= 1e-10 * nrm)
    gap = lam_d if (normal and zero_modes == 1) else None
    return {"hermitian_gap": lam_d, "normal": normal, "symmetric": symmetric, "gap": gap,
            "residual": residual, "zero_modes": zero_modes}
