"""Davies (weak-coupling, secular) generators in Bohr-sector block form.

    𝓛(ρ) = −i[H + H_LS, ρ] + Σ_b Σ_ω γ_b(ω) (A_b(ω) ρ A_b(ω)† − ½{A_b(ω)†A_b(ω), ρ}),
    ⟨i|A_b(ω)|j⟩ = ⟨i|S_b|j⟩ if E_j − E_i = ω (A lowers the energy by ω),
    H_LS = Σ_b Σ_ω S_b(ω) A_b(ω)†A_b(ω)   (only with ``lamb_shift=True``).

Everything happens in the energy eigenbasis: S̃_b = V†S_bV once per coupling, bath rates once
per pair of distinct levels (vectorised), and the generator is stored sector by sector
(:class:`~detbal.generators._bohr.BohrBlocks`): the ν = 0 sector (the d×d Pauli rate matrix for a
non-degenerate spectrum), one eigenvalue λ_ik per 1-element sector, and stacked dense blocks for
shared sectors. No d²×d² matrix is formed except by :meth:`DaviesGenerator.to_dense`.

**Grouping.** Energies and Bohr frequencies closer than ``bohr_tol`` are equal (default: the
eigenbasis tolerance max(1e-12·(E_max − E_min), 1e3·ε·max|E|), relative to the spectral width). The
tolerance only decides which coherences share a sector; each jump keeps the rate of its own level
gap, and two jumps j → i and l → k of one group are coupled with the geometric mean
√(γ(E_j − E_i) γ(E_l − E_k)). For exactly equal frequencies this is the textbook Davies generator;
for near-coincidences (unavoidable among the d² Bohr frequencies of a large random spectrum) it
keeps the generator completely positive, Hermiticity preserving, exactly KMS-detailed-balanced and
the Gibbs state exactly stationary (GNS holds up to β·tol).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from ... import config
from ..._checks import as_operator, hermiticity_error, is_hermitian
from ...baths.bath import Bath
from ...classical.rate_matrix import RateMatrix
from ...eigenbasis import Eigenbasis, log_scaled
from ...errors import InputError, MemoryBudgetError, NotFaithfulError
from ...states import log_gibbs_populations
from ..base import Generator
from ..base import dagger as _dag
from ..couplings import assign_names, eigenbasis_of, parse_couplings, real_if_possible
from . import sector_balance
from . import sector_evolution as evo
from . import sector_kernel as kern
from . import sector_linalg as lin
from . import sectors as _bohr
from . import sparse_pauli as _pauli
from .blockwise import BlockwiseForm, CouplingData, held_bytes
from .bohr_groups import frequency_groups

__all__ = ["DaviesGenerator", "davies", "davies_bytes"]


class _SectorsBox:
    """The Bohr-sector partition of one eigenbasis, computed on first use and shared by a
    generator, its channels and its sums."""

    def __init__(self, eb: Eigenbasis):
        self.eb, self._sec, self._groups = eb, None, None
        self.blockwise = False        # the Bohr-sector blocks did not fit: every generator on it goes blockwise
        self.coupling_data = weakref.WeakSet()   # the blockwise couplings built on it (what they hold counts)

    def get(self) -> _bohr.Sectors:
        if self._sec is None:
            self._sec = _bohr.sectors(self.eb, self.eb.tol)
        return self._sec

    def groups(self):
        """The multi-pair Bohr-frequency groups (:func:`.bohr_groups.frequency_groups`), without the
        O(d²) sector tables; their budget check adds what the blockwise couplings on this eigenbasis
        hold (eigenvectors, Pauli matrices, blocks or transitions)."""
        if self._groups is None:
            held = held_bytes(self.eb, *(a for c in self.coupling_data for a in [c.W, *c.held_arrays()]))
            self._groups = frequency_groups(self.eb.levels, self.eb.tol, held)
        return self._groups


_TABLES = ("St", "St_abs2", "emit", "gamma", "gamma0", "lamb_table")


class _Coupling:
    """One bath: its operator in the eigenbasis and its rate tables (shared with channels).

    ``St`` S̃ = V†SV (exactly Hermitian); ``St_abs2`` |S̃_ij|² entrywise; ``gamma`` Γ_ij = γ(E_j − E_i)
    and ``gamma0`` γ(0); ``has_lamb_shift`` whether the Lamb shift is on and ``lamb_table`` its
    principal-value rates S(E_j − E_i) (None without it). ``lazy``: the d×d tables are built on
    first access (memory-budget checked then), so a generator whose tables do not fit can still
    give its sparse Pauli rate matrix.
    """

    __slots__ = ("S", "St", "St_abs2", "_box", "_bw", "auto_named", "bath", "emit", "gamma", "gamma0",
                 "has_lamb_shift", "lamb_table", "name")

    def __init__(self, name, bath, S, box: _SectorsBox, lamb_shift, auto_named, lazy=False):
        self.name, self.bath, self.S, self._box, self._bw = name, bath, S, box, None
        self.has_lamb_shift, self.auto_named = bool(lamb_shift), auto_named
        if not lazy:
            self._fill()

    def __getattr__(self, key):  # only called for a table slot not yet filled
        if key in _TABLES:
            self._fill()
            return object.__getattribute__(self, key)
        raise AttributeError(key)

    def _fill(self) -> None:
        eb, sec = self._box.eb, self._box.get()
        d = eb.dim
        config.check_memory(davies_bytes(d, 1, self.has_lamb_shift, False),
                            f"the rate tables of bath {self.name!r} (d = {d})",
                            "fewer sites (the sparse Pauli rate matrix, sparse_pauli_rate_matrix(), needs no tables)")
        if eb.sectors is None:
            V = eb.vectors
            St = _dag(V) @ np.asarray(self.S @ V)
        else:
            St = eb.to_eigen(self.S)
        St += _dag(St)
        St *= 0.5
        bath = self.bath
        self.St = St
        self.St_abs2 = St * St if np.isrealobj(St) else (St.real ** 2 + St.imag ** 2)
        self.emit = _bohr.emission_rates(bath, sec)
        self.gamma0 = _bohr.zero_rate(bath, St, sec, self.name)
        self.gamma = _bohr.rate_matrix(sec, self.emit, bath.beta, self.gamma0)
        self.lamb_table = _bohr.lamb_matrix(bath, sec) if self.has_lamb_shift else None

    def release_tables(self) -> None:
        """Drop the d×d tables (rebuilt on first access)."""
        for key in _TABLES:
            try:
                object.__delattr__(self, key)
            except AttributeError:
                pass

    def has_tables(self) -> bool:
        try:
            object.__getattribute__(self, "St")
            return True
        except AttributeError:
            return False

    def blockwise_data(self) -> CouplingData:
        """This coupling in sector-pair blocks (:class:`.blockwise.CouplingData`), built once."""
        if self._bw is None:
            self._bw = CouplingData(self._box.eb, self.S, self.bath, self.name, self._box.groups)
            self._box.coupling_data.add(self._bw)
        return self._bw

    def renamed(self, name, auto):
        new = object.__new__(_Coupling)
        for k in self.__slots__:
            try:
                setattr(new, k, object.__getattribute__(self, k))
            except AttributeError:   # a table not built yet
                pass
        new.name, new.auto_named = name, auto
        return new


def davies(H: ArrayLike | Eigenbasis, couplings: Sequence[tuple[ArrayLike, Bath]], lamb_shift: bool = False,
           bohr_tol: float | None = None, conserved=None) -> DaviesGenerator:
    """Davies generator of H coupled to thermal baths through Hermitian operators.

    Args:
        H: (d, d) Hermitian Hamiltonian (ndarray, sparse, Qobj) or an
            :class:`~detbal.eigenbasis.Eigenbasis` (reuses the factorisation, e.g. in sweeps).
        couplings: non-empty list of ``(S, bath)`` pairs: S a Hermitian (d, d) operator
            (H_I = S ⊗ B), ``bath`` a :class:`~detbal.baths.Bath`. Baths without a name are named
            "bath0", "bath1", …; names must be unique.
        lamb_shift: add H_LS = Σ_b Σ_ω S_b(ω) A_b(ω)†A_b(ω) (one principal-value quadrature per
            distinct Bohr frequency and bath, ~ms each: meant for small and moderate d).
        bohr_tol: grouping tolerance of energies and Bohr frequencies (module docstring).
        conserved: a conserved quantity Q of H, diagonal in the computational basis ((d, d)
            operator or its d diagonal entries): H is diagonalised sector by sector
            (:func:`~detbal.eigenbasis.eigenbasis`) and S̃_b = V†S_bV is computed sector pair by
            sector pair. The generator is the same (to round-off) as without it.

    Returns:
        DaviesGenerator (block-diagonal in Bohr sectors; see :attr:`DaviesGenerator.bohr_blocks`).

    Raises:
        InputError: malformed couplings, non-Hermitian S or H, wrong dimensions, duplicate bath
            names, a sub-ohmic bath where a zero Bohr frequency needs γ(0), a ``conserved`` that is
            not diagonal or does not commute with H.
        MemoryBudgetError: the eigenbasis and d×d rate tables exceed the budget. With a
            conserved quantity only the sector eigenbasis is checked here; the tables are then
            built (and checked) on first use, so :meth:`DaviesGenerator.sparse_pauli_rate_matrix`
            works at sizes where they do not fit.

    Example:
        >>> import numpy as np
        >>> from detbal.baths import Bath
        >>> D = davies(np.diag([0.0, 1.0]), [(np.array([[0, 1], [1, 0]]), Bath.ohmic(0.1, 5.0, beta=1.0))])
        >>> W = D.pauli_rate_matrix.matrix
        >>> bool(np.isclose(W[1, 0] / W[0, 1], np.exp(-1.0)))    # up/down = e^{−βω}
        True
    """
    if not isinstance(lamb_shift, (bool, np.bool_)):
        raise InputError(f"`lamb_shift` must be True or False, got {lamb_shift!r}")
    shape = (H.dim,) if isinstance(H, Eigenbasis) else getattr(H, "shape", None)
    n_baths = len(couplings) if isinstance(couplings, (list, tuple)) else 1
    blocked = conserved is not None or isinstance(H, Eigenbasis) and H.sectors is not None
    if (shape and len(shape) == 2 or isinstance(H, Eigenbasis)) and not blocked:
        d0 = int(shape[0])
        config.check_memory(davies_bytes(d0, n_baths, bool(lamb_shift), not isinstance(H, Eigenbasis)),
                            f"the Davies generator's eigenbasis and rate tables (d = {d0}, {n_baths} bath(s))",
                            "a smaller system (fewer sites) or a larger memory budget")
    eb, h = eigenbasis_of(H, bohr_tol, conserved)
    d = eb.dim
    parsed = parse_couplings(couplings, d)
    names = assign_names([(bath.name, None) for _, bath in parsed])
    # block eigenbasis whose d×d tables exceed the budget: build them on first use only
    lazy = eb.sectors is not None and not config.fits_memory(davies_bytes(d, n_baths, bool(lamb_shift), False))
    box = _SectorsBox(eb)
    cps = tuple(_Coupling(name, bath, S, box, lamb_shift, bath.name is None, lazy)
                for (S, bath), name in zip(parsed, names))
    return DaviesGenerator._build(eb, box, cps, hamiltonian_count=1, hamiltonian=h, name="davies", blockwise=lazy)


def davies_bytes(d: int, n_baths: int, lamb_shift: bool = False, diagonalise: bool = True) -> float:
    """Bytes :func:`davies` holds at its peak, estimated from the d×d tables it allocates:
    the eigendecomposition (H, V and the ``eigh`` workspace: 3 real d×d, if H must be
    diagonalised), the sector partition (a bool mask and ≤ 16 B of index arrays per matrix unit),
    and per bath S, S̃, |S̃|², Γ (and Λ with Lamb shift) as real d×d tables plus one complex
    rotation temporary. The Bohr-sector blocks (:class:`SectorForm`) are checked separately when
    first used."""
    per_bath = 8.0 * (4 + int(bool(lamb_shift))) + 16.0
    return float(d) ** 2 * ((24.0 if diagonalise else 8.0) + 17.0 + n_baths * per_bath)


# -- the generator --------------------------------------------------------------------------------
class DaviesGenerator(Generator):
    """A Davies generator stored in its Bohr-sector block form (build it with :func:`davies`).

    Structure (all in the energy eigenbasis, energies ascending): ``eigenbasis``,
    ``coupling_operators`` (S̃_b = V†S_bV), ``baths``, ``bohr_blocks`` (layout in
    :class:`~detbal.generators._bohr.BohrBlocks`), ``pauli_rate_matrix``, ``coherent_hamiltonian``
    K = H + H_LS and ``lamb_shift_hamiltonian``. ``channels`` are one DaviesGenerator per bath
    whose coherent part is only that bath's Lamb shift (no −i[H, ·]), so
    Σ_b channels_b − i[H, ·] = 𝓛. ``beta`` is the common β of all baths (None if they differ).

    Structured algorithms (no d²×d² matrix): :meth:`structured_steady_state`,
    :meth:`structured_spectrum`, :meth:`structured_gap`, :meth:`structured_evolve`,
    :meth:`structured_balance`.
    """

    has_sector_structure = True

    @classmethod
    def _build(cls, eb, box, couplings, hamiltonian_count, hamiltonian=None, name="davies", blockwise=False):
        """``hamiltonian_count`` n: the coherent part is −i[nH + H_LS, ·] (0 for a channel, 2 for
        the sum of two full generators: sums add actions, :mod:`detbal.generators.base`).
        ``blockwise``: the d×d tables did not fit when the generator was built (:attr:`uses_blockwise`)."""
        self = cls.__new__(cls)
        self._bw_mode = bool(blockwise)
        self._eb, self._box, self._cps = eb, box, tuple(couplings)
        self._h_count = int(hamiltonian_count)
        self._H = hamiltonian
        self.name = str(name)
        self._cache = {}
        self._form = None
        return self

    @property
    def _sec(self) -> _bohr.Sectors:
        return self._box.get()

    @property
    def _parts(self) -> lin.SectorForm:
        """The sector-by-sector form, built on first use (its memory is checked first), so that the
        kernel dimension of a huge degenerate generator never needs it."""
        if self._form is None:
            self._form = lin.SectorForm(self._sec, self._cps,
                                         self._h_count * self._eb.energies if self._h_count else None)
        return self._form

    # -- protocol ---------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return self._eb.dim

    @property
    def hamiltonian(self):
        """The system Hamiltonian H (original basis). Channels return it too: it defines their
        Gibbs state, although their coherent part is only their Lamb shift."""
        if self._H is None:
            self._H = self._eb.operator()
        elif sp.issparse(self._H):   # a sparse H given with a conserved quantity
            d = self.dim
            config.check_memory(16.0 * d * d, f"the dense Hamiltonian (d = {d})", "the sparse-Pauli route")
            self._H = self._H.toarray()
        return self._H

    @property
    def eigenbasis(self) -> Eigenbasis:
        return self._eb

    @property
    def betas(self) -> tuple[float, ...]:
        return tuple(c.bath.beta for c in self._cps)

    @property
    def beta(self) -> float | None:
        b = self.betas
        return b[0] if all(x == b[0] for x in b) else None

    @property
    def baths(self) -> tuple[Bath, ...]:
        return tuple(c.bath for c in self._cps)

    @property
    def bath_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self._cps)

    @property
    def lamb_shift(self) -> bool:
        return any(c.has_lamb_shift for c in self._cps)

    @property
    def includes_hamiltonian(self) -> bool:
        """False for a channel (its coherent part is its Lamb shift only)."""
        return self._h_count > 0

    @property
    def hamiltonian_count(self) -> int:
        """n in the coherent part −i[nH + H_LS, ·]: 1 for :func:`davies`, 0 for a channel, the sum
        of the parts' counts for a merged sum."""
        return self._h_count

    @property
    def coupling_operators(self) -> tuple[np.ndarray, ...]:
        """S̃_b = V†S_bV in the energy eigenbasis, one (d, d) array per bath (read-only views)."""
        return tuple(_readonly(c.St) for c in self._cps)

    @property
    def channels(self) -> tuple[DaviesGenerator, ...]:
        """One DaviesGenerator per bath, named after it, coherent part = its own Lamb shift only."""
        if "channels" not in self._cache:
            self._cache["channels"] = tuple(
                DaviesGenerator._build(self._eb, self._box, (c,), 0, self._H, name=c.name, blockwise=self._bw_mode)
                for c in self._cps)
        return self._cache["channels"]

    @property
    def coherent_hamiltonian(self) -> np.ndarray:
        """K = H + H_LS in the eigenbasis ((d, d); diagonal unless levels are degenerate).
        For a channel K = H_LS of its bath."""
        return self._parts.coherent_matrix()

    @property
    def hamiltonian_part(self) -> np.ndarray:
        """K = nH + H_LS in the original basis ((d, d) complex; see :attr:`coherent_hamiltonian`)."""
        return self._eb.from_eigen(self._parts.coherent_matrix())

    @property
    def lamb_shift_hamiltonian(self) -> np.ndarray:
        """H_LS in the eigenbasis ((d, d), block diagonal in degenerate levels; 0 without Lamb shift)."""
        f = self._parts
        return np.diag(f.lamb_diag).astype(np.complex128) if f.lamb_dense is None else f.lamb_dense.copy()

    @property
    def bohr_blocks(self) -> _bohr.BohrBlocks:
        """The generator sector by sector (layout documented in :class:`_bohr.BohrBlocks`)."""
        return self._parts.blocks()

    def sparse_pauli_rate_matrix(self) -> sp.csr_array:
        """The Pauli rate matrix W as a sparse (d, d) csr_array, W_mn = Σ_b γ_b(E_n − E_m)|S̃_b,mn|²
        (m ≠ n), W_nn = −Σ_{m≠n} W_mn, assembled sector pair by sector pair from the couplings
        (no d×d table: with a conserved quantity only the sector pairs a coupling connects hold
        entries). Equal to :attr:`pauli_rate_matrix` (non-degenerate spectrum).

        Raises:
            InputError: degenerate levels (populations and intra-level coherences share the ν = 0
                sector; use ``bohr_blocks.population``).
            MemoryBudgetError: the entries exceed ``detbal.config.memory_budget``.
        """
        if self._eb.is_degenerate:
            raise InputError("the sparse Pauli rate matrix needs a non-degenerate spectrum: degenerate "
                             "levels share the ν = 0 sector with coherences (use `bohr_blocks.population`)")
        eb = self._eb
        blocks = [(_pauli.coupling_blocks(eb, c.S), c.bath) for c in self._cps]
        return _pauli.pauli_sparse(eb, blocks, self.bath_names)

    @property
    def pauli_rate_matrix(self):
        """Classical Pauli rate matrix W of the populations (:class:`~detbal.classical.RateMatrix`).

        W_mn = Σ_b γ_b(E_n − E_m)|S̃_b,mn|² (m ≠ n), columns summing to zero, dp/dt = W p.
        Raises InputError when degenerate levels couple populations to coherences (then the
        populations alone do not follow a rate equation; use ``bohr_blocks.population``).
        """
        return RateMatrix(self._parts.pauli())

    def zero_sector(self) -> tuple:
        """The ν = 0 Bohr sector: matrix units |i⟩⟨k| of the eigenbasis with E_i = E_k (populations
        first), which every jump maps into itself, so that populations and the coherences between
        degenerate levels evolve (and can be counted) without the other sectors.

        Returns:
            (rows, cols, M0, per_bath): (n0,) int arrays i and k; M0 the (n0, n0) sparse block of
            𝓛 on them (column j ↔ unit |rows[j]⟩⟨cols[j]|); per_bath a tuple of the same block of
            each bath channel (its dissipator and Lamb shift, no −i[H, ·]). Every nonzero rate is
            kept (no round-off threshold): small rates matter once a counting field amplifies them.
        """
        sec = self._sec
        per_bath = tuple(self._exact_zero_block((c,), coherent=False) for c in self._cps)
        return sec.zero_rows.copy(), sec.zero_cols.copy(), self._exact_zero_block(self._cps), per_bath

    def _exact_zero_block(self, cps, coherent: bool = True) -> sp.csr_array:
        """The sparse ν = 0 block of the baths ``cps`` with every rate kept (no round-off threshold),
        with −i n[H, ·] (``coherent``) or without."""
        energies = self._h_count * self._eb.energies if coherent and self._h_count else None
        return kern.zero_sector_matrix(self._sec, cps, energies, drop=0.0)

    def _apply(self, rho):
        return self._eb.from_eigen(self._parts.act(self._eb.to_eigen(rho), adjoint=False))

    def _adjoint(self, X):
        return self._eb.from_eigen(self._parts.act(self._eb.to_eigen(X), adjoint=True))

    def to_dense(self) -> np.ndarray:
        """Column-stacked d²×d² matrix in the original basis (memory-budget guarded)."""
        return _bohr.rotate_superoperator(self.structured_dense(), self._eb.vectors)

    def structured_dense(self) -> np.ndarray:
        """Column-stacked d²×d² matrix in the energy eigenbasis (index i + d·k for |i⟩⟨k|; memory-budget
        guarded)."""
        d = self.dim
        config.check_memory(3 * config.superoperator_bytes(d), f"dense Davies superoperator (d = {d})",
                            "the structured methods (structured_*) or apply()")
        return self._parts.eigenframe_dense()

    def __add__(self, other):
        """Sum of actions, kept in block form when both share one eigenbasis: the baths merge and
        −i[H, ·] is counted as often as the parts carry it (``hamiltonian_count`` adds), so
        ``(D1 + D2).apply(ρ) == D1.apply(ρ) + D2.apply(ρ)``; ``davies(H, [a]) + davies(H, [b])``
        therefore evolves with 2H, while ``davies(H, [a]) + davies(H, [b]).channels[0]`` equals
        ``davies(H, [a, b])``. Different eigenbases, or one bath name in both parts: a SumGenerator
        (its baths are reported separately, "hot" and "hot#2")."""
        if not isinstance(other, DaviesGenerator) or not _same_basis(self._eb, other._eb):
            return super().__add__(other)
        entries = [(None if c.auto_named else c.name, c) for c in self._cps + other._cps]
        explicit = [n for n, _ in entries if n is not None]
        if len(set(explicit)) < len(explicit):
            return super().__add__(other)
        names = assign_names(entries)
        cps = tuple(c.renamed(n, c.auto_named) for (_, c), n in zip(entries, names))
        return DaviesGenerator._build(self._eb, self._box, cps, self._h_count + other._h_count,
                                      self._H if self._H is not None else other._H,
                                      name=f"{self.name} + {other.name}", blockwise=self._bw_mode or other._bw_mode)

    def __repr__(self) -> str:
        return (f"DaviesGenerator(name={self.name!r}, dim={self.dim}, baths={list(self.bath_names)}, "
                f"betas={list(self.betas)}, lamb_shift={self.lamb_shift})")

    # -- structured algorithms ---------------------------------------------------------------
    def _log_gibbs(self):
        return log_gibbs_populations(self._eb, self.beta)

    def _log_gibbs_or_none(self):
        return None if self.beta is None else self._log_gibbs()

    def _symmetrized_pauli(self) -> np.ndarray:
        """p^{−1/2} W p^{1/2} for the common β, from the even rates γ(ω)e^{−βω/2} (no underflow)."""
        if "sym" not in self._cache:
            sec, b = self._sec, self.beta
            S = None
            for c in self._cps:
                term = _bohr.symmetric_rate_matrix(sec, c.emit, b, c.gamma0) * c.St_abs2
                S = term if S is None else S + term
            np.fill_diagonal(S, np.diagonal(self._parts.pauli_matrix))
            self._cache["sym"] = S
        return self._cache["sym"]

    @property
    def uses_blockwise(self) -> bool:
        """True when the generator is evaluated from the sector-pair blocks of its couplings
        (:mod:`.blockwise`): the eigenbasis was computed sector by sector (a conserved quantity) and
        either the d×d rate tables exceeded ``detbal.config.memory_budget`` when it was built, or its
        Bohr-sector blocks (:class:`.sector_linalg.SectorForm`) do (decided here, on first use, for
        the generator, its channels and sums; the tables are then released). Certificates
        (:meth:`structured_balance`), the kernel dimension, the steady state's populations
        (:meth:`steady_populations`), their flows and the gap (:meth:`structured_gap`) are then
        computed without any d×d table; what needs the tables (``apply``, ``to_dense``, evolution,
        spectrum) raises MemoryBudgetError when they do not fit."""
        if self._bw_mode or self._box.blockwise:
            return True
        if self._eb.sectors is None or self._form is not None:
            return False
        try:
            self._parts  # noqa: B018  (the Bohr-sector blocks, budget-checked)
        except MemoryBudgetError:
            self._box.blockwise = True
            self._box._sec = None                 # O(d²) partition: not needed blockwise
            for c in self._cps:
                c.release_tables()
            return True
        return False

    def _blockwise(self) -> BlockwiseForm:
        """The sector-pair-block form (:class:`.blockwise.BlockwiseForm`), built once."""
        if "bw" not in self._cache:
            if self.lamb_shift:
                raise InputError("the Lamb shift is not available without the d×d rate tables (d = "
                                 f"{self.dim}): build the generator with lamb_shift=False, or fewer sites")
            self._cache["bw"] = BlockwiseForm(self._eb, [c.blockwise_data() for c in self._cps], self._h_count,
                                              self._box.groups)
        return self._cache["bw"]

    def steady_populations(self) -> tuple[np.ndarray, int, str]:
        """The steady state's populations in the energy eigenbasis, without forming the d×d state.

        One common β: the Gibbs populations ("davies-gibbs"). Otherwise the kernel of the Pauli
        matrix (non-degenerate spectrum, "davies-pauli-kernel", dense GTH elimination: memory-budget
        checked), or the diagonal of :meth:`structured_steady_state` (degenerate levels). Returns (p (d,) in eigenbasis order,
        kernel dimension, method); a Gibbs state of a degenerate spectrum is diagonal too.
        """
        k = self._kernel_dim()
        if self.beta is not None:
            return np.exp(self._log_gibbs()), k, "davies-gibbs"
        if self.uses_blockwise and not self._eb.is_degenerate:
            return self._blockwise().pauli_stationary(), k, "davies-pauli-kernel"
        state, k, method = self.structured_steady_state()
        return np.real(np.diagonal(self._eb.to_eigen(state))).copy(), k, method

    def population_flows(self, p) -> dict:
        """{bath: W_b p}: for a state diagonal in the eigenbasis with populations ``p`` (eigenbasis
        order), the rate of change of its populations due to each bath, (𝓛_b ρ)_mm = Σ_n W_b,mn p_n
        (also for degenerate levels: only populations feed populations); its heat current is
        J_b = Σ_m E_m (W_b p)_m. Sparse, sector pair by sector pair (no d×d table)."""
        p = np.asarray(p, dtype=float)
        if p.shape != (self.dim,):
            raise InputError(f"`p` must hold {self.dim} populations, got shape {p.shape}")
        return {name: c.blockwise_data().W @ p for name, c in zip(self.bath_names, self._cps)}

    def population_residual(self, p) -> float:
        """‖𝓛(ρ)‖_F for ρ = Σ_i p_i|i⟩⟨i| (eigenbasis order), in the eigenbasis (the Frobenius norm
        is unitarily invariant): populations feed only the ν = 0 sector, so this is ‖W p‖ for the
        Pauli matrix W of a non-degenerate spectrum and ‖M0 x‖ (x = p on the populations, 0 on the
        coherences of degenerate levels) for the sparse ν = 0 block M0 otherwise; no rotation."""
        p = np.asarray(p, dtype=float)
        if not self.uses_blockwise and self._parts.pauli_matrix is not None:
            return float(np.linalg.norm(self._parts.pauli_matrix @ p))
        M0 = self._blockwise().zero_sector()[2] if self.uses_blockwise else self._exact_zero_block(self._cps)
        x = np.zeros(M0.shape[0])
        x[: self.dim] = p
        return float(np.linalg.norm(M0 @ x))

    def sparse_pauli_network(self) -> sp.csr_array:
        """The population block of the ν = 0 sector, W_mn = Σ_b γ_b(E_n − E_m)|S̃_b,mn|² (m ≠ n),
        columns summing to zero, as a sparse (d, d) csr_array assembled sector pair by sector pair (no
        d×d table): the Pauli rate matrix for a non-degenerate spectrum, the network that
        :func:`~detbal.generators.pauli.pauli_rate_matrix` returns when degenerate levels also couple
        populations to coherences."""
        return self._blockwise().W

    def _kernel_dim(self) -> int:
        """dim ker 𝓛, exact from the structure: the Pauli rate graph (non-degenerate levels), or the
        block nullities of the sparse ν = 0 sector (degenerate levels; see
        :func:`sector_linalg.zero_sector_matrix`), never a dense d²×d² or n0×n0 matrix."""
        if "kdim" not in self._cache:
            if self.uses_blockwise:
                self._cache["kdim"] = self._blockwise().kernel_dim(self.betas)
            elif self._sec.degenerate:
                self._cache["kdim"] = kern.block_nullity(self._zero_sector_sparse())
            else:
                self._cache["kdim"] = kern.kernel_dim(self._parts, self._cps)
        return self._cache["kdim"]

    def _zero_sector_sparse(self):
        """The ν = 0 block as a sparse matrix (:func:`sector_kernel.zero_sector_matrix`), cached."""
        if "M0" not in self._cache:
            self._cache["M0"] = kern.zero_sector_matrix(
                self._sec, self._cps, self._h_count * self._eb.energies if self._h_count else None)
        return self._cache["M0"]

    def _degenerate_population_gap(self, k: int) -> float | None:
        """Gap of the ν = 0 block of a degenerate spectrum at one finite β, or None when it is not
        Hermitian after the KMS scaling (a Lamb shift acting inside degenerate levels).

        With σ the Gibbs state, M̂ = Γ^{−1/2} M0 Γ^{1/2}, M̂_ac = M0_ac e^{x}, x = [log p_j + log p_l
        − log p_i − log p_k]/4 for a = |i⟩⟨k|, c = |j⟩⟨l| (log domain, no overflow), is Hermitian
        for a KMS-detailed-balanced generator whose coherent part vanishes on the sector; its gap is
        the (k+1)-th largest eigenvalue (:func:`sector_kernel.top_gap`: Lanczos on the sparse M̂
        deflated by the known kernel vector √p on the populations, never a dense eig)."""
        sec, lp = self._sec, self._log_gibbs()
        M = self._zero_sector_sparse().tocoo()
        g = (lp[sec.zero_rows] + lp[sec.zero_cols]) / 4
        data, _ = log_scaled(M.data, g[M.col] - g[M.row], shift=0.0)
        Mh = sp.csr_array((data, (M.row, M.col)), shape=M.shape)
        if hermiticity_error(Mh) > 1e-12:
            return None
        Mh = sp.csr_array((Mh + Mh.conj().T) * 0.5)
        lp0 = np.full(Mh.shape[0], -np.inf)
        lp0[: self.dim] = lp
        return kern.top_gap(Mh, k, lp0)

    def structured_steady_state(self) -> tuple[np.ndarray, int, str]:
        """Steady state from the sector structure, without any d²×d² matrix.

        * One common β: the Gibbs state at β (log domain, exact at any β·ΔE), method
          "davies-gibbs"; the kernel dimension is the number of connected components of the
          Pauli rate graph (combinatorial; degenerate levels: the numerical nullity of the ν = 0
          block, singular values below 1e-10 of the largest).
        * Different β: the kernel of W = Σ_b W_b (populations), solved in the frame of a reference
          Gibbs state so that nothing underflows, method "davies-pauli-kernel"; degenerate levels:
          the kernel of the full ν = 0 block, method "davies-zero-sector-kernel".
        With a kernel of dimension k > 1 the state returned is one stationary state (the uniform
        mixture of the extremal Pauli states, or the projection of I/d onto the kernel).

        Returns:
            (state, kernel_dim, method): state a (d, d) complex ndarray in the original basis.
        """
        k = self._kernel_dim()
        if self.beta is not None:
            return self._from_populations(np.exp(self._log_gibbs())), k, "davies-gibbs"
        if self.uses_blockwise:
            X = self._blockwise().steady_state_eigen(k)
            Y = self._eb.from_eigen(X)
            method = "davies-zero-sector-kernel" if self._eb.is_degenerate else "davies-pauli-kernel"
            return (Y + Y.conj().T) / 2, k, method
        if self._parts.pauli_matrix is not None:
            return self._from_populations(kern.pauli_kernel(self._parts, self._cps, k)), k, "davies-pauli-kernel"
        X = kern.zero_sector_state(self._parts.zero_block, self._sec, k)
        Y = self._eb.from_eigen(X)
        return (Y + Y.conj().T) / 2, k, "davies-zero-sector-kernel"

    def _from_populations(self, p):
        """V diag(p) V† in the original basis (columns with p = 0 dropped), complex128."""
        return self._eb.from_populations(p).astype(np.complex128, copy=False)

    def _population_eigenvalues(self) -> np.ndarray:
        f = self._parts
        if f.pauli_matrix is None:
            return np.linalg.eigvals(f.zero_block)
        if self.beta is not None:
            return np.linalg.eigvalsh(self._symmetrized_pauli()).astype(np.complex128)
        return np.linalg.eigvals(f.pauli_matrix)

    def structured_spectrum(self) -> np.ndarray:
        """All d² eigenvalues, sector by sector, ordered by decreasing real part.

        Populations: ``eigvalsh`` of the symmetrised Pauli matrix p^{−1/2} W p^{1/2} (one β), else
        ``eig`` of W (or of the ν = 0 block); 1-element sectors: their λ; blocks: batched ``eig``.
        Returns a (d²,) complex ndarray.
        """
        f = self._parts
        parts = [self._population_eigenvalues(), f.coherences()[self._sec.single_mask]]
        parts += [np.linalg.eigvals(st.matrices).ravel() for st in f.stacks]
        ev = np.concatenate(parts)
        return ev[np.argsort(-ev.real, kind="stable")]

    def structured_gap(self) -> float:
        """Liouvillian spectral gap −max{Re λ : λ ≠ 0} from the sectors.

        The number k of zero eigenvalues comes from the kernel dimension (combinatorial for the
        Pauli graph). One β: the population part is the (k+1)-th largest eigenvalue of the
        symmetrised Pauli matrix (``eigvalsh``; Lanczos on the deflated matrix for d ≥ 384,
        with the Hermitian solver as fallback), for degenerate levels of the KMS-symmetrised
        sparse ν = 0 block (when Hermitian, i.e. no Lamb shift inside degenerate levels);
        otherwise ``eig``. Coherences: min −Re λ.
        """
        if self.uses_blockwise:
            finite = self.beta is not None and math.isfinite(self.beta)
            return self._blockwise().gap(self._kernel_dim(), self.beta if finite else None,
                                         self._log_gibbs() if finite else None)
        f, k = self._parts, self._kernel_dim()   # the ν ≠ 0 blocks first: they are needed below
        g_pop = None
        if self._sec.degenerate and self.beta is not None and math.isfinite(self.beta):
            g_pop = self._degenerate_population_gap(k)
        if g_pop is not None:
            pass
        elif f.pauli_matrix is not None and self.beta is not None:
            g_pop = kern.top_gap(self._symmetrized_pauli(), k, self._log_gibbs())
        else:
            ev = self._population_eigenvalues()
            rest = ev[np.argsort(np.abs(ev))][k:]
            g_pop = -float(np.max(rest.real)) if rest.size else math.inf
        gaps = [g_pop]
        mask = self._sec.single_mask
        gaps.append(-float(np.max(f.coherences().real, where=mask, initial=-math.inf)))
        for st in f.stacks:       # a stack whose blocks cannot go below the gap so far is screened out
            gaps.append(self._stack_gap(st, min(gaps)))
        # Re λ ≤ 0 for a GKSL generator: a negative value is the rounding of a purely imaginary
        # eigenvalue (undamped coherences, e.g. of spins no bath reaches), i.e. no gap
        return max(float(min(gaps)), 0.0)

    def _stack_gap(self, st, floor: float = math.inf) -> float:
        """−max Re λ over a stack of Bohr blocks (:func:`.sector_kernel.stack_gap` at this β; blocks
        that cannot go below ``floor`` screened out)."""
        lp = self._log_gibbs() if self.beta is not None and math.isfinite(self.beta) else None
        return kern.stack_gap(st, lp, floor)

    def structured_evolve(self, rho0, times) -> np.ndarray:
        """States e^{t𝓛}ρ₀ at the given times, in closed form sector by sector.

        Populations: eigendecomposition of the symmetrised Pauli matrix, computed once (one β and
        Boltzmann ratios p_max/p_min ≤ 1e10, where its conditioning costs < 1e-10 absolute);
        otherwise ``expm_multiply`` of W per time. 1-element sectors: e^{λt}; blocks and a
        degenerate ν = 0 block: ``expm``.

        Args:
            rho0: (d, d) initial matrix (original basis).
            times: 1-D array of finite times.
        Returns:
            (len(times), d, d) complex ndarray in the original basis.
        """
        t, states = self._evolve_in_eigenbasis(rho0, times)
        out = np.empty((t.shape[0], self.dim, self.dim), dtype=np.complex128)
        for n, Y in enumerate(states):
            out[n] = self._eb.from_eigen(Y)
        return out

    def structured_expect(self, rho0, times, ops) -> np.ndarray:
        """Expectation values Tr[O_k e^{t𝓛}ρ₀] without forming the states.

        Tr[O V Y V†] = Σ_ij (V†OV)_ji Y_ij with Y the state in the eigenbasis, summed sector by
        sector: populations (d entries), the coherences with a nonzero initial amplitude (the
        others stay zero) and the Bohr blocks. Only the entries of V†OV on those sectors are
        computed (from (OV)ᵀ, cheap for sparse O: O(nnz·d + m·d) instead of two d³ products).

        Returns:
            (len(ops), len(times)) complex ndarray.
        """
        d, eb = self.dim, self._eb
        checked = [real_if_possible(as_operator(O, f"e_ops[{k}]", dim=d)) for k, O in enumerate(ops)]
        config.check_memory(16 * (len(checked) + 2) * d * d, f"{len(checked)} observables O·V (d = {d})",
                            "fewer e_ops per call")
        OVs = [np.ascontiguousarray(np.asarray(O @ eb.vectors).T) for O in checked]

        def weights(rows, cols):  # Ot[k][rows, cols] with Ot = (V†O_kV)ᵀ
            return eb.entries(OVs, cols, rows)

        X0, t, pauli = self._evolution_inputs(rho0, times)
        hermitian = is_hermitian(X0) and all(is_hermitian(O) for O in checked)
        return evo.expectations(self._parts, X0, t, weights, pauli, hermitian)

    def _evolution_inputs(self, rho0, times):
        """(X0 in the eigenbasis, times, pauli) for the sector-by-sector evolution."""
        X0 = self._eb.to_eigen_cleaned(as_operator(rho0, "rho0", dim=self.dim, sparse_ok=False))
        t = np.atleast_1d(np.asarray(times, dtype=float))
        if t.ndim != 1 or not np.all(np.isfinite(t)):
            raise InputError(f"`times` must be a 1-D array of finite numbers, got shape {t.shape}")
        pauli = None
        if self._parts.pauli_matrix is not None and self.beta is not None and math.isfinite(self.beta):
            lp = self._log_gibbs()
            if np.ptp(lp) <= 2 * math.log(1e5):
                pauli = (self._symmetrized_pauli(), lp)
        return X0, t, pauli

    def _evolve_in_eigenbasis(self, rho0, times):
        X0, t, pauli = self._evolution_inputs(rho0, times)
        return t, evo.evolve(self._parts, X0, t, pauli)

    def structured_balance(self, log_p, s: float) -> dict:
        """Squared Frobenius norms for the σ-transformed-generator residuals.

        σ = Σ_i p_i|i⟩⟨i| is diagonal in this generator's eigenbasis; ``log_p`` are its (finite)
        log-populations in eigenbasis order. With 𝓛̂ = Γ_s^{−1/2}𝓛Γ_s^{1/2}, whose entries are
        scaled by exp([s(log p_k − log p_i) + (1 − s)(log p_l − log p_j)]/2) (one exponent per
        entry, log domain, never clipped), 𝓓 = 𝓛 + i[K, ·] and K = ``coherent_hamiltonian``, returns
        **squared** norms computed block by block (no d²×d² matrix, σ never formed in the original
        basis):

        "norm_hat" ‖𝓛̂‖², "antisym" ‖𝓛̂ − 𝓛̂†‖² — times e^{−2·log_scale} —, "dissipative_antisym"
        ‖𝓓̂ − 𝓓̂†‖², "dissipative_norm" ‖𝓓̂‖² — times e^{−2·dissipative_log_scale} (its own scale: a
        dissipator 1e-300 below the coherent part keeps its digits) —, "log_scale" C,
        "stationary" ‖𝓛(σ)‖², "hamiltonian_commutator" ‖[K, σ]‖², "k_norm" ‖K‖².

        The BalanceReport residuals follow as dissipative = √(dissipative_antisym/dissipative_norm),
        hamiltonian = √(hamiltonian_commutator/k_norm)/‖p‖, symmetric = √(antisym/norm_hat),
        stationary = √(stationary/norm_hat)/(e^{C}‖p‖).
        """


        lp = np.asarray(log_p, dtype=float)
        if lp.shape != (self.dim,) or np.any(np.isnan(lp)) or np.any(lp == np.inf):
            raise InputError(f"`log_p` must be {self.dim} finite log-populations (eigenbasis order), "
                             f"got shape {lp.shape}")
        if np.any(np.isinf(lp)):
            raise NotFaithfulError("`log_p` has −inf entries: the reference state must be faithful")
        s = float(s)
        if not 0 <= s <= 1:
            raise InputError(f"`s` must be in [0, 1], got {s}")
        if self.uses_blockwise:
            return self._blockwise().balance_norms(lp, s)
        return sector_balance.balance_norms(self._parts, lp, s)


def _readonly(a):
    v = a.view()
    v.flags.writeable = False
    return v


def _same_basis(a: Eigenbasis, b: Eigenbasis) -> bool:
    return a.same_as(b)
