"""Steady states, spectra, gaps and evolution (THEORY.md §9): analytic systems through every path."""

import json

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm
from systems import (
    SIGMA_MINUS,
    SIGMA_PLUS,
    eigenoperator_db_lindbladian,
    random_density_matrix,
    random_hermitian,
    random_matrix,
    thermal_qubit,
)

import detbal as db
from detbal.linalg import linsolve as _linsolve
from detbal.dynamics import (
    Evolution,
    SpectralGap,
    Spectrum,
    SteadyState,
    evolve,
    spectral_gap,
    spectrum,
    steady_state,
)
from detbal.generators.base import DenseGenerator, SumGenerator

SZ = np.diag([1.0, -1.0]).astype(complex)


def random_lindbladian(seed, d, k=2):
    rng = np.random.default_rng(seed)
    return db.Lindbladian(random_hermitian(rng, d), [random_matrix(rng, d) for _ in range(k)],
                          rng.uniform(0.2, 1.5, size=k))


def xxz_chain(N, J=1.0, delta=0.5, gamma=1.0, dephasing=None):
    """Boundary-driven XXZ chain: σ⁻ on site 0, σ⁺ on site N−1 (or bulk dephasing only)."""
    sx = sp.csr_array([[0, 1], [1, 0]], dtype=complex)
    sy = sp.csr_array([[0, -1j], [1j, 0]])
    sz = sp.csr_array(SZ)
    sm = sp.csr_array(SIGMA_MINUS)

    def site(op, k):
        out = sp.identity(1, format="csr", dtype=complex)
        for j in range(N):
            out = sp.kron(out, op if j == k else sp.identity(2, format="csr"), format="csr")
        return out

    H = sum(J * (site(sx, k) @ site(sx, k + 1) + site(sy, k) @ site(sy, k + 1) + delta * site(sz, k) @ site(sz, k + 1))
            for k in range(N - 1))
    if dephasing is not None:
        return db.Lindbladian(H, [site(sz, k) for k in range(N)], [dephasing] * N)
    return db.Lindbladian(H, [site(sm, 0), site(sm.T, N - 1)], [gamma, gamma])


def assert_density_matrix(rho, atol=1e-12):
    assert np.allclose(rho, rho.conj().T, atol=atol)
    assert abs(np.trace(rho) - 1) < 1e-12
    assert np.linalg.eigvalsh(rho)[0] > -1e-10


# -- steady states ----------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["auto", "direct", "dense", "shift-invert"])
def test_thermal_qubit_steady_state_is_gibbs_through_every_path(method):
    H, jumps, rates = thermal_qubit(omega=1.3, beta=0.8, gamma_down=0.7)
    ss = steady_state(db.Lindbladian(H, jumps, rates), method=method)
    assert isinstance(ss, SteadyState) and ss.kernel_dim == 1
    assert np.max(np.abs(ss.state - db.gibbs_state(H, 0.8))) < 1e-12
    assert ss.residual < 1e-13


@pytest.mark.parametrize("method", ["direct", "iterative", "dense", "shift-invert"])
def test_random_db_lindbladian_relaxes_to_its_gibbs_state(method):
    H, jumps, rates, sigma = eigenoperator_db_lindbladian(np.random.default_rng(5), 5, beta=0.9)
    ss = steady_state(db.Lindbladian(H, jumps, rates), method=method)
    assert np.max(np.abs(ss.state - sigma)) < 1e-10
    assert ss.method.startswith(method)
    assert_density_matrix(ss.state)


def test_steady_state_accepts_matrices_sparse_and_qobj():
    qt = pytest.importorskip("qutip")
    L = random_lindbladian(3, 4)
    ref = steady_state(L).state
    M = L.to_dense()
    for arg in (M, sp.csr_array(M), qt.Qobj(M, dims=[[[4], [4]], [[4], [4]]], superrep="super")):
        ss = steady_state(arg)
        assert np.max(np.abs(ss.state - ref)) < 1e-11
    qref = qt.steadystate(qt.Qobj(L.hamiltonian), [np.sqrt(g) * qt.Qobj(A) for g, A in zip(L.rates, L.jumps)])
    assert np.max(np.abs(qref.full() - ref)) < 1e-9


