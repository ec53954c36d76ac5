"""Classical detailed balance of rate matrices (THEORY.md §3 and the classical form of §10)."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detbal.classical import KolmogorovResult, RateMatrix
from detbal.errors import InputError, NonUniqueSteadyStateError
from detbal.reports import BalanceReport

E = math.e


def ring(a, b, labels=None) -> RateMatrix:
    """3-state ring of §3 (states 1, 2, 3 ↦ indices 0, 1, 2).

    Clockwise a_1 = W(1→2), a_2 = W(2→3), a_3 = W(3→1); counter-clockwise b_1 = W(2→1),
    b_2 = W(3→2), b_3 = W(1→3). W[m, n] is the rate n → m.
    """
    r = np.zeros((3, 3))
    r[1, 0], r[2, 1], r[0, 2] = a
    r[0, 1], r[1, 2], r[2, 0] = b
    return RateMatrix.from_rates(r, labels=labels)


def reversal_example(beta=1.0, omega=1.0, a=0.5, c=0.3, g=0.2) -> RateMatrix:
    """§10 worked example on levels (0, +, −): DB only with the reversal + ↔ −."""
    x = math.exp(beta * omega)
    r = np.zeros((3, 3))
    r[1, 0], r[0, 2] = a, a * x  # 0 → +, − → 0
    r[2, 0], r[0, 1] = c, c * x  # 0 → −, + → 0
    r[1, 2], r[2, 1] = g, g + (a - c) * x  # − → +, + → −
    return RateMatrix.from_rates(r, labels=["0", "+", "-"])


def random_rates(rng, d, low=0.05, high=3.0) -> np.ndarray:
    r = rng.uniform(low, high, size=(d, d))
    np.fill_diagonal(r, 0.0)
    return r


def db_matrix(rng, d) -> tuple[RateMatrix, np.ndarray]:
    """W_mn = √(p_m/p_n) S_mn with S symmetric > 0: then W_mn p_n = √(p_m p_n) S_mn is symmetric."""
    p = rng.uniform(0.1, 1.0, size=d)
    p /= p.sum()
    s = rng.uniform(0.1, 2.0, size=(d, d))
    s = s + s.T
    return RateMatrix.from_rates(np.sqrt(p[:, None] / p[None, :]) * s), p


# ----------------------------------------------------------------------------- §3 ring
def test_three_state_ring_worked_example_matches_spanning_tree_sums():
    W = ring((1, 2, 3), (0.5, 0.25, 1))
    p = W.stationary()
    np.testing.assert_allclose(p, np.array([7.625, 3.5, 4.5]) / 15.625, rtol=1e-13)
    assert np.linalg.norm(W.matrix @ p) < 1e-15
    J = W.edge_currents()
    np.testing.assert_allclose(J, -J.T, atol=0)
    # the clockwise current (1→2, 2→3, 3→1) is 0.376 on every edge
    for n, m in [(0, 1), (1, 2), (2, 0)]:
        assert J[m, n] == pytest.approx(0.376, abs=1e-13)
        assert J[m, n] == pytest.approx(W.matrix[m, n] * p[n] - W.matrix[n, m] * p[m], abs=1e-15)
    k = W.kolmogorov()
    assert not k.holds and len(k.cycles) == 1
    assert k.worst_affinity == pytest.approx(math.log(48), abs=1e-12)
    assert math.log(48) == pytest.approx(3.871201, abs=1e-6)
    Pi = W.entropy_production()
    assert Pi == pytest.approx(1.455572, abs=1e-6)
    assert Pi == pytest.approx(0.376 * math.log(48), abs=1e-12)  # Schnakenberg edge sum = J·A


def test_uniform_ring_current_affinity_and_entropy_production():
    W = ring((2, 2, 2), (1, 1, 1))
    np.testing.assert_allclose(W.stationary(), [1 / 3] * 3, atol=1e-15)
    assert W.edge_currents()[1, 0] == pytest.approx(1 / 3, abs=1e-14)
    assert W.kolmogorov().worst_affinity == pytest.approx(3 * math.log(2), abs=1e-13)
    assert W.entropy_production() == pytest.approx(math.log(2), abs=1e-13)


def test_ring_with_balanced_rate_products_is_detailed_balanced():
    W = ring((1, 2, 3), (2, 1.5, 2))  # a1 a2 a3 = 6 = b1 b2 b3
    k = W.kolmogorov()
    assert k.holds and abs(k.worst_affinity) < 1e-14
    rep = W.detailed_balance()
    assert isinstance(rep, BalanceReport)
    assert rep.holds and rep.symmetric and rep.residual < 1e-14 and rep.symmetric_residual < 1e-14
    assert rep.details["kolmogorov_holds"]
    assert abs(W.entropy_production()) < 1e-14
    assert np.max(np.abs(W.edge_currents())) < 1e-15


@pytest.mark.parametrize("a, b", [((1, 2, 3), (0.5, 0.25, 1)), ((0.5, 0.25, 1), (1, 2, 3))])
def test_kolmogorov_worst_affinity_is_log_of_dominant_cycle_rate_ratio(a, b):
    # convention: cycles are oriented so that A_C ≥ 0, i.e. along the direction whose rate product wins
    W = ring(a, b)
    k = W.kolmogorov()
    ratio = np.prod(a) / np.prod(b)
    assert k.worst_affinity == pytest.approx(abs(math.log(ratio)), abs=1e-13)
    cyc = list(k.worst_cycle)
    fwd = np.prod([W.matrix[cyc[(i + 1) % 3], cyc[i]] for i in range(3)])
    bwd = np.prod([W.matrix[cyc[i], cyc[(i + 1) % 3]] for i in range(3)])
    assert math.log(fwd / bwd) == pytest.approx(k.worst_affinity, abs=1e-13)
    rep = W.detailed_balance()
    assert not rep.holds
    assert rep.details["worst_affinity"] == k.worst_affinity and rep.details["worst_cycle"] == cyc
    assert W.cycle_affinities() == list(zip(k.cycles, k.affinities))


# ----------------------------------------------------------------------------- general identities
def test_stationary_state_matches_matrix_tree_theorem_cofactors():
    rng = np.random.default_rng(7)
    W = RateMatrix.from_rates(random_rates(rng, 5))
    w = W.matrix
    # Kirchhoff: p_n ∝ Σ_{trees into n} Π rates = (−1)^{d−1} det(W without row n, column n)
    minors = np.array([np.linalg.det(np.delete(np.delete(w, n, 0), n, 1)) for n in range(5)])
    tree_sums = (-1) ** 4 * minors
    assert np.all(tree_sums > 0)
    np.testing.assert_allclose(W.stationary(), tree_sums / tree_sums.sum(), rtol=1e-12)


def test_detailed_balance_construction_has_zero_entropy_production_and_affinities():
    rng = np.random.default_rng(11)
    W, p = db_matrix(rng, 5)
    np.testing.assert_allclose(W.stationary(), p, rtol=1e-12)
    k = W.kolmogorov()
    assert len(k.cycles) == 6  # complete graph on 5 states: 10 edges − 4 tree edges
    assert k.holds and max(k.affinities) < 1e-12
    assert abs(W.entropy_production()) < 1e-14
    rep = W.detailed_balance()
    assert rep.holds and rep.symmetric_residual < 1e-14 and rep.stationary_residual < 1e-15
    # DB ⇔ P^{-1/2} W P^{1/2} symmetric ⇒ real non-positive spectrum
    ev = np.linalg.eigvals(W.matrix)
    assert np.max(np.abs(ev.imag)) < 1e-12 and np.max(ev.real) < 1e-12


def test_entropy_production_equals_sum_of_cycle_currents_times_affinities():
    rng = np.random.default_rng(3)
    W = RateMatrix.from_rates(random_rates(rng, 5))
    J = W.edge_currents()
    k = W.kolmogorov()
    assert all(a >= 0 for a in k.affinities)
    # J_C is the current along the chord, which is the first edge cycle[0] → cycle[1]
    total = sum(J[c[1], c[0]] * a for c, a in zip(k.cycles, k.affinities))
    Pi = W.entropy_production()
    assert Pi > 0.01
    assert Pi == pytest.approx(total, rel=1e-12)


def test_stiff_chain_stationary_state_has_full_relative_accuracy():
    # birth–death chain, up rate 1e-30, down rate 1: p_n ∝ 1e-30^n spans 270 decades
    d = 10
    r = np.zeros((d, d))
    for n in range(d - 1):
        r[n + 1, n], r[n, n + 1] = 1e-30, 1.0
    W = RateMatrix.from_rates(r)
    exact = np.array([1e-30**n for n in range(d)])
    np.testing.assert_allclose(W.stationary(), exact / exact.sum(), rtol=1e-13)
    assert W.detailed_balance().holds


# ----------------------------------------------------------------------------- §10 time reversal
def test_reversal_worked_example_fails_plain_detailed_balance():
    W = reversal_example()
    p = W.stationary()
    np.testing.assert_allclose(p, [0.576117, 0.211942, 0.211942], atol=1e-6)
    gibbs = np.array([1, 1 / E, 1 / E]) / (1 + 2 / E)
    np.testing.assert_allclose(p, gibbs, rtol=1e-14)
    rep = W.detailed_balance()
    assert not rep.holds and not rep.symmetric
    assert rep.residual == pytest.approx(0.3415, abs=5e-5)  # THEORY quotes 4 digits
    assert rep.symmetric_residual == pytest.approx(0.3594, abs=5e-5)
    assert rep.details["max_edge_current"] == pytest.approx(gibbs[0] * (0.5 - 0.3), abs=1e-14)
    assert rep.details["max_edge_current"] == pytest.approx(0.115223, abs=1e-6)
    affinity = math.log(0.5**2 * (0.2 + 0.2 * E) / (0.3**2 * 0.2))
    assert rep.details["worst_affinity"] == pytest.approx(affinity, abs=1e-13)
    assert affinity == pytest.approx(2.33491, abs=1e-5)
    assert [c.name for c in rep.channels] == ["edge 0-+", "edge 0--", "edge +--"]


def test_reversal_worked_example_holds_with_time_reversal():
    W = reversal_example()
    rep = W.detailed_balance(reversal=[0, 2, 1])
    assert rep.holds and rep.residual < 1e-15
    assert not rep.symmetric  # W itself is not p-self-adjoint
    assert rep.details["plain_residual"] == pytest.approx(0.3415, abs=5e-5)
    assert rep.details["reversal"] == [0, 2, 1]
    assert not rep.details["kolmogorov_holds"]  # no p makes W plainly DB
    assert {c.name for c in rep.channels} >= {"escape +", "escape -"}
    esc = -np.diag(W.matrix)
    assert esc[1] == pytest.approx(esc[2], abs=1e-15)  # Θ-invariant escape rates
    # the identity reversal reduces to plain DB
    assert W.detailed_balance(reversal=[0, 1, 2]).residual == pytest.approx(rep.details["plain_residual"])


def test_reversal_catches_escape_rate_mismatch():
    # a + c ≠ escape(+): perturb r(+→0) only, re-using the stationary p of the perturbed W
    r = reversal_example().matrix
    np.fill_diagonal(r, 0)
    r[0, 1] += 0.1
    W = RateMatrix.from_rates(r)
    p = W.stationary()
    with pytest.raises(InputError, match="reversal"):  # p is no longer Θ-invariant
        W.detailed_balance(reversal=[0, 2, 1])
    rep = W.detailed_balance(p=[p[0], (p[1] + p[2]) / 2, (p[1] + p[2]) / 2], reversal=[0, 2, 1])
    assert not rep.holds and rep.reference == "given p" and rep.stationary_residual > 1e-3


# ----------------------------------------------------------------------------- reports
def test_channels_partition_the_violation_and_report_is_json():
    rng = np.random.default_rng(5)
    W = RateMatrix.from_rates(random_rates(rng, 4), labels=list("abcd"))
    rep = W.detailed_balance()
    assert len(rep.channels) == 6
    assert sum(c.contribution for c in rep.channels) == pytest.approx(1.0, abs=1e-14)
    assert math.sqrt(sum(c.residual**2 for c in rep.channels)) == pytest.approx(rep.residual, rel=1e-13)
    contributions = [c.contribution for c in rep.channels]
    assert contributions == sorted(contributions, reverse=True)
    J = W.edge_currents()
    norm_f = np.linalg.norm(W.matrix * W.stationary()[None, :])
    c = next(ch for ch in rep.channels if ch.name == "edge a-b")
    assert c.residual == pytest.approx(math.sqrt(2) * abs(J[0, 1]) / norm_f, rel=1e-13)
    assert rep.method == "classical" and rep.inner == "classical" and rep.reference == "stationary"
    assert rep.hamiltonian_residual == 0 and rep.dissipative_residual == rep.residual
    json.dumps(rep.to_dict())
    assert "FAILS" in str(rep)


def test_one_way_edges_give_infinite_affinity_and_entropy_production():
    W = ring((1, 1, 1), (0, 0, 0))
    k = W.kolmogorov()
    assert not k.holds and k.worst_affinity == math.inf and len(k.cycles) == 3
    assert all(len(c) == 2 for c in k.cycles)
    assert W.entropy_production() == math.inf
    rep = W.detailed_balance()
    assert "one-way" in rep.channels[0].note
    d = json.loads(json.dumps(KolmogorovResult.to_dict(k)))
    assert d["worst_affinity"] == "inf"


def test_transient_state_and_zero_probabilities():
    r = np.zeros((3, 3))
    r[0, 1], r[1, 0] = 1.0, 2.0
    r[0, 2] = 1.0  # state 2 is transient: it only empties into 0
    W = RateMatrix.from_rates(r)
    p = W.stationary()
    np.testing.assert_allclose(p, [1 / 3, 2 / 3, 0], atol=1e-16)
    rep = W.detailed_balance()  # no flux crosses the one-way edge at stationarity
    assert rep.holds and math.isfinite(rep.symmetric_residual)
    assert W.entropy_production() == 0
    assert not W.kolmogorov().holds  # but no strictly positive p balances W
    # probability flowing out of the support of p breaks DB infinitely in the symmetrised form
    r2 = r.copy()
    r2[2, 0] = 0.5
    rep2 = RateMatrix.from_rates(r2).detailed_balance(p=[1 / 3, 2 / 3, 0])
    assert rep2.symmetric_residual == math.inf and not rep2.holds


def test_reducible_matrix_raises_with_kernel_basis():
    r = np.zeros((4, 4))
    r[1, 0], r[0, 1] = 1.0, 2.0
    r[3, 2], r[2, 3] = 3.0, 1.0
    W = RateMatrix.from_rates(r)
    with pytest.raises(NonUniqueSteadyStateError) as err:
        W.stationary()
    assert err.value.kernel_dim == 2
    basis = np.array(err.value.basis)
    np.testing.assert_allclose(basis, [[2 / 3, 1 / 3, 0, 0], [0, 0, 1 / 4, 3 / 4]], atol=1e-15)
    assert np.max(np.abs(W.matrix @ basis.T)) < 1e-15
    assert W.detailed_balance(p=basis[0]).holds  # an explicit p still works


def test_constructor_copies_input_fixes_diagonal_and_is_immutable():
    w = np.array([[-1.0, 2.0], [1.0, -2.0 + 1e-14]])
    W = RateMatrix(w)
    assert W.dim == 2 and W.matrix.sum(axis=0).tolist() == [0.0, 0.0]
    w[0, 1] = 5.0
    assert W.matrix[0, 1] == 2.0
    m = W.matrix
    m[0, 0] = 7.0
    assert W.matrix[0, 0] == -1.0
    with pytest.raises(AttributeError):
        W.labels = ("x", "y")
    np.testing.assert_array_equal(RateMatrix.from_rates([[9.0, 2.0], [1.0, np.nan]]).matrix, W.matrix)
    assert repr(W) == "RateMatrix(dim=2, edges=1)"
    W2 = pickle.loads(pickle.dumps(RateMatrix.from_rates(w, labels=["x", "y"])))
    assert W2.labels == ("x", "y") and W2.matrix[0, 1] == 5.0
    one = RateMatrix([[0.0]])
    assert one.stationary().tolist() == [1.0] and one.detailed_balance().holds


@pytest.mark.parametrize(
    "W, match",
    [
        ([[-1.0, 1.0, 0.0], [1.0, -1.0, 0.0]], "square"),
        ([[1.0, -1.0], [-1.0, 1.0]], "≥ 0"),
        ([[-1.0, np.nan], [1.0, np.nan]], "NaN"),
        ([[-1.0, np.inf], [1.0, -np.inf]], "NaN or infinite"),
        ([[-1.0, 2.0], [1.0, -1.0]], "sum to zero"),
        ([[-1.0, 1j], [1.0, -1j]], "complex"),
        ([["a", "b"], ["c", "d"]], "numeric"),
        ("rates", "numeric"),
        (np.zeros((0, 0)), "dimension"),
        ([1.0, 2.0], "square"),
    ],
)
def test_bad_generators_are_rejected(W, match):
    with pytest.raises(InputError, match=match) as err:
        RateMatrix(W)
    assert "`W`" in str(err.value)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"reversal": [0, 0, 1]}, "permutation"),
        ({"reversal": [0, 1]}, "permutation"),
        ({"reversal": [0.0, 2.0, 1.0]}, "permutation"),
        ({"reversal": [1, 0, 2]}, "invariant"),
        ({"p": [0.5, 0.5]}, "length 3"),
        ({"p": [0.5, 0.7, -0.2]}, "≥ 0"),
        ({"p": [0.5, 0.5, 0.5]}, "normalised"),
        ({"p": [0.5, 0.5j, 0.0]}, "real"),
        ({"tolerance": -1.0}, "tolerance"),
    ],
)
def test_bad_detailed_balance_arguments_are_rejected(kwargs, match):
    with pytest.raises(InputError, match=match):
        reversal_example().detailed_balance(**kwargs)


def test_bad_labels_are_rejected():
    with pytest.raises(InputError, match="labels"):
        RateMatrix([[0.0]], labels=["a", "b"])


# ----------------------------------------------------------------------------- properties
@st.composite
def rate_matrices(draw):
    d = draw(st.integers(1, 6))
    rates = draw(st.lists(st.floats(1e-3, 1e3), min_size=d * d, max_size=d * d))
    zeros = draw(st.lists(st.booleans(), min_size=d * d, max_size=d * d))
    r = np.where(np.array(zeros).reshape(d, d), 0.0, np.array(rates).reshape(d, d))
    return RateMatrix.from_rates(r)


@settings(max_examples=150, deadline=None)
@given(rate_matrices())
def test_random_rate_matrices_have_stationary_p_and_nonnegative_entropy_production(W):
    try:
        p = W.stationary()
    except NonUniqueSteadyStateError as err:
        assert err.kernel_dim >= 2
        for q in err.basis:
            assert np.all(q >= 0) and q.sum() == pytest.approx(1.0, abs=1e-14)
            assert np.linalg.norm(W.matrix @ q) <= 1e-12 * np.linalg.norm(W.matrix)
        return
    assert np.all(p >= 0) and p.sum() == pytest.approx(1.0, abs=1e-14)
    # GTH is entry-wise accurate: compare each W_nn p_n with the inflow Σ_m W_nm p_m
    inflow = (W.matrix - np.diag(np.diag(W.matrix))) @ p
    np.testing.assert_allclose(-np.diag(W.matrix) * p, inflow, rtol=1e-11, atol=1e-300)
    rep = W.detailed_balance()
    assert rep.stationary_residual < 1e-13
    assert W.entropy_production() >= 0
    assert rep.holds == (rep.residual <= rep.tolerance)
