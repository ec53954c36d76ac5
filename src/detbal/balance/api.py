"""Quantum detailed balance: is 𝓛 self-adjoint in a σ-weighted inner product?

For faithful σ and s ∈ [0, 1], ⟨A, B⟩_s = Tr[A† σ^s B σ^{1−s}] (s = ½ KMS, s = 1 GNS). detbal
says detailed balance holds when 𝓛 − 𝓛̃_s = −2i[K, ·] with K Hermitian and [K, σ] = 0, i.e. the
dissipative part is σ-self-adjoint and the coherent part commutes with σ (Alicki; KFGV).

Everything is computed on the σ-transformed generator 𝓛̂ = Γ_s^{−1/2} 𝓛 Γ_s^{1/2} in the
eigenbasis of σ (:mod:`.sigma_transform`), whose entries are
    𝓛̂_{(ij),(kl)} = 𝓛_{(ij),(kl)} · exp([s(log p_k − log p_i) + (1 − s)(log p_l − log p_j)]/2),
evaluated in the log domain and never clipped, so the verdict is exact at any β·ΔE (10⁴ included).
The residuals and the split of a violation between dissipator and Hamiltonian are defined in
:mod:`.residuals`; the reference state in :mod:`.reference`.

Methods (the table ``METHODS`` below: name → condition → implementation; "auto" takes the first
row whose auto-condition holds, an explicit method the first row of that name that applies):
"structured" uses the Bohr-sector blocks of a Davies generator or, for a Lindbladian, the exact
Frobenius norms of the operator sums of 𝓛̂, 𝓓̂ and 𝓓̂ − 𝓓̂† (:mod:`.operator_sum`, O(d²) memory,
the numbers of "dense" to round-off); a generator given as a GKSL form in its energy eigenbasis
(``has_eigenbasis_gksl``: exact Gibbs samplers) gets the same operator-sum certificate of its jumps
F_r and Hamiltonian B, with rows for its transition part and its loss + coherent part, when it has at
most max(d, 16) jumps, and probes beyond d = 32; "dense" builds 𝓛̂ (:mod:`.dense`, d ≤ 64); "probe"
estimates the norms with random probes for generators known only through apply/adjoint (:mod:`.probe`).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from .. import config
from .._checks import as_choice, frobenius, log_frobenius
from ..errors import InputError
from ..generators.base import Generator, as_generator
from ..generators.lindblad import lindblad_terms
from ..reports import BalanceReport
from .channels import channel_notes, channel_parts, flat_jumps, partner_groups, rows_to_channels
from ..eigenbasis import rotate_cleaned
from .dense import coherent_direction, dense_channel_rows, dense_residuals, reversal_residuals
from .operator_sum import certificate_bytes, count_operators, lindblad_certificate, split_gksl_rows
from .probe import probe_certificate
from .reference import ReferenceState, inner_parameter, reference_state
from .residuals import attributed_hamiltonian, floored, hamiltonian_residual, ratio
from .sigma_transform import SigmaTransformedLindblad, eigenframe, eigenframe_with_round_off, hamiltonian_to_eigenbasis
from ..errors import DetbalError
from ..linalg.steady import steady_state

__all__ = ["METHODS", "ReferenceState", "detailed_balance", "detailed_balance_inners", "inner_parameter",
           "reference_state"]

DEFAULT_TOLERANCE = 1e-8


@dataclass(frozen=True)
class _Certificate:
    """What a method returns: the four residuals, channel rows (name, residual, log weight) and extras."""

    dissipative: float
    hamiltonian: float
    symmetric: float
    stationary: float
    rows: list = field(default_factory=list)
    details: dict = field(default_factory=dict)
    error_bar: str = ""


# -- implementations -------------------------------------------------------------------------------
def _davies_sectors(L, ref: ReferenceState, s: float, probes, seed) -> _Certificate:
    """Davies generator: block-by-block norms of its Bohr sectors (no d²×d² matrix)."""
    dis, ham, sym, stat, log_weight = _sector_residuals(L, ref, s)
    if len(L.channels) == 1 and not L.lamb_shift:
        # the one channel is L's dissipator, with no coherent part of its own: its row is L's
        # dissipative residual (the same blocks; a second certificate would repeat them)
        return _Certificate(dis, ham, sym, stat, [(L.channels[0].name, dis, log_weight)])
    rows = []
    for ch in L.channels:
        c_dis, c_ham, _, _, log_weight = _sector_residuals(ch, ref, s)
        rows.append((ch.name, max(c_dis, c_ham), log_weight))
    return _Certificate(dis, ham, sym, stat, rows)


def _sector_residuals(gen, ref: ReferenceState, s: float):
    """(dissipative, hamiltonian, symmetric, stationary, log ‖𝓓̂ − 𝓓̂†‖²) from a Davies generator's
    ``structured_balance`` (squared norms times e^{−2 log_scale}); K is its coherent part H + H_LS."""
    n = gen.structured_balance(ref.log_p, s)
    d = gen.dim
    C = n.get("log_scale", 0.0)
    if n["norm_hat"] == 0:
        return 0.0, 0.0, 0.0, 0.0, -math.inf
    log_hat = 0.5 * math.log(n["norm_hat"]) + C
    half_log = lambda x: 0.5 * math.log(x) if x > 0 else -math.inf  # noqa: E731
    log_p_norm = log_frobenius(np.exp(ref.log_p))
    Cd = n.get("dissipative_log_scale", C)
    # 𝓓̂ is built from the dissipator's own blocks (no cancellation against the coherent part): its
    # round-off floor is relative to ‖𝓓̂‖ itself, so the verdict does not depend on its size
    log_dis = half_log(n["dissipative_norm"]) + Cd
    dissipative = ratio(half_log(n["dissipative_antisym"]) + Cd, floored(log_dis, log_dis))
    log_k = floored(half_log(n["k_norm"]), log_hat, 0.5 * math.log(2 * d))
    hamiltonian = ratio(half_log(n["hamiltonian_commutator"]), log_k + log_p_norm)
    symmetric = ratio(half_log(n["antisym"]) + C, log_hat)
    stationary = ratio(half_log(n["stationary"]), log_hat + log_p_norm)
    return dissipative, hamiltonian, symmetric, stationary, 2 * (half_log(n["dissipative_antisym"]) + Cd)


def _operator_sums(L, ref: ReferenceState, s: float, probes, seed) -> _Certificate:
    """Lindbladian: exact certificate from operator-sum norms (:mod:`.operator_sum`)."""
    V, lp = ref.vectors, ref.log_p
    flat = flat_jumps(L)
    rotated = [rotate_cleaned(A, V, ref.vector_error) for A in flat.jumps]
    parts = [(name, SigmaTransformedLindblad([rotated[k] for k in idx], flat.rates[idx], lp, s))
             for name, idx in partner_groups(flat)]
    # σ = Gibbs of this very Hamiltonian: it is diag(E) in σ's eigenbasis, no rotation needed
    if ref.energies is not None and L.hamiltonian_part is L.hamiltonian:
        H = np.diag(ref.energies - ref.energies.mean()).astype(complex)
    else:
        H = hamiltonian_to_eigenbasis(L.hamiltonian_part, V, ref.vector_error)
    return _parts_certificate(parts, H, lp, s, L.dim)


def _eigenbasis_gksl_sums(L, ref: ReferenceState, s: float, probes, seed) -> _Certificate:
    """A GKSL form given in σ's eigenbasis (exact Gibbs samplers): the operator-sum certificate of
    its jumps F_r and Hamiltonian B, with rows for the transition part and the loss + coherent part
    (each KMS-self-adjoint on its own for a sampler; :func:`.operator_sum.split_gksl_rows`)."""
    jumps, B = L.eigenbasis_gksl()
    part = SigmaTransformedLindblad(jumps, np.ones(len(jumps)), ref.log_p, s)
    del jumps  # the part keeps them (and their scaled copies L_r, R_r, reused for the rows)
    cert = _parts_certificate([("transition + loss", part)], B, ref.log_p, s, L.dim)
    return replace(cert, rows=split_gksl_rows(part, B, ref.log_p, s))


def _parts_certificate(parts, H: np.ndarray, lp: np.ndarray, s: float, d: int) -> _Certificate:
    """The exact certificate of σ-transformed Lindblad parts plus the coherent part −i[H, ·] (H in σ's
    eigenbasis)."""
    coherent = None
    if np.any(H):
        coherent = SigmaTransformedLindblad([], [], lp, s, hamiltonian=H)
        parts.append(("coherent part", coherent))
    if not parts:
        return _Certificate(0.0, 0.0, 0.0, 0.0)
    scales = [p.log_scale for _, p in parts if np.isfinite(p.log_scale)]
    shift = max(scales) if scales else 0.0
    k_h = None if coherent is None else coherent.K[0]
    # per part: its own K_p (the coherent part) or its σ-commuting part (a jump group)
    own = [attributed_hamiltonian(p.K_at(shift), p.K[0] if p is coherent else None, lp) for _, p in parts]
    live = [not p.pure_commutator for _, p in parts]
    K_live = attributed_hamiltonian(sum((p.K_at(shift) for (_, p), x in zip(parts, live) if x),
                                        np.zeros((d, d), complex)), k_h, lp)
    K_all = K_live + sum((p.K_at(shift) for (_, p), x in zip(parts, live) if not x), np.zeros_like(K_live))
    cert = lindblad_certificate(parts, d, [(k, shift) for k in own], (K_live, shift))

    def verdict(norms, K, live):
        """The dissipator's round-off floor is relative to ``live`` = log‖𝓛̂‖ of the parts 𝓓̂ is built
        from: a σ-commuting Hamiltonian part (any size) never enters 𝓓̂, so a dissipator 10⁻³⁰⁰ times
        smaller than it is tested at its own scale (scale invariance)."""
        if norms["hat"] == -math.inf:
            return 0.0, 0.0
        dis = ratio(norms["dissipative_antisym"], floored(norms["dissipator"], live))
        return dis, hamiltonian_residual(K, shift, lp, norms["hat"])

    total = cert["total"]
    live = total["live_hat"] if np.isfinite(total["live_hat"]) else total["hat"]
    dis, ham = verdict(total, K_all, live)
    sym = ratio(total["antisym"], total["hat"])
    p = np.exp(lp)
    L_sigma = sum(part.apply_to_diagonal(p) for _, part in parts)
    stat = ratio(log_frobenius(L_sigma), total["hat"] + log_frobenius(p))
    rows = []
    for (name, part), K in zip(parts, own):
        norms = cert["parts"][name]
        rows.append((name, max(verdict(norms, K, norms["hat"])), 2 * norms["dissipative_antisym"]))
    return _Certificate(dis, ham, sym, stat, rows)


def _dense(L, ref: ReferenceState, ss, probes, seed) -> list[_Certificate]:
    """The d²×d² σ-transformed generator (:mod:`.dense`), for every s in ``ss``: the generator's and each
    channel's eigenframe matrix are built once and serve all s."""
    M, eta = eigenframe_with_round_off(L, ref.vectors, ref.vector_error)
    results = [dense_residuals(M, ref, s, coherent_direction(L, ref, s), eta) for s in ss]
    del M
    certs = []
    for r, rows in zip(results, dense_channel_rows(channel_parts(L), ref, ss)):
        details, note = {}, ""
        if eta > 0:
            details = {"rotation_round_off": eta, "residual_before_round_off": r.raw_dissipative}
            if r.raw_dissipative > r.dissipative:
                note = (f"the matrix was rotated into σ's eigenbasis with round-off η = {eta:.1e} per entry; "
                        f"violations it can explain (σ-amplified, raw residual {r.raw_dissipative:.2e}) are not "
                        "counted")
        certs.append(_Certificate(r.dissipative, r.hamiltonian, r.symmetric, r.stationary, rows, details, note))
    return certs


