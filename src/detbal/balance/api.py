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

Methods: "dense" builds 𝓛̂ (d ≤ 64); "structured" uses the Bohr-sector blocks of a Davies generator
or, for a Lindbladian, the exact Frobenius norms of the operator sums of 𝓛̂, 𝓓̂ and 𝓓̂ − 𝓓̂†
(:mod:`detbal._operator_sum`, O(d²) memory, the numbers of "dense" to round-off, with the same
clipping of σ-scaling factors at e^150); "probe" estimates
the norms with random probes for generators known only through apply/adjoint (THEORY §8).

Note on the split: THEORY.md §4 adds the non-commutator part of 𝓐̂ to the Hamiltonian residual as
well; detbal keeps it only in the dissipative residual, so that a wrong rate ratio blames the
dissipator and a non-σ-commuting Hamiltonian blames the Hamiltonian part, never both.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from .. import config
from .channels import channel_notes, channel_parts, flat_jumps, partner_groups, rows_to_channels
from .._checks import as_beta, as_choice, as_state
from ..eigenbasis import eigenbasis
from ..errors import InputError, NotFaithfulError
from ..generators.base import Generator, SumGenerator, as_generator
from ..generators.lindblad import Lindbladian, lindblad_terms
from ..reports import BalanceReport
from ..states import log_gibbs_populations

__all__ = ["ReferenceState", "detailed_balance", "inner_parameter", "reference_state"]

DEFAULT_TOLERANCE = 1e-8
_FLOOR = 1e-6


@dataclass(frozen=True, eq=False)
class ReferenceState:
    """σ = V diag(p) V† with log p known exactly (no underflow): the reference of a DB test.

    Attributes:
        vectors: (d, d) eigenvectors V of σ.
        log_p: (d,) log-populations (finite: σ is faithful).
        label: description used in reports, e.g. "gibbs(beta=1)".
        energies: (d,) eigenvalues of the Hamiltonian when σ is its Gibbs state (that Hamiltonian
            is then diag(energies) in σ's eigenbasis), else None.
    """

    vectors: np.ndarray
    log_p: np.ndarray
    label: str
    energies: np.ndarray | None = None

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
        eb = L.eigenbasis if L.eigenbasis is not None else eigenbasis(H)
        log_p = log_gibbs_populations(eb, b)
        if not np.all(np.isfinite(log_p)):
            raise NotFaithfulError(f"the Gibbs state at beta = {b} is not faithful (zero temperature "
                                   f"projects on the ground space); {need}")
        energies = eb.energies if L.eigenbasis is None else None  # eb is then exactly that of H
        return ReferenceState(eb.vectors, log_p, f"gibbs(beta={b:g})", energies)
    if isinstance(state, str):
        raise InputError(f"`state` must be a density matrix, got {state!r}")
    sigma = as_state(state, "state", dim=L.dim)
    eb = L.eigenbasis
    if eb is not None:  # σ diagonal in the generator's own eigenbasis (e.g. a Davies steady state):
        X = eb.to_eigen(sigma)  # keep that basis, so the structured (Bohr-block) test applies
        p = np.diagonal(X).real
        off = np.abs(X - np.diag(np.diagonal(X))).max()
        if off <= 1e-12 * np.abs(p).max() and p.min() > 1e-14 * p.max():
            return ReferenceState(eb.vectors, np.log(p), "state")
    p, V = np.linalg.eigh(sigma)
    if p[0] <= 1e-14 * p[-1]:
        raise NotFaithfulError(f"`state` is not full rank (smallest eigenvalue {p[0]:.2e}); {need}")
    return ReferenceState(V, np.log(p), "state")


# -- the σ-transformed generator in the eigenbasis of σ ------------------------------------------
def _eigenframe(L: Generator, V: np.ndarray) -> np.ndarray:
    """Column-stacked matrix of the map X ↦ V† 𝓛(V X V†) V (the generator in σ's eigenbasis)."""
    d = L.dim
    config.check_memory(6 * config.superoperator_bytes(d), f"dense detailed-balance test (d = {d})",
                        "detailed_balance(..., method='probe')")
    if isinstance(L, Lindbladian):
        from .sigma_transform import hamiltonian_to_eigenbasis
        from ..eigenbasis import rotate_cleaned

        H = hamiltonian_to_eigenbasis(L.hamiltonian, V)
        return Lindbladian((H + H.conj().T) / 2, [rotate_cleaned(A, V) for A in L.jumps], L.rates).to_dense()
    if isinstance(L, SumGenerator):
        return sum(_eigenframe(t, V) for t in L.terms)
    T = L.to_dense().reshape((d, d, d, d), order="F")  # T[a,b,c,e] = M[a+db, c+de]
    T = np.einsum("ai,abce->ibce", V.conj(), T, optimize=True)
    T = np.einsum("bj,ibce->ijce", V, T, optimize=True)
    T = np.einsum("ck,ijce->ijke", V, T, optimize=True)
    T = np.einsum("el,ijke->ijkl", V.conj(), T, optimize=True)
    return T.reshape((d * d, d * d), order="F")