def test_two_decoupled_qubits_with_own_baths_have_product_steady_state():
    I2 = np.eye(2)
    b1, b2, w1, w2 = 0.4, 2.5, 1.0, 1.7
    H = np.kron(np.diag([0, w1]), I2) + np.kron(I2, np.diag([0, w2]))
    L1 = db.Lindbladian(H, [np.kron(SIGMA_MINUS, I2), np.kron(SIGMA_PLUS, I2)], [0.3, 0.3 * np.exp(-b1 * w1)],
                        name="bath1", beta=b1)
    L2 = db.Lindbladian(0 * H, [np.kron(I2, SIGMA_MINUS), np.kron(I2, SIGMA_PLUS)], [1.1, 1.1 * np.exp(-b2 * w2)],
                        name="bath2", beta=b2)
    ss = steady_state(SumGenerator((L1, L2)))
    expected = np.kron(db.gibbs_state(np.diag([0, w1]), b1), db.gibbs_state(np.diag([0, w2]), b2))
    assert np.max(np.abs(ss.state - expected)) < 1e-12


def test_dephasing_qubit_has_a_two_dimensional_kernel_of_diagonal_states():
    L = db.Lindbladian(np.zeros((2, 2)), [SZ], [0.6])
    with pytest.raises(db.NonUniqueSteadyStateError) as info:
        steady_state(L)
    err = info.value
    assert err.kernel_dim == 2 and len(err.basis) == 2
    basis = sorted(err.basis, key=lambda r: -r[0, 0].real)
    assert np.allclose(basis[0], np.diag([1, 0])) and np.allclose(basis[1], np.diag([0, 1]))
    rho0 = np.array([[0.3, 0.2 + 0.1j], [0.2 - 0.1j, 0.7]])
    ss = steady_state(L, initial=rho0)
    assert ss.kernel_dim == 2 and ss.method.startswith("projection")
    assert np.max(np.abs(ss.state - np.diag(np.diag(rho0)))) < 1e-14


@pytest.mark.parametrize("method", ["auto", "direct", "dense", "shift-invert"])
def test_conserved_quantities_in_a_random_basis_give_the_long_time_limit(method):
    rng = np.random.default_rng(11)
    Q = np.linalg.qr(random_matrix(rng, 4))[0]
    H = Q @ np.diag([0.0, 1.0, 1.5, 3.0]) @ Q.conj().T
    A = Q @ np.diag([1.0, -1.0, 2.0, -2.5]) @ Q.conj().T  # commutes with H: populations in Q conserved
    L = db.Lindbladian(H, [A], [0.8])
    with pytest.raises(db.NonUniqueSteadyStateError) as info:
        steady_state(L, method=method)
    assert info.value.kernel_dim == 4
    for rho in info.value.basis:
        assert_density_matrix(rho, atol=1e-10)
        assert np.linalg.norm(L.apply(rho)) < 1e-10
    rho0 = random_density_matrix(rng, 4)
    ss = steady_state(L, method=method, initial=rho0)
    late = evolve(L, rho0, [60.0]).states[0]
    assert np.max(np.abs(ss.state - late)) < 1e-10
    assert_density_matrix(ss.state, atol=1e-10)


def test_dephasing_xxz_chain_has_one_stationary_state_per_magnetisation_sector(monkeypatch):
    L = xxz_chain(4, dephasing=0.3)
    for method in ("auto", "shift-invert", "iterative"):
        with pytest.raises(db.NonUniqueSteadyStateError) as info:
            steady_state(L, method=method)
        assert info.value.kernel_dim == 5
    # force the large-d code paths (GMRES bordered solve, GMRES shift-invert) at d = 16
    monkeypatch.setattr(db.config, "LU_MAX_DIM", 4)
    monkeypatch.setattr(db.config, "DENSE_KERNEL_MAX_DIM", 4)
    with pytest.raises(db.NonUniqueSteadyStateError) as info:
        steady_state(L)
    assert info.value.kernel_dim == 5 and "gmres" in str(info.value)
    rho0 = np.zeros((16, 16), complex)
    rho0[0, 0] = 1.0  # all spins up: the 1-state sector
    assert np.max(np.abs(steady_state(L, initial=rho0).state - rho0)) < 1e-9


def test_iterative_and_direct_agree_on_a_boundary_driven_chain():
    L = xxz_chain(5)
    a, b = steady_state(L, method="direct"), steady_state(L, method="iterative")
    assert np.max(np.abs(a.state - b.state)) < 1e-10
    assert b.details["certificate"][0] == "random-probe residual"


