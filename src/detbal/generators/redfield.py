"""Bloch–Redfield generators in the detbal rate convention, and a complete-positivity test.

Operator form, with the same baths and rates as :func:`~detbal.davies`:

    𝓡(ρ) = −i[H, ρ] + Σ_b ([Λ_b ρ, S_b] + [S_b, ρ Λ_b†]),
    ⟨i|Λ_b|j⟩ = Γ_b(E_j − E_i) ⟨i|S_b|j⟩,   Γ_b(ω) = γ_b(ω)/2 (+ i S_b(ω) with ``lamb_shift``).

In the eigenbasis this is the tensor R_abcd of QuTiP's ``bloch_redfield_tensor`` with its
spectrum replaced by γ. The **secular cut** keeps the element ((a,b),(c,d)) only if
|ν_ab − ν_cd| ≤ ``secular_cutoff`` + tol (ν_ab = E_a − E_b from level means, tol the Bohr grouping
tolerance, so that exactly equal frequencies survive round-off); ``secular_cutoff=0`` gives the
Davies generator exactly, ``None`` the full non-secular tensor. A non-secular Redfield generator
is trace and Hermiticity preserving but may violate complete positivity: the smallest eigenvalue
of the projected Choi matrix is recorded on the result (``min_choi_eigenvalue``), never hidden.
"""

from __future__ import annotations

import math

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from .. import config
from ..baths.bath import Bath
from ..eigenbasis import Eigenbasis
from ..errors import InputError
from .davies import sectors as _bohr
from .couplings import assign_names, eigenbasis_of, parse_couplings
from .base import DenseGenerator, Generator, as_generator, dagger as _dag

__all__ = ["RedfieldGenerator", "complete_positivity", "redfield"]

#: min eig(P⊥CP⊥) ≥ −CP_RTOL·max(1, max|C|) counts as completely positive (round-off)
CP_RTOL = 1e-12


def complete_positivity(L: Generator | ArrayLike) -> float:
    """Smallest eigenvalue of P⊥ C_𝓛 P⊥, the projected Choi matrix.

    C_𝓛 = Σ_ij |i⟩⟨j| ⊗ 𝓛(|i⟩⟨j|), i.e. C[i·d + a, j·d + b] = L[a + d·b, i + d·j], and
    P⊥ = I − |Ω⟩⟨Ω| with |Ω⟩ = d^{−1/2} Σ_i |i⟩|i⟩. e^{t𝓛} is completely positive for all t ≥ 0
    iff 𝓛 is Hermiticity preserving and this number is ≥ 0 (Lindblad; GKS). The Hermitian part
    of C is used (C is Hermitian for Hermiticity-preserving 𝓛). Since P⊥CP⊥ has the eigenvalue 0
    on |Ω⟩, the value is ≤ 0; a GKSL generator gives 0 up to round-off (≳ −1e-12·max|C|).

    Args:
        L: a Generator (its ``to_dense()``) or a column-stacked d²×d² matrix.
    Returns:
        float ≤ 0 (0 up to round-off for a completely positive semigroup).
    """
    M = L.to_dense() if isinstance(L, Generator) else as_generator(L).to_dense()
    d = math.isqrt(M.shape[0])
    C = M.reshape((d, d, d, d), order="F").transpose(2, 0, 3, 1).reshape(d * d, d * d)
    C = (C + C.conj().T) / 2
    omega = np.zeros(d * d)
    omega[np.arange(d) * (d + 1)] = 1 / math.sqrt(d)
    P = np.eye(d * d) - np.outer(omega, omega)
    return float(np.linalg.eigvalsh(P @ C @ P)[0])


class RedfieldGenerator(DenseGenerator):
    """A Bloch–Redfield generator (a :class:`DenseGenerator`) with its positivity diagnostics.

    Attributes:
        min_choi_eigenvalue: :func:`complete_positivity` of the generator.
        completely_positive: ``min_choi_eigenvalue ≥ −1e-12·max(1, max|C|)``.
        secular_cutoff: the cut used (None: non-secular).
        baths: the baths; ``channels``: one DenseGenerator per bath (no −i[H, ·]).
    """

    def __init__(self, matrix, hamiltonian, channels, baths, secular_cutoff, name="redfield"):
        super().__init__(matrix, hamiltonian=hamiltonian, name=name)
        self._channels = tuple(channels)
        self.baths = tuple(baths)
        betas = {b.beta for b in self.baths}
        self._beta = betas.pop() if len(betas) == 1 else None
        self.secular_cutoff = secular_cutoff
        self.min_choi_eigenvalue = complete_positivity(self._matrix)
        scale = max(1.0, float(np.max(np.abs(self._matrix))))
        self.completely_positive = bool(self.min_choi_eigenvalue >= -CP_RTOL * scale)

    @property
    def channels(self):
        return self._channels

    def __repr__(self) -> str:
        return (f"RedfieldGenerator(dim={self.dim}, baths={[c.name for c in self._channels]}, "
                f"secular_cutoff={self.secular_cutoff}, min_choi_eigenvalue={self.min_choi_eigenvalue:.3g})")