def _hat(M: np.ndarray, log_p: np.ndarray, s: float) -> np.ndarray:
    """Entrywise Γ_s^{−1/2} ∘ 𝓛 ∘ Γ_s^{1/2} in σ's eigenbasis (module docstring formula).

    The factor of entry (ij),(kl) is exp(f(k, l) − f(i, j)), f(i, j) = (s log p_i + (1 − s) log p_j)/2,
    i.e. the product of a left factor e^{(s/2)(log p_k − log p_i)} and a right factor
    e^{((1−s)/2)(log p_l − log p_j)}, each clipped at e^150 exactly as the operator-sum path clips
    σ^{−s/2}·σ^{s/2} and σ^{(1−s)/2}·σ^{−(1−s)/2} (:mod:`detbal._hatted`): both methods give the same
    numbers (clipping only touches violations of that size).
    """
    from .sigma_transform import scaling_factor

    left = scaling_factor(log_p, -s / 2)          # [i, k] = e^{(s/2)(log p_k − log p_i)}
    right = scaling_factor(log_p, (1 - s) / 2).T  # [j, l] = e^{((1−s)/2)(log p_l − log p_j)}
    return M * np.kron(right, left)               # column stacking: row i + d·j, column k + d·l


def _commutator_matrix(K: np.ndarray) -> np.ndarray:
    """Column-stacked matrix of X ↦ −i[K, X]."""
    d = K.shape[0]
    eye = np.eye(d)
    return -1j * (np.kron(eye, K) - np.kron(K.T, eye))


def _hamiltonian_residual(K: np.ndarray, log_p: np.ndarray, norm_hat: float) -> float:
    """‖[K, σ]‖_F/(‖K‖_F‖σ‖_F) in σ's eigenbasis; ‖K‖ floored at 1e-6‖𝓛̂‖_F/√(2d) (round-off)."""
    d = log_p.shape[0]
    p = np.exp(log_p)
    comm = K * (p[None, :] - p[:, None])
    k_norm = max(float(np.linalg.norm(K)), _FLOOR * norm_hat / math.sqrt(2 * d))
    if k_norm == 0:
        return 0.0
    return float(np.linalg.norm(comm)) / (k_norm * float(np.linalg.norm(p)))


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
    hamiltonian = _hamiltonian_residual(K, log_p, norm)
    symmetric = 2 * float(np.linalg.norm(A)) / norm
    L_sigma = M @ np.diag(p).reshape(-1, order="F")
    stationary = float(np.linalg.norm(L_sigma)) / (norm * float(np.linalg.norm(p)))
    return _Residuals(dissipative, hamiltonian, symmetric, stationary, K, norm, float(np.linalg.norm(A - C)))


def _dense_channel_rows(parts, ref: ReferenceState, s: float):
    rows = []
    for name, part, _ in parts:
        M = _eigenframe(part, ref.vectors)
        r = _residuals(_hat(M, ref.log_p, s), ref.log_p, M)
        rows.append((name, max(r.dissipative, r.hamiltonian), r.antisym_norm ** 2))
    return rows


# -- methods -------------------------------------------------------------------------------------
def _resolve_method(L: Generator, method: str, ref: ReferenceState, reversal) -> str:
    d = L.dim
    fits = 6 * config.superoperator_bytes(d) <= config.memory_budget
    davies = L.has_sector_structure and _shares_eigenbasis(L, ref)
    terms = lindblad_terms(L)
    lindblad = terms is not None
    if method == "auto":
        if reversal is not None:
            return "dense"
        if davies or (lindblad and _operator_sum_pays(terms, d)):
            return "structured"
        return "dense" if (fits and d <= config.DENSE_BALANCE_MAX_DIM) else "probe"
    if method == "structured" and not (davies or lindblad):
        raise InputError("method='structured' needs a Davies generator (with a reference state diagonal in "
                         "its energy eigenbasis, e.g. beta=...) or a Lindbladian (or a sum of them); "
                         "use method='dense' or 'probe'")
    if method in ("probe", "structured") and reversal is not None:
        raise InputError("`reversal` is supported by method='dense' only")
    return method


