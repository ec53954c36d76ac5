"""Davies generators (THEORY.md §5, §7): structure, physics and the structured fast paths.

Tolerances are 1e-12 (absolute, on O(1)–O(10) matrices) for identities that hold to round-off;
comparisons with ODE solvers (QuTiP's brmesolve) use the solver's own accuracy (1e-8).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm
from scipy.optimize import linear_sum_assignment
from scipy.sparse.linalg import expm_multiply
from systems import random_hermitian

import detbal as db
from detbal.baths import Bath
from detbal.classical import RateMatrix
from detbal.generators.davies import DaviesGenerator, davies
from detbal.generators.redfield import complete_positivity
from detbal.states import gibbs_state, log_gibbs_populations

X = np.array([[0, 1], [1, 0]], dtype=complex)


def vec(A):
    return np.asarray(A).reshape(-1, order="F")


def unvec(v, d):
    return np.asarray(v).reshape((d, d), order="F")


def random_unitary(rng, d):
    Q, R = np.linalg.qr(rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d)))
    return Q * (np.diagonal(R) / np.abs(np.diagonal(R)))


def hamiltonian_with_spectrum(rng, energies):
    U = random_unitary(rng, len(energies))
    H = (U * np.asarray(energies, dtype=float)) @ U.conj().T
    return (H + H.conj().T) / 2


def reference_davies(H, couplings, lamb=False, tol=1e-8):
    """Independent THEORY §7 construction: jumps A_b(ω) = Σ_{E_j−E_i=ω} Π_i S Π_j (original basis),
    rates γ_b(ω) straight from bath.rate, H_LS = Σ S_b(ω)A†A, assembled as a GKSL Lindbladian."""
    E, V = np.linalg.eigh(H)
    d = len(E)
    jumps, rates, HLS = [], [], np.zeros((d, d), complex)
    for S, bath in couplings:
        St = V.conj().T @ S @ V
        groups = []  # [ω, A(ω) in the eigenbasis]
        for i in range(d):
            for j in range(d):
                w = E[j] - E[i]
                for g in groups:
                    if abs(g[0] - w) < tol:
                        g[1][i, j] += St[i, j]
                        break
                else:
                    A = np.zeros((d, d), complex)
                    A[i, j] = St[i, j]
                    groups.append([w, A])
        for w, A in groups:
            Ao = V @ A @ V.conj().T
            jumps.append(Ao)
            rates.append(float(bath.rate(w)))
            if lamb:
                HLS += float(bath.lamb_shift(w)) * Ao.conj().T @ Ao
    return db.Lindbladian(H + HLS, jumps, rates).to_dense()


def choi(M, d):
    T = M.reshape((d, d, d, d), order="F")
    return T.transpose(2, 0, 3, 1).reshape(d * d, d * d)


def assert_spectra_match(a, b, tol):
    C = np.abs(np.asarray(a)[:, None] - np.asarray(b)[None, :])
    r, c = linear_sum_assignment(C)
    assert C[r, c].max() < tol


def physics_checks(H, couplings, beta, tol=1e-12):
    """The invariants every single-temperature Davies generator must satisfy."""
    d = H.shape[0]
    D = davies(H, couplings)
    L = D.to_dense()
    scale = max(1.0, np.abs(L).max())
    # to_dense equals the independent construction, apply/adjoint agree with it
    assert np.abs(L - reference_davies(H, couplings)).max() < tol * scale
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    assert np.abs(vec(D.apply(Y)) - L @ vec(Y)).max() < tol * scale
    assert np.abs(vec(D.adjoint(Y)) - L.conj().T @ vec(Y)).max() < tol * scale
    # trace preserving, Hermiticity preserving, completely positive (Choi of e^{tL} and of L)
    assert np.abs(vec(np.eye(d)) @ L).max() < tol * scale
    Yh = Y + Y.conj().T
    assert np.abs(D.apply(Yh) - D.apply(Yh).conj().T).max() < tol * scale
    C = choi(expm(0.5 * L), d)
    assert np.linalg.eigvalsh((C + C.conj().T) / 2)[0] > -1e-10
    assert complete_positivity(L) > -1e-12 * scale
    # Gibbs state stationary, structured steady state = Gibbs
    sigma = gibbs_state(H, beta)
    assert np.abs(L @ vec(sigma)).max() < tol * scale
    state, kdim, method = D.structured_steady_state()
    assert method == "davies-gibbs" and kdim >= 1
    assert np.abs(state - sigma).max() < tol
    # GNS and KMS detailed balance, through the generic dense path and a wrapped matrix
    for inner in ("kms", "gns"):
        assert db.detailed_balance(D, beta=beta, inner=inner).residual < 1e-10
        rep = db.detailed_balance(db.as_generator(L, hamiltonian=H), beta=beta, inner=inner)
        # the wrapped matrix is rotated into σ's eigenbasis entry by entry (round-off ~ε‖L‖ in every
        # entry, also the forbidden ones), and the GNS weight multiplies them by up to e^{βΔE/2}
        spread = beta * float(np.ptp(np.linalg.eigvalsh(H)))
        assert rep.holds and rep.residual < max(1e-10, 1e-14 * np.exp(spread / 2))
    return D, L


# -- random models --------------------------------------------------------------------------------
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(2, 5), nbath=st.integers(1, 2),
       beta=st.floats(0.1, 3.0))
def test_random_davies_generators_are_cp_trace_preserving_and_detailed_balanced(seed, d, nbath, beta):
    rng = np.random.default_rng(seed)
    H = random_hermitian(rng, d)
    couplings = [(random_hermitian(rng, d), Bath.ohmic(alpha=rng.uniform(0.01, 0.2),
                                                        cutoff=rng.uniform(1.0, 8.0), beta=beta))
                 for _ in range(nbath)]
    physics_checks(H, couplings, beta)


@pytest.mark.parametrize("energies", [
    [0.0, 1.0, 1.0, 2.5, 3.1],          # a repeated eigenvalue
    [0.0, 1.0, 2.0, 3.0, 4.0],          # equally spaced ladder: degenerate Bohr frequencies
    [0.0, 1.0, 1.0, 2.0, 3.0],          # ladder with a degenerate level
    [0.0, 0.0, 2.0, 2.0],               # two degenerate levels
    [1.0, 1.0, 1.0],                    # H ∝ I: everything is the ν = 0 sector
])
def test_degenerate_spectra_and_bohr_frequencies(energies):
    rng = np.random.default_rng(len(energies) + int(10 * sum(energies)))
    H = hamiltonian_with_spectrum(rng, energies)
    d = H.shape[0]
    bath = Bath.drude_lorentz(lam=0.1, gamma=2.0, beta=0.7)
    couplings = [(random_hermitian(rng, d), bath), (random_hermitian(rng, d), Bath.ohmic(0.05, 3.0, 0.7))]
    D, L = physics_checks(H, couplings, 0.7)
    blocks = D.bohr_blocks
    n_units = blocks.population.shape[0] + int(blocks.coherence_mask.sum())
    n_units += sum(st_.count * st_.size for st_ in blocks.blocks)
    assert n_units == d * d                       # the sectors partition the matrix units
    assert_structured_equals_dense(D, L)


@pytest.mark.parametrize("d", [16, 32])
def test_random_complex_spectrum_at_d16_and_d32_structured_paths_equal_dense(d):
    rng = np.random.default_rng(d)
    H = random_hermitian(rng, d)
    D = davies(H, [(random_hermitian(rng, d), Bath.ohmic(0.02, 4.0, beta=0.6))])
    assert_structured_equals_dense(D, D.to_dense(), times=(0.7,))


def assert_structured_equals_dense(D, L, times=(0.0, 0.3, 1.7)):
    d = D.dim
    ev = np.linalg.eigvals(L)
    assert_spectra_match(D.structured_spectrum(), ev, 1e-10 * max(1.0, np.abs(ev).max()))
    nonzero = ev[np.abs(ev) > 1e-9]
    assert abs(D.structured_gap() - (-nonzero.real.max())) < 1e-10
    rng = np.random.default_rng(1)
    psi = rng.normal(size=(d, 2)) + 1j * rng.normal(size=(d, 2))
    rho0 = psi @ psi.conj().T
    rho0 /= np.trace(rho0)
    states = D.structured_evolve(rho0, times)
    for t, rho in zip(times, states):
        ref = vec(rho0) if t == 0 else expm_multiply(t * L, vec(rho0))
        assert np.abs(vec(rho) - ref).max() < 1e-10
    # an equally spaced grid is stepped with one-step propagators (round-off grows like n·ε)
    grid = np.linspace(0.25, 4.0, 61)
    refs = expm_multiply(L, vec(rho0), start=grid[0], stop=grid[-1], num=grid.size, endpoint=True)
    stepped = D.structured_evolve(rho0, grid)
    assert max(np.abs(vec(rho) - ref).max() for rho, ref in zip(stepped, refs)) < 1e-10


@settings(max_examples=25)
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(2, 8), beta=st.floats(0.05, 2.0))
def test_structured_spectrum_gap_and_evolution_equal_dense(seed, d, beta):
    rng = np.random.default_rng(seed)
    H = random_hermitian(rng, d)
    D = davies(H, [(random_hermitian(rng, d), Bath.ohmic(0.1, 5.0, beta=beta))])
    assert_structured_equals_dense(D, D.to_dense(), times=(0.0, 1.3))


# -- the verified example of THEORY §7 ------------------------------------------------------------
def test_theory_example_coherences_are_exact_eigenvectors_and_populations_follow_pauli():
    rng = np.random.default_rng(2024)
    E = np.array([0.0, 1.0, 2.7])
    S = random_hermitian(rng, 3)
    bath = Bath.ohmic(alpha=0.1, cutoff=5.0, beta=0.8)
    D = davies(np.diag(E), [(S, bath)])
    L = D.to_dense()
    V = D.eigenbasis.vectors
    assert np.allclose(np.abs(V), np.eye(3))      # eigenbasis = computational basis up to phases
    St = V.conj().T @ S @ V
    W = D.pauli_rate_matrix.matrix
    for m in range(3):
        for n in range(3):
            if m != n:
                expected = float(bath.rate(E[n] - E[m])) * abs(St[m, n]) ** 2
                assert abs(W[m, n] - expected) < 1e-14
    assert np.abs(W.sum(axis=0)).max() < 1e-14
    g0 = float(bath.rate(0.0))
    for m in range(3):
        for n in range(3):
            if m == n:
                continue
            lam = (-1j * (E[m] - E[n]) - 0.5 * (W[:, m].sum() - W[m, m]) - 0.5 * (W[:, n].sum() - W[n, n])
                   - 0.5 * g0 * (St[m, m].real - St[n, n].real) ** 2)
            unit = np.zeros((3, 3), complex)
            unit[m, n] = 1.0
            Xo = V @ unit @ V.conj().T
            assert np.abs(D.apply(Xo) - lam * Xo).max() < 1e-14
            assert abs(D.bohr_blocks.coherences[m, n] - lam) < 1e-14
    # population block of the dense matrix (in the eigenbasis) is W
    U = np.kron(V.conj(), V)
    Lt = U.conj().T @ L @ U
    pops = np.arange(3) * 4
    assert np.abs(Lt[np.ix_(pops, pops)] - W).max() < 1e-14


# -- analytic qubit -------------------------------------------------------------------------------
def test_qubit_relaxation_t2_equals_2t1_and_analytic_populations():
    w, beta = 1.3, 0.9
    bath = Bath.ohmic(alpha=0.07, cutoff=4.0, beta=beta)
    D = davies(np.diag([0.0, w]), [(X, bath)])
    down, up = float(bath.rate(w)), float(bath.rate(-w))
    W = D.pauli_rate_matrix.matrix
    assert np.allclose(W, [[-up, down], [up, -down]], atol=1e-15)
    relax = down + up
    lam01 = D.bohr_blocks.coherences[0, 1]
    assert abs(lam01 - (1j * w - relax / 2)) < 1e-14          # T₂ = 2T₁, |0⟩⟨1| rotates as e^{iωt}
    assert abs(D.structured_gap() - relax / 2) < 1e-14
    assert_spectra_match(D.structured_spectrum(), [0, -relax, -relax / 2 + 1j * w, -relax / 2 - 1j * w], 1e-14)
    p1_inf = up / relax
    assert abs(p1_inf / (1 - p1_inf) - np.exp(-beta * w)) < 1e-14
    times = np.array([0.0, 0.5, 3.0, 20.0])
    rho0 = np.array([[0.2, 0.3], [0.3, 0.8]], dtype=complex)
    states = D.structured_evolve(rho0, times)
    for t, rho in zip(times, states):
        assert abs(rho[1, 1].real - (p1_inf + (0.8 - p1_inf) * np.exp(-relax * t))) < 1e-13
        assert abs(rho[0, 1] - 0.3 * np.exp((1j * w - relax / 2) * t)) < 1e-13


def test_qubit_between_two_baths_steady_state_is_the_pauli_kernel():
    w = 1.0
    hot = Bath.ohmic(0.05, 5.0, beta=0.3, name="hot")
    cold = Bath.ohmic(0.08, 5.0, beta=2.0, name="cold")
    D = davies(np.diag([0.0, w]), [(X, hot), (X, cold)])
    assert D.beta is None and D.betas == (0.3, 2.0)
    state, kdim, method = D.structured_steady_state()
    assert method == "davies-pauli-kernel" and kdim == 1
    ratio = (hot.rate(-w) + cold.rate(-w)) / (hot.rate(w) + cold.rate(w))
    assert abs(state[1, 1].real / state[0, 0].real - ratio) < 1e-14


# -- several temperatures -------------------------------------------------------------------------
def test_two_baths_at_different_temperatures():
    rng = np.random.default_rng(11)
    d = 5
    H = random_hermitian(rng, d)
    hot, cold = Bath.ohmic(0.1, 5.0, beta=0.2, name="hot"), Bath.ohmic(0.1, 5.0, beta=3.0, name="cold")
    D = davies(H, [(random_hermitian(rng, d), hot), (random_hermitian(rng, d), cold)])
    L = D.to_dense()
    state, kdim, method = D.structured_steady_state()
    assert method == "davies-pauli-kernel" and kdim == 1
    assert np.abs(L @ vec(state)).max() < 1e-12
    assert abs(np.trace(state) - 1) < 1e-14 and np.linalg.eigvalsh(state)[0] > 0
    V = D.eigenbasis.vectors
    p = np.real(np.diagonal(V.conj().T @ state @ V))
    W = D.pauli_rate_matrix
    assert np.abs(W.matrix @ p).max() < 1e-13
    assert np.abs(p - W.stationary()).max() < 1e-12
    for beta in (0.2, 3.0):                       # not Gibbs at either temperature
        assert np.abs(state - gibbs_state(H, beta)).max() > 1e-3
        assert not db.detailed_balance(D, beta=beta).holds
    # each channel is detailed-balanced w.r.t. its own Gibbs state; channels + (−i[H,·]) = 𝓛
    assert [c.name for c in D.channels] == ["hot", "cold"]
    comm = -1j * (np.kron(np.eye(d), H) - np.kron(H.T, np.eye(d)))
    assert np.abs(sum(c.to_dense() for c in D.channels) + comm - L).max() < 1e-12
    for c in D.channels:
        assert c.beta in (0.2, 3.0) and not c.includes_hamiltonian
        assert db.detailed_balance(c, beta=c.beta, inner="gns").holds
        n = c.structured_balance(log_gibbs_populations(H, c.beta), 0.5)
        assert n["dissipative_antisym"] < 1e-24 * n["dissipative_norm"] and n["stationary"] < 1e-26
        other = 3.0 if c.beta == 0.2 else 0.2
        n = c.structured_balance(log_gibbs_populations(H, other), 0.5)
        assert n["dissipative_antisym"] > 1e-4 * n["dissipative_norm"]


def test_multi_bath_with_degenerate_levels_uses_the_zero_sector_kernel():
    rng = np.random.default_rng(5)
    H = hamiltonian_with_spectrum(rng, [0.0, 1.0, 1.0, 2.2])
    hot, cold = Bath.ohmic(0.1, 5.0, beta=0.3), Bath.ohmic(0.1, 5.0, beta=2.0)
    D = davies(H, [(random_hermitian(rng, 4), hot), (random_hermitian(rng, 4), cold)])
    state, kdim, method = D.structured_steady_state()
    assert method == "davies-zero-sector-kernel" and kdim == 1
    assert np.abs(D.to_dense() @ vec(state)).max() < 1e-12
    assert abs(np.trace(state) - 1) < 1e-14 and np.linalg.eigvalsh(state)[0] > 0


def test_sum_of_davies_generators_adds_actions_and_keeps_block_form():
    rng = np.random.default_rng(3)
    H = random_hermitian(rng, 4)
    S1, S2 = random_hermitian(rng, 4), random_hermitian(rng, 4)
    b1, b2 = Bath.ohmic(0.1, 5.0, 0.5), Bath.ohmic(0.2, 2.0, 1.5)
    eb = db.eigenbasis(H)
    D1, D2 = davies(eb, [(S1, b1)]), davies(eb, [(S2, b2)])
    total = D1 + D2
    assert isinstance(total, DaviesGenerator) and total.bath_names == ("bath0", "bath1")
    # the action is additive, so −i[H, ·] is counted twice (both parts carry it) ...
    assert total.hamiltonian_count == 2
    assert np.abs(total.to_dense() - D1.to_dense() - D2.to_dense()).max() < 1e-12
    # ... while the system Hamiltonian (Gibbs reference, heat currents) stays H, not 2H
    assert np.abs(total.hamiltonian - D1.hamiltonian).max() == 0
    # a channel (no −i[H,·]) added to the full generator adds only its dissipator: one two-bath generator
    both = davies(H, [(S1, b1), (S2, b2)])
    assert np.abs((D1 + D2.channels[0]).to_dense() - both.to_dense()).max() < 1e-12
    # different H: an ordinary SumGenerator
    other = davies(random_hermitian(rng, 4), [(S2, b2)])
    assert isinstance(D1 + other, db.SumGenerator)


# -- Lamb shift ---------------------------------------------------------------------------------
def test_lamb_shift_commutes_with_h_and_keeps_detailed_balance():
    rng = np.random.default_rng(8)
    H = hamiltonian_with_spectrum(rng, [0.0, 0.8, 0.8, 2.1])
    bath = Bath.ohmic(0.1, 3.0, beta=0.9)
    S = random_hermitian(rng, 4)
    D = davies(H, [(S, bath)], lamb_shift=True)
    assert D.lamb_shift
    HLS = D.lamb_shift_hamiltonian
    E = np.diag(D.eigenbasis.energies)
    assert np.abs(HLS @ E - E @ HLS).max() < 1e-12 and np.abs(HLS).max() > 1e-3
    assert np.abs(D.coherent_hamiltonian - (E + HLS)).max() < 1e-12
    assert np.abs(D.to_dense() - reference_davies(H, [(S, bath)], lamb=True)).max() < 1e-12
    for inner in ("kms", "gns"):
        rep = db.detailed_balance(D, beta=0.9, inner=inner)
        assert rep.holds and not rep.symmetric
    n = D.structured_balance(log_gibbs_populations(H, 0.9), 0.5)
    assert n["dissipative_antisym"] < 1e-26 * n["dissipative_norm"] and n["hamiltonian_commutator"] < 1e-28


# -- structured detailed-balance norms ----------------------------------------------------------
@pytest.mark.parametrize("energies", [None, [0.0, 1.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.0, 3.0]])
@pytest.mark.parametrize("s", [0.5, 1.0, 0.3])
def test_structured_balance_norms_equal_the_dense_formulas(energies, s):
    rng = np.random.default_rng(21)
    H = random_hermitian(rng, 5) if energies is None else hamiltonian_with_spectrum(rng, energies)
    d = H.shape[0]
    D = davies(H, [(random_hermitian(rng, d), Bath.ohmic(0.1, 4.0, 0.8)),
                   (random_hermitian(rng, d), Bath.ohmic(0.05, 2.0, 1.9))], lamb_shift=energies is not None)
    V = D.eigenbasis.vectors
    U = np.kron(V.conj(), V)
    Lt = U.conj().T @ D.to_dense() @ U                       # eigenframe, column stacked
    K = D.coherent_hamiltonian
    C = -1j * (np.kron(np.eye(d), K) - np.kron(K.T, np.eye(d)))
    lp = np.log(rng.dirichlet(np.ones(d)))                  # a non-Gibbs diagonal σ
    row_i, row_j = np.tile(np.arange(d), d), np.repeat(np.arange(d), d)
    expo = (s * (lp[row_i][None, :] - lp[row_i][:, None]) + (1 - s) * (lp[row_j][None, :] - lp[row_j][:, None])) / 2
    F = np.exp(expo)
    Lh, Dh = Lt * F, (Lt - C) * F
    p = np.exp(lp)
    got = D.structured_balance(lp, s)
    want = {"norm_hat": np.sum(np.abs(Lh) ** 2), "dissipative_antisym": np.sum(np.abs(Dh - Dh.conj().T) ** 2),
            "dissipative_norm": np.sum(np.abs(Dh) ** 2), "antisym": np.sum(np.abs(Lh - Lh.conj().T) ** 2),
            "stationary": np.sum(np.abs(Lt @ vec(np.diag(p))) ** 2),
            "hamiltonian_commutator": np.sum(np.abs(K @ np.diag(p) - np.diag(p) @ K) ** 2),
            "k_norm": np.sum(np.abs(K) ** 2)}
    assert set(got) == set(want) | {"log_scale", "dissipative_log_scale"}
    # the σ-transformed norms come on the scale e^{−2·log_scale}, those of 𝓓̂ on their own scale
    # e^{−2·dissipative_log_scale} (log domain, :func:`balance_norms`)
    scale = {"norm_hat": np.exp(2 * got["log_scale"]), "antisym": np.exp(2 * got["log_scale"]),
             "dissipative_antisym": np.exp(2 * got["dissipative_log_scale"]),
             "dissipative_norm": np.exp(2 * got["dissipative_log_scale"])}
    for key, value in want.items():
        g = got[key] * scale.get(key, 1.0)
        assert abs(g - value) <= 1e-12 * max(1.0, value), key


# -- low temperature ----------------------------------------------------------------------------
@pytest.mark.parametrize("d", [2, 4])
def test_low_temperature_beta_delta_e_800(d):
    rng = np.random.default_rng(d)
    energies = np.linspace(0.0, 1.0, d) + np.r_[0, rng.uniform(0, 0.1, d - 1)]
    H = hamiltonian_with_spectrum(rng, energies)
    beta = 800.0 / (energies[1] - energies[0])
    bath = Bath.ohmic(0.1, 5.0, beta=beta)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        D = davies(H, [(random_hermitian(rng, d), bath)])
        state, kdim, method = D.structured_steady_state()
        gap = D.structured_gap()
        spec = D.structured_spectrum()
        lp = log_gibbs_populations(H, beta)
        norms = D.structured_balance(lp, 0.5)
        ev = D.structured_evolve(np.eye(d) / d, [0.0, 1.0, 50.0])
        W = D.pauli_rate_matrix.matrix
    assert np.all(np.isfinite(W)) and np.isfinite(gap) and np.all(np.isfinite(spec)) and np.all(np.isfinite(ev))
    assert method == "davies-gibbs" and kdim == 1
    assert lp[1] - lp[0] == pytest.approx(-800.0, rel=1e-12)   # log populations, no underflow
    assert np.abs(state - gibbs_state(H, beta)).max() < 1e-14
    V = D.eigenbasis.vectors
    assert abs((V.conj().T @ state @ V)[0, 0] - 1.0) < 1e-14     # ground state, e^{−800} is 0
    assert norms["dissipative_antisym"] <= 1e-24 * norms["dissipative_norm"]
    assert np.all(np.isfinite(list(norms.values())))
    assert abs(np.trace(ev[-1]) - 1) < 1e-10


# -- large-d internals -------------------------------------------------------------------------
def test_near_coincident_bohr_frequencies_are_grouped_and_keep_kms_balance():
    # gaps 1 and 1 + 1e-13 (< tol = 1e-12·width) share a sector; each jump keeps its own rate
    E = np.array([0.0, 1.0, 2.5, 3.5 + 1e-13])
    rng = np.random.default_rng(4)
    H = hamiltonian_with_spectrum(rng, E)
    bath = Bath.ohmic(0.1, 3.0, beta=1.1)
    S = random_hermitian(rng, 4)
    D = davies(H, [(S, bath)])
    assert any(st_.size == 2 for st_ in D.bohr_blocks.blocks)
    L = D.to_dense()
    assert np.abs(L - reference_davies(H, [(S, bath)], tol=1e-12)).max() < 1e-12   # rates differ by γ'·1e-13
    assert complete_positivity(L) > -1e-12
    assert db.detailed_balance(D, beta=1.1).residual < 1e-12                    # KMS exact
    assert db.detailed_balance(D, beta=1.1, inner="gns").residual < 1e-11        # GNS up to β·δ
    assert np.abs(L @ vec(gibbs_state(H, 1.1))).max() < 1e-13


def test_sparse_real_inputs_and_eigenbasis_reuse():
    rng = np.random.default_rng(9)
    H = random_hermitian(rng, 6).real
    S = sp.csr_array(np.diag(np.ones(5), 1) + np.diag(np.ones(5), -1))
    bath = Bath.ohmic(0.1, 5.0, 1.0)
    D1 = davies(H, [(S, bath)])
    D2 = davies(db.eigenbasis(H), [(S.toarray() + 0j, bath)])
    assert np.abs(D1.to_dense() - D2.to_dense()).max() < 1e-12
    assert np.isrealobj(D1.coupling_operators[0])
    assert np.abs(D1.hamiltonian - H).max() == 0


def test_pauli_graph_kernel_dimension_counts_disconnected_blocks():
    # two decoupled qubits' worth of levels: S couples 0↔1 and 2↔3 only
    H = np.diag([0.0, 1.0, 2.3, 3.9])
    S = np.zeros((4, 4))
    S[0, 1] = S[1, 0] = S[2, 3] = S[3, 2] = 1.0
    D = davies(H, [(S, Bath.ohmic(0.1, 5.0, 1.0))])
    _, kdim, method = D.structured_steady_state()
    assert kdim == 2 and method == "davies-gibbs"
    ev = np.linalg.eigvals(D.to_dense())
    assert np.count_nonzero(np.abs(ev) < 1e-12) == 2
    assert abs(D.structured_gap() - (-ev[np.abs(ev) > 1e-12].real.max())) < 1e-12


def test_degenerate_levels_pauli_matrix_only_when_populations_decouple():
    rng = np.random.default_rng(6)
    H = hamiltonian_with_spectrum(rng, [0.0, 1.0, 1.0])
    D = davies(H, [(random_hermitian(rng, 3), Bath.ohmic(0.1, 5.0, 1.0))])
    assert not D.bohr_blocks.populations_decoupled
    with pytest.raises(db.InputError, match="ν = 0 block"):
        _ = D.pauli_rate_matrix
    # two baths each linking the ground state to one of the degenerate states: no coherence is fed
    S1, S2 = np.zeros((3, 3)), np.zeros((3, 3))
    S1[0, 1] = S1[1, 0] = 1.0
    S2[0, 2] = S2[2, 0] = 0.7
    D = davies(np.diag([0.0, 1.0, 1.0]), [(S1, Bath.ohmic(0.1, 5.0, 1.0)), (S2, Bath.ohmic(0.1, 5.0, 1.0))])
    assert D.bohr_blocks.populations_decoupled
    W = D.pauli_rate_matrix
    assert isinstance(W, RateMatrix) and abs(W.matrix[0, 2] - 0.49 * Bath.ohmic(0.1, 5.0, 1.0).rate(1.0)) < 1e-14


# -- validation ---------------------------------------------------------------------------------
def test_bad_couplings_raise_input_errors():
    H = np.diag([0.0, 1.0])
    bath = Bath.ohmic(0.1, 5.0, 1.0)
    with pytest.raises(db.InputError, match="Hermitian"):
        davies(H, [(np.array([[0, 1], [0, 0]]), bath)])
    with pytest.raises(db.InputError, match="wrap"):
        davies(H, (X, bath))
    with pytest.raises(db.InputError, match="non-empty"):
        davies(H, [])
    with pytest.raises(db.InputError, match="Bath"):
        davies(H, [(X, lambda w: 1.0)])
    with pytest.raises(db.InputError, match="2×2"):
        davies(H, [(np.eye(3), bath)])
    with pytest.raises(db.InputError, match="unique"):
        davies(H, [(X, Bath.ohmic(0.1, 5.0, 1.0, name="a")), (X, Bath.ohmic(0.1, 5.0, 2.0, name="a"))])
    with pytest.raises(db.InputError, match="bohr_tol"):
        davies(H, [(X, bath)], bohr_tol=-1.0)
    with pytest.raises(db.InputError, match="H"):
        davies(np.array([[0.0, 1.0], [0.0, 1.0]]), [(X, bath)])
    with pytest.raises(db.InputError, match="sub-ohmic"):
        davies(H, [(np.diag([1.0, -1.0]), Bath.power_law(0.1, 0.5, 5.0, 1.0))])
    D = davies(H, [(X, bath)])
    with pytest.raises(db.InputError):
        D.structured_balance(np.zeros(3), 0.5)
    with pytest.raises(db.NotFaithfulError):
        D.structured_balance(np.array([0.0, -np.inf]), 0.5)


def test_to_dense_is_memory_guarded():
    d = 40
    D = davies(np.diag(np.arange(d, dtype=float) ** 1.5), [(np.ones((d, d)), Bath.ohmic(0.1, 5.0, 1.0))])
    old = db.config.memory_budget
    try:
        db.config.memory_budget = 10 * 2**20
        with pytest.raises(db.MemoryBudgetError):
            D.to_dense()
        D.structured_gap()                        # structured paths need no d²×d² matrix
    finally:
        db.config.memory_budget = old


def test_zero_temperature_bath_relaxes_to_the_ground_state():
    rng = np.random.default_rng(12)
    H = random_hermitian(rng, 4)
    bath = Bath.ohmic(0.1, 5.0, beta=float("inf"))
    D = davies(H, [(random_hermitian(rng, 4), bath)])
    state, kdim, method = D.structured_steady_state()
    V = D.eigenbasis.vectors
    ground = np.outer(V[:, 0], V[:, 0].conj())
    assert method == "davies-gibbs" and kdim == 1 and np.abs(state - ground).max() < 1e-14
    L = D.to_dense()
    assert np.abs(L @ vec(ground)).max() < 1e-13
    assert_structured_equals_dense(D, L)
    # a T = 0 bath and a hot one: the Pauli graph is directed, still one closed class
    D2 = davies(H, [(random_hermitian(rng, 4), bath), (random_hermitian(rng, 4), Bath.ohmic(0.1, 5.0, 0.5))])
    state, kdim, method = D2.structured_steady_state()
    assert method == "davies-pauli-kernel" and kdim == 1
    assert np.abs(D2.to_dense() @ vec(state)).max() < 1e-12


def test_lanczos_population_gap_equals_the_hermitian_solver():
    from detbal.generators.davies import sector_kernel as kern

    rng = np.random.default_rng(13)
    d = db.config.LANCZOS_MIN_DIM + 16
    H = np.diag(np.sort(rng.uniform(0.0, 6.0, d)))
    S = random_hermitian(rng, d).real
    D = davies(H, [(S, Bath.ohmic(0.05, 5.0, beta=0.7))])
    W = D.pauli_rate_matrix.matrix
    lp = log_gibbs_populations(H, 0.7)
    What = W * np.exp((lp[None, :] - lp[:, None]) / 2)
    ev = np.linalg.eigvalsh((What + What.T) / 2)
    assert abs(kern.top_gap(What, 1, lp) - (-ev[-2])) < 1e-12 * abs(ev[0])
    lam = D.bohr_blocks.coherences[D.bohr_blocks.coherence_mask]
    assert abs(D.structured_gap() - min(-ev[-2], -lam.real.max())) < 1e-12 * abs(ev[0])


def test_low_temperature_two_baths_pauli_kernel_without_underflow():
    rng = np.random.default_rng(14)
    E = np.array([0.0, 1.0, 1.7, 2.9])
    H = hamiltonian_with_spectrum(rng, E)
    cold, colder = Bath.ohmic(0.1, 5.0, beta=400.0), Bath.ohmic(0.1, 5.0, beta=800.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        D = davies(H, [(random_hermitian(rng, 4), cold), (random_hermitian(rng, 4), colder)])
        state, kdim, method = D.structured_steady_state()
    assert method == "davies-pauli-kernel" and kdim == 1 and np.all(np.isfinite(state))
    V = D.eigenbasis.vectors
    p = np.real(np.diagonal(V.conj().T @ state @ V))
    assert abs(p[0] - 1) < 1e-14 and abs(p.sum() - 1) < 1e-14
    W = D.pauli_rate_matrix.matrix
    assert np.abs(W @ p).max() < 1e-13 * np.abs(W).max()


@pytest.mark.parametrize("betas", [(0.3, 2.0), (40.0, 800.0)])
def test_large_d_pauli_kernel_path_agrees_with_gth(monkeypatch, betas):

    rng = np.random.default_rng(15)
    H = random_hermitian(rng, 6)
    couplings = [(random_hermitian(rng, 6), Bath.ohmic(0.1, 5.0, beta=b)) for b in betas]
    p_gth = davies(H, couplings).structured_steady_state()[0]
    monkeypatch.setattr(db.config, "GTH_MAX_DIM", 1)    # force the scaled-LU solve (and its fallback)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p_lu = davies(H, couplings).structured_steady_state()[0]
    assert np.abs(p_lu - p_gth).max() < 1e-12


def test_structured_expectation_values_equal_traces_of_the_evolved_states():
    import detbal as db

    rng = np.random.default_rng(11)
    d = 8
    X = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    S = rng.normal(size=(d, d))
    D = db.davies(X + X.conj().T, [(S + S.T, db.Bath.ohmic(alpha=0.1, cutoff=5.0, beta=0.7))])
    rho0 = np.zeros((d, d), complex)
    rho0[0, 0] = 1.0
    ops = [S + S.T, np.diag(np.arange(d, dtype=float))]
    times = np.linspace(0.0, 3.0, 7)
    ev = db.evolve(D, rho0, times, e_ops=ops)
    states = D.structured_evolve(rho0, times)
    ref = np.array([[np.trace(O @ r) for r in states] for O in ops])
    assert ev.method == "structured" and np.max(np.abs(ev.expect - ref.real)) < 1e-13


@pytest.mark.parametrize("initial", ["sector", "dense"])
def test_structured_expectations_of_hermitian_and_non_hermitian_operators(initial):
    """Sector-by-sector expectations (coherence pairs counted once for Hermitian O and ρ0, entries
    of V†OV computed only where needed) equal traces of the evolved states, for a Hermitian and a
    non-Hermitian observable, an initial state confined to one magnetisation sector (sparse in
    the eigenbasis) and a generic one, on an equally spaced and an irregular grid."""
    import detbal as db

    rng = np.random.default_rng(21)
    n = 4
    sx, sz = np.array([[0, 1], [1, 0]]), np.diag([1.0, -1.0])
    sp_ = np.array([[0, 1], [0, 0]])

    def site(op, k):
        out = np.eye(1)
        for j in range(n):
            out = np.kron(out, op if j == k else np.eye(2))
        return out

    H = sum(site(sx, k) @ site(sx, k + 1) + site(sz, k) @ site(sz, k + 1) for k in range(n - 1))
    H = H + sum(rng.uniform(-1, 1) * site(sz, k) for k in range(n))
    D = db.davies(H, [(site(sx, 0), db.Bath.ohmic(alpha=0.1, cutoff=5.0, beta=0.8))])
    if initial == "sector":  # Néel-like product state: fixed total S_z
        psi = np.zeros(2 ** n)
        psi[int("0101", 2)] = 1.0
        rho0 = np.outer(psi, psi)
    else:
        X = rng.normal(size=(2 ** n, 2 ** n)) + 1j * rng.normal(size=(2 ** n, 2 ** n))
        rho0 = X @ X.conj().T
        rho0 /= np.trace(rho0)
    ops = [site(sz, 1), site(sp_, 2)]  # Hermitian, non-Hermitian
    for times in (np.linspace(0.0, 4.0, 41), np.array([0.0, 0.3, 1.1, 2.9])):
        states = D.structured_evolve(rho0, times)
        ref = np.array([[np.trace(O @ r) for r in states] for O in ops])
        got = D.structured_expect(rho0, times, ops)
        assert np.max(np.abs(got - ref)) < 1e-13
        herm = D.structured_expect(rho0, times, ops[:1])
        assert np.max(np.abs(herm - ref[:1])) < 1e-13 and np.all(herm.imag == 0)


def test_eigenbasis_entries_equal_the_full_rotation(rng):
    from detbal.eigenbasis import eigenbasis

    d = 12
    X = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    eb = eigenbasis(X + X.conj().T)
    ops = [rng.normal(size=(d, d)), rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))]
    XV_T = [np.ascontiguousarray((O @ eb.vectors).T) for O in ops]
    full = [eb.vectors.conj().T @ O @ eb.vectors for O in ops]
    R, C = np.meshgrid([1, 4, 7], [0, 2], indexing="ij")  # a product set
    for rows, cols in [(R.ravel(), C.ravel()), (rng.integers(0, d, 30), rng.integers(0, d, 30)),
                       (np.repeat(np.arange(d), d), np.tile(np.arange(d), d))]:
        got = eb.entries(XV_T, rows, cols)
        for k in range(2):
            assert np.max(np.abs(got[k] - full[k][rows, cols])) < 1e-13


def test_time_grids_far_from_zero_are_not_mistaken_for_uniform():
    """times = 10⁶ + (0, 1e-7, 1e-6) are not equally spaced (their spacing is far below the
    representation error of such large times): each time is evaluated on its own."""
    w = 1e3
    D = davies(np.diag([0.0, w]), [(X, Bath.ohmic(0.01, 5e3, beta=1e-3))])
    rho0 = np.array([[0.5, 0.5], [0.5, 0.5]], dtype=complex)
    times = 1e6 + np.array([0.0, 1e-7, 1e-6])
    got = D.structured_expect(rho0, times, [X])
    one = np.array([D.structured_expect(rho0, [t], [X])[0, 0] for t in times])
    assert np.max(np.abs(got[0] - one)) < 1e-12


def test_exact_eigenbasis_keeps_tiny_coherences():
    """A diagonal H has an exact (permutation) eigenbasis: no round-off cut, so a coherence of
    relative size 1e-18 evolves instead of being dropped."""
    D = davies(np.diag([0.0, 1.0]), [(X, Bath.ohmic(0.05, 5.0, beta=1.0))])
    rho0 = np.array([[0.6, 1e-18], [1e-18, 0.4]], dtype=complex)
    got = D.structured_expect(rho0, [0.0, 0.5, 1.0], [X])[0]
    lam = D.bohr_blocks.coherences[0, 1]
    expected = 2e-18 * np.real(np.exp(lam * np.array([0.0, 0.5, 1.0])))
    assert np.allclose(got, expected, rtol=1e-12, atol=0)


def test_bohr_frequencies_apart_by_more_than_round_off_are_not_grouped():
    # the Davies generator is the weak-coupling limit: gaps 1 and 1 + 1e-9 (far above the round-off
    # of eigh, ~1e-15·width) are different frequencies, their jumps are not coupled
    E = np.array([0.0, 1.0, 2.5, 3.5 + 1e-9])
    rng = np.random.default_rng(4)
    H = hamiltonian_with_spectrum(rng, E)
    S = random_hermitian(rng, 4)
    D = davies(H, [(S, Bath.ohmic(0.1, 3.0, beta=1.1))])
    assert len(D.bohr_blocks.blocks) == 0      # no sector of several transitions (the test above has one)
    assert db.detailed_balance(D, beta=1.1).residual < 1e-12