def _bath_term(St: np.ndarray, Lam: np.ndarray) -> np.ndarray:
    """Column-stacked matrix of ρ ↦ [Λρ, S] + [S, ρΛ†] (eigenbasis)."""
    d = St.shape[0]
    eye = np.eye(d)
    return (np.kron(St.T, Lam) - np.kron(eye, St @ Lam)
            + np.kron(Lam.conj(), St) - np.kron((_dag(Lam) @ St).T, eye))


def redfield(H: ArrayLike | Eigenbasis, couplings: Sequence[tuple[ArrayLike, Bath]],
             secular_cutoff: float | None = None, lamb_shift: bool = False, conserved=None) -> RedfieldGenerator:
    """Bloch–Redfield generator of H coupled to baths through Hermitian operators (module docstring).

    Args:
        H: (d, d) Hermitian Hamiltonian or an :class:`~detbal.eigenbasis.Eigenbasis`.
        couplings: non-empty list of ``(S, bath)`` pairs, as in :func:`~detbal.davies`.
        secular_cutoff: keep |ν_ab − ν_cd| ≤ cutoff (+ grouping tolerance); 0 → Davies; None → no cut.
            An absolute frequency: QuTiP's ``sec_cutoff=c`` (a multiple of the smallest nonzero
            Bohr frequency, kept when |Δν| < c·min|ν|) is ``secular_cutoff = c * min|ν|`` here, and
            QuTiP's ``-1`` is None.
        lamb_shift: include the principal-value part, Γ(ω) = γ(ω)/2 + i S(ω).
        conserved: a conserved quantity of H diagonal in the computational basis (operator or
            labels): H is diagonalised sector by sector (:func:`~detbal.eigenbasis.eigenbasis`).

    Returns:
        RedfieldGenerator (dense d²×d², memory-budget guarded) with ``min_choi_eigenvalue``.

    Example:
        >>> import numpy as np
        >>> from detbal.baths import Bath
        >>> X = np.array([[0, 1], [1, 0]])
        >>> R = redfield(np.diag([0.0, 1.0]), [(X, Bath.ohmic(0.1, 5.0, beta=1.0))], secular_cutoff=0.0)
        >>> R.completely_positive
        True
    """
    eb, h = eigenbasis_of(H, None, conserved)
    d = eb.dim
    if secular_cutoff is not None:
        c = float(secular_cutoff)
        if not (c >= 0 and not math.isnan(c)):
            raise InputError(f"`secular_cutoff` must be a number ≥ 0 or None, got {secular_cutoff!r}")
        secular_cutoff = c
    if not isinstance(lamb_shift, (bool, np.bool_)):
        raise InputError(f"`lamb_shift` must be True or False, got {lamb_shift!r}")
    parsed = parse_couplings(couplings, d)
    names = assign_names([(bath.name, None) for _, bath in parsed])
    config.check_memory(4 * config.superoperator_bytes(d), f"dense Redfield tensor (d = {d})",
                        "davies(...) (the secular limit, stored in Bohr-sector blocks)")
    sec = _bohr.sectors(eb, eb.tol)
    V = eb.vectors
    keep = None
    if secular_cutoff is not None:
        e = sec.level_energies
        nu = (e[:, None] - e[None, :]).reshape(-1, order="F")      # ν_ab at index a + d·b
        keep = np.abs(nu[:, None] - nu[None, :]) <= secular_cutoff + eb.tol
    terms = []
    for (S, bath), name in zip(parsed, names):
        St = _dag(V) @ np.asarray(S @ V)
        St = (St + _dag(St)) / 2
        emit = _bohr.emission_rates(bath, sec)
        g0 = _bohr.zero_rate(bath, St, sec, name)
        Gam = 0.5 * _bohr.rate_matrix(sec, emit, bath.beta, g0)
        if lamb_shift:
            Gam = Gam + 1j * _bohr.lamb_matrix(bath, sec)
        T = _bath_term(St, Gam * St)
        if keep is not None:
            T = np.where(keep, T, 0.0)
        terms.append((name, bath, T))
    E = eb.energies
    total = np.diag(-1j * np.subtract.outer(E, E).reshape(-1, order="F")) + sum(T for _, _, T in terms)
    R = _bohr.rotate_superoperator(total, V)
    hamiltonian = eb.operator() if h is None else h
    channels = [DenseGenerator(_bohr.rotate_superoperator(T, V), hamiltonian=hamiltonian, name=n, beta=b.beta)
                for n, b, T in terms]
    return RedfieldGenerator(R, hamiltonian, channels, [b for _, b, _ in terms], secular_cutoff)