def test_boundary_driven_xxz_chain_at_d256_is_solved_without_dense_matrices():
    L = xxz_chain(8)
    ss = steady_state(L)
    assert ss.method == "iterative" and ss.kernel_dim == 1
    assert ss.details["relative_residual"] < 1e-10
    assert_density_matrix(ss.state, atol=1e-10)
    # timing is measured in benchmarks/steady_state.py, not asserted here


def test_structured_paths_are_used_when_the_generator_declares_them():
    base = random_lindbladian(8, 3)
    M = base.to_dense()

    class Structured(DenseGenerator):
        has_sector_structure = True

        def structured_steady_state(self):
            return steady_state(base, method="dense").state, 1, "fake"

        def structured_spectrum(self):
            return np.linalg.eigvals(M)

        def structured_gap(self):
            return 0.125

        def structured_evolve(self, rho0, times):
            return np.stack([(expm(M * t) @ rho0.reshape(-1, order="F")).reshape(3, 3, order="F") for t in times])

        def structured_expect(self, rho0, times, ops):
            states = self.structured_evolve(rho0, times)
            return np.array([[np.trace(O @ r) for r in states] for O in ops])

    S = Structured(M)
    ss = steady_state(S)
    assert ss.method == "structured:fake" and ss.residual < 1e-12
    assert spectrum(S).method == "structured" and spectrum(S, k=3).eigenvalues.size == 3
    assert spectral_gap(S).gap == 0.125 and spectral_gap(S).path == "structured"
    ev = evolve(S, np.eye(3) / 3, [0.0, 1.0], e_ops=[np.eye(3)])
    assert ev.method == "structured" and np.allclose(ev.expect, 1.0)

    class WithExpect(Structured):
        def structured_expect(self, rho0, times, ops):
            return np.full((len(ops), len(times)), 0.5)

    ev = evolve(WithExpect(M), np.eye(3) / 3, [0.0, 1.0, 2.0], e_ops=[np.eye(3)])
    assert ev.method == "structured" and ev.expect.shape == (1, 3) and np.all(ev.expect == 0.5)
    # without the declaration the same methods are never called
    Undeclared = type("Undeclared", (WithExpect,), {"has_sector_structure": False})
    assert steady_state(Undeclared(M)).method != "structured:fake"
    assert spectral_gap(Undeclared(M)).path != "structured"


def test_steady_state_rejects_bad_input():
    L = random_lindbladian(1, 3)
    with pytest.raises(db.InputError, match="method"):
        steady_state(L, method="newton")
    with pytest.raises(db.InputError, match="tol"):
        steady_state(L, tolerance=-1)
    with pytest.raises(db.InputError, match="initial"):
        steady_state(L, initial=np.eye(3))
    with pytest.raises(db.InputError, match="trace preserving"):
        steady_state(L.to_dense() - 0.1 * np.eye(9))
    with pytest.raises(db.InputError, match="structured"):
        steady_state(L, method="structured")
    with pytest.raises(db.InputError, match="iterative"):
        steady_state(L.to_dense(), method="iterative")


@pytest.mark.parametrize("kind", ["eig", "schur"])
def test_sylvester_preconditioner_inverts_the_no_jump_part_exactly(kind):
    rng = np.random.default_rng(2)
    d = 5
    G = random_matrix(rng, d)
    Heff = random_hermitian(rng, d) - 0.5j * G @ G.conj().T
    S = -1j * (np.kron(np.eye(d), Heff) - np.kron(Heff.conj(), np.eye(d)))
    z = 0.3
    c = rng.normal(size=d * d) + 1j * rng.normal(size=d * d)
    P = _linsolve.SylvesterPreconditioner(Heff, z, kind=kind)
    assert P.kind == kind
    shifted = S - z * np.eye(d * d)
    assert np.linalg.norm(shifted @ P.solve(c) - c) < 1e-10 * np.linalg.norm(c)
    assert np.linalg.norm(shifted.conj().T @ P.solve_h(c) - c) < 1e-10 * np.linalg.norm(c)


# -- spectra and gaps -------------------------------------------------------------------------------
def test_full_spectrum_equals_dense_eigenvalues_sorted_slowest_first():
    L = random_lindbladian(4, 4)
    spec = spectrum(L)
    assert isinstance(spec, Spectrum) and spec.eigenvalues.size == 16 and spec.method == "dense-eig"
    ref = np.linalg.eigvals(L.to_dense())
    assert max(np.min(np.abs(ref - z)) for z in spec.eigenvalues) < 1e-10
    assert np.all(np.diff(spec.eigenvalues.real) <= 1e-12)
    assert abs(spec.eigenvalues[0]) < 1e-12


