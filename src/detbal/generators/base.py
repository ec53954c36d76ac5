"""The Generator protocol, dense/sparse matrix generators and sums of generators.

A generator 𝓛 acts on density matrices (Schrödinger picture, dρ/dt = 𝓛(ρ)); its Heisenberg
dual is :meth:`Generator.adjoint` (⟨A, 𝓛(B)⟩ = ⟨𝓛†(A), B⟩ with ⟨A, B⟩ = Tr A†B). Matrices of
superoperators use column stacking, vec(X)[i + d·j] = X_ij, vec(AXB) = (Bᵀ ⊗ A) vec(X) — QuTiP's
layout.

Every generator exposes ``dim``, ``hamiltonian`` (or None), ``apply``, ``adjoint``, ``to_dense``
(guarded by ``detbal.config.memory_budget``), ``channels`` (named parts whose sum is the
generator, up to its coherent part), ``name`` and ``beta`` (inverse temperature of a thermal
channel, None when unknown).

**Sums of generators** (``L1 + L2``, ``sum([L1, L2, …])``) mean one thing for every pair of types
(Lindbladian, Davies, Redfield, dense, sums): the generator whose action is the sum of the actions,

    (L1 + L2).apply(ρ) = L1.apply(ρ) + L2.apply(ρ),

so a coherent part −i[H, ·] is counted as often as the parts carry it (two Lindbladians that both
carry H evolve with −i[2H, ·]; give the second one a zero Hamiltonian, or add a Davies *channel*,
to couple one system to two baths). ``hamiltonian`` is not the coherent part but the **system
Hamiltonian** that defines Gibbs reference states (``detailed_balance(beta=…)``) and heat currents
J_b = Tr[H 𝓛_b(ρ)] (:mod:`detbal.thermo`, which uses the per-bath dissipators ``channels``, never
the coherent parts). For a sum it is resolved by one rule:

* parts with ``hamiltonian`` None or identically zero (pure dissipators, channels) do not vote;
* if every voting part carries the same H (within 1e-10 relative), the sum's ``hamiltonian`` is
  that H — never 2H;
* if voting parts carry different Hamiltonians, the system Hamiltonian is ambiguous and reading
  ``hamiltonian`` raises InputError (pass ``SumGenerator(terms, hamiltonian=H)`` to name it);
* an explicit ``SumGenerator(terms, hamiltonian=H)`` always wins.

Where a sum keeps a cheaper exact structure it does so (Lindbladian + zero-Hamiltonian Lindbladian
is one Lindbladian; Davies generators of one eigenbasis merge into one DaviesGenerator that counts
−i[H, ·] as often as its parts), otherwise it is a :class:`SumGenerator`. ``0 + L`` is ``L``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable
from numbers import Number

import numpy as np
from numpy.typing import ArrayLike
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .. import config
from .._checks import as_beta, as_operator, frobenius, optional_module
from ..errors import InputError

__all__ = ["DenseGenerator", "Generator", "StoredGenerator", "SumGenerator", "as_generator", "dagger", "is_zero_operator", "unvec", "vec"]


#: two system Hamiltonians of a sum are the same when ‖H1 − H2‖_F ≤ SAME_HAMILTONIAN_RTOL·max‖H‖_F
SAME_HAMILTONIAN_RTOL = 1e-10


def dagger(A):
    """A† (conjugate transpose) of a dense or sparse matrix, without copying a real dense A.

    Returns:
        the (n, m) adjoint of the (m, n) A, of A's kind (ndarray or sparse).
    """
    if isinstance(A, np.ndarray) and np.isrealobj(A):
        return A.T
    return A.conj().T


def vec(X: ArrayLike) -> np.ndarray:
    """Column-stacking vectorisation: vec(X)[i + d·j] = X[i, j].

    Returns:
        (d²,) ndarray (a view when X is Fortran-contiguous).
    """
    return np.asarray(X).reshape(-1, order="F")


def unvec(v: ArrayLike, d: int) -> np.ndarray:
    """Inverse of :func:`vec`: a length-d² vector to a (d, d) matrix.

    Returns:
        (d, d) ndarray.
    """
    return np.asarray(v).reshape((d, d), order="F")


class Generator(ABC):
    """Abstract generator of a quantum dynamical semigroup (see module docstring)."""

    name: str = "generator"

    @property
    @abstractmethod
    def dim(self) -> int:
        """Hilbert-space dimension d."""

    @property
    def hamiltonian(self):
        """The system Hamiltonian H (d, d), or None when the generator does not know it."""
        return None

    @property
    def hamiltonian_part(self):
        """H_c of the coherent part −i[H_c, ·] (original basis, (d, d)) when known, else None.

        Default: ``hamiltonian``. It differs from the system Hamiltonian for sums (the sum of the
        parts' H_c: 2H for two parts that both carry H), Davies generators (nH + H_LS) and
        channels (their Lamb shift only). Detailed-balance tests split 𝓛 with it; Gibbs states
        and heat currents use ``hamiltonian``.
        """
        return self.hamiltonian

    @property
    def beta(self) -> float | None:
        """Inverse temperature of a thermal channel (Davies bath), None when not thermal."""
        return None

    @property
    def eigenbasis(self):
        """Eigenbasis of the Hamiltonian when the generator stores it, else None."""
        return None

    @property
    def channels(self) -> tuple[Generator, ...]:
        """Named parts of the generator (one per bath or jump); default: itself."""
        return (self,)

    @abstractmethod
    def _apply(self, rho: np.ndarray) -> np.ndarray:
        """𝓛(ρ) for a (d, d) complex ndarray, without validation."""

    @abstractmethod
    def _adjoint(self, X: np.ndarray) -> np.ndarray:
        """𝓛†(X) for a (d, d) complex ndarray, without validation."""

    def _check_matrix(self, X, name: str) -> np.ndarray:
        return as_operator(X, name, dim=self.dim, sparse_ok=False)

    def apply(self, rho) -> np.ndarray:
        """𝓛(ρ): the Schrödinger-picture action on a (d, d) matrix (not necessarily a state)."""
        return self._apply(self._check_matrix(rho, "rho"))

    def adjoint(self, X) -> np.ndarray:
        """𝓛†(X): the Heisenberg-picture action, Tr[X 𝓛(ρ)] = Tr[𝓛†(X) ρ] for Hermitian X."""
        return self._adjoint(self._check_matrix(X, "X"))

    def __call__(self, rho) -> np.ndarray:
        return self.apply(rho)

    def to_dense(self) -> np.ndarray:
        """Column-stacked d²×d² matrix (guarded by the memory budget).

        Default: apply 𝓛 to the d² matrix units |i⟩⟨j|.
        """
        d = self.dim
        config.check_memory(config.superoperator_bytes(d), f"dense superoperator (d = {d})",
                            "a matrix-free method (method='probe' / apply)")
        out = np.empty((d * d, d * d), dtype=np.complex128)
        unit = np.zeros((d, d), dtype=np.complex128)
        for col in range(d * d):
            i, j = col % d, col // d
            unit[i, j] = 1.0
            out[:, col] = vec(self._apply(unit))
            unit[i, j] = 0.0
        return out

    def to_sparse(self) -> sp.csr_array:
        """Column-stacked d²×d² matrix as a sparse array (default: from ``to_dense``)."""
        return sp.csr_array(self.to_dense())

    def to_qobj(self, *, sparse: bool = False):
        """This generator as a QuTiP superoperator: a ``qutip.Qobj`` of type "super".

        The matrix is ``to_dense()`` (or ``to_sparse()`` with ``sparse=True``) unchanged: detbal and
        QuTiP both stack columns, vec(X)[i + d·j] = X_ij, so ``L.to_qobj()`` is what
        ``qutip.liouvillian(H, [√γ_k A_k])`` builds for a Lindbladian, ``qutip.mesolve(L.to_qobj(),
        ρ0, t)`` evolves as :func:`detbal.evolve`, and ``as_generator(L.to_qobj())`` gives back
        the same matrix. QuTiP is imported only when this is called.

        Args:
            sparse: hand QuTiP the sparse matrix (CSR data) instead of the dense one, for large d.

        Returns:
            qutip.Qobj with ``superrep="super"``, shape (d², d²) and dims [[[d], [d]], [[d], [d]]].

        Raises:
            ImportError: QuTiP is not installed.
            MemoryBudgetError: the dense d²×d² matrix exceeds ``detbal.config.memory_budget``.

        Example:
            >>> import numpy as np
            >>> from detbal import Lindbladian
            >>> q = Lindbladian(np.diag([0.0, 1.0]), [np.array([[0, 1], [0, 0]])], [0.5]).to_qobj()
            >>> q.type, q.shape
            ('super', (4, 4))
        """
        qutip = optional_module("qutip", "Generator.to_qobj")
        d = self.dim
        matrix = self.to_sparse() if sparse else self.to_dense()
        return qutip.Qobj(matrix, dims=[[[d], [d]], [[d], [d]]], superrep="super")

    def linear_operator(self) -> spla.LinearOperator:
        """Matrix-free d²×d² LinearOperator on column-stacked vectors (``rmatvec`` = adjoint)."""
        d = self.dim

        def matvec(v):
            return vec(self._apply(unvec(np.asarray(v, dtype=np.complex128).ravel(), d)))

        def rmatvec(v):
            return vec(self._adjoint(unvec(np.asarray(v, dtype=np.complex128).ravel(), d)))

        return spla.LinearOperator((d * d, d * d), matvec=matvec, rmatvec=rmatvec, dtype=np.complex128)

    def norm_estimate(self, *, seed: int = 0) -> float:
        """Unbiased one-probe estimate of the Frobenius norm ‖𝓛‖_F of the d²×d² matrix (matrix-free).

        ‖𝓛(X)‖_F for one X with i.i.d. complex Gaussian entries, E|X_ij|² = 1, so that
        E‖𝓛(X)‖_F² = ‖𝓛‖_F²; reproducible for a given ``seed``. Used to normalise residuals such
        as ‖𝓛(σ)‖_F without forming the matrix.

        Returns:
            float ≥ 0.
        """
        rng = np.random.default_rng(seed)
        d = self.dim
        X = (rng.standard_normal((d, d)) + 1j * rng.standard_normal((d, d))) / np.sqrt(2)
        return frobenius(self._apply(X))

    def __add__(self, other: Generator) -> Generator:
        """The generator whose action is the sum of the actions (module docstring)."""
        if not isinstance(other, Generator):
            return NotImplemented
        return SumGenerator((self, other))

    def __radd__(self, other) -> Generator:
        """``0 + L = L``, so that ``sum([L1, L2])`` works."""
        if isinstance(other, Number) and other == 0:
            return self
        return NotImplemented

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim})"

    # -- optional structure, declared here (absent by default) ---------------------------------------
    #: True when the generator is block diagonal in Bohr-frequency sectors of its ``eigenbasis``
    #: and implements the ``structured_*`` fast paths below (Davies generators). Algorithms
    #: dispatch on this flag, never on ``hasattr``.
    has_sector_structure: bool = False

    def _no_structure(self, what: str):
        return NotImplementedError(f"{type(self).__name__} has no sector structure for {what}; "
                                   "check `has_sector_structure` first")

    def structured_steady_state(self) -> tuple[np.ndarray, int, str]:
        """(state, kernel_dim, method) from the sector structure; see :class:`DaviesGenerator`."""
        raise self._no_structure("steady states")

    def structured_spectrum(self) -> np.ndarray:
        """All d² eigenvalues from the sectors, slowest first."""
        raise self._no_structure("spectra")

    def structured_gap(self) -> float:
        """The Liouvillian spectral gap from the sectors."""
        raise self._no_structure("spectral gaps")

    def structured_evolve(self, rho0, times) -> np.ndarray:
        """(nt, d, d) states e^{t𝓛}ρ₀ from the sectors."""
        raise self._no_structure("evolution")

    def structured_expect(self, rho0, times, ops) -> np.ndarray:
        """(n_ops, nt) expectation values Tr[O e^{t𝓛}ρ₀] from the sectors."""
        raise self._no_structure("expectation values")

    def structured_balance(self, log_p, s: float) -> dict:
        """Squared Frobenius norms of the σ-transformed residuals from the sectors."""
        raise self._no_structure("detailed-balance certificates")

    def structured_dense(self) -> np.ndarray:
        """The column-stacked (d², d²) matrix in the generator's own eigenbasis (index i + d·k for |i⟩⟨k|)."""
        raise self._no_structure("its eigenbasis matrix")

    # -- optional structure: a GKSL form written in the energy eigenbasis (exact Gibbs samplers) ------
    #: True when 𝓛(ρ) = V[Σ_r F_r Y F_r† − J Y − Y J†]V† with Y = V†ρV, V = ``eigenbasis.vectors``, and the
    #: generator implements the three hooks below. Detailed-balance certificates and the Hermitian
    #: spectral-gap path dispatch on this flag, never on ``hasattr``.
    has_eigenbasis_gksl: bool = False

    def _no_eigenbasis_form(self, what: str):
        return NotImplementedError(f"{type(self).__name__} has no eigenbasis GKSL form for {what}; "
                                   "check `has_eigenbasis_gksl` first")

    def eigenbasis_jump_count(self) -> int:
        """Number of transition operators F_r of the eigenbasis GKSL form."""
        raise self._no_eigenbasis_form("counting its jumps")

    def eigenbasis_gksl(self) -> tuple[list, np.ndarray]:
        """([F_r], B): the jumps and the Hamiltonian of the GKSL form in the eigenbasis ((d, d) each)."""
        raise self._no_eigenbasis_form("operator-sum certificates")

    def kms_transformed(self, log_p):
        """Y ↦ Γ^{−1/2}𝓛Γ^{1/2}(Y) (KMS, σ = diag(e^{log_p}) in the eigenbasis) on (d, d) eigenbasis arrays."""
        raise self._no_eigenbasis_form("the σ-transformed generator")

    def kms_parts(self) -> tuple:
        """(name, Generator) parts whose sum is the generator and that are each meant to be
        KMS-self-adjoint on their own (the rows of a detailed-balance blame table)."""
        raise self._no_eigenbasis_form("its detailed-balance parts")

    @property
    def real_form(self) -> bool:
        """True when the eigenbasis GKSL form maps real matrices to real matrices."""
        return False


class StoredGenerator(Generator):
    """A generator whose dimension, system Hamiltonian and inverse temperature are stored at
    construction (``_d``, ``_H``, ``_beta``); the common base of dense and GKSL generators."""

    _d: int
    _H = None
    _beta: float | None = None

    @property
    def dim(self) -> int:
        return self._d

    @property
    def hamiltonian(self):
        return self._H

    @property
    def beta(self) -> float | None:
        return self._beta


class DenseGenerator(StoredGenerator):
    """A generator given by its column-stacked d²×d² matrix (dense ndarray or sparse).

    Args:
        matrix: (d², d²) array, sparse matrix or QuTiP superoperator (``.full()``).
        hamiltonian: optional system Hamiltonian (needed for ``detailed_balance(beta=...)``).
        name: channel name.
        beta: inverse temperature if this is a thermal channel.
    """

    def __init__(self, matrix: ArrayLike, hamiltonian: ArrayLike | None = None, name: str = "generator",
                 beta: float | None = None):
        m = as_operator(matrix, "matrix", sparse_ok=True)
        n = m.shape[0]
        d = math.isqrt(n)
        if d * d != n:
            raise InputError(f"`matrix` must be d²×d² for a d-level system; got {n}×{n}, not a square number")
        self._matrix = m
        self._d = d
        self._H = None if hamiltonian is None else as_operator(hamiltonian, "hamiltonian", dim=d, hermitian=True)
        self.name = str(name)
        self._beta = None if beta is None else as_beta(beta, "beta")

    def _apply(self, rho):
        return unvec(self._matrix @ vec(rho), self._d)

    def _adjoint(self, X):
        return unvec(self._matrix.conj().T @ vec(X), self._d)

    def to_dense(self):
        if sp.issparse(self._matrix):
            config.check_memory(config.superoperator_bytes(self._d), f"dense superoperator (d = {self._d})",
                                "to_sparse() or a matrix-free method")
            return self._matrix.toarray()
        return self._matrix.copy()

    def to_sparse(self):
        return sp.csr_array(self._matrix)


class SumGenerator(Generator):
    """𝓛 = Σ_k 𝓛_k: ``apply`` is the sum of the terms' actions, ``channels`` the union of their
    channels, ``hamiltonian`` the common system Hamiltonian of the terms (module docstring rule).

    Args:
        terms: Generators of one dimension (nested sums are flattened).
        name: name of the sum (default: the terms' names joined by " + ").
        hamiltonian: the system Hamiltonian (d, d), when the terms disagree or carry none.
    """

    def __init__(self, terms: Iterable[Generator], name: str | None = None, hamiltonian: ArrayLike | None = None):
        flat: list[Generator] = []
        for t in terms:
            if not isinstance(t, Generator):
                raise InputError(f"`terms` must be Generators, got {type(t).__name__}")
            flat.extend(t.terms if isinstance(t, SumGenerator) else (t,))
        if not flat:
            raise InputError("`terms` must contain at least one Generator")
        dims = {t.dim for t in flat}
        if len(dims) != 1:
            raise InputError(f"cannot add generators of different dimensions {sorted(dims)}")
        self.terms = tuple(flat)
        self.name = name or " + ".join(t.name for t in flat)
        self._H = (None if hamiltonian is None
                   else as_operator(hamiltonian, "hamiltonian", dim=flat[0].dim, hermitian=True))

    @property
    def dim(self):
        return self.terms[0].dim

    @property
    def hamiltonian(self):
        """The common system Hamiltonian of the terms (never their sum; module docstring).

        Raises:
            InputError: two terms carry different nonzero Hamiltonians and none was given.
        """
        if self._H is not None:
            return self._H
        return common_hamiltonian(self.terms)

    @property
    def hamiltonian_part(self):
        """Σ_k H_c,k over the terms whose coherent part is known (None when none is): the
        Hamiltonian of the sum's coherent part, as the action adds."""
        parts = [t.hamiltonian_part for t in self.terms]
        parts = [h for h in parts if h is not None]
        if not parts:
            return None
        total = parts[0]
        for h in parts[1:]:
            total = total + h
        return total

    @property
    def channels(self):
        return tuple(c for t in self.terms for c in t.channels)

    def _apply(self, rho):
        return sum(t._apply(rho) for t in self.terms)

    def _adjoint(self, X):
        return sum(t._adjoint(X) for t in self.terms)

    def to_dense(self):
        d = self.dim
        config.check_memory(config.superoperator_bytes(d), f"dense superoperator (d = {d})",
                            "a matrix-free method")
        return sum(t.to_dense() for t in self.terms)

    def to_sparse(self):
        out = self.terms[0].to_sparse()
        for t in self.terms[1:]:
            out = out + t.to_sparse()
        return sp.csr_array(out)


def is_zero_operator(H) -> bool:
    """True when every entry of the (dense or sparse) operator H is exactly 0.

    Returns:
        bool.
    """
    return not np.any(H.data if sp.issparse(H) else H)


def _fro(A) -> float:
    return float(spla.norm(A) if sp.issparse(A) else np.linalg.norm(np.asarray(A)))


def common_hamiltonian(terms) -> np.ndarray | None:
    """The system Hamiltonian shared by ``terms`` (None/zero Hamiltonians do not vote), or None.

    Returns:
        the (d, d) Hamiltonian of the first voting term, or None when no term votes.

    Raises:
        InputError: two terms carry different nonzero Hamiltonians.
    """
    voting = []
    for t in terms:
        H = t.hamiltonian
        if H is not None and not is_zero_operator(H):
            voting.append((t.name, H))
    if not voting:
        return None
    name0, H0 = voting[0]
    for name, H in voting[1:]:
        if H is H0:
            continue
        scale = max(_fro(H0), _fro(H))
        if _fro(H - H0) > SAME_HAMILTONIAN_RTOL * scale:
            raise InputError(
                f"the parts {name0!r} and {name!r} of this sum carry different system Hamiltonians "
                f"(‖H1 − H2‖_F = {_fro(H - H0):.3e}), so the Hamiltonian defining Gibbs states and heat "
                "currents is ambiguous (the dynamics adds both coherent parts). Name it: "
                "SumGenerator(terms, hamiltonian=H), or pass hamiltonian=/state= to the function")
    return H0


def as_generator(L: Generator | ArrayLike, hamiltonian: ArrayLike | None = None,
                 name: str = "generator") -> Generator:
    """Return ``L`` if it is a Generator, else wrap a d²×d² matrix / sparse / QuTiP superoperator.

    A matrix-only generator has ``hamiltonian=None`` unless one is passed: detailed balance
    w.r.t. a Gibbs state then needs ``state=`` or this ``hamiltonian`` (never the GKSL
    normal-form Hamiltonian, which for exact Gibbs samplers contains terms that do not commute with σ).

    Returns:
        Generator of dimension d (``L`` itself, or a DenseGenerator around the d²×d² matrix).
    """
    if isinstance(L, Generator):
        return L
    if hasattr(L, "superrep") and getattr(L, "superrep", None) not in (None, "super"):
        raise InputError(f"`L`: QuTiP superoperator must be in 'super' representation, got {L.superrep!r}")
    return DenseGenerator(L, hamiltonian=hamiltonian, name=name)
