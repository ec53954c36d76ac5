"""GKSL (Lindblad) generators from a Hamiltonian, jump operators and rates.

    𝓛(ρ) = −i[H, ρ] + Σ_k γ_k (A_k ρ A_k† − ½{A_k†A_k, ρ}),   H = H†,  γ_k ≥ 0.

Column-stacked matrix:
    L = −i(I ⊗ H − Hᵀ ⊗ I) + Σ_k γ_k [Ā_k ⊗ A_k − ½ I ⊗ (A_k†A_k) − ½ (A_k†A_k)ᵀ ⊗ I],
identical to QuTiP's ``liouvillian(H, [sqrt(γ_k) A_k])``. ``apply`` costs O(K d³) with dense
jumps (O(K nnz·d) with sparse ones) and O(d²) memory; no d²×d² matrix is formed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
import scipy.sparse as sp

from .. import config
from .._checks import as_beta, as_nonnegative, as_operator
from ..conserved import check_commutes, sector_labels, sector_partition
from ..eigenbasis import eigenbasis
from ..errors import InputError
from .base import Generator, StoredGenerator, SumGenerator, dagger as _dagger, is_zero_operator as _is_zero

__all__ = ["Lindbladian", "lindblad_terms"]


def _dense(A):
    return A.toarray() if sp.issparse(A) else A


class Lindbladian(StoredGenerator):
    """GKSL generator 𝓛(ρ) = −i[H, ρ] + Σ_k γ_k (A_k ρ A_k† − ½{A_k†A_k, ρ}).

    Args:
        H: (d, d) Hermitian Hamiltonian (ndarray, sparse or Qobj).
        jumps: sequence of (d, d) jump operators A_k (ndarray, sparse or Qobj).
        rates: non-negative rates γ_k (default 1 for every jump).
        names: optional channel name per jump (default "jump0", "jump1", ...).
        name: name of the whole generator.
        beta: inverse temperature when the generator is a thermal channel (used by
            thermodynamics), else None.
        conserved: a conserved quantity of H, diagonal in the computational basis (operator or
            its d labels); [H, Q] = 0 is checked, and :attr:`eigenbasis` (used by detailed-balance
            references and reports) is then computed sector by sector.

    Raises:
        InputError: non-Hermitian H, jumps of the wrong dimension, negative or non-finite rates, a
            ``conserved`` that is not diagonal or does not commute with H.

    Example:
        >>> import numpy as np
        >>> sm = np.array([[0, 1], [0, 0]])          # |0⟩⟨1|: decay 1 → 0
        >>> L = Lindbladian(np.diag([0.0, 1.0]), [sm], [0.5])
        >>> L.apply(np.diag([0.0, 1.0])).real.round(3).tolist()
        [[0.5, 0.0], [0.0, -0.5]]
    """

    def __init__(self, H: ArrayLike, jumps: Sequence[ArrayLike] = (), rates: ArrayLike | None = None,
                 names: Sequence[str] | None = None, name: str = "lindbladian", beta: float | None = None,
                 conserved=None):
        self._H = as_operator(H, "H", hermitian=True)
        d = self._H.shape[0]
        self._labels, self._eb = None, None
        if conserved is not None:
            q = sector_labels(conserved, d)
            check_commutes(self._H, sector_partition(q)[0], q)
            self._labels = q
        if isinstance(jumps, np.ndarray) and jumps.ndim == 2 or sp.issparse(jumps) or hasattr(jumps, "full"):
            raise InputError("`jumps` must be a sequence of operators, got a single operator (wrap it in a list)")
        if jumps is None or isinstance(jumps, (str, bytes)) or not hasattr(jumps, "__iter__"):
            raise InputError(f"`jumps` must be a sequence of operators ([] for none), got {jumps!r}")
        self._jumps = tuple(as_operator(A, f"jumps[{k}]", dim=d) for k, A in enumerate(jumps))
        K = len(self._jumps)
        self._rates = np.ones(K) if rates is None else as_nonnegative(rates, "rates", length=K)
        if names is None:
            names = [f"jump{k}" for k in range(K)]
        names = [str(n) for n in names]
        if len(names) != K:
            raise InputError(f"`names` must have one entry per jump ({K}), got {len(names)}")
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise InputError(f"`names` must be distinct (each jump is its own channel, with its own heat "
                             f"current), got {', '.join(map(repr, dup))} more than once")
        self._names = tuple(names)
        self.name = str(name)
        self._beta = None if beta is None else as_beta(beta, "beta")
        self._d = d
        G = sp.csr_array((d, d), dtype=np.complex128) if all(sp.issparse(A) for A in self._jumps) else np.zeros((d, d), complex)
        for g, A in zip(self._rates, self._jumps):
            G = G + g * (_dagger(A) @ A)
        self._G = G
        H_ = self._H if sp.issparse(G) or not sp.issparse(self._H) else self._H.toarray()
        self._Heff = H_ - 0.5j * G  # non-Hermitian effective Hamiltonian
        if sp.issparse(self._Heff):
            self._Heff = sp.csr_array(self._Heff)

    # -- structure -------------------------------------------------------------------------
    @property
    def eigenbasis(self):
        """The eigenbasis of H computed sector by sector when a ``conserved`` quantity was given
        (cached), else None (callers then diagonalise H themselves)."""
        if getattr(self, "_labels", None) is not None and self._eb is None:
            self._eb = eigenbasis(self._H, conserved=self._labels)
        return getattr(self, "_eb", None)

    @property
    def jumps(self) -> tuple:
        return self._jumps

    @property
    def rates(self) -> np.ndarray:
        return self._rates.copy()

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    @property
    def channels(self) -> tuple[Lindbladian, ...]:
        """One dissipative channel per jump (no Hamiltonian part), named after the jump."""
        zero = sp.csr_array((self._d, self._d), dtype=np.complex128)
        return tuple(
            Lindbladian(zero, [A], [g], names=[n], name=n, beta=self._beta)
            for A, g, n in zip(self._jumps, self._rates, self._names)
        )

    # -- action ----------------------------------------------------------------------------
    def _apply(self, rho):
        Heff = self._Heff
        out = -1j * (Heff @ rho) + 1j * (rho @ _dagger(Heff))
        for g, A in zip(self._rates, self._jumps):
            if g:
                out = out + g * (A @ rho @ _dagger(A))
        return np.asarray(out)

    def _adjoint(self, X):
        Heff = self._Heff
        out = 1j * (_dagger(Heff) @ X) - 1j * (X @ Heff)
        for g, A in zip(self._rates, self._jumps):
            if g:
                out = out + g * (_dagger(A) @ X @ A)
        return np.asarray(out)

    # -- matrices --------------------------------------------------------------------------
    def to_sparse(self) -> sp.csr_array:
        """Column-stacked d²×d² matrix as a sparse array (the formula of the class docstring)."""
        d = self._d
        eye = sp.identity(d, dtype=np.complex128, format="csr")
        Heff = sp.csr_array(self._Heff)
        jumps = [(g, sp.csr_array(A)) for g, A in zip(self._rates, self._jumps) if g]
        nnz = 2 * d * Heff.nnz + sum(A.nnz ** 2 for _, A in jumps)
        config.check_memory(2 * 28 * nnz, f"sparse Lindbladian superoperator (d = {d}, ~{nnz:.2e} nonzeros)",
                            "apply()/adjoint() (matrix-free methods)")
        L = -1j * sp.kron(eye, Heff, format="csr") + 1j * sp.kron(Heff.conj(), eye, format="csr")
        for g, As in jumps:
            L = L + g * sp.kron(As.conj(), As, format="csr")
        return sp.csr_array(L)

    def to_dense(self) -> np.ndarray:
        """Column-stacked d²×d² matrix (equals QuTiP's ``liouvillian``), memory-budget guarded."""
        d = self._d
        config.check_memory(config.superoperator_bytes(d), f"dense Lindbladian superoperator (d = {d})",
                            "apply()/adjoint() or method='probe'")
        eye = np.eye(d)
        Heff = _dense(self._Heff)
        L = -1j * np.kron(eye, Heff) + 1j * np.kron(Heff.conj(), eye)
        for g, A in zip(self._rates, self._jumps):
            if g:
                Ad = _dense(A)
                L += g * np.kron(Ad.conj(), Ad)
        return L

    def __add__(self, other):
        """Lindbladian + Lindbladian stays one Lindbladian (jumps concatenate) when neither is a
        thermal channel (``beta`` unset) and at most one carries a nonzero Hamiltonian: then the
        merged H is the common system Hamiltonian of the sum rule (:mod:`.base`). Otherwise the
        sum is a SumGenerator (its action is the sum of the actions in every case)."""
        if (isinstance(other, Lindbladian) and other.dim == self.dim
                and self._beta is None and other._beta is None
                and (_is_zero(self._H) or _is_zero(other._H))):
            names = list(self._names)
            for n in other._names:
                names.append(n if n not in names else f"{n}'")
            return Lindbladian(self._H + other._H, self._jumps + other._jumps,
                               np.concatenate([self._rates, other._rates]), names=names,
                               name=f"{self.name} + {other.name}")
        return super().__add__(other)


def lindblad_terms(L: Generator) -> list[Lindbladian] | None:
    """Flatten a Lindbladian or a (nested) sum of Lindbladians into its Lindbladian terms; None if
    some term is not a Lindbladian (then only ``apply``/``adjoint`` are known).

    Returns:
        list of Lindbladians (each with (d, d) H and jumps), or None.
    """
    if isinstance(L, Lindbladian):
        return [L]
    if isinstance(L, SumGenerator):
        parts = [lindblad_terms(t) for t in L.terms]
        return None if any(p is None for p in parts) else [x for p in parts for x in p]
    return None
