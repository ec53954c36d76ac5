"""The reference state σ of a detailed-balance test, known exactly in the log domain.

σ = V diag(p) V† is stored as its eigenvectors V and log-populations log p (finite: σ must be
faithful for the inner products ⟨A, B⟩_s = Tr[A† σ^s B σ^{1−s}]), so populations e^{−βΔE} with
β·ΔE = 10⁴ never underflow. For σ = Gibbs(β) of the generator's Hamiltonian, V is that Hamiltonian's
eigenbasis (or the generator's own, e.g. a Davies generator's), so σ is exactly diagonal in it.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._checks import as_beta, as_choice, as_state
from ..eigenbasis import eigenbasis, eigenvector_error, is_signed_permutation
from ..errors import InputError, NotFaithfulError
from ..generators.base import Generator
from ..states import log_gibbs_populations

__all__ = ["ReferenceState", "inner_parameter", "reference_state"]


class ReferenceState:
    """σ = V diag(p) V† with log p known exactly (no underflow): the reference of a DB test.

    Attributes:
        vectors: (d, d) eigenvectors V of σ (for a σ diagonal in an :class:`~detbal.eigenbasis.Eigenbasis`
            computed sector by sector, assembled from ``basis`` on first access only).
        log_p: (d,) log-populations (finite: σ is faithful).
        label: description used in reports, e.g. "gibbs(beta=1)".
        energies: (d,) eigenvalues of the Hamiltonian when σ is its Gibbs state (that Hamiltonian
            is then diag(energies) in σ's eigenbasis), else None.
        basis: the Eigenbasis whose vectors are V (σ diagonal in a generator's own eigenbasis), or None.
        vector_error: ω, the bound on the harmful error of the computed eigenvectors V
            (:func:`~detbal.eigenbasis.eigenvector_error`; 0 when V is exact). Every operator rotated
            into this basis is cleaned with it (:func:`~detbal.eigenbasis.rotate_cleaned`).
    """

    __slots__ = ("_vectors", "basis", "energies", "label", "log_p", "vector_error")

    def __init__(self, vectors, log_p, label: str, energies=None, basis=None, vector_error: float = 0.0):
        if vectors is None and basis is None:
            raise InputError("a ReferenceState needs `vectors` or `basis`")
        self._vectors, self.log_p, self.label, self.energies, self.basis = vectors, log_p, label, energies, basis
        self.vector_error = float(vector_error)

    @property
    def vectors(self) -> np.ndarray:
        if self._vectors is None:
            self._vectors = self.basis.vectors
        return self._vectors

    def relabelled(self, label: str) -> ReferenceState:
        return ReferenceState(self._vectors, self.log_p, label, self.energies, self.basis, self.vector_error)

    @property
    def populations(self) -> np.ndarray:
        return np.exp(self.log_p)

    def matrix(self) -> np.ndarray:
        V = self.vectors
        return (V * self.populations) @ V.conj().T


def inner_parameter(inner) -> tuple[float, str]:
    """Map ``inner`` ("kms" | "gns" | s ∈ [0, 1]) to (s, label)."""
    if isinstance(inner, str):
        key = as_choice(inner.lower(), "inner", ("kms", "gns"))
        return (0.5, "kms") if key == "kms" else (1.0, "gns")
    if isinstance(inner, bool) or not isinstance(inner, numbers.Real) or not 0 <= float(inner) <= 1:
        raise InputError(f"`inner` must be 'kms', 'gns' or a number s in [0, 1], got {inner!r}")
    s = float(inner)
    return s, {0.5: "kms", 1.0: "gns"}.get(s, f"s={s:g}")


def reference_state(L: Generator, beta=None, state=None, inner_label: str = "kms", populations=None) -> ReferenceState:
    """Resolve the reference state of a DB test from ``beta`` (Gibbs of ``L.hamiltonian``),
    ``state`` (a density matrix) or ``populations`` (σ = Σ_i p_i|i⟩⟨i| in the generator's own
    eigenbasis: no d×d matrix is formed). Raises NotFaithfulError when σ is not full rank."""
    if sum(x is not None for x in (beta, state, populations)) != 1:
        raise InputError("give exactly one of `beta` (Gibbs state of the generator's Hamiltonian), `state` or "
                         "`populations`")
    need = (f"the {inner_label.upper()} inner product ⟨A,B⟩_s = Tr[A† σ^s B σ^(1−s)] and the σ-dual "
            "of the generator need σ⁻¹, so σ must be full rank")
    if populations is not None:
        eb = L.eigenbasis
        if eb is None:
            raise InputError("`populations` needs a generator with its own eigenbasis (Davies, Gibbs samplers); "
                             "pass `state=` instead")
        p = np.asarray(populations, dtype=float)
        if p.shape != (L.dim,) or not np.all(np.isfinite(p)) or np.any(p < 0) or not p.sum() > 0:
            raise InputError(f"`populations` must be {L.dim} finite numbers ≥ 0 with a positive sum, got shape {p.shape}")
        if p.min() <= 0:   # given exactly (no rotation round-off): any positive population is faithful
            raise NotFaithfulError(f"`populations` has a zero entry; {need}")
        log_p = np.log(p / p.sum())
        return ReferenceState(None, log_p, "state", basis=eb, vector_error=eb.vector_error(log_p))
    if beta is not None:
        b = as_beta(beta)
        # a generator with its own eigenbasis defines σ from it: H itself (perhaps sparse) is not needed
        if L.eigenbasis is None and L.hamiltonian is None:
            raise InputError("`beta` needs the system Hamiltonian, but this generator has none "
                             "(built from a matrix): pass `state=` or as_generator(M, hamiltonian=H)")
        eb = L.eigenbasis if L.eigenbasis is not None else eigenbasis(L.hamiltonian)
        log_p = log_gibbs_populations(eb, b)
        if not np.all(np.isfinite(log_p)):
            raise NotFaithfulError(f"the Gibbs state at beta = {b} is not faithful (zero temperature "
                                   f"projects on the ground space); {need}")
        energies = eb.energies if L.eigenbasis is None else None  # eb is then exactly that of H
        return ReferenceState(None, log_p, f"gibbs(beta={b:g})", energies, basis=eb,
                              vector_error=eb.vector_error(log_p))
    if isinstance(state, str):
        raise InputError(f"`state` must be a density matrix, got {state!r}")
    sigma = as_state(state, "state", dim=L.dim)
    eb = L.eigenbasis
    if eb is not None:  # σ diagonal in the generator's own eigenbasis (e.g. a Davies steady state):
        X = eb.to_eigen(sigma)  # keep that basis, so the structured (Bohr-block) test applies
        p = np.diagonal(X).real
        off = np.abs(X - np.diag(np.diagonal(X))).max()
        if off <= 1e-12 * np.abs(p).max() and p.min() > 1e-14 * p.max():
            return ReferenceState(None, np.log(p), "state", basis=eb, vector_error=eb.vector_error(np.log(p)))
    p, V = np.linalg.eigh(sigma)
    if p[0] <= 1e-14 * p[-1]:
        raise NotFaithfulError(f"`state` is not full rank (smallest eigenvalue {p[0]:.2e}); {need}")
    log_p = np.log(p)
    omega = 0.0 if is_signed_permutation(V) else eigenvector_error(p, log_p)
    return ReferenceState(V, log_p, "state", vector_error=omega)