def _operator_sum_pays(terms, d: int) -> bool:
    """Whether "auto" takes the operator sums: they cost O(d²n²) for n jumps, the probe O(n·d³) per
    probe, so up to n = max(d, 16) jumps, and only if their working memory fits the budget."""
    from .operator_sum import certificate_bytes, count_operators

    n = sum(len(t.jumps) for t in terms)
    # at most n + 1 parts (jump groups and the coherent part): 1 + 2n + 3(n + 1) operators
    return n <= max(d, 16) and certificate_bytes(count_operators([n] + [0] * n), d) <= config.memory_budget


def _shares_eigenbasis(L, ref: ReferenceState) -> bool:
    eb = L.eigenbasis
    return eb is not None and ref.vectors is eb.vectors


def _dense_report(L, ref, s, tol, reversal):
    M = _eigenframe(L, ref.vectors)
    Lh = _hat(M, ref.log_p, s)
    if reversal is not None:
        return _reversal_residuals(L, ref, Lh, M, reversal)
    r = _residuals(Lh, ref.log_p, M)
    return r.dissipative, r.hamiltonian, r.symmetric, r.stationary, {}


def _reversal_residuals(L, ref, Lh, M, reversal):
    """DB with time reversal (THEORY §10): 𝓓̂† = 𝚯𝓓̂𝚯⁻¹ and 𝚯(K) = K, K the σ-commuting part of H."""
    from .sigma_transform import hamiltonian_to_eigenbasis, pinch
    from .reversal import TimeReversal

    if not isinstance(reversal, TimeReversal):
        raise InputError(f"`reversal` must be a TimeReversal, got {type(reversal).__name__}")
    if reversal.dim != L.dim:
        raise InputError(f"`reversal` acts on dimension {reversal.dim}, the generator on {L.dim}")
    V, lp = ref.vectors, ref.log_p
    sigma = ref.matrix()
    theta_sigma = reversal.apply(sigma)
    if np.linalg.norm(theta_sigma - sigma) > 1e-10 * np.linalg.norm(sigma):
        raise InputError("the reference state is not invariant under `reversal` (Θ σ Θ⁻¹ ≠ σ)")
    d = L.dim
    H = L.hamiltonian_part
    K = np.zeros((d, d), complex) if H is None else pinch(hamiltonian_to_eigenbasis(H, V), lp)
    D_hat = Lh + 1j * (np.kron(np.eye(d), K) - np.kron(K.T, np.eye(d)))
    theta = reversal.in_basis(V)
    norm = float(np.linalg.norm(Lh))
    d_norm = max(float(np.linalg.norm(D_hat)), _FLOOR * norm)
    dissipative = float(np.linalg.norm(D_hat.conj().T - theta.superoperator(D_hat))) / d_norm if norm else 0.0
    k_norm = max(float(np.linalg.norm(K)), _FLOOR * norm / math.sqrt(2 * d))
    theta_k = theta.U @ K.conj() @ theta.U.conj().T
    hamiltonian = float(np.linalg.norm(theta_k - K)) / k_norm if k_norm else 0.0
    plain = _residuals(Lh, lp, M)
    stationary = plain.stationary
    return dissipative, hamiltonian, plain.symmetric, stationary, {
        "reversal_square": reversal.square, "plain_residual": max(plain.dissipative, plain.hamiltonian)}


