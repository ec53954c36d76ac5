"""Full counting statistics, Gallavotti–Cohen and the TUR (THEORY.md §13)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from systems import SIGMA_MINUS, SIGMA_PLUS, random_hermitian, random_matrix

import detbal as db
from detbal.errors import InputError
from detbal.thermo import tilted
from detbal.thermo.fcs import counting_statistics, gallavotti_cohen, joint_covariance, scgf, tur_ratio

SX = np.array([[0, 1], [1, 0]], dtype=complex)
H_QUBIT = np.diag([0.0, 1.0])


def baths(beta_h=0.5, beta_c=2.0):
    return (db.Bath.ohmic(0.1, 5.0, beta=beta_h, name="hot"), db.Bath.ohmic(0.05, 5.0, beta=beta_c, name="cold"))


def qubit_rates(beta_h=0.5, beta_c=2.0):
    hot, cold = baths(beta_h, beta_c)
    return hot.rate(1.0), hot.rate(-1.0), cold.rate(1.0), cold.rate(-1.0)


def lindblad_qubit(beta_h=0.5, beta_c=2.0, scale=1.0, h_scale=1.0):
    """The two-bath qubit of §13 as a sum of Lindbladians (σ−, σ+ per bath; KMS rates); ``scale``
    multiplies the rates, ``h_scale`` the coherent part (the heat currents use the same H)."""
    dh, uh, dc, uc = (scale * r for r in qubit_rates(beta_h, beta_c))
    return (db.Lindbladian(h_scale * H_QUBIT, [SIGMA_MINUS, SIGMA_PLUS], [dh, uh], name="hot", beta=beta_h)
            + db.Lindbladian(0 * H_QUBIT, [SIGMA_MINUS, SIGMA_PLUS], [dc, uc], name="cold", beta=beta_c))


def davies_qubit(beta_h=0.5, beta_c=2.0):
    hot, cold = baths(beta_h, beta_c)
    return db.davies(H_QUBIT, [(SX, hot), (SX, cold)])


def closed_form(beta_h=0.5, beta_c=2.0):
    """θ(s) and c_1, c_2, c_3 of the two-state model, by differentiating θ = −S/2 + √R(s) by hand:
    R = (u−d)²/4 + (d_c + d_h e^{−s})(u_c + u_h e^{s}), P = d_c u_h, M = d_h u_c, S = u + d."""
    dh, uh, dc, uc = qubit_rates(beta_h, beta_c)
    u, d = uh + uc, dh + dc
    S, P, M = u + d, dc * uh, dh * uc

    def theta(s):
        s = np.asarray(s, dtype=float)
        return -S / 2 + np.sqrt((u - d) ** 2 / 4 + (dc + dh * np.exp(-s)) * (uc + uh * np.exp(s)))

    c1 = (P - M) / S
    c2 = (P + M) / S - 2 * (P - M) ** 2 / S ** 3
    c3 = (P - M) / S - 6 * (P - M) * (P + M) / S ** 3 + 12 * (P - M) ** 3 / S ** 5
    return theta, c1, c2, c3


QUBITS = [pytest.param(lindblad_qubit, id="lindblad"), pytest.param(davies_qubit, id="davies")]


@pytest.mark.parametrize("build", QUBITS)
def test_two_bath_qubit_cumulants_match_the_closed_form_and_the_verified_numbers(build):
    _, c1, c2, c3 = closed_form()
    cs = counting_statistics(build(), {"hot": "number"}, order=3)
    assert cs.cumulants.shape == (1, 3)
    np.testing.assert_allclose([cs.mean, cs.noise, cs.skewness], [c1, c2, c3], rtol=1e-9)
    np.testing.assert_allclose([cs.mean, cs.noise, cs.skewness], [0.0751623, 0.1137039, 0.0541307], rtol=1e-6)
    assert cs.fano == pytest.approx(c2 / c1, rel=1e-9)
    assert cs.fano == pytest.approx(1.51278, rel=1e-5)
    pi = (2.0 - 0.5) * c1                                  # Π = (β_c − β_h) ω c_1
    assert tur_ratio(build(), {"hot": "number"}) == pytest.approx(c2 * pi / c1 ** 2, rel=1e-9)
    assert tur_ratio(build(), {"hot": "number"}) == pytest.approx(2.26917, rel=1e-5)


@pytest.mark.parametrize("build", QUBITS)
def test_closed_form_scgf_is_the_top_eigenvalue_of_the_tilted_generator(build):
    theta, *_ = closed_form()
    s = np.linspace(-3, 3, 61)
    np.testing.assert_allclose(scgf(build(), {"hot": "number"}, s), theta(s), rtol=0, atol=1e-13)
    assert abs(scgf(build(), {"hot": "number"}, 0.0)) < 1e-15


@pytest.mark.parametrize("build", QUBITS)
def test_gallavotti_cohen_holds_for_the_two_bath_qubit(build):
    for counting, A in (({"hot": "number"}, 1.5), ({"hot": "energy"}, 1.5), ({"cold": "energy"}, -1.5)):
        gc = gallavotti_cohen(build(), counting)
        assert gc.affinity == pytest.approx(A, abs=1e-15)
        assert gc.residual <= 1e-12
        assert abs(gc.theta_at_minus_affinity) <= 1e-12
    with pytest.raises(TypeError, match="residual"):
        bool(gc)


def test_gallavotti_cohen_fails_with_the_wrong_affinity_and_when_local_detailed_balance_breaks():
    gc = gallavotti_cohen(lindblad_qubit(), {"hot": "number"}, affinity=1.0)
    assert gc.residual > 1e-2
    dh, uh, dc, uc = qubit_rates()
    broken = (db.Lindbladian(H_QUBIT, [SIGMA_MINUS, SIGMA_PLUS], [dh, 2 * uh], name="hot", beta=0.5)
              + db.Lindbladian(0 * H_QUBIT, [SIGMA_MINUS, SIGMA_PLUS], [dc, uc], name="cold", beta=2.0))
    assert gallavotti_cohen(broken, {"hot": "number"}).residual > 1e-3


def finite_difference_derivatives(f, h):
    """First three derivatives of f at 0 by central stencils of error O(h⁴)."""
    v = {k: f(k * h) for k in range(-3, 4)}
    d1 = (-v[2] + 8 * v[1] - 8 * v[-1] + v[-2]) / (12 * h)
    d2 = (-v[2] + 16 * v[1] - 30 * v[0] + 16 * v[-1] - v[-2]) / (12 * h ** 2)
    d3 = (-v[3] + 8 * v[2] - 13 * v[1] + 13 * v[-1] - 8 * v[-2] + v[-3]) / (8 * h ** 3)
    return np.array([d1, d2, d3])


def random_lindbladian(rng, d=3, K=3):
    H = random_hermitian(rng, d)
    jumps = [random_matrix(rng, d) for _ in range(K)]
    return db.Lindbladian(H, jumps, rng.uniform(0.3, 1.0, K), names=[f"j{k}" for k in range(K)])


def test_drazin_cumulants_equal_finite_differences_of_the_scgf(rng):
    L = random_lindbladian(rng)
    counting = {"j0": [1.0], "j1": [-2.0]}
    cs = counting_statistics(L, counting, order=3)
    fd = finite_difference_derivatives(lambda s: scgf(L, counting, s), 1e-2)
    # O(h⁴) truncation ≈ 1e-8 and round-off ε/h³ ≈ 1e-10 for the third derivative
    np.testing.assert_allclose(cs.cumulants[0], fd, rtol=1e-6)


def test_two_bath_qubit_drazin_cumulants_equal_finite_differences():
    D = davies_qubit()
    cs = counting_statistics(D, {"hot": "energy"}, order=3)
    fd = finite_difference_derivatives(lambda s: scgf(D, {"hot": "energy"}, s), 1e-2)
    np.testing.assert_allclose(cs.cumulants[0], fd, rtol=1e-6)


def test_tur_ratio_tends_to_two_in_linear_response():
    ratios = [tur_ratio(davies_qubit(1 - e, 1 + e), {"hot": "energy"}) for e in (0.3, 0.1, 0.03, 0.01)]
    # THEORY prints these rounded to 4 decimals (5 for the last): half a unit of that digit
    np.testing.assert_allclose(ratios, [2.0348, 2.0034, 2.0003, 2.00003], rtol=0, atol=5e-5)
    assert all(r > 2 for r in ratios) and np.all(np.diff(ratios) < 0)


def test_energy_counting_mean_is_the_heat_current(rng):
    """⟨N⟩/t = J_b = Tr[H 𝓛_b(ρ_ss)]: Lindblad and Davies, qubit and a three-level system."""
    E = np.array([0.0, 0.7, 1.9])
    V = np.linalg.qr(random_matrix(rng, 3))[0]
    H = V @ np.diag(E) @ V.conj().T
    S1, S2 = random_hermitian(rng, 3), random_hermitian(rng, 3)
    D = db.davies(H, [(S1, db.Bath.ohmic(0.1, 4.0, beta=0.3, name="hot")),
                      (S2, db.Bath.ohmic(0.2, 4.0, beta=1.7, name="cold"))])
    for L in (lindblad_qubit(), davies_qubit(), D):
        J = db.heat_currents(L, db.steady_state(L).state)
        for name in J:
            assert counting_statistics(L, {name: "energy"}, order=1).mean == pytest.approx(J[name], rel=1e-9)


def resonant_qubits():
    """Two resonant qubits: degenerate levels couple populations and coherences (no Pauli form)."""
    sx1, sx2 = np.kron(SX, np.eye(2)), np.kron(np.eye(2), SX)
    H = np.diag([0.0, 1.0, 1.0, 2.0])
    hot, cold = baths()
    return db.davies(H, [(sx1 + 0.5 * sx2, hot), (sx2, cold)])


def test_degenerate_davies_is_counted_on_its_zero_bohr_sector_and_keeps_the_heat_current():
    D = resonant_qubits()
    cs = counting_statistics(D, [{"hot": "energy"}, {"cold": "energy"}], order=3)
    assert cs.method == "davies-zero-sector"
    J = db.heat_currents(D, db.steady_state(D).state)
    np.testing.assert_allclose(cs.mean, [J["hot"], J["cold"]], rtol=1e-9)
    assert gallavotti_cohen(D, {"hot": "energy"}).residual < 1e-12


def test_zero_sector_and_jump_paths_agree_on_a_degenerate_davies_generator():
    """The same generator through its ν = 0 block and through its Bohr-frequency jump operators
    A_b(ω) on the d²×d² superoperator (a sum with an empty Lindbladian takes the jump path)."""
    D = resonant_qubits()
    S = D + db.Lindbladian(np.zeros((4, 4)), [], name="nothing")
    fields = [{"hot": "energy"}, {"cold": "number"}]
    sector, jumps = counting_statistics(D, fields, order=4), counting_statistics(S, fields, order=4)
    assert jumps.method.startswith("jumps")
    np.testing.assert_allclose(sector.cumulants, jumps.cumulants, rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(sector.covariance, jumps.covariance, rtol=1e-8, atol=1e-14)
    s = np.linspace(-1.5, 1.5, 7)
    np.testing.assert_allclose(scgf(D, {"hot": "energy"}, s), scgf(S, {"hot": "energy"}, s), atol=1e-11)


def test_joint_cumulants_of_the_two_baths_are_tied_by_energy_conservation():
    C = joint_covariance(lindblad_qubit(), [{"hot": "energy"}, {"cold": "energy"}])
    _, _, c2, _ = closed_form()
    np.testing.assert_allclose(C, c2 * np.array([[1, -1], [-1, 1]]), rtol=1e-9)


def ring(rates):
    """Classical 3-state ring, W[m, n] = rate n → m, with the edge-(0,1) counting matrix."""
    (a, b, c), (x, y, z) = rates
    W = np.zeros((3, 3))
    W[1, 0], W[2, 1], W[0, 2] = a, b, c      # clockwise 0 → 1 → 2 → 0
    W[0, 1], W[1, 2], W[2, 0] = x, y, z      # anticlockwise
    W -= np.diag(W.sum(axis=0))
    nu = np.zeros((3, 3))
    nu[1, 0], nu[0, 1] = 1.0, -1.0
    return db.RateMatrix(W), nu, math.log(a * b * c / (x * y * z))


@settings(max_examples=15, deadline=None)
@given(st.lists(st.floats(0.05, 5.0), min_size=6, max_size=6))
def test_classical_ring_obeys_gallavotti_cohen_with_the_schnakenberg_affinity_and_the_tur(r):
    W, nu, A = ring((r[:3], r[3:]))
    gc = gallavotti_cohen(W, nu, affinity=A)
    assert gc.residual <= 1e-10 * max(1.0, float(np.max(np.abs(gc.theta))))
    assert abs(gc.theta_at_minus_affinity) <= 1e-10 * max(r)
    if abs(A) > 1e-3:
        assert tur_ratio(W, nu) >= 2 - 1e-9


def test_classical_ring_cumulants_match_the_quantum_embedding():
    """The same ring as a Lindbladian with jumps √r|m⟩⟨n| gives the same cumulants (jump path)."""
    W, nu, _ = ring(((1.0, 2.0, 0.5), (0.3, 0.7, 1.1)))
    jumps, rates, weights = [], [], []
    for m in range(3):
        for n in range(3):
            if m != n:
                A = np.zeros((3, 3))
                A[m, n] = 1.0
                jumps.append(A)
                rates.append(W.matrix[m, n])
                weights.append(nu[m, n])
    names = [f"e{k}" for k in range(6)]
    L = db.Lindbladian(np.diag([0.0, 0.4, 1.3]), jumps, rates, names=names)
    cl = counting_statistics(W, nu, order=4).cumulants
    qu = counting_statistics(L, {n: w for n, w in zip(names, weights) if w}, order=4).cumulants
    np.testing.assert_allclose(qu, cl, rtol=1e-9)


# -- edges --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("build", QUBITS)
def test_zero_temperature_cold_bath_gives_finite_cumulants(build):
    cs = counting_statistics(build(0.5, math.inf), {"hot": "energy"}, order=3)
    assert np.all(np.isfinite(cs.cumulants)) and cs.mean > 0
    with pytest.raises(InputError, match="zero-temperature"):
        gallavotti_cohen(build(0.5, math.inf), {"hot": "energy"})
    with pytest.raises(InputError, match="T = 0"):
        tur_ratio(build(0.5, math.inf), {"hot": "energy"})


def test_large_beta_gap_keeps_the_cumulants_finite():
    for bh, bc in ((40.0, 60.0), (300.0, 700.0)):
        cs = counting_statistics(davies_qubit(bh, bc), {"hot": "energy"}, order=3)
        assert np.all(np.isfinite(cs.cumulants))
        gc = gallavotti_cohen(davies_qubit(bh, bc), {"hot": "energy"}, s=np.linspace(-3, 3, 7))
        assert np.all(np.isfinite(gc.theta))


@pytest.mark.parametrize("scale", [1e-120, 1e-8, 1e8, 1e120])
def test_cumulants_scale_with_the_generator(scale):
    """𝓛 → c𝓛 (rates and coherent part) multiplies every scaled cumulant by c, at any c."""
    ref = counting_statistics(lindblad_qubit(), {"hot": "number"}, order=3).cumulants
    got = counting_statistics(lindblad_qubit(scale=scale, h_scale=scale), {"hot": "number"}, order=3).cumulants
    np.testing.assert_allclose(got / scale, ref, rtol=1e-8)


def test_rates_negligible_against_the_hamiltonian_are_a_clear_error():
    """Rates 1e-120 beside ω = 1: the stationary state is not resolved to the kernel tolerance."""
    with pytest.raises(db.NonUniqueSteadyStateError):
        counting_statistics(lindblad_qubit(scale=1e-120), {"hot": "number"})


def test_bad_counting_is_an_input_error_naming_it():
    L = lindblad_qubit()
    with pytest.raises(InputError, match="unknown channel 'warm'"):
        counting_statistics(L, {"warm": "energy"})
    with pytest.raises(InputError, match="out of range"):
        counting_statistics(L, {5: "energy"})
    with pytest.raises(InputError, match="one weight per jump"):
        counting_statistics(L, {"hot": [1.0, -1.0, 0.0]})
    with pytest.raises(InputError, match="'energy', 'number'"):
        counting_statistics(L, {"hot": "heat"})
    with pytest.raises(InputError, match="counts nothing"):
        counting_statistics(L, {"hot": [0.0, 0.0]})
    with pytest.raises(InputError, match="`order`"):
        counting_statistics(L, {"hot": "energy"}, order=0)
    with pytest.raises(InputError, match="`counting`"):
        counting_statistics(L, "hot")
    with pytest.raises(InputError, match="`s`"):
        scgf(L, {"hot": "energy"}, [[0.1]])
    empty = db.Lindbladian(H_QUBIT, [SIGMA_MINUS], [1.0], names=["decay"]) + db.Lindbladian(
        0 * H_QUBIT, [], [], name="idle", beta=1.0)
    with pytest.raises(InputError, match="unknown channel 'idle'"):
        counting_statistics(empty, {"idle": "energy"})
    with pytest.raises(InputError, match="no jumps"):
        counting_statistics(db.Lindbladian(H_QUBIT, [SIGMA_MINUS], [0.0], names=["off"])
                            + db.Lindbladian(0 * H_QUBIT, [SIGMA_PLUS], [1.0], names=["on"]), {"off": "energy"})


def test_non_eigenoperator_jumps_need_explicit_weights():
    L = db.Lindbladian(H_QUBIT + 0.3 * SX, [SIGMA_MINUS, SIGMA_PLUS], [1.0, 0.5], name="bath", beta=1.0)
    with pytest.raises(InputError, match="not an eigenoperator"):
        counting_statistics(L, {"bath": "energy"})
    assert np.isfinite(counting_statistics(L, {"bath": [-1.0, 1.0]}).mean)


def test_redfield_baths_have_no_jump_form():
    R = db.redfield(H_QUBIT, [(SX, db.Bath.ohmic(0.05, 5.0, beta=1.0, name="hot"))])
    with pytest.raises(InputError, match="no jump"):
        counting_statistics(R, {"hot": "energy"})


def test_matrix_generators_are_counted_through_explicit_jump_superoperators():
    L = lindblad_qubit()
    dh, uh, *_ = qubit_rates()
    J_down = dh * np.kron(SIGMA_MINUS.conj(), SIGMA_MINUS)
    J_up = uh * np.kron(SIGMA_PLUS.conj(), SIGMA_PLUS)
    M = db.as_generator(L.to_dense())
    got = counting_statistics(M, [(J_down, -1.0), (J_up, 1.0)], order=3).cumulants
    ref = counting_statistics(L, {"hot": "number"}, order=3).cumulants
    np.testing.assert_allclose(got, ref, rtol=1e-10)
    with pytest.raises(InputError, match="unknown channel"):
        counting_statistics(M, {"hot": "number"})


def boundary_driven_xx_pair():
    """Two coupled qubits, spins injected (σ+) and removed (σ−) at both ends: H, jumps, rates."""
    sp_, sm_ = SIGMA_PLUS, SIGMA_MINUS
    I2 = np.eye(2)
    Z = np.diag([1.0, -1.0])
    H = (0.5 * (np.kron(sp_, sm_) + np.kron(sm_, sp_)) + 0.3 * np.kron(Z, Z) + 0.2 * np.kron(Z, I2)).astype(complex)
    jumps = [np.kron(sp_, I2), np.kron(sm_, I2), np.kron(I2, sp_), np.kron(I2, sm_)]
    return H, jumps, [0.8, 0.3, 0.2, 0.6]


def test_cumulants_agree_with_qutip_countstat_current_noise_for_the_signed_current():
    qutip = pytest.importorskip("qutip")
    H, jumps, rates = boundary_driven_xx_pair()
    names = ["in_left", "out_left", "in_right", "out_right"]
    L = db.Lindbladian(H, jumps, rates, names=names)
    cs = counting_statistics(L, {"in_left": [1.0], "out_left": [-1.0]}, order=3)
    c_ops = [qutip.Qobj(np.sqrt(g) * A) for g, A in zip(rates, jumps)]
    Lq = qutip.liouvillian(qutip.Qobj(H), c_ops)
    I_op = qutip.sprepost(c_ops[0], c_ops[0].dag()) - qutip.sprepost(c_ops[1], c_ops[1].dag())   # net current
    J_op = qutip.sprepost(c_ops[0], c_ops[0].dag()) + qutip.sprepost(c_ops[1], c_ops[1].dag())   # ν² = 1 terms
    rho = qutip.steadystate(Lq)
    mean, noise, skew = qutip.countstat_current_noise(Lq, [], rhoss=rho, J_ops=[J_op], I_ops=[I_op])
    # QuTiP regularises its zero-frequency solve with L + 1e-15 i: agreement to ~1e-10 relative
    np.testing.assert_allclose([cs.mean, cs.noise, cs.skewness], [mean[0], noise[0, 0, 0], skew[0, 0]], rtol=1e-9)
    # and its default I_ops = J_ops counts every jump positively: the total activity, not the net current
    _, noise_all, _ = qutip.countstat_current_noise(Lq, [], rhoss=rho, J_ops=[J_op])
    act = counting_statistics(L, {"in_left": [1.0], "out_left": [1.0]}, order=2)
    assert act.noise == pytest.approx(noise_all[0, 0, 0], rel=1e-9)
    assert abs(act.noise - cs.noise) > 1e-3


@pytest.mark.parametrize("build", QUBITS)
def test_one_jump_counted_by_two_fields_gives_the_full_joint_cumulant(build):
    """ω = 1: energy and quanta from the hot bath are the same count, so every joint c_ij = c_2."""
    _, _, c2, _ = closed_form()
    C = joint_covariance(build(), [{"hot": "energy"}, {"hot": "number"}])
    np.testing.assert_allclose(C, c2 * np.ones((2, 2)), rtol=1e-9)


def test_sparse_arnoldi_scgf_path_agrees_with_the_dense_eigenvalues(rng, monkeypatch):
    """Above DENSE_TILT_MAX the top eigenvalue comes from ARPACK on the sparse tilted generator."""
    L = random_lindbladian(rng, d=5, K=3)
    counting = {"j0": [1.0], "j2": [-1.5]}
    s = np.array([-2.0, -0.5, 0.0, 0.7, 2.0])
    dense = scgf(L, counting, s)
    monkeypatch.setattr(tilted, "DENSE_TILT_MAX", 1)
    np.testing.assert_allclose(scgf(L, counting, s), dense, rtol=0, atol=1e-10)


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.1, 3.0), st.floats(0.1, 3.0))
def test_random_two_bath_davies_obey_gallavotti_cohen_and_the_tur(seed, beta_h, beta_c):
    """Any H, any couplings, any two temperatures: local detailed balance of each Davies bath gives
    θ(s) = θ(−s − (β_c − β_h)) for the energy from the hot bath, and the Pauli dynamics a TUR ≥ 2."""
    rng = np.random.default_rng(seed)
    H = random_hermitian(rng, 4)
    D = db.davies(H, [(random_hermitian(rng, 4), db.Bath.ohmic(0.05, 4.0, beta=beta_h, name="hot")),
                      (random_hermitian(rng, 4), db.Bath.ohmic(0.08, 4.0, beta=beta_c, name="cold"))])
    gc = gallavotti_cohen(D, {"hot": "energy"})
    assert gc.residual <= 1e-10 * max(1.0, float(np.max(np.abs(gc.theta))))
    assert abs(gc.theta_at_minus_affinity) <= 1e-10
    if abs(beta_h - beta_c) > 0.05:
        assert tur_ratio(D, {"hot": "energy"}) >= 2 - 1e-8


def test_boundary_driven_davies_chain_with_degenerate_levels_obeys_gallavotti_cohen():
    """XXZ chain, 6 spins, a bath at each end (d = 64, one degenerate pair): counted on its ν = 0
    Bohr sector with every small rate kept (a dropped rate whose reverse is kept broke GC at 2e-6)."""
    D = db.models.xxz_chain(n=6, baths="boundary").generator
    cs = counting_statistics(D, {"left": "energy"})
    assert cs.method == "davies-zero-sector"
    gc = gallavotti_cohen(D, {"left": "energy"})
    assert gc.residual < 1e-12 and abs(gc.theta_at_minus_affinity) < 1e-12


def test_explicit_superoperators_on_a_davies_generator_take_the_jump_path():
    D = davies_qubit()
    dh, uh, *_ = qubit_rates()
    pairs = [(dh * np.kron(SIGMA_MINUS.conj(), SIGMA_MINUS), -1.0), (uh * np.kron(SIGMA_PLUS.conj(), SIGMA_PLUS), 1.0)]
    got = counting_statistics(D, pairs, order=3)
    assert got.method.startswith("jumps")
    np.testing.assert_allclose(got.cumulants, counting_statistics(D, {"hot": "number"}, order=3).cumulants, rtol=1e-9)
