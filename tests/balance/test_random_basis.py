"""Detailed balance of Lindbladians given as OBJECTS in a random basis, at β·ΔE from 1 to 10³.

H = Q diag(E) Q† with a random unitary Q; jumps Q|i⟩⟨j|Q† (downhill, rate r_ij) and Q|j⟩⟨i|Q† (uphill,
rate r_ij·e^{−β(E_j − E_i)}): exactly KMS-, GNS- and s-detailed-balanced. Every path rotates these
operators into the computed eigenbasis V of H, whose columns carry an error ~ε‖H‖/gap; the σ-scaling
then multiplies the rotated entries by up to e^{βΔE/2}. Before the eigenvector error was part of the
rotation's round-off bound (:func:`detbal.eigenbasis.eigenvector_error`), such a model failed at
β·ΔE ≈ 1000 (residual 7e-6 … 0.09) and earlier variants at β·ΔE = 100–200 (√2, NaN).

Exact reference: the generator in the eigenframe is diagonal H plus jumps |i⟩⟨j|, i.e. a rate matrix on
the populations and pure dephasing −(Γ_i + Γ_j)/2 on each coherence |i⟩⟨j| (Γ_j the total rate out of
j). Its σ-transformed population entries are a_ij = γ_{i←j}·e^{(log p_j − log p_i)/2} for every s, so the
exact dissipative residual is ‖𝓓̂ − 𝓓̂†‖/‖𝓓̂‖ with
    ‖𝓓̂ − 𝓓̂†‖² = Σ_{i≠j} (a_ij − a_ji)²,   ‖𝓓̂‖² = Σ_{i≠j} a_ij² + Σ_i Γ_i² + Σ_{i≠j} ((Γ_i + Γ_j)/2)²,
evaluated with ``decimal`` (40 digits, no under- or overflow of e^{±500}); it is checked against the
entrywise decimal reference of ``test_extreme_beta`` below.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_extreme_beta import dissipator_matrix, exact_dissipative_residual

import detbal as db
from detbal.eigenbasis import eigenbasis, eigenvector_error, rotate_cleaned, rotation_error

INNERS = ["kms", "gns", 0.3]


def random_basis_model(seed, d, beta_de, wrong_factor=None, with_h=True):
    """(Lindbladian in a random basis, E, β, G): G[i, j] = rate j → i; β = β_de/(E_max − E_min).

    ``wrong_factor``: multiply the uphill rate of the pair with the smallest β·ΔE (the one whose
    violation is largest relative to ‖𝓓̂‖) by this factor."""
    rng = np.random.default_rng(seed)
    E = np.sort(rng.uniform(0.0, 1.0, d))
    E -= E[0]
    beta = beta_de / E[-1]
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d)))
    H = Q @ np.diag(E) @ Q.conj().T
    H = (H + H.conj().T) / 2
    pairs = [(i, j) for i in range(d) for j in range(i + 1, d)]
    wrong = min(pairs, key=lambda p: E[p[1]] - E[p[0]]) if wrong_factor is not None else None
    jumps, rates, G = [], [], np.zeros((d, d))
    for i, j in pairs:
        P = np.zeros((d, d))
        P[i, j] = 1.0  # |i⟩⟨j|: j → i, lowers the energy by E_j − E_i
        r = rng.uniform(0.2, 1.5)
        x = beta * (E[j] - E[i])
        up = r * math.exp(-x) if x < 745 else 0.0  # beyond e^{−745}: 0, detailed balance to that precision
        if (i, j) == wrong:
            up *= wrong_factor
        jumps += [Q @ P @ Q.conj().T, Q @ P.T @ Q.conj().T]
        rates += [r, up]
        G[i, j] += r
        G[j, i] += up
    return db.Lindbladian(H if with_h else np.zeros((d, d)), jumps, rates), E, beta, G


def exact_residual(E, beta, G) -> float:
    """‖𝓓̂ − 𝓓̂†‖/‖𝓓̂‖ of the eigenframe model with rates G (module docstring), in ``decimal``."""
    d = len(E)
    with localcontext() as ctx:
        ctx.prec = 40
        ctx.Emax, ctx.Emin = 999999, -999999
        lp = [-Decimal(float(beta)) * Decimal(float(e)) for e in E]
        a = [[Decimal(float(G[i, j])) * ((lp[j] - lp[i]) / 2).exp() for j in range(d)] for i in range(d)]
        out = [sum(Decimal(float(G[i, j])) for i in range(d) if i != j) for j in range(d)]
        off = [(i, j) for i in range(d) for j in range(d) if i != j]
        num = sum((a[i][j] - a[j][i]) ** 2 for i, j in off)
        den = (sum(a[i][j] ** 2 for i, j in off) + sum(g * g for g in out)
               + sum(((out[i] + out[j]) / 2) ** 2 for i, j in off))
        return float((num / den).sqrt())


def test_the_closed_form_reference_equals_the_entrywise_decimal_reference():
    for factor, beta_de in [(None, 3.0), (math.e, 3.0), (1.1, 30.0), (1 / math.e, 300.0)]:
        _, E, beta, G = random_basis_model(2, 4, beta_de, factor)
        jumps, rates = [], []
        for i in range(4):
            for j in range(4):
                if i != j and G[i, j] > 0:
                    P = np.zeros((4, 4))
                    P[i, j] = 1.0
                    jumps.append(P)
                    rates.append(G[i, j])
        L = db.Lindbladian(np.diag(E), jumps, rates)
        for s in (0.5, 1.0, 0.3):
            want = exact_dissipative_residual(dissipator_matrix(L, np.diag(E)), E, beta, s)
            assert exact_residual(E, beta, G) == pytest.approx(want, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("beta", [10.0, 100.0, 200.0, 1000.0])
@pytest.mark.parametrize("seed", [0, 4])
def test_issue_reproduction_holds_at_every_beta(seed, beta):
    """The issue's model (d = 6, E uniform in [0, 1], unit downhill rates): holds=False with residual
    7e-6 (seed 0) and 0.086 (seed 4) at β = 1000 before."""
    rng = np.random.default_rng(seed)
    E = np.sort(rng.uniform(0, 1, 6))
    E -= E[0]
    Q, _ = np.linalg.qr(rng.normal(size=(6, 6)) + 1j * rng.normal(size=(6, 6)))
    jumps, rates = [], []
    for i in range(6):
        for j in range(i + 1, 6):
            P = np.zeros((6, 6))
            P[i, j] = 1.0
            jumps += [Q @ P @ Q.conj().T, Q @ P.T @ Q.conj().T]
            rates += [1.0, math.exp(-beta * (E[j] - E[i]))]
    L = db.Lindbladian(Q @ np.diag(E) @ Q.conj().T, jumps, rates)
    for method in ("auto", "dense", "structured"):
        rep = db.detailed_balance(L, beta=beta, method=method)
        assert rep.holds and rep.residual <= 1e-12, (method, rep.residual)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(d=st.integers(4, 8), seed=st.integers(0, 10_000), log_bde=st.floats(0.0, 3.0))
def test_random_basis_detailed_balance_holds_at_kms_gns_and_s(d, seed, log_bde):
    """True detailed balance holds on the dense and operator-sum paths (and the probe's upper bound), at
    KMS, GNS and s = 0.3, β·ΔE from 1 to 10³; the residual is finite (never NaN or inf)."""
    L, _, beta, _ = random_basis_model(seed, d, 10.0 ** log_bde)
    for inner in INNERS:
        for method in ("dense", "structured", "probe"):
            rep = db.detailed_balance(L, beta=beta, inner=inner, method=method, probes=4, seed=1)
            assert math.isfinite(rep.residual) and math.isfinite(rep.symmetric_residual)
            assert rep.holds and rep.residual <= 1e-11, (inner, method, rep.residual)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(d=st.integers(4, 8), seed=st.integers(0, 10_000), beta_de=st.floats(1.0, 12.0))
def test_random_basis_with_the_state_given_as_a_matrix(d, seed, beta_de):
    """σ given as a density matrix in the random basis (its eigenvectors come from eigh(σ), with an error
    ~ε‖σ‖/Δp): detailed balance holds for the model and for its jumps alone (H = 0, no Gibbs reference
    of its own). β·ΔE ≤ 12 and the bound 1e-10: a float matrix σ knows its populations e^{−βΔE} only to
    ε·p_max, i.e. to ε·e^{βΔE} ≈ 4e-11 relative at 12 (measured residual 7e-13 at 10, 1e-10 at 15, 3e-6
    at 25, before and after the eigenvector error was accounted for: a limit of the input, not of V)."""
    L, E, beta, _ = random_basis_model(seed, d, beta_de)
    p = np.exp(-beta * E)
    V = np.linalg.eigh(L.hamiltonian)[1]
    sigma = (V * (p / p.sum())) @ V.conj().T
    jumps_only = db.Lindbladian(np.zeros((d, d)), L.jumps, L.rates)
    for gen in (L, jumps_only):
        for inner in INNERS:
            for method in ("dense", "structured"):
                rep = db.detailed_balance(gen, state=sigma, inner=inner, method=method)
                assert rep.holds and rep.residual <= 1e-10, (inner, method, rep.residual)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(d=st.integers(4, 8), seed=st.integers(0, 10_000), log_bde=st.floats(0.0, 3.0),
       factor=st.sampled_from([1.1, math.e, 1 / math.e]))
def test_random_basis_wrong_uphill_rate_gets_the_exact_verdict_and_residual(d, seed, log_bde, factor):
    """One uphill rate wrong by 1.1 or e^{±1} (on the pair of smallest β·ΔE): the verdict and the residual
    are the exact ones (1e-7 relative). Not every such model fails: by the definition of the residual,
    a factor c on an uphill rate γe^{−βΔE} gives ≈ |c − 1|·γe^{−βΔE/2}/‖𝓓̂‖, below the tolerance beyond
    β·ΔE ≈ 35 on that pair; those hold exactly as the reference says."""
    L, E, beta, G = random_basis_model(seed, d, 10.0 ** log_bde, factor)
    exact = exact_residual(E, beta, G)
    for inner in INNERS:
        for method in ("dense", "structured"):
            rep = db.detailed_balance(L, beta=beta, inner=inner, method=method)
            assert math.isfinite(rep.residual)
            assert rep.dissipative_residual == pytest.approx(exact, rel=1e-7, abs=1e-12), (inner, method)
            if abs(exact - rep.tolerance) > 1e-3 * rep.tolerance:
                assert rep.holds == (exact <= rep.tolerance)


@pytest.mark.parametrize("beta_de", [1.0, 10.0, 30.0])
@pytest.mark.parametrize("factor", [1.1, math.e, 1 / math.e])
def test_random_basis_wrong_rate_fails_on_every_path(beta_de, factor):
    """Where the exact residual is far above the tolerance (β·ΔE ≤ 30 on the wrong pair), every path
    fails — the probe's interval contains the exact residual — and the wrong pair is blamed."""
    L, E, beta, G = random_basis_model(7, 6, beta_de, factor)
    exact = exact_residual(E, beta, G)
    assert exact > 1e-6
    for inner in INNERS:
        for method in ("dense", "structured", "probe"):
            rep = db.detailed_balance(L, beta=beta, inner=inner, method=method, probes=16, seed=3)
            assert not rep.holds, (inner, method)
            if method == "probe":
                assert rep.details["residual_lower"] <= exact <= rep.details["residual_upper"]
            else:
                assert rep.dissipative_residual == pytest.approx(exact, rel=1e-7)
            assert len([c for c in rep.channels if not c.holds]) == 1


@pytest.mark.parametrize("d", [3, 5, 8])
def test_rotation_error_bounds_the_actual_error_of_rotated_operators(d):
    """V†(Q|i⟩⟨j|Q†)V with V from eigh of a random-basis H: every entry that is zero in exact arithmetic
    is below the bound ‖A‖_F·(dε + 2ω), also with a near-degenerate pair (gap 1e-7) and an energy offset
    (β = 1e9: every pair's populations differ, so ω counts every mixing); the cut leaves exactly the
    |i⟩⟨j| pattern. At β = 30 the close pair's mixing (~ε/1e-7) is harmless and not counted, and the
    verdict of the model with that pair holds (residual ≤ 1e-10, measured ≤ 1.1e-12)."""
    for seed in range(20):
        rng = np.random.default_rng(seed)
        E = np.sort(rng.uniform(0.0, 1.0, d)) + (100.0 if seed % 3 == 0 else 0.0)
        if seed % 2:
            E[1] = E[0] + 1e-7
        Q, _ = np.linalg.qr(rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d)))
        H = (Q * E) @ Q.conj().T
        eb = eigenbasis((H + H.conj().T) / 2)
        omega = eb.vector_error(-1e9 * (eb.energies - eb.energies[0]))
        for i, j in [(0, d - 1), (d - 1, 0), (1, 2)]:
            P = np.zeros((d, d))
            P[i, j] = 1.0
            A = Q @ P @ Q.conj().T
            R = eb.vectors.conj().T @ A @ eb.vectors
            spurious = np.abs(R)
            spurious[i, j] = 0.0
            assert spurious.max() <= rotation_error(np.linalg.norm(A), d, omega)
            assert np.count_nonzero(rotate_cleaned(A, eb.vectors, omega)) == 1
        jumps, rates = [], []
        for i in range(d - 1):
            P = np.zeros((d, d))
            P[i, i + 1] = 1.0
            jumps += [Q @ P @ Q.conj().T, Q @ P.T @ Q.conj().T]
            rates += [1.0, math.exp(-30.0 * (E[i + 1] - E[i]))]
        rep = db.detailed_balance(db.Lindbladian((H + H.conj().T) / 2, jumps, rates), beta=30.0)
        # the kept mixing Ω ~ ε‖H‖/gap enters as Ω·sinh(β·gap/2) ≈ εβ‖H‖/2 ≈ 3e-13 for ‖H‖ = 100
        assert rep.holds and rep.residual <= 1e-10


def test_eigenvector_error_is_zero_where_the_basis_is_exact_or_mixing_is_harmless():
    """ω = 0 for a diagonal H (a permutation), for equal populations (β = 0: any basis is an eigenbasis
    of σ) and ignores pairs diagonalised separately; it grows as ε‖H‖/gap for a close pair whose
    populations differ, and is capped by the population difference for a close pair."""
    eb = eigenbasis(np.diag([2.0, 0.0, 1.0]))
    assert eb.vector_error(np.array([0.0, -1.0, -2.0])) == 0.0
    E = np.array([0.0, 1e-6, 1.0])
    assert eigenvector_error(E, np.zeros(3)) == 0.0
    eps = np.finfo(float).eps
    hot = eigenvector_error(E, -1e8 * E)  # the close pair differs by β·ΔE = 100 in log p
    assert hot == pytest.approx(3 * eps / 1e-6, rel=1e-6)
    cold = eigenvector_error(E, -1.0 * E)  # β·ΔE = 1e-6 on the close pair: harm ∝ that difference
    assert cold < 10 * 3 * eps
    assert eigenvector_error(E, -1e8 * E, blocks=[np.array([0, 2]), np.array([1])]) < 10 * eps
