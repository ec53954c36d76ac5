"""Heat currents, entropy production and Spohn monotonicity (THEORY.md §3, §11)."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from systems import SIGMA_MINUS, SIGMA_PLUS, eigenoperator_db_lindbladian, random_density_matrix

import detbal as db
from detbal.dynamics import evolve, steady_state
from detbal.generators.base import SumGenerator
from detbal.thermo import (
    EntropyProduction,
    bath_channels,
    entropy_production,
    heat_currents,
    relative_entropy_decay,
)


def ohmic_rate(omega, alpha, cutoff, beta):
    """γ(ω) = 2π J(|ω|)/(1 − e^{−βω}) signed as in THEORY §5 (ω > 0 emission), J = αωe^{−ω/ω_c}."""
    w = float(omega)
    J = alpha * abs(w) * math.exp(-abs(w) / cutoff)
    return 2 * math.pi * math.copysign(J, w) / (-math.expm1(-beta * w))


def thermal_pair(i, j, E, alpha, beta, cutoff=5.0):
    """Jumps |i⟩⟨j| (lowering j → i by ω = E_j − E_i) and |j⟩⟨i| with KMS rates of one bath."""
    d = len(E)
    down = np.zeros((d, d), complex)
    down[i, j] = 1.0
    w = E[j] - E[i]
    return [down, down.T.copy()], [ohmic_rate(w, alpha, cutoff, beta), ohmic_rate(-w, alpha, cutoff, beta)]


def two_bath_qubit():
    H = np.diag([0.0, 1.0])
    bh, bc = 0.5, 2.0
    jh, rh = thermal_pair(0, 1, [0, 1], 0.1, bh)
    jc, rc = thermal_pair(0, 1, [0, 1], 0.05, bc)
    return SumGenerator((db.Lindbladian(H, jh, rh, name="hot", beta=bh),
                         db.Lindbladian(0 * H, jc, rc, name="cold", beta=bc)))


def test_two_bath_qubit_reproduces_the_verified_numbers():
    L = two_bath_qubit()
    rho = steady_state(L).state
    assert abs(rho[1, 1].real / rho[0, 0].real - 0.519193) < 1e-6
    J = heat_currents(L, rho)
    assert abs(J["hot"] - 0.0751623) < 1e-7 and abs(J["hot"] + J["cold"]) < 1e-15
    ep = entropy_production(L, rho)
    assert isinstance(ep, EntropyProduction) and ep.form == "thermal"
    assert abs(ep.spohn_terms["hot"] - 0.0116863) < 1e-7
    assert abs(ep.spohn_terms["cold"] - 0.1010573) < 1e-7
    assert abs(ep.total - 0.1127435) < 1e-7
    assert abs(ep.total - (2.0 - 0.5) * J["hot"]) < 1e-14  # Π = (β_c − β_h) J_h
    assert abs(ep.total - sum(ep.spohn_terms.values())) < 1e-14
    assert abs(ep.entropy_rate) < 1e-14
    assert ep.heat_terms == {"hot": 0.5 * J["hot"], "cold": 2.0 * J["cold"]}
    json.dumps(ep.to_dict())
    assert "Π=" in str(ep)


def test_two_bath_davies_qubit_gives_the_same_thermodynamics():
    from detbal.baths import Bath

    H = np.diag([0.0, 1.0])
    X = np.array([[0, 1], [1, 0]], complex)
    D = db.davies(H, [(X, Bath.ohmic(alpha=0.1, cutoff=5.0, beta=0.5, name="hot")),
                          (X, Bath.ohmic(alpha=0.05, cutoff=5.0, beta=2.0, name="cold"))])
    ss = steady_state(D)
    assert ss.method.startswith("structured")
    ep = entropy_production(D, ss.state)
    assert abs(ep.currents["hot"] - 0.0751623) < 1e-7
    assert abs(ep.total - 0.1127435) < 1e-7
    assert abs(ep.spohn_terms["cold"] - 0.1010573) < 1e-7


def merry_go_round(beta_h=0.5, beta_c=2.0, E=(0.0, 1.0, 2.5)):
    """3 levels; the cold bath drives 0↔1 and 1↔2, the hot bath 0↔2 (eigenoperator jumps)."""
    H = np.diag(E).astype(complex)
    jumps_c, rates_c = [], []
    for i, j in ((0, 1), (1, 2)):
        a, r = thermal_pair(i, j, E, 0.05, beta_c)
        jumps_c += a
        rates_c += r
    jumps_h, rates_h = thermal_pair(0, 2, E, 0.1, beta_h)
    L = SumGenerator((db.Lindbladian(H, jumps_h, rates_h, name="hot", beta=beta_h),
                      db.Lindbladian(0 * H, jumps_c, rates_c, name="cold", beta=beta_c)))
    return L, E


def test_merry_go_round_carries_the_classical_ring_current():
    beta_h, beta_c = 0.5, 2.0
    L, _ = merry_go_round(beta_h, beta_c)
    ss = steady_state(L)
    assert ss.kernel_dim == 1
    rho = ss.state
    # ring 1 → 2 → 3 → 1 ≙ levels 0 → 1 → 2 → 0 (THEORY §3): clockwise a_i, counter-clockwise b_i
    g = lambda w, a, b: ohmic_rate(w, a, 5.0, b)
    a1, a2, a3 = g(-1.0, 0.05, beta_c), g(-1.5, 0.05, beta_c), g(2.5, 0.1, beta_h)
    b1, b2, b3 = g(1.0, 0.05, beta_c), g(1.5, 0.05, beta_c), g(-2.5, 0.1, beta_h)
    t1, t2, t3 = a2 * a3 + b1 * b2 + b1 * a3, a3 * a1 + b2 * b3 + a1 * b2, a1 * a2 + b3 * b1 + a2 * b3
    N = t1 + t2 + t3
    J_ring = (a1 * a2 * a3 - b1 * b2 * b3) / N
    assert np.max(np.abs(np.diag(rho).real - np.array([t1, t2, t3]) / N)) < 1e-12
    assert np.max(np.abs(rho - np.diag(np.diag(rho)))) < 1e-12
    assert abs(J_ring) > 1e-3  # a genuine non-equilibrium cycle
    assert abs((a1 * rho[0, 0] - b1 * rho[1, 1]).real - J_ring) < 1e-12  # the same current on the edge 0 → 1
    J = heat_currents(L, rho)
    # clockwise: the cold bath lifts 0 → 1 → 2 (1 + 1.5), the system drops 2 → 0 into the hot bath
    assert abs(J["cold"] - 2.5 * J_ring) < 1e-12 and abs(J["hot"] + 2.5 * J_ring) < 1e-12
    assert abs(J["hot"] + J["cold"]) < 1e-12  # first law
    clausius = -(beta_h * J["hot"] + beta_c * J["cold"])
    assert clausius >= -1e-12 and J["hot"] > 0  # heat flows from the hot bath into the system
    ep = entropy_production(L, rho)
    A = math.log(a1 * a2 * a3 / (b1 * b2 * b3))
    assert abs(ep.total - clausius) < 1e-12 and abs(ep.total - J_ring * A) < 1e-12  # Schnakenberg Π = J·A
    assert all(v >= -1e-12 for v in ep.spohn_terms.values())


def test_merry_go_round_at_equal_temperatures_is_in_equilibrium():
    L, E = merry_go_round(1.0, 1.0)
    rho = steady_state(L).state
    assert np.max(np.abs(rho - db.gibbs_state(np.diag(E), 1.0))) < 1e-12
    J = heat_currents(L, rho)
    assert max(abs(v) for v in J.values()) < 1e-14
    assert abs(entropy_production(L, rho).total) < 1e-13


def local_master_equation(w1, w2, beta_h, beta_c, g=0.1, kappa=0.05):
    """Two coupled sites, each with a local thermal dissipator (THEORY §11, Levy–Kosloff)."""
    I2 = np.eye(2)
    a, b = np.kron(SIGMA_MINUS, I2), np.kron(I2, SIGMA_MINUS)
    n = lambda w, beta: 1 / math.expm1(beta * w)
    H = w1 * a.conj().T @ a + w2 * b.conj().T @ b + g * (a.conj().T @ b + b.conj().T @ a)
    return SumGenerator((
        db.Lindbladian(H, [a, a.conj().T], [kappa * (n(w1, beta_h) + 1), kappa * n(w1, beta_h)], name="hot",
                       beta=beta_h),
        db.Lindbladian(0 * H, [b, b.conj().T], [kappa * (n(w2, beta_c) + 1), kappa * n(w2, beta_c)], name="cold",
                       beta=beta_c)))


@pytest.mark.parametrize("w1, beta_c, expected", [(1.0, 1.0, 0.0), (2.0, 1.0, -4.02e-4), (2.0, 1.5, -1.35e-4)])
def test_local_master_equation_heat_follows_site_frequencies(w1, beta_c, expected):
    L = local_master_equation(w1, 1.0, 1.0, beta_c)
    J = heat_currents(L, steady_state(L).state)
    assert abs(J["hot"] - expected) < 5e-7 and abs(J["hot"] + J["cold"]) < 1e-14


def test_db_generator_has_zero_entropy_production_at_equilibrium_only():
    H, jumps, rates, sigma = eigenoperator_db_lindbladian(np.random.default_rng(3), 4, beta=0.7)
    L = db.Lindbladian(H, jumps, rates, name="bath", beta=0.7)
    assert abs(entropy_production(L, sigma).total) < 1e-13
    rho = random_density_matrix(np.random.default_rng(4), 4)
    ep = entropy_production(L, rho)
    spohn = entropy_production(L, rho, reference=sigma)
    assert ep.total > 1e-3 and abs(ep.total - spohn.total) < 1e-12  # one bath: Π = −d/dt S(ρ‖σ)
    assert spohn.form == "spohn" and spohn.heat_terms == {}
    assert abs(entropy_production(L, rho, reference="stationary").total - ep.total) < 1e-10


def test_a_state_leaving_the_boundary_has_infinite_entropy_rate():
    L = db.Lindbladian(np.diag([0.0, 1.0]), [SIGMA_MINUS, SIGMA_PLUS], [1.0, 0.4], name="bath",
                       beta=-math.log(0.4))
    ep = entropy_production(L, np.diag([1.0, 0.0]))
    assert ep.entropy_rate == math.inf and ep.total == math.inf
    assert json.dumps(ep.to_dict())


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), d=st.integers(2, 4), beta=st.floats(0.1, 2.0))
def test_relative_entropy_to_the_gibbs_state_decreases_for_random_db_lindbladians(seed, d, beta):
    rng = np.random.default_rng(seed)
    H, jumps, rates, sigma = eigenoperator_db_lindbladian(rng, d, beta)
    L = db.Lindbladian(H, jumps, rates, name="bath", beta=beta)
    ev = evolve(L, random_density_matrix(rng, d), np.linspace(0, 3, 16))
    decay = relative_entropy_decay(ev, sigma)
    assert decay.monotone, decay
    assert decay.values[0] >= decay.values[-1] >= 0
    for rho in ev.states[::5]:
        rho = (rho + rho.conj().T) / 2
        assert entropy_production(L, rho).total >= -1e-12


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), d=st.integers(2, 4), beta=st.floats(0.1, 2.0))
def test_relative_entropy_decreases_for_random_davies_generators(seed, d, beta):
    from detbal.baths import Bath

    rng = np.random.default_rng(seed)
    H = np.diag(np.sort(rng.uniform(0, 3, size=d)))
    S = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    D = db.davies(H, [(S + S.conj().T, Bath.ohmic(alpha=0.1, cutoff=5.0, beta=beta, name="bath"))])
    sigma = db.gibbs_state(H, beta)
    ev = evolve(D, random_density_matrix(rng, d), np.linspace(0, 4, 12))
    decay = relative_entropy_decay(ev, sigma)
    assert decay.monotone, decay
    for rho in ev.states[::4]:
        assert entropy_production(D, (rho + rho.conj().T) / 2).total >= -1e-12


def test_kms_db_but_not_gns_db_generator_obeys_spohn():
    p = np.exp(-np.array([0.0, 1.0]))
    p /= p.sum()
    X = np.array([[0, 1], [1, 0]], complex)
    L = db.Lindbladian(np.diag([0.0, 1.0]), [np.diag(p ** 0.25) @ X @ np.diag(p ** -0.25)], name="kms")
    sigma = np.diag(p).astype(complex)
    ev = evolve(L, np.array([[0.2, 0.3], [0.3, 0.8]]), np.linspace(0, 5, 40))
    assert relative_entropy_decay(ev, sigma).monotone
    assert all(entropy_production(L, (r + r.conj().T) / 2, reference=sigma).total >= -1e-12 for r in ev.states)


def test_bath_decomposition_of_sums_lindbladians_and_davies():
    L = two_bath_qubit()
    assert [(n, b) for n, _, b in bath_channels(L)] == [("hot", 0.5), ("cold", 2.0)]
    with pytest.raises(db.InputError, match="`names` must be distinct"):  # no silent merging of currents
        db.Lindbladian(np.diag([0.0, 1.0]), [SIGMA_MINUS, SIGMA_PLUS, SIGMA_MINUS], [1, 1, 1],
                       names=["left", "right", "left"])
    plain = db.Lindbladian(np.diag([0.0, 1.0]), [SIGMA_MINUS, SIGMA_PLUS], [1, 1], names=["left", "right"])
    assert [n for n, _, _ in bath_channels(plain)] == ["left", "right"]
    twice = SumGenerator((two_bath_qubit(), two_bath_qubit()))
    assert [n for n, _, _ in bath_channels(twice)] == ["hot", "cold", "hot#2", "cold#2"]


def test_missing_temperatures_and_hamiltonians_are_named():
    L = db.Lindbladian(np.diag([0.0, 1.0]), [SIGMA_MINUS, SIGMA_PLUS], [1.0, 0.5])
    rho = np.eye(2) / 2
    with pytest.raises(db.InputError, match="temperature.*jump0, jump1"):
        entropy_production(L, rho)
    assert set(heat_currents(L, rho)) == {"jump0", "jump1"}
    M = L.to_dense()
    with pytest.raises(db.InputError, match="Hamiltonian"):
        heat_currents(M, rho)
    assert heat_currents(M, rho, hamiltonian=np.diag([0.0, 1.0])) == {"generator": pytest.approx(-0.25)}
    with pytest.raises(db.InputError, match="temperature"):
        entropy_production(M, rho)
    assert entropy_production(M, rho, reference="stationary").total > 0


def test_bad_references_and_zero_temperature_are_rejected():
    L = db.Lindbladian(np.diag([0.0, 1.0]), [SIGMA_MINUS, SIGMA_PLUS], [1.0, 0.5], name="b", beta=math.log(2))
    rho = np.eye(2) / 2
    with pytest.raises(db.InputError, match="not stationary"):
        entropy_production(L, rho, reference=np.eye(2) / 2)
    with pytest.raises(db.InputError, match="reference"):
        entropy_production(L, rho, reference="gibbs")
    T0 = db.Lindbladian(np.diag([0.0, 1.0]), [SIGMA_MINUS], [1.0], name="b", beta=float("inf"))
    with pytest.raises(db.InputError, match="beta = inf"):
        entropy_production(T0, rho)
    with pytest.raises(db.NotFaithfulError):
        entropy_production(T0, rho, reference=np.diag([1.0, 0.0]))
    with pytest.raises(db.InputError, match="rho"):
        entropy_production(L, np.eye(2))
    ev = evolve(L, rho, [0.0, 1.0], e_ops=[np.eye(2)])
    with pytest.raises(db.InputError, match="states"):
        relative_entropy_decay(ev, rho)
