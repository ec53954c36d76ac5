"""The σ-transformed generator 𝓛̂ = Γ_s^{−1/2} 𝓛 Γ_s^{1/2} of a Lindbladian, in σ's eigenbasis
(THEORY.md §4, §8), with the σ-scaling pushed onto the operators:

    𝓛̂(Y) = Σ_k γ_k L_k Y R_k − i(Ĥ_L Y − Y Ĥ_R),
    L_k = σ^{−s/2} A_k σ^{s/2},  R_k = σ^{(1−s)/2} A_k† σ^{−(1−s)/2},
    Ĥ_L = σ^{−s/2} H_eff σ^{s/2},  Ĥ_R = σ^{(1−s)/2} H_eff† σ^{−(1−s)/2},  H_eff = H − (i/2)Σγ_k A_k†A_k.

In σ's eigenbasis σ^a X σ^{−a} is the entrywise factor exp(a(log p_i − log p_j)), evaluated as one
exponent (only population ratios, i.e. energy differences, appear). Each factor is clipped at e^150,
so that a product L_k·R_k stays below e^300 and its square is finite. Clipping changes only entries
that are either huge after scaling (a violation, still reported as one) or multiplied by a rate that
is exponentially small (a detailed-balanced uphill jump with β·ΔE > 300/s: the change is below
e^{−150} relative). Shared by the exact operator-sum certificate and the random-probe certificate.

The σ-commuting coherent part K of the part is extracted from the antisymmetric part 𝓐 = (𝓛̂ − 𝓛̂†)/2
by the partial-trace map T(𝓐) = Σ_ij 𝓐(|i⟩⟨j|)|j⟩⟨i|, in closed form for operator sums:
T(Y ↦ LYR) = Tr(R)·L, T(Y ↦ HY) = d·H, T(Y ↦ YH) = Tr(H)·I, and K = (i/d)(T − Tr(T)/d), Hermitian part.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..eigenbasis import rotate_cleaned

__all__ = ["HattedLindblad", "hamiltonian_to_eigenbasis", "pinch", "scaling_factor"]

_CLIP = 150.0


def hamiltonian_to_eigenbasis(H, V: np.ndarray) -> np.ndarray:
    """V† (H − Tr(H)/d) V: the identity part never matters in −i[H, ·], and removing it keeps the
    round-off cut independent of an energy offset (which would otherwise hide small couplings)."""
    d = V.shape[0]
    H = H.toarray() if sp.issparse(H) else np.asarray(H)
    shift = np.trace(H) / d
    return rotate_cleaned(H - shift * np.eye(d), V)


def scaling_factor(log_p: np.ndarray, a: float) -> np.ndarray:
    """F_ij = exp(a(log p_i − log p_j)), clipped at e^150: σ^a X σ^{−a} = F ∘ X in σ's eigenbasis."""
    expo = a * (log_p[:, None] - log_p[None, :])
    np.minimum(expo, _CLIP, out=expo)
    return np.exp(expo, out=expo)


def pinch(H: np.ndarray, log_p: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    """Part of H (in σ's eigenbasis) that commutes with σ: keep H_ij with p_i = p_j."""
    same = np.abs(log_p[:, None] - log_p[None, :]) <= tol * max(1.0, float(np.abs(log_p).max()))
    return np.where(same, H, 0.0)


class HattedLindblad:
    """𝓛̂ and 𝓛̂† of a group of Lindblad jumps (and an optional Hamiltonian) in σ's eigenbasis.

    Args:
        jumps: jump operators A_k already rotated into σ's eigenbasis (V† A V).
        rates: their rates γ_k; log_p: σ's log-populations; s: inner-product parameter.
        hamiltonian: the part's Hamiltonian in σ's eigenbasis, or None.
        factors: (scaling_factor(log_p, −s/2), scaling_factor(log_p, (1−s)/2)), shared between parts.

    Attributes:
        pairs: (γ_k, L_k, R_k) of the jumps with γ_k > 0; h_left, h_right: Ĥ_L, Ĥ_R;
        heff: H_eff (unscaled); rotated: (γ_k, A_k) unscaled; K: the σ-commuting coherent part
        (traceless); pure_commutator: the part is −i[H, ·] with [H, σ] = 0 (then Ĥ_L = Ĥ_R = H).
    """

    def __init__(self, jumps, rates, log_p, s, hamiltonian=None, factors=None):
        d = log_p.shape[0]
        left, right = factors if factors is not None else (scaling_factor(log_p, -s / 2),
                                                           scaling_factor(log_p, (1 - s) / 2))
        G = np.zeros((d, d), complex)
        self.pairs = []
        self.rotated = []
        for A, g in zip(jumps, rates):
            if g:
                G += g * (A.conj().T @ A)
                self.rotated.append((g, A))
                self.pairs.append((g, A * left, A.conj().T * right))
        H = np.zeros((d, d), complex) if hamiltonian is None else (hamiltonian + hamiltonian.conj().T) / 2
        self.heff = H - 0.5j * G
        self.h_left = self.heff * left
        self.h_right = self.heff.conj().T * right
        self.K = self._coherent_part(d)
        # −i[H, ·] with H commuting with σ: then 𝓓̂ = 0 and 𝓛̂ − 𝓛̂† = −2i[H, ·] exactly
        self.pure_commutator = not self.pairs and np.array_equal(pinch(self.heff, log_p), self.heff)

    def _coherent_part(self, d):
        """K from the partial trace of the antisymmetric part (closed form, module docstring).

        With S = Ĥ_L + Ĥ_L† and J = Σ_k γ_k Tr(R_k) L_k the map gives
        K = traceless part of ½[S + (i/d)(J − J†)] (Hermitian by construction).
        """
        K = self.h_left + self.h_left.conj().T
        if self.pairs:
            J = np.zeros((d, d), complex)
            for g, Lk, Rk in self.pairs:
                J += (g * np.trace(Rk)) * Lk
            K += (1j / d) * (J - J.conj().T)
        K *= 0.5
        K[np.diag_indices(d)] -= np.trace(K) / d
        return K

    def forward(self, Y):
        """𝓛̂(Y)."""
        out = -1j * (self.h_left @ Y - Y @ self.h_right)
        for g, Lk, Rk in self.pairs:
            out += g * (Lk @ Y @ Rk)
        return out

    def backward(self, Y):
        """𝓛̂†(Y) (adjoint in the Hilbert–Schmidt inner product)."""
        out = 1j * (self.h_left.conj().T @ Y - Y @ self.h_right.conj().T)
        for g, Lk, Rk in self.pairs:
            out += g * (Lk.conj().T @ Y @ Rk.conj().T)
        return out

    def apply_to_diagonal(self, p: np.ndarray) -> np.ndarray:
        """The (unscaled) generator applied to diag(p): Σγ A diag(p) A† − i(H_eff diag(p) − diag(p) H_eff†)."""
        out = -1j * (self.heff * p[None, :] - p[:, None] * self.heff.conj().T)
        for g, A in self.rotated:
            out += g * ((A * p[None, :]) @ A.conj().T)
        return out

    def scale(self) -> float:
        """A norm scale of the part (Frobenius norms of its operators), for round-off thresholds."""
        scale = float(np.linalg.norm(self.h_left))
        for g, Lk, Rk in self.pairs:
            scale += g * float(np.linalg.norm(Lk)) * float(np.linalg.norm(Rk))
        return scale