def test_shift_invert_finds_the_slowest_eigenvalues():
    L = random_lindbladian(6, 6, k=3)
    spec = spectrum(L, k=5, method="shift-invert")  # 0 and two complex-conjugate pairs
    ref = np.linalg.eigvals(L.to_dense())
    ref = ref[np.argsort(-ref.real)][:5]
    assert max(np.min(np.abs(ref - z)) for z in spec.eigenvalues) < 1e-10
    assert max(np.min(np.abs(spec.eigenvalues - z)) for z in ref) < 1e-10
    assert spec.residual < 1e-10
    with pytest.raises(db.InputError):
        spectrum(L, method="shift-invert")


@pytest.mark.parametrize("omega", [0.0, 1.0, 7.0])
def test_gap_of_a_damped_and_pumped_qubit_is_the_coherence_rate(omega):
    g_down, g_up = 0.9, 0.35
    L = db.Lindbladian(np.diag([0.0, omega]), [SIGMA_MINUS, SIGMA_PLUS], [g_down, g_up])
    eig = np.linalg.eigvals(L.to_dense())
    # populations relax at γ↑ + γ↓, coherences at (γ↑ + γ↓)/2: the smaller one is the gap
    assert np.min(np.abs(eig + (g_up + g_down))) < 1e-12
    assert np.min(np.abs(eig.real + (g_up + g_down) / 2)) < 1e-12
    gap = spectral_gap(L)
    assert isinstance(gap, SpectralGap) and gap.path == "hermitian"
    assert abs(gap.gap - (g_up + g_down) / 2) < 1e-12
    assert abs(gap.hermitian_gap - gap.gap) < 1e-12
    other = spectral_gap(L, path="non-hermitian")
    assert other.path == "non-hermitian" and abs(other.gap - gap.gap) < 1e-12 and other.residual < 1e-12


def test_kms_but_not_gns_example_has_hermitian_gap_below_liouvillian_gap():
    beta = omega = 1.0
    p = np.exp(-beta * np.array([0.0, omega]))
    p /= p.sum()
    X = np.array([[0, 1], [1, 0]], dtype=complex)
    V = np.diag(p ** 0.25) @ X @ np.diag(p ** -0.25)
    L = db.Lindbladian(np.diag([0.0, omega]), [V])
    gap = spectral_gap(L, beta=beta)
    assert gap.path == "non-hermitian" and gap.details["normal"] is False
    assert abs(gap.hermitian_gap - 0.127626) < 1e-6
    assert abs(gap.gap - 1.127626) < 1e-6
    assert gap.gap >= gap.hermitian_gap
    # λ_D controls the χ² (KMS) distance: e^{λ_D t}‖ρ_t − σ‖_{χ²} is non-increasing (THEORY §9)
    sigma = np.diag(p)
    s_inv_half = np.diag(p ** -0.5)
    times = np.linspace(0, 5, 51)
    ev = evolve(L, np.array([[0.9, 0.2], [0.2, 0.1]]), times)
    chi = np.array([np.sqrt(np.trace((r - sigma).conj().T @ s_inv_half @ (r - sigma) @ s_inv_half).real)
                    for r in ev.states])
    weighted = np.exp(gap.hermitian_gap * times) * chi
    assert np.all(np.diff(weighted) <= 1e-12)


def test_gap_of_a_generic_lindbladian_uses_the_non_hermitian_path():
    L = random_lindbladian(9, 3)
    gap = spectral_gap(L)
    eig = np.linalg.eigvals(L.to_dense())
    ref = -np.max(eig.real[np.abs(eig) > 1e-9])
    assert gap.path == "non-hermitian" and abs(gap.gap - ref) < 1e-10 and gap.hermitian_gap is None
    with pytest.raises(db.InputError, match="hermitian"):
        spectral_gap(L, path="hermitian")


def test_gap_of_a_large_chain_by_krylov_schur_matches_dense(monkeypatch):
    L = xxz_chain(3)  # d = 8; force the sparse path
    monkeypatch.setattr(db.config, "DENSE_SPECTRUM_MAX_DIM", 4)
    gap = spectral_gap(L, method="iterative")  # "auto" takes dense eig: rates/Bohr spread < 0.2
    eig = np.linalg.eigvals(L.to_dense())
    assert gap.method.startswith("krylov-schur")
    assert abs(gap.gap - (-np.max(eig.real[np.abs(eig) > 1e-9]))) < 1e-9