def _each(run: Callable[..., _Certificate]) -> Callable[..., list[_Certificate]]:
    """A method that shares nothing between inner parameters: run it for each s."""
    def run_all(L, ref, ss, probes, seed):
        return [run(L, ref, s, probes, seed) for s in ss]
    run_all.__doc__ = run.__doc__
    return run_all


def _probe(L, ref: ReferenceState, s: float, probes, seed) -> _Certificate:
    """Matrix-free random probes with an error bar (:mod:`.probe`)."""
    flat = flat_jumps(L)
    groups = [] if flat is None else partner_groups(flat)
    res = probe_certificate(L, ref.vectors, ref.log_p, s, groups, probes, seed, ref.vector_error)
    ham = hamiltonian_residual(res.coherent_hamiltonian, res.log_scale, ref.log_p, res.log_norm_hat)
    rows = [(name, res.channel_residuals[name], res.channel_log_weights[name]) for name in res.channel_residuals]
    details = {"residual_upper": res.upper, "residual_lower": res.lower, "probes": res.probes}
    return _Certificate(res.residual, ham, res.symmetric, _stationary_matrix_free(L, ref), rows, details,
                        res.statement)


def _stationary_matrix_free(L, ref) -> float:
    """‖𝓛(σ)‖_F/(‖𝓛‖_est ‖σ‖_F) with ‖𝓛‖ estimated from one Gaussian probe (matrix-free)."""
    sigma = ref.matrix()
    scale = L.norm_estimate(seed=0)
    if scale == 0:
        return 0.0
    return frobenius(L.apply(sigma)) / (scale * frobenius(sigma))


