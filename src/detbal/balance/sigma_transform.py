"""The σ-transformed generator 𝓛̂ = Γ_s^{−1/2} 𝓛 Γ_s^{1/2} in σ's eigenbasis: the
one place where it is built. Γ_s(X) = σ^s X σ^{1−s}; σ = V diag(p) V†, known by V and log p.

Entries: 𝓛̂_{(ij),(kl)} = 𝓛_{(ij),(kl)}·e^{x}, x = [s(log p_k − log p_i) + (1 − s)(log p_l − log p_j)]/2
(:func:`~detbal.eigenbasis.sigma_exponent`), which can be e^{±βΔE/2} with β·ΔE = 10⁴. Nothing is
clipped: every scaled quantity is evaluated in the log domain as e^{log|M| + x − C} with C its largest
log-magnitude (:func:`~detbal.eigenbasis.log_scaled`), so it comes with a scale e^{C}. Residuals are
ratios of norms and do not depend on that scale; quantities that are absolute (the s-dual, the
Hermitian spectrum of 𝓛̂) use :func:`sigma_transformed_absolute`, which refuses when an entry truly
exceeds the floating-point range instead of returning inf.

- Dense: :func:`eigenframe` (the generator in σ's eigenbasis, d²×d²) and
  :func:`sigma_transformed_matrix` (entrywise scaling, one C for the whole matrix).
- Operator sums of a Lindbladian, :class:`SigmaTransformedLindblad`, with the scaling pushed onto
  the operators:
      𝓛̂(Y) = Σ_k γ_k L_k Y R_k − i(Ĥ_L Y − Y Ĥ_R),
      L_k = σ^{−s/2} A_k σ^{s/2},  R_k = σ^{(1−s)/2} A_k† σ^{−(1−s)/2},
      Ĥ_L = σ^{−s/2} H_eff σ^{s/2},  Ĥ_R = σ^{(1−s)/2} H_eff† σ^{−(1−s)/2},  H_eff = H − (i/2)Σγ_k A_k†A_k.
  Each operator is stored as (unit, c): a matrix of largest entry 1 and its log-scale, and each
  jump's coefficient as log(γ_k) + c_L + c_R; callers fold a common shift into them.

The σ-commuting coherent part: K is extracted from the antisymmetric part 𝓐 = (𝓛̂ − 𝓛̂†)/2 by the
partial-trace map T(𝓐) = Σ_ij 𝓐(|i⟩⟨j|)|j⟩⟨i|, in closed form for operator sums:
T(Y ↦ LYR) = Tr(R)·L, T(Y ↦ HY) = d·H, T(Y ↦ YH) = Tr(H)·I, and K = (i/d)(T − Tr(T)/d), Hermitian part.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from .. import config
from .._checks import frobenius
from ..eigenbasis import is_signed_permutation, log_scaled, rotate_cleaned, rotation_error
from ..errors import InputError
from ..generators.base import Generator, SumGenerator
from ..generators.lindblad import Lindbladian

__all__ = ["SigmaTransformedLindblad", "combine_scaled", "eigenframe", "eigenframe_matrix",
           "eigenframe_with_round_off", "hamiltonian_to_eigenbasis", "pair_exponents", "pinch",
           "rotation_round_off", "scaled_operator", "sigma_transformed_absolute", "sigma_transformed_matrix"]

_MAX_LOG = math.log(np.finfo(float).max) - 1.0  # e^{C} must stay a finite float (C ≤ ~708)


def hamiltonian_to_eigenbasis(H, V: np.ndarray, vector_error: float = 0.0) -> np.ndarray:
    """V† (H − Tr(H)/d) V, cleaned as every rotated operator (:func:`~detbal.eigenbasis.rotate_cleaned`
    with the eigenvector error ω = ``vector_error``): the identity part never matters in −i[H, ·], and
    removing it keeps the round-off cut independent of an energy offset (which would otherwise hide small
    couplings)."""
    d = V.shape[0]
    H = H.toarray() if sp.issparse(H) else np.asarray(H)
    shift = np.trace(H) / d
    return rotate_cleaned(H - shift * np.eye(d), V, vector_error)


def pinch(H: np.ndarray, log_p: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    """Part of H (in σ's eigenbasis) that commutes with σ: keep H_ij with p_i = p_j."""
    same = np.abs(log_p[:, None] - log_p[None, :]) <= tol * max(1.0, float(np.abs(log_p).max()))
    return np.where(same, H, 0.0)


# -- dense ------------------------------------------------------------------------------------------
def rotation_round_off(M: np.ndarray, V: np.ndarray, vector_error: float = 0.0) -> float:
    """η = ‖M‖_F·(d²·ε + 4ω): a bound on the error of each entry of the (d², d²) matrix M rotated into the
    basis V: the round-off of four passes of d-term sums over the unitary V̄ ⊗ V, plus the eigenvector
    error ω = ``vector_error`` of V (:func:`~detbal.eigenbasis.eigenvector_error`), which enters as
    [M, Ω̄ ⊗ I + I ⊗ Ω] (column norms ≤ 2ω); 0 when V is a signed permutation (exact rotation)."""
    if is_signed_permutation(V):
        return 0.0
    return rotation_error(frobenius(M), V.shape[0] ** 2, 2.0 * vector_error)


def eigenframe_matrix(M: np.ndarray, V: np.ndarray, eta: float | None = None) -> np.ndarray:
    """Column-stacked matrix of X ↦ V† 𝓜(V X V†) V from the column-stacked (d², d²) matrix M (O(d⁵)),
    with the entries below the rotation's round-off η = d²ε‖M‖_F (:func:`rotation_round_off` without the
    eigenvector error; ``eta`` when the caller has it already) set to zero. The
    superoperator is rotated by the unitary V̄ ⊗ V on the d²-dimensional space, so this is
    :func:`~detbal.eigenbasis.rotate_cleaned`'s rule one level up: left in place, round-off in entries
    that are zero in the exact eigenframe (forbidden transitions) would be amplified by the σ-scaling
    e^{βΔE/2} into a spurious violation. The entries that survive keep an error up to η plus the
    eigenvector error's, which the residuals account for (:func:`eigenframe_with_round_off`); that
    part is not cut: entries of a matrix at the eigenvector-error level are not round-off of zero."""
    d = V.shape[0]
    T = np.asarray(M).reshape((d, d, d, d), order="F")  # T[a,b,c,e] = M[a+db, c+de]
    T = np.einsum("ai,abce->ibce", V.conj(), T, optimize=True)
    T = np.einsum("bj,ibce->ijce", V, T, optimize=True)
    T = np.einsum("ck,ijce->ijke", V, T, optimize=True)
    T = np.einsum("el,ijke->ijkl", V.conj(), T, optimize=True)
    out = T.reshape((d * d, d * d), order="F")
    if eta is None:
        eta = rotation_round_off(M, V)
    if eta > 0:
        out[np.abs(out) <= eta] = 0.0
    return out


def eigenframe(L: Generator, V: np.ndarray, vector_error: float = 0.0) -> np.ndarray:
    """Column-stacked (d², d²) matrix of X ↦ V† 𝓛(V X V†) V (the generator in σ's eigenbasis).

    A Lindbladian is rebuilt from its operators rotated by :func:`~detbal.eigenbasis.rotate_cleaned`
    (with the eigenvector error ω = ``vector_error`` of V), so rotation round-off is cut before any
    σ-scaling could amplify it by e^{βΔE/2}."""
    return eigenframe_with_round_off(L, V, vector_error)[0]


def eigenframe_with_round_off(L: Generator, V: np.ndarray, vector_error: float = 0.0) -> tuple[np.ndarray, float]:
    """(:func:`eigenframe`, η): η bounds the error of each entry of a generator known only as a matrix
    and rotated entrywise (:func:`rotation_round_off` with the eigenvector error ω = ``vector_error``,
    summed over the terms of a sum); 0 for generators rebuilt from their cleaned operators (Lindbladians:
    the rates are exact, the operators' errors are cut at the operator level, where they arise) and for
    exact rotations."""
    d = L.dim
    config.check_memory(7 * config.superoperator_bytes(d), f"dense detailed-balance test (d = {d})",
                        "detailed_balance(..., method='probe')")
    return _eigenframe(L, V, vector_error)


def _eigenframe(L: Generator, V: np.ndarray, omega: float) -> tuple[np.ndarray, float]:
    if L.has_eigenbasis_gksl and L.eigenbasis is not None and V is L.eigenbasis.vectors:
        return L.eigenbasis_dense(), 0.0  # built in this very basis: no rotation, no round-off
    if isinstance(L, Lindbladian):
        H = hamiltonian_to_eigenbasis(L.hamiltonian, V, omega)
        jumps = [rotate_cleaned(A, V, omega) for A in L.jumps]
        return Lindbladian((H + H.conj().T) / 2, jumps, L.rates).to_dense(), 0.0
    if isinstance(L, SumGenerator):
        parts = [_eigenframe(t, V, omega) for t in L.terms]
        return sum(M for M, _ in parts), sum(eta for _, eta in parts)
    if L.has_sector_structure and L.eigenbasis is not None:
        # built in its own eigenbasis V_E: one rotation by W = V_E†V instead of two (into the original basis
        # and back); W carries V's error (ω) and a d-term round-off, within η below
        M, V = L.structured_dense(), L.eigenbasis.vectors.conj().T @ V
    else:
        M = L.to_dense()
    if is_signed_permutation(V):
        return eigenframe_matrix(M, V, eta=0.0), 0.0
    norm, n = frobenius(M), V.shape[0] ** 2  # one norm for the cut and for η
    return eigenframe_matrix(M, V, eta=rotation_error(norm, n)), rotation_error(norm, n, 2.0 * omega)


_SEPARABLE_SPAN = 600.0  # span of f below which e^{±(f − mid)} are finite and their products safe


def pair_exponents(log_p: np.ndarray, s: float) -> np.ndarray:
    """f(i, j) = (s log p_i + (1 − s) log p_j)/2 at the column-stacked index i + d·j, shape (d²,): the
    entry (ij),(kl) of 𝓛̂ is 𝓛's times e^{f(k, l) − f(i, j)}."""
    d = log_p.shape[0]
    return (s * np.tile(log_p, d) + (1 - s) * np.repeat(log_p, d)) / 2


def sigma_transformed_matrix(M: np.ndarray, log_p: np.ndarray, s: float) -> tuple[np.ndarray, float]:
    """(𝓛̂·e^{−C}, C): 𝓛̂ = Γ_s^{−1/2}𝓛Γ_s^{1/2} from the eigenframe matrix M, never clipped.

    The exponent of entry (ij),(kl) is f(k, l) − f(i, j), f(i, j) = (s log p_i + (1 − s) log p_j)/2.
    While f spans ≤ 600 the factor is separable, e^{f(k,l) − m}·e^{m − f(i,j)} with finite factors
    (two passes over M, C = 0 unless the entries would square beyond the float range); otherwise
    every entry is evaluated in the log domain (:func:`~detbal.eigenbasis.log_scaled`), C being the
    largest log-magnitude of the entries of 𝓛̂ (−inf for 𝓛 = 0); see module docstring."""
    f = pair_exponents(log_p, s)
    lo, hi = float(f.min()), float(f.max())
    if hi - lo <= _SEPARABLE_SPAN:
        mid = (hi + lo) / 2
        Lh = M * np.exp(f - mid)[None, :]
        Lh *= np.exp(mid - f)[:, None]
        top = float(np.abs(Lh).max(initial=0.0)) if Lh.size else 0.0
        if top == 0:
            return Lh, -np.inf
        if 1e-150 < top < 1e150:
            return Lh, 0.0
    return log_scaled(M, f[None, :] - f[:, None])  # (ij),(kl) ↦ f(k, l) − f(i, j)


def sigma_transformed_absolute(M: np.ndarray, log_p: np.ndarray, s: float, what: str) -> np.ndarray:
    """𝓛̂ itself (not rescaled), for absolute quantities (spectra, the s-dual). For a detailed-balanced
    generator its entries are of the size of the rates; raises InputError naming ``what`` when an
    entry exceeds the floating-point range (then 𝓛 is far from detailed balance at this β·ΔE)."""
    Lh, C = sigma_transformed_matrix(M, log_p, s)
    if C > _MAX_LOG:
        raise InputError(f"{what}: the σ-transformed generator has entries of size e^{C:.4g}, beyond the "
                         "floating-point range; the generator is far from detailed balance w.r.t. this "
                         "reference state (detailed_balance(...) reports it)")
    return Lh * math.exp(C) if np.isfinite(C) else Lh


# -- operator sums ----------------------------------------------------------------------------------
def scaled_operator(A: np.ndarray, log_p: np.ndarray, a: float) -> tuple[np.ndarray, float]:
    """σ^a A σ^{−a} in σ's eigenbasis as (unit, c): unit·e^{c}, entries A_ij e^{a(log p_i − log p_j)}."""
    return log_scaled(A, a * (log_p[:, None] - log_p[None, :]))


def combine_scaled(terms, shape) -> tuple[np.ndarray, float]:
    """Σ_t coef_t·e^{c_t}·X_t as (unit·e^{−C} sum, C) with C = max_t log|coef_t| + c_t (no overflow).

    ``terms``: (coef, c, X) with X an array (or None for the identity)."""
    logs = [math.log(abs(coef)) + c for coef, c, X in terms if coef != 0 and np.isfinite(c)]
    out = np.zeros(shape, complex)
    if not logs:
        return out, -np.inf
    C = max(logs)
    for coef, c, X in terms:
        if coef != 0 and np.isfinite(c):
            w = (coef / abs(coef)) * math.exp(math.log(abs(coef)) + c - C)
            if X is None:
                out[np.diag_indices(shape[0])] += w
            else:
                out += w * X
    return out, C


class SigmaTransformedLindblad:
    """𝓛̂ and 𝓛̂† of a group of Lindblad jumps (and an optional Hamiltonian) in σ's eigenbasis.

    Args:
        jumps: jump operators A_k already rotated into σ's eigenbasis (V† A V).
        rates: their rates γ_k; log_p: σ's log-populations; s: inner-product parameter.
        hamiltonian: the part's Hamiltonian in σ's eigenbasis, or None.

    Attributes:
        pairs: (log w_k, L_k, R_k) of the jumps with γ_k > 0, L_k and R_k of largest entry 1 and
            w_k = γ_k e^{c_L + c_R} (module docstring); h_left, h_right: (unit, c) of Ĥ_L, Ĥ_R;
        heff: H_eff (unscaled); rotated: (γ_k, A_k) unscaled; K: (unit, c) of the coherent part
        extracted from the antisymmetric part (traceless); pure_commutator: the part is −i[H, ·] with
        [H, σ] = 0 (then Ĥ_L = Ĥ_R = H); log_scale: the largest log-coefficient of the part.
    """

    def __init__(self, jumps, rates, log_p, s, hamiltonian=None):
        d = log_p.shape[0]
        self.dim = d
        G = np.zeros((d, d), complex)
        self.pairs = []
        self.rotated = []
        for A, g in zip(jumps, rates):
            if g:
                G += g * (A.conj().T @ A)
                self.rotated.append((g, A))
                Lk, cl = scaled_operator(A, log_p, -s / 2)
                Rk, cr = scaled_operator(A.conj().T, log_p, (1 - s) / 2)
                if np.isfinite(cl) and np.isfinite(cr):
                    self.pairs.append((math.log(g) + cl + cr, Lk, Rk))
        H = np.zeros((d, d), complex) if hamiltonian is None else (hamiltonian + hamiltonian.conj().T) / 2
        self.heff = H - 0.5j * G
        self.h_left = scaled_operator(self.heff, log_p, -s / 2)
        self.h_right = scaled_operator(self.heff.conj().T, log_p, (1 - s) / 2)
        self.K = self._coherent_part(d)
        # −i[H, ·] with H commuting with σ: then 𝓓̂ = 0 and 𝓛̂ − 𝓛̂† = −2i[H, ·] exactly
        self.pure_commutator = not self.pairs and np.array_equal(pinch(self.heff, log_p), self.heff)
        logs = [w for w, _, _ in self.pairs] + [self.h_left[1], self.h_right[1], self.K[1]]
        self.log_scale = max(logs)

    def _coherent_part(self, d):
        """K from the partial trace of the antisymmetric part (closed form, module docstring).

        With S = Ĥ_L + Ĥ_L† and J = Σ_k γ_k Tr(R_k) L_k the map gives
        K = traceless part of ½[S + (i/d)(J − J†)] (Hermitian by construction)."""
        hl, c = self.h_left
        terms = [(0.5, c, hl + hl.conj().T)]
        for w, Lk, Rk in self.pairs:
            tr = np.trace(Rk)
            if tr != 0:
                X = (tr / abs(tr)) * Lk
                terms.append((0.5j / d, w + math.log(abs(tr)), X - X.conj().T))
        K, C = combine_scaled(terms, (d, d))
        K[np.diag_indices(d)] -= np.trace(K) / d
        K = (K + K.conj().T) / 2
        return K, C

    def forward(self, Y, shift: float):
        """𝓛̂(Y)·e^{−shift}."""
        (hl, cl), (hr, cr) = self.h_left, self.h_right
        out = -1j * (_factor(cl, shift) * (hl @ Y) - _factor(cr, shift) * (Y @ hr))
        for w, Lk, Rk in self.pairs:
            out += _factor(w, shift) * (Lk @ Y @ Rk)
        return out

    def backward(self, Y, shift: float):
        """𝓛̂†(Y)·e^{−shift} (adjoint in the Hilbert–Schmidt inner product)."""
        (hl, cl), (hr, cr) = self.h_left, self.h_right
        out = 1j * (_factor(cl, shift) * (hl.conj().T @ Y) - _factor(cr, shift) * (Y @ hr.conj().T))
        for w, Lk, Rk in self.pairs:
            out += _factor(w, shift) * (Lk.conj().T @ Y @ Rk.conj().T)
        return out

    def K_at(self, shift: float) -> np.ndarray:
        """K·e^{−shift}."""
        return self.K[0] * _factor(self.K[1], shift)

    def apply_to_diagonal(self, p: np.ndarray) -> np.ndarray:
        """The (unscaled) generator applied to diag(p): Σγ A diag(p) A† − i(H_eff diag(p) − diag(p) H_eff†)."""
        out = -1j * (self.heff * p[None, :] - p[:, None] * self.heff.conj().T)
        for g, A in self.rotated:
            out += g * ((A * p[None, :]) @ A.conj().T)
        return out

    def scale(self, shift: float) -> float:
        """A norm scale of the part·e^{−shift} (Frobenius norms of its operators), for round-off cuts."""
        hl, cl = self.h_left
        scale = _factor(cl, shift) * float(np.linalg.norm(hl))
        for w, Lk, Rk in self.pairs:
            scale += _factor(w, shift) * float(np.linalg.norm(Lk)) * float(np.linalg.norm(Rk))
        return scale


def _factor(c: float, shift: float) -> float:
    """e^{c − shift}, 0 for a zero operator (c = −inf); underflow below e^{−745} relative is harmless."""
    return math.exp(c - shift) if np.isfinite(c) and c - shift > -745.0 else 0.0