# -- evolution --------------------------------------------------------------------------------------
def expm_reference(L, rho0, times):
    M = L.to_dense()
    d = L.dim
    return np.stack([(expm(M * t) @ rho0.reshape(-1, order="F")).reshape(d, d, order="F") for t in times])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), d=st.integers(2, 5), uniform=st.booleans(), method=st.sampled_from(
    ["auto", "eig", "krylov", "expm-multiply"]))
def test_evolution_matches_the_exponential_of_the_dense_generator(seed, d, uniform, method):
    L = random_lindbladian(seed, d, k=2)
    rng = np.random.default_rng(seed)
    rho0 = random_density_matrix(rng, d)
    times = np.linspace(0.2, 4.0, 30) if uniform else np.sort(rng.uniform(0, 4, size=12))
    ev = evolve(L, rho0, times, method=method)
    # error models: eig ≈ cond(V)·ε; Krylov ≤ 1e-12·‖ρ0‖ per unit time (its tolerance, t ≤ 4);
    # expm-multiply ≈ ε. Measured over 320 cases: eig 2.5e-14, Krylov 6.8e-15, expm-multiply 5.6e-15.
    if ev.method == "eig":
        bound = 1e-13 * ev.details["eigenvector_condition"]
    elif ev.method.startswith("krylov"):
        bound = 1e-12 * times[-1]
    else:
        bound = 1e-13
    assert np.max(np.abs(ev.states - expm_reference(L, rho0, times))) < bound


def test_evolution_matches_qutip_mesolve():
    qt = pytest.importorskip("qutip")
    L = random_lindbladian(21, 4, k=3)
    rho0 = random_density_matrix(np.random.default_rng(21), 4)
    times = np.linspace(0, 5, 51)
    c_ops = [np.sqrt(g) * qt.Qobj(A) for g, A in zip(L.rates, L.jumps)]
    ref = qt.mesolve(qt.Qobj(L.hamiltonian), qt.Qobj(rho0), times, c_ops,
                     options={"atol": 1e-12, "rtol": 1e-10}).states
    for method in ("eig", "krylov", "expm-multiply"):
        ev = evolve(L, rho0, times, method=method)
        # limited by mesolve's own ODE tolerances (atol 1e-12, rtol 1e-10 per step, over 5 time units)
        assert max(np.max(np.abs(ev.states[k] - ref[k].full())) for k in range(times.size)) < 1e-8


def test_expectation_values_are_real_for_hermitian_observables():
    L = random_lindbladian(2, 3)
    rho0 = random_density_matrix(np.random.default_rng(0), 3)
    times = np.linspace(0, 2, 200)
    full = evolve(L, rho0, times)
    H = L.hamiltonian
    ev = evolve(L, rho0, times, e_ops=[H, np.eye(3)])
    assert ev.states is None and ev.expect.shape == (2, 200) and ev.expect.dtype == np.float64
    assert np.max(np.abs(ev.expect[0] - np.einsum("ij,tji->t", H, full.states).real)) < 1e-12
    assert np.max(np.abs(ev.expect[1] - 1)) < 1e-12  # trace preserved
    J = L.jumps[0]
    ev = evolve(L, rho0, times, e_ops=J)
    assert np.iscomplexobj(ev.expect) and ev.expect.shape == (1, 200)
    assert np.max(np.abs(ev.expect[0] - np.einsum("ij,tji->t", J, full.states))) < 1e-12


def test_defective_generator_falls_back_from_eig_to_expm_multiply():
    M = -np.eye(4, dtype=complex)
    M[0, 3] = 1.0  # Jordan block: eigenvectors are parallel, cond(V) ~ 1e16
    rho0 = np.diag([0.25, 0.75])
    times = np.linspace(0, 2, 20)
    ev = evolve(M, rho0, times, method="eig")
    assert ev.method == "expm-multiply" and "fallback" in ev.details
    ref = np.stack([(expm(M * t) @ rho0.reshape(-1, order="F")).reshape(2, 2, order="F") for t in times])
    assert np.max(np.abs(ev.states - ref)) < 1e-12