# -- the method table: name → condition → implementation --------------------------------------------
def _davies_applies(L, ref) -> bool:
    """A Davies generator with σ diagonal in its own eigenbasis (e.g. beta=... or its steady state)."""
    eb = L.eigenbasis
    return L.has_sector_structure and eb is not None and _same_basis(ref, eb)


def _same_basis(ref, eb) -> bool:
    """σ is diagonal in ``eb`` itself (compared without assembling a sector eigenbasis' dense V)."""
    if ref.basis is not None:
        return ref.basis is eb or (eb.sectors is None and ref.basis.sectors is None and ref.vectors is eb.vectors)
    return eb.sectors is None and ref.vectors is eb.vectors


def _is_lindbladian(L, ref) -> bool:
    return lindblad_terms(L) is not None


def _operator_sums_affordable(L, ref) -> bool:
    """Operator sums cost O(d²n²) for n jumps, the probe O(n·d³) per probe: "auto" takes them up to
    n = max(d, 16) jumps, and only if their working memory fits the budget."""
    terms = lindblad_terms(L)
    if terms is None:
        return False
    n, d = sum(len(t.jumps) for t in terms), L.dim
    # at most n + 1 parts (jump groups and the coherent part): 1 + 2n + 3(n + 1) operators
    return n <= max(d, 16) and config.fits_memory(certificate_bytes(count_operators([n] + [0] * n), d))


