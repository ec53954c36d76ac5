"""Counting fields: which jumps of a generator are counted, and with which increments.

A generator is split as 𝓛 = 𝓛_0 + Σ_k 𝓙_k with jump terms 𝓙_k(ρ) = γ_k A_k ρ A_k†; a counting field
gives each jump an increment ν_k, and N_t is the sum of the increments of the jumps that occurred
up to t. **Sign convention**: the counted quantity flows *from the bath into the system*:

* ``"energy"``: ν_k = +ω when the jump takes energy ω from the bath (absorption), −ω when it
  emits ω into the bath. A jump A with [H, A] = −ωA lowers the system energy by ω, so ν = −ω; then
  ⟨N_t⟩/t equals the heat current J_b = Tr[H 𝓛_b(ρ)] of the bath.
* ``"number"``: ν_k = −sign(ω) (quanta absorbed from the bath minus quanta emitted into it);
  jumps with ω = 0 (dephasing) count 0.
* explicit weights: one number per jump of the channel (Lindbladian channels, in the order of
  their jumps), or for Davies baths a (d, d) array ν[m, n] for the transition n → m between
  energy eigenstates (energies ascending).

Channels are the baths of :func:`~detbal.thermo.currents.bath_channels` (a Lindbladian with
``beta`` is one bath named after it; a Lindbladian without ``beta`` has one channel per jump
name; a Davies generator one per bath), addressed by name or by position. A Redfield bath has no
jump form and cannot be counted; a matrix-only generator is counted through explicit jump
superoperators: ``counting=[(J_1, ν_1), (J_2, ν_2), ...]`` with J_k the d²×d² matrix of 𝓙_k
(column stacking; QuTiP's ``sprepost(c, c.dag())``).

Two resolved forms are produced (:func:`resolve_counting`):
* :class:`SectorCounting` for a Davies generator: every jump maps a Bohr sector to itself, also
  when it is counted, and the Perron eigenvector of the tilted generator (positive semidefinite)
  has a nonzero part in the ν = 0 sector, so everything reduces to that sector: the d×d Pauli rate
  matrix W = Σ_b W_b for a non-degenerate spectrum (one increment per transition n → m and bath
  b), the block of populations and degenerate-level coherences otherwise (an element |i⟩⟨k|,
  E_i = E_k, jumps to |i'⟩⟨k'| with the energy gain E_i' − E_i); classical rate matrices too;
* :class:`JumpCounting` for everything else: the counted jump terms as operators A_k with rates γ_k
  (or as explicit superoperators), and the full generator for the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from .. import config
from .._checks import _to_array, as_operator
from ..classical.rate_matrix import RateMatrix
from ..errors import InputError
from ..generators.base import Generator, as_generator
from ..generators.davies import DaviesGenerator
from ..generators.lindblad import Lindbladian
from ..linalg.steady import steady_state
from .currents import bath_channels

__all__ = ["FieldInfo", "JumpCounting", "JumpTerm", "SectorCounting", "resolve_counting"]

#: a Lindblad jump A is an eigenoperator of H when ‖[H, A] + ωA‖_F ≤ this·‖H‖_F‖A‖_F
EIGENOPERATOR_RTOL = 1e-9

_MODES = ("energy", "number")


@dataclass(frozen=True)
class FieldInfo:
    """What one counting field counts: ``label`` (e.g. "hot:energy") and ``parts``, a tuple of
    (channel name, β of the channel or None, mode) with mode "energy", "number" or "weights";
    ``frequencies``: the distinct |ω| of the counted jumps (number counting; empty otherwise)."""

    label: str
    parts: tuple
    frequencies: tuple = ()


@dataclass(frozen=True)
class JumpTerm:
    """One counted jump term 𝓙(X) = γ A X A† (``op`` A, ``rate`` γ) or an explicit superoperator
    (``superop``, (d², d²) sparse), with its increments ``weights`` (F,), one per field. ``key``
    identifies the jump, so that a jump counted by several fields is one term with several
    weights (joint moments Σ_k ν_k^{(i)}ν_k^{(j)}𝓙_k and the tilt e^{s·ν_k} need that)."""

    weights: np.ndarray
    op: object = None
    rate: float = 1.0
    superop: object = None
    key: tuple = ()

    def apply(self, X: np.ndarray) -> np.ndarray:
        """𝓙(X) for a (d, d) matrix. Returns (d, d) complex ndarray."""
        if self.superop is not None:
            d = X.shape[0]
            return (self.superop @ X.reshape(-1, order="F")).reshape((d, d), order="F")
        A = self.op
        return self.rate * np.asarray((A @ X) @ A.conj().T)

    def matrix(self) -> sp.csr_array:
        """Column-stacked (d², d²) sparse matrix of 𝓙: γ Ā ⊗ A."""
        if self.superop is not None:
            return sp.csr_array(self.superop)
        A = sp.csr_array(self.op)
        return sp.csr_array(self.rate * sp.kron(A.conj(), A, format="csr"))

    def nnz(self) -> int:
        """Nonzeros of :meth:`matrix` (without building it)."""
        if self.superop is not None:
            return int(self.superop.nnz)
        n = int(self.op.nnz) if sp.issparse(self.op) else int(np.count_nonzero(self.op))
        return n * n


@dataclass(frozen=True)
class JumpCounting:
    """Counting on the jump terms of a generator: ``generator`` 𝓛, counted ``terms`` (JumpTerm),
    ``fields`` (FieldInfo per field)."""

    generator: Generator
    terms: tuple
    fields: tuple


@dataclass(frozen=True)
class SectorCounting:
    """Counting on a block of the generator closed under every jump (Pauli matrix or ν = 0 sector).

    Attributes:
        W: (n, n) the block of 𝓛 (columns: 𝓛 applied to the n sector elements).
        base: (n, n) its part that no jump changes the energy of (never tilted).
        edges: per bath, (energy-changing part of its block (n, n), increments (F, n, n)); every
            bath, counted or not, so that the tilt is base + Σ_b e^{s·ν_b}∘edges_b.
        fields: FieldInfo per field.
        stationary: (n,) the steady state in the sector, trace 1.
        trace: (n,) weights of the trace (1 on populations, 0 on coherences).
        method: "pauli", "davies-zero-sector" or "rate-matrix".
    """

    W: np.ndarray
    base: np.ndarray
    edges: tuple
    fields: tuple
    stationary: np.ndarray
    trace: np.ndarray
    method: str


@dataclass(frozen=True)
class _Sector:
    """A Davies generator's closed ν = 0 block: ``W``, per-bath ``blocks``, the ``energies`` E_i of
    the elements |i⟩⟨k|, the ``trace`` weights, ``kind``, ``tol`` (energy grouping) and the
    ``state`` in the sector."""

    W: np.ndarray
    blocks: tuple
    energies: np.ndarray
    trace: np.ndarray
    kind: str
    tol: float
    state: np.ndarray

    def gain(self) -> np.ndarray:
        """[m, n]: energy the system gains when element n jumps to element m (0 within a level)."""
        g = self.energies[:, None] - self.energies[None, :]
        return np.where(np.abs(g) <= self.tol, 0.0, g)


# -- parsing ---------------------------------------------------------------------------------------
def _is_superop_pairs(counting) -> bool:
    return (isinstance(counting, (list, tuple)) and len(counting) > 0
            and all(isinstance(p, tuple) and len(p) == 2 and not isinstance(p[0], (str, int)) for p in counting))


def _field_list(counting) -> list:
    if isinstance(counting, Mapping):
        return [counting]
    if _is_superop_pairs(counting):
        return [list(counting)]
    if isinstance(counting, (list, tuple)) and counting and all(
            isinstance(c, Mapping) or _is_superop_pairs(c) for c in counting):
        return [c if isinstance(c, Mapping) else list(c) for c in counting]
    raise InputError("`counting` must be a dict {channel name or index: 'energy' | 'number' | weights per jump}, "
                     "a list of (jump superoperator, weight) pairs, or a list of such fields (joint counting); "
                     f"got {type(counting).__name__}: {counting!r}"[:400])


def _channel(channels, key, what: str):
    names = [c[0] for c in channels]
    if isinstance(key, (bool, np.bool_)) or not isinstance(key, (str, int, np.integer)):
        raise InputError(f"`counting` keys must be channel names or indices, got {key!r} in {what}")
    if isinstance(key, str):
        if key not in names:
            raise InputError(f"`counting`: unknown channel {key!r} in {what}; the generator's channels are "
                             f"{names}")
        return names.index(key)
    if not 0 <= int(key) < len(names):
        raise InputError(f"`counting`: channel index {key} out of range in {what}; the generator has "
                         f"{len(names)} channels {names}")
    return int(key)


def _bohr_frequency(H, A, name: str) -> float:
    """ω with [H, A] = −ωA (A lowers the energy by ω); InputError if A is not an eigenoperator."""
    C = H @ A - A @ H
    nA = float(sp.linalg.norm(A) if sp.issparse(A) else np.linalg.norm(A))
    if nA == 0:
        return 0.0
    inner = (A.conj().multiply(C)).sum() if sp.issparse(A) else np.vdot(A, C)
    omega = -float(np.real(inner)) / nA ** 2
    R = C + omega * A
    res = float(sp.linalg.norm(R) if sp.issparse(R) else np.linalg.norm(R))
    nH = float(sp.linalg.norm(H) if sp.issparse(H) else np.linalg.norm(H))
    if res > EIGENOPERATOR_RTOL * max(nH, 1e-300) * nA:
        raise InputError(f"`counting`: {name} is not an eigenoperator of H (‖[H, A] + ωA‖/(‖H‖‖A‖) = "
                         f"{res / (max(nH, 1e-300) * nA):.1e}), so the energy it transfers is not defined; "
                         "count it with explicit weights per jump instead of 'energy'/'number'")
    return omega


def _mode_or_weights(value, cname: str):
    if isinstance(value, str):
        if value not in _MODES:
            raise InputError(f"`counting[{cname!r}]` must be 'energy', 'number' or weights per jump, got {value!r}")
        return value, None
    try:
        w = np.asarray(_to_array(value, f"counting[{cname!r}]"), dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"`counting[{cname!r}]` must be 'energy', 'number' or real weights, got {value!r}") from exc
    if not np.all(np.isfinite(w)):
        raise InputError(f"`counting[{cname!r}]` weights must be finite, got {w}")
    return "weights", w


def _number(omega: np.ndarray, tol: float) -> np.ndarray:
    return np.where(np.abs(omega) <= tol, 0.0, -np.sign(omega))


def _lindblad_terms(gen: Lindbladian, cname: str, mode: str, w, H, F: int, f: int, i: int):
    jumps, rates = gen.jumps, gen.rates
    K = len(jumps)
    if mode == "weights":
        if w.ndim == 0:
            w = np.full(K, float(w))
        if w.shape != (K,):
            raise InputError(f"`counting[{cname!r}]` must give one weight per jump of channel {cname!r} "
                             f"({K} jump(s)), got shape {w.shape}")
        nu = w
        freqs = ()
    else:
        if H is None:
            raise InputError(f"`counting[{cname!r}]` = {mode!r} needs the system Hamiltonian, but the generator "
                             "has none: pass weights per jump")
        omega = np.array([_bohr_frequency(H, A, f"jump {k} of channel {cname!r}") for k, A in enumerate(jumps)])
        scale = max(float(np.max(np.abs(omega))), 1e-300)
        nu = -omega if mode == "energy" else _number(omega, 1e-10 * scale)
        freqs = tuple(sorted({round(abs(x), 12) for x in omega[nu != 0]})) if mode == "number" else ()
    terms = []
    for k, (A, g, v) in enumerate(zip(jumps, rates, nu)):
        if g and v:
            weights = np.zeros(F)
            weights[f] = v
            terms.append(JumpTerm(weights, op=A, rate=float(g), key=("jump", i, k)))
    return terms, freqs


def _davies_terms(gen: DaviesGenerator, cname: str, mode: str, w, F: int, f: int, i: int):
    """Jump terms γ(ω) A(ω)·A(ω)† of a Davies bath (original basis), grouped by Bohr frequency."""
    if mode == "weights":
        raise InputError(f"`counting[{cname!r}]`: per-transition weights of a Davies bath need a non-degenerate "
                         "spectrum (Pauli form); use 'energy' or 'number' here")
    eb = gen.eigenbasis
    E, V = eb.energies, eb.vectors
    (St,) = gen.coupling_operators
    (bath,) = gen.baths
    om = E[None, :] - E[:, None]                     # ω_ij = E_j − E_i: j → i lowers by ω
    rows, cols = np.nonzero(np.abs(St) > 0)
    terms, freqs = [], set()
    if rows.size == 0:
        return terms, ()
    order = np.argsort(om[rows, cols], kind="stable")
    rows, cols = rows[order], cols[order]
    vals = om[rows, cols]
    labels = np.concatenate([[0], np.cumsum(np.diff(vals) > eb.tol)])   # one label per Bohr frequency
    for g in range(int(labels[-1]) + 1):
        r, c = rows[labels == g], cols[labels == g]
        center = float(np.mean(om[r, c]))
        if abs(center) <= eb.tol:
            continue                                  # ω = 0 (dephasing) transfers nothing
        A = np.zeros(St.shape, dtype=np.complex128)
        A[r, c] = St[r, c] * np.sqrt(bath.rate(om[r, c]))
        nu = -center if mode == "energy" else -np.sign(center)
        freqs.add(round(abs(center), 12))
        weights = np.zeros(F)
        weights[f] = nu
        terms.append(JumpTerm(weights, op=V @ A @ V.conj().T, rate=1.0, key=("bohr", i, g)))
    return terms, tuple(sorted(freqs)) if mode == "number" else ()


def _superop_terms(pairs, d: int, F: int, f: int):
    terms = []
    for k, pair in enumerate(pairs):
        J, nu = pair
        M = as_operator(J, f"counting[{k}][0] (jump superoperator)", dim=d * d)
        if isinstance(nu, (bool, np.bool_)) or not np.isscalar(nu) or not np.isfinite(float(np.real(nu))):
            raise InputError(f"`counting[{k}][1]` must be a finite real weight, got {nu!r}")
        weights = np.zeros(F)
        weights[f] = float(nu)
        if weights[f]:
            terms.append(JumpTerm(weights, superop=sp.csr_array(M), key=("superoperator", id(J))))
    return terms


def _sector_or_none(L: Generator) -> _Sector | None:
    """The Pauli matrix (non-degenerate levels) or the ν = 0 block of a Davies generator, else None."""
    if not isinstance(L, DaviesGenerator):
        return None
    eb = L.eigenbasis
    try:
        W = L.pauli_rate_matrix.matrix
    except InputError:                                # degenerate levels couple populations and coherences
        rows, cols, M0, per = L.zero_sector()
        n = rows.shape[0]
        config.check_memory(16.0 * n * n * (len(per) + 3), f"the ν = 0 sector of the Davies generator (n0 = {n})",
                            "a smaller system")
        X = eb.to_eigen(steady_state(L).state)
        return _Sector(M0.toarray(), tuple(b.toarray() for b in per), eb.energies[rows],
                       (rows == cols).astype(float), "davies-zero-sector", eb.tol, X[rows, cols])
    blocks = tuple(ch.pauli_rate_matrix.matrix for ch in L.channels)
    return _Sector(W, blocks, eb.energies, np.ones(L.dim), "pauli", eb.tol, RateMatrix(W).stationary())


def resolve_counting(L, counting) -> SectorCounting | JumpCounting:
    """The counted jumps and increments of ``counting`` on ``L`` (module docstring).

    Args:
        L: Generator, d²×d² matrix, or :class:`~detbal.classical.RateMatrix` (then ``counting`` is a
            (d, d) array of increments ν[m, n] for n → m, or a list of such arrays).
        counting: one field (dict or list of superoperator pairs) or a list of fields.

    Returns:
        SectorCounting (Davies generators, rate matrices) or JumpCounting.

    Raises:
        InputError: unknown channel, a channel without jumps, weights of the wrong length, a
            channel without a jump form, jumps that are not eigenoperators under 'energy'/'number',
            a field that counts nothing.
    """
    if isinstance(L, RateMatrix):
        return _classical(L, counting)
    L = as_generator(L)
    fields_spec = _field_list(counting)
    F = len(fields_spec)
    explicit = any(isinstance(spec, list) for spec in fields_spec)   # superoperators: the jump path
    sector = None if explicit else _sector_or_none(L)
    channels = bath_channels(L)
    infos, terms, edges = [], [], []
    for f, spec in enumerate(fields_spec):
        what = f"field {f}" if F > 1 else "the field"
        if isinstance(spec, list):
            terms += _superop_terms(spec, L.dim, F, f)
            infos.append(FieldInfo(f"field {f}" if F > 1 else "jumps", (("superoperators", None, "weights"),)))
            if not any(t.weights[f] for t in terms):
                raise InputError(f"`counting`: {what} gives weight 0 to every jump superoperator: it counts nothing")
            continue
        if not spec:
            raise InputError(f"`counting`: {what} is empty; name at least one channel, e.g. {{'hot': 'energy'}}")
        parts, freqs, labels = [], set(), []
        for key, value in spec.items():
            i = _channel(channels, key, what)
            cname, gen, beta = channels[i]
            mode, w = _mode_or_weights(value, cname)
            parts.append((cname, beta, mode))
            labels.append(f"{cname}:{mode}")
            if sector is not None:
                Wb, nu, fr = _sector_edges(sector, i, cname, mode, w, F, f)
                edges.append((i, Wb, nu))
                freqs.update(fr)
                continue
            if isinstance(gen, Lindbladian):
                if not gen.jumps or not np.any(gen.rates):
                    raise InputError(f"`counting`: channel {cname!r} has no jumps to count")
                new, fr = _lindblad_terms(gen, cname, mode, w, L.hamiltonian, F, f, i)
            elif isinstance(gen, DaviesGenerator):
                new, fr = _davies_terms(gen, cname, mode, w, F, f, i)
            else:
                raise InputError(f"`counting`: channel {cname!r} is a {type(gen).__name__}, which has no jump "
                                 "(GKSL) form 𝓛_b(ρ) = Σ_k γ_k (A_k ρ A_k† − ½{A_k†A_k, ρ}), so its jumps cannot "
                                 "be counted; count explicit jump superoperators: counting=[(J, weight), ...]")
            terms += new
            freqs.update(fr)
        counted = (any(np.any(nu[f]) for _, _, nu in edges) if sector is not None
                   else any(t.weights[f] for t in terms))
        if not counted:
            raise InputError(f"`counting`: {what} ({', '.join(labels)}) gives increment 0 to every jump "
                             "(e.g. 'energy' of pure dephasing): it counts nothing")
        infos.append(FieldInfo(" + ".join(labels), tuple(parts), tuple(sorted(freqs))))
    if sector is not None:
        counted = {i for i, _, _ in edges}
        n = sector.W.shape[0]
        jump = sector.gain() != 0
        for i, Wb in enumerate(sector.blocks):      # uncounted baths too: the tilt is then built without
            if i not in counted:                    # subtracting rates (no cancellation at large |s·ν|)
                edges.append((i, np.where(jump, Wb, 0), np.zeros((F, n, n))))
        base = np.where(jump, 0, sector.W)
        x = sector.state / np.dot(sector.trace, sector.state)
        return SectorCounting(sector.W, base, tuple(_merge_edges(edges)), tuple(infos), x, sector.trace,
                              sector.kind)
    return JumpCounting(L, tuple(_merge_terms(terms)), tuple(infos))


def _merge_edges(edges):
    """One entry per bath (a bath counted by several fields carries one increment row per field)."""
    out: dict = {}
    for i, Wb, nu in edges:
        out[i] = (Wb, nu) if i not in out else (out[i][0], out[i][1] + nu)
    return list(out.values())


def _merge_terms(terms):
    """One JumpTerm per jump (``key``), its weights summed over the fields that count it."""
    out: dict = {}
    for t in terms:
        out[t.key] = t if t.key not in out else replace(out[t.key], weights=out[t.key].weights + t.weights)
    return list(out.values())


def _sector_edges(sector: _Sector, i: int, cname: str, mode: str, w, F: int, f: int):
    """(energy-changing part of bath i's block, increments (F, n, n), frequencies) for field f."""
    gain = sector.gain()
    off = np.where(gain != 0, sector.blocks[i], 0)
    if not np.any(off):
        raise InputError(f"`counting`: channel {cname!r} has no jumps between levels to count")
    n = gain.shape[0]
    if mode == "energy":
        nu = gain
    elif mode == "number":
        nu = np.sign(gain)
    else:
        if sector.kind != "pauli":
            raise InputError(f"`counting[{cname!r}]`: per-transition weights of a Davies bath need a "
                             "non-degenerate spectrum (Pauli form); use 'energy' or 'number' here")
        if w.shape != (n, n):
            raise InputError(f"`counting[{cname!r}]`: per-transition weights of a Davies bath must be a "
                             f"({n}, {n}) array ν[m, n] for n → m (energies ascending), got shape {w.shape}")
        nu = w
    full = np.zeros((F, n, n))
    full[f] = nu
    freqs = tuple(sorted({round(abs(x), 12) for x in gain[(off != 0) & (nu != 0)]})) if mode == "number" else ()
    return off, full, freqs


def _classical(W: RateMatrix, counting) -> SectorCounting:
    try:
        stack = np.asarray(counting, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"`counting` for a rate matrix must be a real (d, d) array of increments, got {counting!r}"
                         [:300]) from exc
    specs = [stack] if stack.ndim == 2 else list(stack) if stack.ndim == 3 else [stack]
    M = W.matrix
    d = W.dim
    off = M - np.diag(np.diagonal(M))
    full = np.zeros((len(specs), d, d))
    infos = []
    for f, c in enumerate(specs):
        a = np.asarray(_to_array(c, "counting"))
        if a.shape != (d, d) or not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
            raise InputError(f"`counting` for a rate matrix must be a real ({d}, {d}) array of increments "
                             f"ν[m, n] for the jump n → m (or a list of them), got {c!r}"[:300])
        if not np.all(np.isfinite(a)):
            raise InputError("`counting` increments must be finite")
        if not np.any(a * (off > 0)):
            raise InputError(f"`counting`: field {f} gives increment 0 to every jump of the rate matrix")
        full[f] = a
        infos.append(FieldInfo(f"field {f}" if len(specs) > 1 else "edges", (("edges", None, "weights"),)))
    return SectorCounting(M, np.diag(np.diagonal(M)), ((off, full),), tuple(infos), W.stationary(),
                          np.ones(d), "rate-matrix")
