"""Quantum detailed balance: is 𝓛 self-adjoint in a σ-weighted inner product? (THEORY.md §4)

For faithful σ and s ∈ [0, 1], ⟨A, B⟩_s = Tr[A† σ^s B σ^{1−s}] (s = ½ KMS, s = 1 GNS). detbal
says detailed balance holds when 𝓛 − 𝓛̃_s = −2i[K, ·] with K Hermitian and [K, σ] = 0, i.e. the
dissipative part is σ-self-adjoint and the coherent part commutes with σ (Alicki; KFGV).

Everything is computed on the σ-transformed generator 𝓛̂ = Γ_s^{−1/2} 𝓛 Γ_s^{1/2} in the
eigenbasis of σ, whose entries are
    𝓛̂_{(ij),(kl)} = 𝓛_{(ij),(kl)} · exp([s(log p_k − log p_i) + (1 − s)(log p_l − log p_j)]/2),
with the exponent evaluated as one number: σ⁻¹ is never formed, so β·ΔE = 1000 is harmless.

Residuals (all relative, reported in :class:`~detbal.reports.BalanceReport`):
- K is extracted from the s-antisymmetric part 𝓐̂ = (𝓛̂ − 𝓛̂†)/2 by the partial-trace map
  T(𝓐) = Σ_ij 𝓐(|i⟩⟨j|)|j⟩⟨i| = −i d K + i Tr(K) I (never from the GKSL normal form).
- dissipative_residual = ‖𝓓̂ − 𝓓̂†‖_F/‖𝓓̂‖_F with 𝓓̂ = 𝓛̂ + i[K, ·]; this is 2‖𝓐̂ + i[K,·]‖/‖𝓓̂‖,
  the part of the antisymmetric generator that is not a commutator. (Dissipators smaller than
  1e-6·‖𝓛̂‖_F are measured against that floor so that round-off is never mistaken for a violation.)
- hamiltonian_residual = ‖[K, σ]‖_F/(‖K‖_F‖σ‖_F): the coherent part does not commute with σ.
- residual = max of the two; holds ⇔ residual ≤ tolerance.
- symmetric_residual = ‖𝓛̂ − 𝓛̂†‖_F/‖𝓛̂‖_F (K = 0 case); stationary_residual = ‖𝓛(σ)‖/(‖𝓛̂‖‖σ‖).

Note on the split: THEORY.md §4 adds the non-commutator part of 𝓐̂ to the Hamiltonian residual as
well; detbal keeps it only in the dissipative residual, so that a wrong rate ratio blames the
dissipator and a non-σ-commuting Hamiltonian blames the Hamiltonian part, never both.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from . import config
from ._checks import as_beta, as_choice, as_state
from .eigenbasis import eigenbasis
from .errors import InputError, NotFaithfulError
from .generators.base import Generator, SumGenerator, as_generator
from .generators.lindblad import Lindbladian
from .reports import BalanceReport, ChannelBalance
from .states import log_gibbs_populations

__all__ = ["detailed_balance", "ReferenceState", "reference_state", "inner_parameter"]

DEFAULT_TOLERANCE = 1e-8
DENSE_MAX_DIM = 64
_EXP_CLIP = 300.0  # exponents above this mark a violation anyway; keep squares finite
_FLOOR = 1e-6


@dataclass(frozen=True, eq=False)
class ReferenceState:
    """σ = V diag(p) V† with log p known exactly (no underflow): the reference of a DB test.

    Attributes:
        vectors: (d, d) eigenvectors V of σ.
        log_p: (d,) log-populations (finite: σ is faithful).
        label: description used in reports, e.g. "gibbs(beta=1)".
    """

    vectors: np.ndarray
    log_p: np.ndarray
    label: str

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


def reference_state(L: Generator, beta=None, state=None, inner_label: str = "kms") -> ReferenceState:
    """Resolve the reference state of a DB test from ``beta`` (Gibbs of ``L.hamiltonian``) or
    ``state`` (a density matrix). Raises NotFaithfulError when σ is not full rank."""
    if (beta is None) == (state is None):
        raise InputError("give exactly one of `beta` (Gibbs state of the generator's Hamiltonian) or `state`")
    need = (f"the {inner_label.upper()} inner product ⟨A,B⟩_s = Tr[A† σ^s B σ^(1−s)] and the σ-dual "
            "of the generator need σ⁻¹, so σ must be full rank")
    if beta is not None:
        b = as_beta(beta)
        H = L.hamiltonian
        if H is None:
            raise InputError("`beta` needs the system Hamiltonian, but this generator has none "
                             "(built from a matrix): pass `state=` or as_generator(M, hamiltonian=H)")
        eb = eigenbasis(H)
        log_p = log_gibbs_populations(eb, b)
        if not np.all(np.isfinite(log_p)):
            raise NotFaithfulError(f"the Gibbs state at beta = {b} is not faithful (zero temperature "
                                   f"projects on the ground space); {need}")
        return ReferenceState(eb.vectors, log_p, f"gibbs(beta={b:g})")
    if isinstance(state, str):
        raise InputError(f"`state` must be a density matrix, got {state!r}")
    sigma = as_state(state, "state", dim=L.dim)
    p, V = np.linalg.eigh(sigma)
    if p[0] <= 1e-14 * p[-1]:
        raise NotFaithfulError(f"`state` is not full rank (smallest eigenvalue {p[0]:.2e}); {need}")
    return ReferenceState(V, np.log(p), "state")


# -- the σ-transformed generator in the eigenbasis of σ ------------------------------------------
def _eigenframe(L: Generator, V: np.ndarray) -> np.ndarray:
    """Column-stacked matrix of the map X ↦ V† 𝓛(V X V†) V (the generator in σ's eigenbasis)."""
    d = L.dim
    config.check_memory(3 * config.superoperator_bytes(d), f"dense detailed-balance test (d = {d})",
                        "detailed_balance(..., method='probe')")
    if isinstance(L, Lindbladian):
        rot = lambda A: V.conj().T @ (A @ V)  # noqa: E731
        return Lindbladian(rot(L.hamiltonian), [rot(A) for A in L.jumps], L.rates).to_dense()
    if isinstance(L, SumGenerator):
        return sum(_eigenframe(t, V) for t in L.terms)
    T = L.to_dense().reshape((d, d, d, d), order="F")  # T[a,b,c,e] = M[a+db, c+de]
    T = np.einsum("ai,abce->ibce", V.conj(), T, optimize=True)
    T = np.einsum("bj,ibce->ijce", V, T, optimize=True)
    T = np.einsum("ck,ijce->ijke", V, T, optimize=True)
    T = np.einsum("el,ijke->ijkl", V.conj(), T, optimize=True)
    return T.reshape((d * d, d * d), order="F")


def _hat(M: np.ndarray, log_p: np.ndarray, s: float) -> np.ndarray:
    """Entrywise Γ_s^{−1/2} ∘ 𝓛 ∘ Γ_s^{1/2} in σ's eigenbasis (module docstring formula)."""
    d = log_p.shape[0]
    lp_row = np.tile(log_p, d)  # index i + d·j ↦ log p_i
    lp_col = np.repeat(log_p, d)  # index i + d·j ↦ log p_j
    expo = (s * (lp_row[None, :] - lp_row[:, None]) + (1 - s) * (lp_col[None, :] - lp_col[:, None])) / 2
    factor = np.exp(np.minimum(expo, _EXP_CLIP))
    return np.where(M == 0, 0.0, M * factor)


def _commutator_matrix(K: np.ndarray) -> np.ndarray:
    """Column-stacked matrix of X ↦ −i[K, X]."""
    d = K.shape[0]
    eye = np.eye(d)
    return -1j * (np.kron(eye, K) - np.kron(K.T, eye))


@dataclass(frozen=True)
class _Residuals:
    dissipative: float
    hamiltonian: float
    symmetric: float
    stationary: float
    K: np.ndarray
    norm_hat: float
    antisym_norm: float


def _residuals(Lh: np.ndarray, log_p: np.ndarray, M: np.ndarray) -> _Residuals:
    d = log_p.shape[0]
    norm = float(np.linalg.norm(Lh))
    if norm == 0:
        zero = np.zeros((d, d), complex)
        return _Residuals(0.0, 0.0, 0.0, 0.0, zero, 0.0, 0.0)
    A = (Lh - Lh.conj().T) / 2
    A4 = A.reshape((d, d, d, d), order="F")
    T = np.einsum("ajbj->ab", A4)
    K = 1j / d * (T - np.trace(T) / d * np.eye(d))
    K = (K + K.conj().T) / 2
    C = _commutator_matrix(K)
    D_hat = Lh - C
    remainder = float(np.linalg.norm(A - C))
    d_norm = max(float(np.linalg.norm(D_hat)), _FLOOR * norm)
    dissipative = 2 * remainder / d_norm
    p = np.exp(log_p)
    comm = K * (p[None, :] - p[:, None])  # [K, σ] in σ's eigenbasis
    k_norm = max(float(np.linalg.norm(K)), _FLOOR * norm / math.sqrt(2 * d))
    hamiltonian = float(np.linalg.norm(comm)) / (k_norm * float(np.linalg.norm(p)))
    symmetric = 2 * float(np.linalg.norm(A)) / norm
    L_sigma = M @ np.diag(p).reshape(-1, order="F")
    stationary = float(np.linalg.norm(L_sigma)) / (norm * float(np.linalg.norm(p)))
    return _Residuals(dissipative, hamiltonian, symmetric, stationary, K, norm, float(np.linalg.norm(A - C)))


# -- channels: the parts that can be blamed ------------------------------------------------------
def _partner_groups(L: Lindbladian) -> list[tuple[str, list[int]]]:
    """Group jumps with their adjoint partner (A_l ∝ A_k†); Hermitian jumps stand alone."""
    jumps = [A.toarray() if hasattr(A, "toarray") else A for A in L.jumps]
    left = list(range(len(jumps)))
    groups = []
    while left:
        k = left.pop(0)
        Ak = jumps[k]
        partner = None
        for l in left:
            Al, Bk = jumps[l], Ak.conj().T
            denom = np.vdot(Bk, Bk)
            if denom == 0:
                continue
            c = np.vdot(Bk, Al) / denom
            if np.linalg.norm(Al - c * Bk) <= 1e-10 * max(np.linalg.norm(Al), 1e-300):
                partner = l
                break
        if partner is not None:
            left.remove(partner)
            groups.append((f"jump pair {L.names[k]}/{L.names[partner]}", [k, partner]))
        else:
            herm = np.linalg.norm(Ak - Ak.conj().T) <= 1e-10 * max(np.linalg.norm(Ak), 1e-300)
            groups.append((f"{'jump' if herm else 'lone jump'} {L.names[k]}", [k]))
    return groups


def _channel_parts(L: Generator) -> list[tuple[str, Generator]]:
    if isinstance(L, Lindbladian):
        if len(L.jumps) == 0:
            return []
        zero = np.zeros((L.dim, L.dim), complex)
        return [(name, Lindbladian(zero, [L.jumps[k] for k in idx], L.rates[idx]))
                for name, idx in _partner_groups(L)]
    if isinstance(L, SumGenerator):
        return [part for t in L.terms for part in _channel_parts(t)]
    chans = L.channels
    if len(chans) == 1 and chans[0] is L:
        return []
    return [(c.name, c) for c in chans]


def _channel_report(parts, ref: ReferenceState, s: float, tolerance: float) -> tuple[ChannelBalance, ...]:
    rows = []
    for name, part in parts:
        M = _eigenframe(part, ref.vectors)
        r = _residuals(_hat(M, ref.log_p, s), ref.log_p, M)
        rows.append((name, max(r.dissipative, r.hamiltonian), r.antisym_norm ** 2))
    total = sum(w for _, _, w in rows)
    out = [ChannelBalance(name, res, (w / total) if total > 0 and res > tolerance else 0.0, res <= tolerance)
           for name, res, w in rows]
    return tuple(sorted(out, key=lambda c: (-c.contribution, -c.residual)))


# -- public entry point --------------------------------------------------------------------------
def detailed_balance(L, beta=None, *, state=None, inner="kms", tolerance: float = DEFAULT_TOLERANCE,
                     method: str = "auto") -> BalanceReport:
    """Test quantum detailed balance of a generator w.r.t. a faithful reference state.

    Args:
        L: a Generator, or a d²×d² matrix / QuTiP superoperator (then pass ``state=``).
        beta: reference σ = gibbs_state(L.hamiltonian, beta).
        state: reference σ as a (d, d) density matrix (full rank).
        inner: "kms" (s = ½, default), "gns" (s = 1) or a number s ∈ [0, 1].
        tolerance: ``holds`` ⇔ residual ≤ tolerance (default 1e-8).
        method: "auto" or "dense" (the d²×d² σ-transformed generator, d ≤ 64 for "auto").

    Returns:
        BalanceReport with the verdict, the dissipative/Hamiltonian split, the stationarity of σ
        and per-channel verdicts (a bath, or a jump grouped with its adjoint partner).

    Raises:
        NotFaithfulError: σ not full rank. MemoryBudgetError: the dense test does not fit.

    Example:
        >>> import numpy as np
        >>> from detbal import Lindbladian
        >>> w, b = 1.0, 0.5
        >>> sm = np.array([[0, 1], [0, 0]])
        >>> L = Lindbladian(np.diag([0, w]), [sm, sm.T], [1.0, np.exp(-b * w)])
        >>> detailed_balance(L, beta=b).holds
        True
    """
    L = as_generator(L)
    s, label = inner_parameter(inner)
    tol = float(tolerance)
    if not (tol > 0 and math.isfinite(tol)):
        raise InputError(f"`tolerance` must be a positive finite number, got {tolerance!r}")
    method = as_choice(method, "method", ("auto", "dense"))
    ref = reference_state(L, beta=beta, state=state, inner_label=label)
    M = _eigenframe(L, ref.vectors)
    r = _residuals(_hat(M, ref.log_p, s), ref.log_p, M)
    residual = max(r.dissipative, r.hamiltonian)
    channels = _channel_report(_channel_parts(L), ref, s, tol)
    return BalanceReport(
        holds=residual <= tol,
        residual=residual,
        dissipative_residual=r.dissipative,
        hamiltonian_residual=r.hamiltonian,
        symmetric=r.symmetric <= tol,
        symmetric_residual=r.symmetric,
        stationary_residual=r.stationary,
        inner=label,
        method="dense",
        tolerance=tol,
        reference=ref.label,
        channels=channels,
    )