def _eigenbasis_gksl_applies(L, ref) -> bool:
    """A generator with an eigenbasis GKSL form and σ diagonal in that eigenbasis (e.g. beta=...)."""
    eb = L.eigenbasis
    return L.has_eigenbasis_gksl and eb is not None and _same_basis(ref, eb)


def _eigenbasis_gksl_affordable(L, ref) -> bool:
    """As for Lindbladians (measured: at d = 64 and n = 348 jumps the sums take 22 s, 16 probes 2 s):
    at most max(d, 16) jumps, and the operator sums fit the memory budget: 16·d²·(6n + 16) bytes for
    the complex jumps F_r, their scaled copies L_r, R_r and the temporaries of the scaling (measured peak
    at d = 256, n = 16: 111 MiB; this estimate 117 MiB)."""
    if not _eigenbasis_gksl_applies(L, ref):
        return False
    n, d = L.eigenbasis_jump_count(), L.dim
    return n <= max(d, 16) and config.fits_memory(certificate_bytes(count_operators([n, 0]), d)
                                                  + 16 * d * d * (6 * n + 16))


def _eigenbasis_gksl_probe(L, ref) -> bool:
    """Beyond d = 32 the dense test of a sampler (d⁴ closed-form kernel, several d²×d² matrices) takes
    minutes at d = 64 (measured 120 s) while 8 probes take seconds: "auto" probes."""
    return _eigenbasis_gksl_applies(L, ref) and L.dim > config.DENSE_SPECTRUM_MAX_DIM


def _dense_fits(L, ref) -> bool:
    return L.dim <= config.DENSE_BALANCE_MAX_DIM and config.fits_memory(6 * config.superoperator_bytes(L.dim))


