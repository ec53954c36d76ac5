"""Time reversal Θ = U K and σ-duals of generators.

K is complex conjugation **in the computational basis of the input arrays**: Θψ = U ψ̄,
Θ⁻¹φ = Uᵀ φ̄, Θ² = U Ū = ±1 (+1 spinless, −1 half-integer spin). On operators
𝚯(X) = Θ X Θ⁻¹ = U X̄ U† (antilinear; preserves products, adjoints and spectra); conjugating a
superoperator gives the complex-linear map 𝚯∘𝓛∘𝚯⁻¹ with column-stacked matrix
(Ū ⊗ U) L̄ (Uᵀ ⊗ U†).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._checks import as_operator
from ..errors import InputError
from ..generators.base import DenseGenerator, Generator, as_generator
from .reference import inner_parameter, reference_state
from .sigma_transform import eigenframe, sigma_transformed_absolute

__all__ = ["TimeReversal", "kms_dual", "gns_dual", "sigma_dual"]


@dataclass(frozen=True, eq=False)
class TimeReversal:
    """Antiunitary time reversal Θ = U K.

    Args:
        U: (d, d) unitary with U Ū = ±I (validated).

    Attributes:
        U: the unitary part.
        square: +1 or −1, the value of Θ².

    Example:
        >>> import numpy as np
        >>> TimeReversal(np.array([[0, 1], [-1, 0]])).square   # iσ_y: spin-½, Θ² = −1
        -1
    """

    U: np.ndarray
    square: int = field(init=False)

    def __post_init__(self):
        U = as_operator(self.U, "U", sparse_ok=False)
        d = U.shape[0]
        err = np.linalg.norm(U.conj().T @ U - np.eye(d))
        if err > 1e-10 * np.sqrt(d):
            raise InputError(f"`U` must be unitary (‖U†U − I‖_F = {err:.2e})")
        UU = U @ U.conj()
        if np.linalg.norm(UU - np.eye(d)) <= 1e-10 * np.sqrt(d):
            square = 1
        elif np.linalg.norm(UU + np.eye(d)) <= 1e-10 * np.sqrt(d):
            square = -1
        else:
            raise InputError("`U` must satisfy U Ū = ±I so that Θ = U K squares to ±1 "
                             f"(‖UŪ − I‖ = {np.linalg.norm(UU - np.eye(d)):.2e})")
        object.__setattr__(self, "U", U)
        object.__setattr__(self, "square", square)

    @property
    def dim(self) -> int:
        return self.U.shape[0]

    def apply(self, X) -> np.ndarray:
        """𝚯(X) = Θ X Θ⁻¹ = U X̄ U†."""
        X = as_operator(X, "X", dim=self.dim, sparse_ok=False)
        return self.U @ X.conj() @ self.U.conj().T

    def in_basis(self, V: np.ndarray) -> "TimeReversal":
        """The same Θ written in the orthonormal basis given by the columns of V: U' = V† U V̄."""
        return TimeReversal(V.conj().T @ self.U @ V.conj())

    def superoperator(self, M: np.ndarray) -> np.ndarray:
        """Matrix of 𝚯∘𝓛∘𝚯⁻¹ from the column-stacked matrix M of 𝓛: (Ū⊗U) M̄ (Uᵀ⊗U†)."""
        U = self.U
        left = np.kron(U.conj(), U)
        right = np.kron(U.T, U.conj().T)
        return left @ M.conj() @ right

    def conjugate(self, L) -> Generator:
        """𝚯∘𝓛∘𝚯⁻¹ as a (dense) Generator; its Hamiltonian is 𝚯(H)."""
        gen = as_generator(L)
        H = gen.hamiltonian
        H = None if H is None else self.apply(H.toarray() if hasattr(H, "toarray") else H)
        return DenseGenerator(self.superoperator(gen.to_dense()), hamiltonian=H, name=f"Θ∘{gen.name}∘Θ⁻¹")


def sigma_dual(L, sigma, s: float) -> Generator:
    """The s-dual 𝓛̃_s = Γ_s ∘ 𝓛† ∘ Γ_s⁻¹, Γ_s(X) = σ^s X σ^{1−s}, as a dense Generator.

    In σ's eigenbasis entry (ij),(kl) is conj(𝓛_{(kl),(ij)})·e^{w_ij − w_kl}, w_ij = s log p_i +
    (1 − s) log p_j: the σ-transform of :mod:`.sigma_transform` with log-populations doubled, then
    the adjoint (log domain, one exponent per entry). The dual is an absolute quantity:
    InputError when an entry exceeds the floating-point range (𝓛 is then far from detailed balance).
    σ must be faithful.
    """
    gen = as_generator(L)
    s, label = inner_parameter(s)
    ref = reference_state(gen, state=sigma, inner_label=label)
    # 𝓛̃ = Γ_s 𝓛† Γ_s⁻¹ = (Γ_s⁻¹ 𝓛 Γ_s)†: the σ-transform with the full (not half) scaling, i.e. with
    # log-populations doubled, then the adjoint
    M = eigenframe(gen, ref.vectors, ref.vector_error)
    dual = sigma_transformed_absolute(M, 2 * ref.log_p, s, f"the {label}-dual").conj().T
    V = ref.vectors
    T = np.kron(V.conj(), V)  # eigenframe → original basis
    return DenseGenerator(T @ dual @ T.conj().T, hamiltonian=gen.hamiltonian, name=f"{label}-dual of {gen.name}")


def kms_dual(L, sigma) -> Generator:
    """KMS dual σ^{1/2} 𝓛†(σ^{−1/2} · σ^{−1/2}) σ^{1/2}."""
    return sigma_dual(L, sigma, 0.5)


def gns_dual(L, sigma) -> Generator:
    """GNS dual σ 𝓛†(σ^{−1} ·)."""
    return sigma_dual(L, sigma, 1.0)