@pytest.mark.parametrize("rho0, message", [
    (np.diag([0.5, 0.6]), "trace"),
    (np.diag([1.5, -0.5]), "positive"),
    (np.array([[0.5, 1], [0, 0.5]]), "Hermitian"),
    (np.eye(3) / 3, "2×2"),
])
def test_evolve_rejects_non_states(rho0, message):
    L = db.Lindbladian(np.diag([0.0, 1.0]), [SIGMA_MINUS])
    with pytest.raises(db.InputError, match=message):
        evolve(L, rho0, [0.0, 1.0])


@pytest.mark.parametrize("times, message", [
    ([[0.0, 1.0]], "1-D"), ([], "1-D"), ([0.0, 2.0, 1.0], "non-decreasing"), ([0.0, np.nan], "finite"),
    ([-1.0, 0.0], "≥ 0"), ("abc", "real"),
])
def test_evolve_rejects_bad_times(times, message):
    L = db.Lindbladian(np.diag([0.0, 1.0]), [SIGMA_MINUS])
    with pytest.raises(db.InputError, match=message):
        evolve(L, np.diag([0.0, 1.0]), times)


def test_evolve_rejects_unknown_method_and_bad_e_ops():
    L = db.Lindbladian(np.diag([0.0, 1.0]), [SIGMA_MINUS])
    with pytest.raises(db.InputError, match="method"):
        evolve(L, np.diag([0.0, 1.0]), [1.0], method="rk45")
    with pytest.raises(db.InputError, match="e_ops"):
        evolve(L, np.diag([0.0, 1.0]), [1.0], e_ops=[np.eye(3)])
    with pytest.raises(db.InputError, match="structured"):
        evolve(L, np.diag([0.0, 1.0]), [1.0], method="structured")


def test_results_serialise_to_json_and_print_compactly():
    L = db.Lindbladian(np.diag([0.0, 1.0]), [SIGMA_MINUS, SIGMA_PLUS], [1.0, 0.3])
    results = [steady_state(L), spectrum(L), spectral_gap(L), evolve(L, np.eye(2) / 2, [0, 1]),
               evolve(L, np.eye(2) / 2, [0, 1], e_ops=[SZ])]
    for r in results:
        json.dumps(r.to_dict())
        text = str(r)
        assert "\n" not in text and len(text) < 200
    assert isinstance(results[3], Evolution)


def test_matrix_free_paths_when_the_sparse_matrix_exceeds_the_memory_budget(monkeypatch):
    L = random_lindbladian(12, 16, k=2)  # dense jumps: the sparse d²×d² matrix has ~d⁴ entries
    rho0 = random_density_matrix(np.random.default_rng(12), 16)
    times = np.linspace(0, 1, 5)
    ref_ss = steady_state(L).state
    ref_ev = evolve(L, rho0, times, method="expm-multiply").states
    monkeypatch.setattr(db.config, "memory_budget", 200_000)
    ss = steady_state(L)
    assert ss.method == "iterative" and "matrix-free" in " ".join(ss.details["notes"])
    assert np.max(np.abs(ss.state - ref_ss)) < 1e-10
    ev = evolve(L, rho0, times)
    assert ev.method == "expm-multiply(matrix-free)"
    assert np.max(np.abs(ev.states - ref_ev)) < 1e-10
    with pytest.raises(db.MemoryBudgetError, match="iterative"):
        steady_state(L, method="direct")


def test_krylov_dense_output_handles_zero_repeated_and_final_times():
    L = random_lindbladian(31, 18, k=2)  # d = 18 > 16: auto → krylov for many times
    rho0 = random_density_matrix(np.random.default_rng(31), 18)
    times = np.array([0.0, 0.0, 0.3, 0.3, 1.7, 2.0, 2.0])
    ev = evolve(L, rho0, times, method="krylov")
    assert ev.method == "krylov" and ev.details["krylov"]["matvecs"] > 0
    assert np.max(np.abs(ev.states - expm_reference(L, rho0, times))) < 1e-10
    ops = [L.hamiltonian, L.jumps[0]]
    many = np.linspace(0, 3, 300)
    ex = evolve(L, rho0, many, e_ops=ops)  # factored blocks: expectation values without the states
    full = expm_reference(L, rho0, many[::50])
    assert ex.method == "krylov"
    for k, O in enumerate(ops):
        assert np.max(np.abs(ex.expect[k, ::50] - np.einsum("ij,tji->t", O, full))) < 1e-10