def _always(L, ref) -> bool:
    return True


@dataclass(frozen=True)
class Method:
    name: str  # the value of ``method=`` and of BalanceReport.method
    applies: Callable[[Generator, ReferenceState], bool]  # may be requested explicitly
    auto: Callable[[Generator, ReferenceState], bool]  # chosen by method="auto"
    run: Callable[..., list[_Certificate]]  # (L, ref, inner parameters ss, probes, seed) → one per s


METHODS: tuple[Method, ...] = (
    Method("structured", _davies_applies, _davies_applies, _each(_davies_sectors)),
    Method("structured", _is_lindbladian, _operator_sums_affordable, _each(_operator_sums)),
    Method("structured", _eigenbasis_gksl_applies, _eigenbasis_gksl_affordable, _each(_eigenbasis_gksl_sums)),
    Method("probe", _eigenbasis_gksl_applies, _eigenbasis_gksl_probe, _each(_probe)),
    Method("dense", _always, _dense_fits, _dense),
    Method("probe", _always, _always, _each(_probe)),
)


def _choose(L, ref, method: str) -> Method:
    for m in METHODS:
        if (m.auto(L, ref) if method == "auto" else (m.name == method and m.applies(L, ref))):
            return m
    raise InputError("method='structured' needs a Davies generator or an exact Gibbs sampler (with a "
                     "reference state diagonal in its energy eigenbasis, e.g. beta=...) or a Lindbladian (or a "
                     "sum of them); use method='dense' or 'probe'")