# -- public entry point --------------------------------------------------------------------------
def detailed_balance(L, beta=None, *, state=None, inner="kms", tolerance: float = DEFAULT_TOLERANCE,
                     method: str = "auto", reversal=None, probes: int = 8, seed=None) -> BalanceReport:
    """Test quantum detailed balance of a generator w.r.t. a faithful reference state.

    Args:
        L: a Generator, or a d²×d² matrix / QuTiP superoperator (then pass ``state=``).
        beta: reference σ = gibbs_state(L.hamiltonian, beta).
        state: reference σ as a (d, d) density matrix (full rank), or "stationary" for the
            generator's own steady state.
        inner: "kms" (s = ½, default), "gns" (s = 1) or a number s ∈ [0, 1].
        tolerance: ``holds`` ⇔ residual ≤ tolerance (default 1e-8).
        method: "auto" (structured for Davies generators and for Lindbladians with at most
            max(d, 16) jumps → dense if d ≤ 64 and it fits the memory budget → probe),
            "structured" (Davies: Bohr-sector blocks; Lindbladian: exact operator-sum norms in σ's
            eigenbasis, O(d²) memory, O(d²n²) time for n jumps), "dense" (the d²×d² σ-transformed
            generator) or "probe" (matrix-free random probes, THEORY §8).
        reversal: a :class:`~detbal.reversal.TimeReversal` Θ: test 𝓛̃_s = 𝚯∘𝓛∘𝚯⁻¹ (THEORY §10).
        probes, seed: number of complex Gaussian probes and RNG seed for method="probe".

    Returns:
        BalanceReport with the verdict, the dissipative/Hamiltonian split, the stationarity of σ
        and per-channel verdicts (a bath, or a jump grouped with its adjoint partner). When
        ``beta`` is given and Gibbs is not stationary, ``details["steady_state"]`` holds the
        verdict w.r.t. the generator's own steady state.

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
    tol = float(tolerance) if isinstance(tolerance, numbers.Real) else float("nan")
    if not (tol > 0 and math.isfinite(tol)):
        raise InputError(f"`tolerance` must be a positive finite number, got {tolerance!r}")
    method = as_choice(method, "method", ("auto", "dense", "probe", "structured"))
    if isinstance(probes, bool) or not isinstance(probes, numbers.Integral) or probes < 1:
        raise InputError(f"`probes` must be an integer ≥ 1, got {probes!r}")
    if isinstance(state, str):
        if state != "stationary":
            raise InputError(f"`state` must be a density matrix or 'stationary', got {state!r}")
        from ..linalg.steady import steady_state

        ref = reference_state(L, state=steady_state(L).state, inner_label=label)
        ref = ReferenceState(ref.vectors, ref.log_p, "steady state")
    else:
        ref = reference_state(L, beta=beta, state=state, inner_label=label)
    chosen = _resolve_method(L, method, ref, reversal)
    details: dict = {}
    error_bar = ""
    if chosen == "structured" and L.has_sector_structure and _shares_eigenbasis(L, ref):
        dis, ham, sym, stat, rows, details = _structured(L, ref, s)
    elif chosen == "structured":
        dis, ham, sym, stat, rows, details = _operator_sum(L, ref, s)
    elif chosen == "probe":
        dis, ham, sym, stat, rows, details, error_bar = _probe(L, ref, s, probes, seed)
    else:
        dis, ham, sym, stat, details = _dense_report(L, ref, s, tol, reversal)
        rows = [] if reversal is not None else _dense_channel_rows(channel_parts(L), ref, s)
    residual = float(max(dis, ham))
    holds = bool(residual <= tol)
    if chosen == "probe":
        holds = bool(max(details["residual_upper"], ham) <= tol)
    failing = {name for name, res, _ in rows if res > tol}
    channels = rows_to_channels(rows, tol, channel_notes(L, failing, ref, beta))
    if beta is not None and stat > tol and state is None:
        if L.dim <= config.DENSE_BALANCE_MAX_DIM or L.has_sector_structure:
            details["steady_state"] = _steady_state_verdict(L, s, label, tol)
        else:
            details["steady_state"] = {"holds": None, "reason": "Gibbs is not stationary; for d > 64 the "
                                       "steady-state verdict is not computed automatically: call "
                                       "detailed_balance(L, state='stationary')"}
    return BalanceReport(holds=holds, residual=residual, dissipative_residual=dis, hamiltonian_residual=ham,
                         symmetric=sym <= tol, symmetric_residual=sym, stationary_residual=stat, inner=label,
                         method=chosen, tolerance=tol, reference=ref.label, channels=channels,
                         error_bar=error_bar, details=details, reference_state=ref)


def _steady_state_verdict(L, s, label, tol) -> dict:
    """Verdict w.r.t. the generator's own steady state (when Gibbs is not stationary)."""
    from ..linalg.steady import steady_state
    from ..errors import DetbalError

    try:
        rep = detailed_balance(L, state=steady_state(L).state, inner=s, tolerance=tol)
    except DetbalError as exc:
        return {"holds": None, "reason": str(exc).splitlines()[0]}
    sentence = ("balanced w.r.t. its steady state, but that steady state is not the Gibbs state"
                if rep.holds else "not balanced w.r.t. its steady state either: the steady state carries currents")
    return {"holds": rep.holds, "residual": rep.residual, "inner": label, "summary": sentence}


def _probe(L, ref, s, probes, seed):
    from .probe import probe_certificate

    flat = flat_jumps(L)
    groups = [] if flat is None else partner_groups(flat)
    res = probe_certificate(L, ref.vectors, ref.log_p, s, groups, probes, seed)
    ham = _hamiltonian_residual(res.coherent_hamiltonian, ref.log_p, res.norm_hat)
    rows = [(name, res.channel_residuals[name], res.channel_weights[name]) for name in res.channel_residuals]
    stat = _stationary_matrix_free(L, ref)
    details = {"residual_upper": res.upper, "residual_lower": res.lower, "probes": res.probes}
    return res.residual, ham, res.symmetric, stat, rows, details, res.statement