# -- public entry point ----------------------------------------------------------------------------
def detailed_balance(L, beta=None, *, state=None, inner="kms", tolerance: float = DEFAULT_TOLERANCE,
                     method: str = "auto", reversal=None, probes: int = 8, seed=None,
                     populations=None, steady_state_verdict: bool = True) -> BalanceReport:
    """Test quantum detailed balance of a generator w.r.t. a faithful reference state.

    Args:
        L: a Generator, or a d²×d² matrix / QuTiP superoperator (then pass ``state=``).
        beta: reference σ = gibbs_state(L.hamiltonian, beta).
        state: reference σ as a (d, d) density matrix (full rank), or "stationary" for the
            generator's own steady state.
        populations: reference σ = Σ_i p_i|i⟩⟨i| given by its (d,) populations in the generator's
            own energy eigenbasis (e.g. ``L.steady_populations()[0]`` of a Davies generator): no d×d
            matrix is formed.
        inner: "kms" (s = ½, default), "gns" (s = 1) or a number s ∈ [0, 1].
        tolerance: ``holds`` ⇔ residual ≤ tolerance (default 1e-8).
        method: "auto" (structured for Davies generators and for Lindbladians with at most
            max(d, 16) jumps → dense if d ≤ 64 and it fits the memory budget → probe),
            "structured" (Davies: Bohr-sector blocks; Lindbladian: exact operator-sum norms in σ's
            eigenbasis, O(d²) memory, O(d²n²) time for n jumps); see the table ``METHODS``, "dense" (the d²×d² σ-transformed
            generator) or "probe" (matrix-free random probes with a confidence interval).
        reversal: a :class:`~detbal.reversal.TimeReversal` Θ: test 𝓛̃_s = 𝚯∘𝓛∘𝚯⁻¹.
        probes, seed: number of complex Gaussian probes and RNG seed for method="probe".
        steady_state_verdict: when ``beta`` is given and Gibbs is not stationary (stationary residual
            > tolerance), also solve for the generator's steady state ρ and test detailed balance
            w.r.t. it (``details["steady_state"]``; for d ≤ 64 or Davies generators). False skips
            that second test and its steady-state solve (often most of the call's cost): the verdict,
            residuals and channels w.r.t. σ are the same, ``details`` has no "steady_state" entry.

    Returns:
        BalanceReport with the verdict, the dissipative/Hamiltonian split, the stationarity of σ
        and per-channel verdicts (a bath, or a jump grouped with its adjoint partner). When
        ``beta`` is given and Gibbs is not stationary, ``details["steady_state"]`` holds the
        verdict w.r.t. the generator's own steady state (unless ``steady_state_verdict=False``).

    Round-off: σ's eigenvectors (from ``eigh``) carry an error ω ≈ dε‖H‖/level spacing (weighted by the
    population difference of the two levels); every operator rotated into that basis is cleaned of the
    entries within ‖A‖_F(dε + 2ω) of zero, and a generator known only as a matrix gets the entrywise
    allowance η(cosh x + 4), η = ‖M‖_F(d²ε + 4ω) (``details["rotation_round_off"]``).

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
    return _reports(L, (inner,), beta, state, tolerance, method, reversal, probes, seed, populations,
                    steady_state_verdict)[0]


def detailed_balance_inners(L, inners, beta=None, *, state=None, tolerance: float = DEFAULT_TOLERANCE,
                            method: str = "auto", probes: int = 8, seed=None, populations=None,
                            steady_state_verdict: bool = True) -> tuple[BalanceReport, ...]:
    """``detailed_balance(L, inner=s, ...)`` for every s in ``inners`` (e.g. ("kms", "gns")), the same
    reports, with the reference state resolved once and, on the dense path, the generator's and each
    channel's d²×d² eigenframe matrix built once for all of them (O(d⁵) each: most of a dense verdict).
    ``steady_state_verdict=False`` skips each report's verdict w.r.t. the steady state (as in
    :func:`detailed_balance`).

    Returns:
        tuple of BalanceReport, one per entry of ``inners``, in that order."""
    inners = tuple(inners)
    if not inners:
        raise InputError("`inners` must name at least one inner product ('kms', 'gns' or s in [0, 1])")
    return _reports(L, inners, beta, state, tolerance, method, None, probes, seed, populations,
                    steady_state_verdict)


def _reports(L, inners, beta, state, tolerance, method, reversal, probes, seed,
             populations=None, steady_state_verdict: bool = True) -> tuple[BalanceReport, ...]:
    L = as_generator(L)
    params = [inner_parameter(inner) for inner in inners]
    label = params[0][1]
    tol = float(tolerance) if isinstance(tolerance, numbers.Real) else float("nan")
    if not (tol > 0 and math.isfinite(tol)):
        raise InputError(f"`tolerance` must be a positive finite number, got {tolerance!r}")
    method = as_choice(method, "method", ("auto", "dense", "probe", "structured"))
    if isinstance(probes, bool) or not isinstance(probes, numbers.Integral) or probes < 1:
        raise InputError(f"`probes` must be an integer ≥ 1, got {probes!r}")
    if not isinstance(steady_state_verdict, (bool, np.bool_)):
        raise InputError(f"`steady_state_verdict` must be True or False, got {steady_state_verdict!r}")
    if isinstance(state, str):
        if state != "stationary":
            raise InputError(f"`state` must be a density matrix or 'stationary', got {state!r}")

        ref = reference_state(L, state=steady_state(L).state, inner_label=label)
        ref = ref.relabelled("steady state")
    else:
        ref = reference_state(L, beta=beta, state=state, inner_label=label, populations=populations)
    ss = tuple(s for s, _ in params)
    if reversal is not None:
        if method in ("probe", "structured"):
            raise InputError("`reversal` is supported by method='dense' only")
        chosen = "dense"
        M = eigenframe(L, ref.vectors, ref.vector_error)
        certs = []
        for s in ss:
            dis, ham, sym, stat, details = reversal_residuals(L, ref, s, M, reversal)
            certs.append(_Certificate(dis, ham, sym, stat, [], details))
    else:
        m = _choose(L, ref, method)
        chosen = m.name
        certs = m.run(L, ref, ss, probes, seed)
    return tuple(_report(L, cert, ref, s, lab, tol, chosen, beta, bool(steady_state_verdict))
                 for cert, (s, lab) in zip(certs, params))


def _report(L, cert: _Certificate, ref: ReferenceState, s: float, label: str, tol: float, chosen: str, beta,
            steady_state_verdict: bool) -> BalanceReport:
    dis, ham = cert.dissipative, cert.hamiltonian
    details = dict(cert.details)
    residual = float(max(dis, ham))
    holds = bool(residual <= tol)
    if chosen == "probe":
        holds = bool(max(details["residual_upper"], ham) <= tol)
    rows = _common_weights(cert.rows)
    failing = {name for name, res, _ in rows if res > tol}
    channels = rows_to_channels(rows, tol, channel_notes(L, failing, ref, beta))
    if steady_state_verdict and beta is not None and cert.stationary > tol:
        if L.dim <= config.DENSE_BALANCE_MAX_DIM or L.has_sector_structure:
            details["steady_state"] = _steady_state_verdict(L, s, label, tol)
        else:
            details["steady_state"] = {"holds": None, "reason": "Gibbs is not stationary; for d > 64 the "
                                       "steady-state verdict is not computed automatically: call "
                                       "detailed_balance(L, state='stationary')"}
    return BalanceReport(holds=holds, residual=residual, dissipative_residual=dis, hamiltonian_residual=ham,
                         symmetric=cert.symmetric <= tol, symmetric_residual=cert.symmetric,
                         stationary_residual=cert.stationary, inner=label, method=chosen, tolerance=tol,
                         reference=ref.label, channels=channels, error_bar=cert.error_bar, details=details,
                         reference_state=ref)


def _common_weights(rows):
    """(name, residual, log weight) → (name, residual, weight) on one scale (largest weight 1)."""
    finite = [lw for _, _, lw in rows if np.isfinite(lw)]
    top = max(finite) if finite else 0.0
    return [(name, res, math.exp(lw - top) if np.isfinite(lw) else 0.0) for name, res, lw in rows]


def _steady_state_verdict(L, s, label, tol) -> dict:
    """Verdict w.r.t. the generator's own steady state (when Gibbs is not stationary).

    Beyond d = AUTO_STEADY_BALANCE_MAX_DIM the verdict is refused when "auto" would take the dense
    d²×d² test; that refusal is decided before the steady state is solved whenever it does not depend
    on the state (:func:`_auto_dense_for_any_state`), so a refused verdict costs no solve."""
    big = L.dim > config.AUTO_STEADY_BALANCE_MAX_DIM
    refused = {"holds": None, "reason": f"w.r.t. the steady state only the dense d²×d² test applies "
               f"(d = {L.dim}); it is not run automatically beyond d = "
               f"{config.AUTO_STEADY_BALANCE_MAX_DIM}: call detailed_balance(L, state='stationary')"}
    try:
        dense = _auto_dense_for_any_state(L) if big else False
        if dense:
            return refused
        rho = steady_state(L).state
        # the choice depends on whether ρ is diagonal in the generator's own eigenbasis: decide it now
        if dense is None and _choose(L, reference_state(L, state=rho, inner_label=label), "auto").name == "dense":
            return refused
        rep = detailed_balance(L, state=rho, inner=s, tolerance=tol)
    except DetbalError as exc:
        return {"holds": None, "reason": str(exc).splitlines()[0]}
    sentence = ("balanced w.r.t. its steady state, but that steady state is not the Gibbs state"
                if rep.holds else "not balanced w.r.t. its steady state either: the steady state carries currents")
    return {"holds": rep.holds, "residual": rep.residual, "inner": label, "summary": sentence}


def _auto_dense_for_any_state(L) -> bool | None:
    """Whether method="auto" takes the dense test w.r.t. a reference state σ of L not yet known: True or
    False when that holds for every σ, None when it depends on σ.

    The auto conditions of ``METHODS`` look at σ only through :func:`_same_basis`, i.e. whether σ is
    diagonal in the generator's own eigenbasis (the Davies-sector and eigenbasis-GKSL rows); the others
    (operator sums affordable, the dense test fits) depend on L alone. So "auto" is run for both answers,
    with stand-ins that carry nothing but that answer: a σ with ``basis=L.eigenbasis`` (only when L has
    one) and a σ with eigenvectors of its own. When they agree, the state is not needed."""
    elsewhere = ReferenceState(np.empty((0, 0)), np.empty(0), "any state")
    outcomes = {_choose(L, elsewhere, "auto").name == "dense"}
    eb = L.eigenbasis
    if eb is not None:
        outcomes.add(_choose(L, ReferenceState(None, np.empty(0), "any state", basis=eb), "auto").name == "dense")
    return outcomes.pop() if len(outcomes) == 1 else None