def _stationary_matrix_free(L, ref) -> float:
    """‖𝓛(σ)‖_F/(‖𝓛‖_est ‖σ‖_F) with ‖𝓛‖ estimated from one Gaussian probe (matrix-free)."""
    sigma = ref.matrix()
    scale = L.norm_estimate(seed=0)
    if scale == 0:
        return 0.0
    return float(np.linalg.norm(L.apply(sigma))) / (scale * float(np.linalg.norm(sigma)))


def _structured_residuals(gen, ref: ReferenceState, s: float):
    """(dissipative, hamiltonian, symmetric, stationary, ‖𝓓̂ − 𝓓̂†‖²) from a Davies generator's
    block-by-block norms (no d²×d² matrix). K is its known coherent part H + H_LS.
    """
    n = gen.structured_balance(ref.log_p, s)
    d = gen.dim
    norm = math.sqrt(n["norm_hat"])
    if norm == 0:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    p_norm = float(np.linalg.norm(np.exp(ref.log_p)))
    d_norm = max(math.sqrt(n["dissipative_norm"]), _FLOOR * norm)
    dissipative = math.sqrt(n["dissipative_antisym"]) / d_norm
    k_norm = max(math.sqrt(n["k_norm"]), _FLOOR * norm / math.sqrt(2 * d))
    hamiltonian = math.sqrt(n["hamiltonian_commutator"]) / (k_norm * p_norm)
    symmetric = math.sqrt(n["antisym"]) / norm
    stationary = math.sqrt(n["stationary"]) / (norm * p_norm)
    return dissipative, hamiltonian, symmetric, stationary, n["dissipative_antisym"]


def _operator_sum(L, ref, s):
    """Exact certificate of a Lindbladian from operator-sum norms (:mod:`detbal._operator_sum`)."""
    from .sigma_transform import HattedLindblad, hamiltonian_to_eigenbasis, scaling_factor
    from ..eigenbasis import rotate_cleaned
    from .operator_sum import lindblad_certificate

    V, lp = ref.vectors, ref.log_p
    flat = flat_jumps(L)
    rates = flat.rates
    rotated = [rotate_cleaned(A, V) for A in flat.jumps]
    factors = (scaling_factor(lp, -s / 2), scaling_factor(lp, (1 - s) / 2))
    parts = [(name, HattedLindblad([rotated[k] for k in idx], rates[idx], lp, s, factors=factors))
             for name, idx in partner_groups(flat)]
    # σ = Gibbs of this very Hamiltonian: it is diag(E) in σ's eigenbasis, no rotation needed
    if ref.energies is not None and L.hamiltonian_part is L.hamiltonian:
        H = np.diag(ref.energies - ref.energies.mean()).astype(complex)
    else:
        H = hamiltonian_to_eigenbasis(L.hamiltonian_part, V)
    if np.linalg.norm(H) > 0:
        parts.append(("coherent part", HattedLindblad([], [], lp, s, hamiltonian=H, factors=factors)))
    if not parts:
        return 0.0, 0.0, 0.0, 0.0, [], {}
    cert = lindblad_certificate(parts, L.dim)

    def verdict(norms, K):
        norm = norms["hat"]
        if norm == 0:
            return 0.0, 0.0
        dis = norms["dissipative_antisym"] / max(norms["dissipator"], _FLOOR * norm)
        return dis, _hamiltonian_residual(K, lp, norm)

    total = cert["total"]
    dis, ham = verdict(total, cert["K"])
    norm = total["hat"]
    sym = total["antisym"] / norm if norm else 0.0
    p = np.exp(lp)
    L_sigma = sum(part.apply_to_diagonal(p) for _, part in parts)
    stat = float(np.linalg.norm(L_sigma)) / (norm * float(np.linalg.norm(p))) if norm else 0.0
    rows = []
    for name, part in parts:
        norms = cert["parts"][name]
        rows.append((name, max(verdict(norms, part.K)), norms["dissipative_antisym"] ** 2 / 4))
    return dis, ham, sym, stat, rows, {}


def _structured(L, ref, s):
    dis, ham, sym, stat, _ = _structured_residuals(L, ref, s)
    rows = []
    for ch in L.channels:
        c_dis, c_ham, _, _, weight = _structured_residuals(ch, ref, s)
        rows.append((ch.name, max(c_dis, c_ham), weight))
    return dis, ham, sym, stat, rows, {}
