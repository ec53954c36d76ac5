"""Bloch–Redfield generators (THEORY.md §7): secular limit = Davies, QuTiP's tensor, positivity."""

import numpy as np
import pytest
from systems import random_hermitian

import detbal as db
from detbal.baths import Bath
from detbal.generators.davies import davies
from detbal.generators.redfield import RedfieldGenerator, complete_positivity, redfield

qt = pytest.importorskip("qutip")


def vec(A):
    return np.asarray(A).reshape(-1, order="F")


def random_model(seed, d=4, real=False):
    rng = np.random.default_rng(seed)
    H, S = random_hermitian(rng, d), random_hermitian(rng, d)
    return (H.real, S.real) if real else (H, S)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_full_secular_cut_is_exactly_the_davies_generator(seed):
    H, S = random_model(seed)
    bath = Bath.ohmic(0.1, 5.0, beta=0.8)
    R = redfield(H, [(S, bath)], secular_cutoff=0.0)
    assert isinstance(R, RedfieldGenerator) and isinstance(R, db.DenseGenerator)
    assert np.abs(R.to_dense() - davies(H, [(S, bath)]).to_dense()).max() < 1e-12
    assert R.completely_positive


def test_secular_cut_on_a_degenerate_ladder_and_with_lamb_shift_equals_davies():
    rng = np.random.default_rng(5)
    Q, _ = np.linalg.qr(rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4)))
    H = Q @ np.diag([0.0, 1.0, 1.0, 2.0]) @ Q.conj().T
    H = (H + H.conj().T) / 2
    S = random_hermitian(rng, 4)
    bath = Bath.drude_lorentz(0.1, 2.0, beta=1.2)
    for lamb in (False, True):
        R = redfield(H, [(S, bath)], secular_cutoff=0.0, lamb_shift=lamb)
        assert np.abs(R.to_dense() - davies(H, [(S, bath)], lamb_shift=lamb).to_dense()).max() < 1e-12


def test_non_secular_tensor_equals_qutip_bloch_redfield_tensor():
    # real couplings only: for couplings that are complex in the eigenbasis QuTiP's non-secular tensor is
    # that of Sᵀ (the covariance test in tests/test_qutip_both_ways.py)
    H, S = random_model(3, real=True)
    bath = Bath.ohmic(0.1, 5.0, beta=1.0)
    R = redfield(H, [(S, bath)])
    spectrum = lambda w: float(bath.rate(w))
    ref = qt.bloch_redfield_tensor(qt.Qobj(H), [(qt.Qobj(S), spectrum)], sec_cutoff=-1, fock_basis=True)
    assert np.abs(R.to_dense() - ref.full()).max() < 1e-12


def test_secular_davies_equals_qutip_with_small_cutoff_complex_couplings():
    H, S = random_model(4)
    bath = Bath.ohmic(0.1, 5.0, beta=0.7)
    spectrum = lambda w: float(bath.rate(w))
    ref = qt.bloch_redfield_tensor(qt.Qobj(H), [(qt.Qobj(S), spectrum)], sec_cutoff=1e-6, fock_basis=True)
    assert np.abs(davies(H, [(S, bath)]).to_dense() - ref.full()).max() < 1e-12


def test_davies_evolution_agrees_with_qutip_brmesolve():
    # tolerance: the ODE solver's (atol 1e-12, rtol 1e-10 over t ≤ 5 gives ~1e-10)
    H, S = random_model(7)
    bath = Bath.ohmic(0.1, 5.0, beta=1.0)
    rng = np.random.default_rng(7)
    psi = rng.normal(size=4) + 1j * rng.normal(size=4)
    rho0 = np.outer(psi, psi.conj()) / np.vdot(psi, psi).real
    t = np.linspace(0.0, 5.0, 6)
    res = qt.brmesolve(qt.Qobj(H), qt.Qobj(rho0), t, a_ops=[(qt.Qobj(S), lambda w: float(bath.rate(w)))],
                       sec_cutoff=1e-6, options={"atol": 1e-12, "rtol": 1e-10})
    ours = davies(H, [(S, bath)]).structured_evolve(rho0, t)
    assert max(np.abs(ours[k] - res.states[k].full()).max() for k in range(len(t))) < 1e-8


def test_non_secular_redfield_reports_loss_of_complete_positivity():
    H, S = random_model(0)
    bath = Bath.ohmic(0.1, 5.0, beta=1.0)
    R = redfield(H, [(S, bath)])
    assert R.min_choi_eigenvalue < -1e-2 and not R.completely_positive
    assert R.min_choi_eigenvalue == pytest.approx(complete_positivity(R.to_dense()))
    assert complete_positivity(davies(H, [(S, bath)])) >= -1e-12
    # still trace and Hermiticity preserving
    M = R.to_dense()
    assert np.abs(vec(np.eye(4)) @ M).max() < 1e-12
    Y = random_hermitian(np.random.default_rng(1), 4)
    out = R.apply(Y)
    assert np.abs(out - out.conj().T).max() < 1e-12


def test_lindbladian_choi_test_is_nonnegative_and_catches_a_non_cp_map():
    rng = np.random.default_rng(2)
    L = db.Lindbladian(random_hermitian(rng, 3), [rng.normal(size=(3, 3)) for _ in range(2)], [0.4, 1.1])
    assert complete_positivity(L) > -1e-12
    # the transpose map minus identity generates a non-CP flow
    d = 3
    T = np.zeros((d * d, d * d))
    for i in range(d):
        for j in range(d):
            T[j + d * i, i + d * j] = 1.0
    assert complete_positivity(T - np.eye(d * d)) < -0.5


def test_without_lamb_shift_the_redfield_generator_leaves_gibbs_exactly_stationary():
    # KMS rates, γ(−ω) = e^{βω}γ(ω), make 𝓡(σ_β) = 0 for the full non-secular tensor when Γ = γ/2 is real:
    # the first-order deviation of the Redfield steady state comes only from the principal-value part
    H, S = random_model(6)
    beta = 0.9
    sigma = db.gibbs_state(H, beta)
    for alpha in (1e-1, 1e-3):
        R = redfield(H, [(S, Bath.ohmic(alpha, 5.0, beta=beta))])
        assert np.linalg.norm(R.apply(sigma)) < 1e-14 * np.linalg.norm(R.to_dense())


def test_weak_coupling_redfield_steady_state_deviates_from_gibbs_at_first_order_with_lamb_shift():
    # with the Lamb shift (Γ = γ/2 + iS) the steady state is Gibbs + α·ρ₁ + O(α²), ρ₁ ≠ 0:
    # the deviation divided by α converges to a nonzero constant (measured ≈ 2.11 for this model)
    H, S = random_model(6)
    beta = 0.9
    sigma = db.gibbs_state(H, beta)
    ratios = []
    for alpha in (1e-3, 1e-4, 1e-5):
        R = redfield(H, [(S, Bath.ohmic(alpha, 5.0, beta=beta))], lamb_shift=True)
        ratios.append(np.abs(db.steady_state(R).state - sigma).max() / alpha)
    assert ratios[-1] > 0.1                                   # far above round-off (≈ 1e-16/α)
    # linear in α: successive ratios differ by O(α) relative (Richardson-style check)
    assert abs(ratios[1] - ratios[2]) < 1e-2 * ratios[2]
    assert abs(ratios[0] - ratios[2]) < 5e-2 * ratios[2]
    assert abs(ratios[1] - ratios[2]) < abs(ratios[0] - ratios[2])


def test_channels_sum_to_the_dissipative_part_and_carry_their_bath():
    H, S = random_model(9, d=3)
    hot, cold = Bath.ohmic(0.1, 5.0, 0.3, name="hot"), Bath.ohmic(0.1, 5.0, 2.0, name="cold")
    R = redfield(H, [(S, hot), (S.T.copy(), cold)], secular_cutoff=0.5)
    comm = -1j * (np.kron(np.eye(3), H) - np.kron(H.T, np.eye(3)))
    assert [c.name for c in R.channels] == ["hot", "cold"] and R.beta is None
    assert [c.beta for c in R.channels] == [0.3, 2.0]
    assert np.abs(sum(c.to_dense() for c in R.channels) + comm - R.to_dense()).max() < 1e-12
    assert R.secular_cutoff == 0.5


def _in_eigenbasis(M, V):
    """(Vᵀ ⊗ V†) M (V̄ ⊗ V): the column-stacked superoperator acting on V†XV."""
    return np.kron(V.T, V.conj().T) @ M @ np.kron(V.conj(), V)


def test_intermediate_cutoff_keeps_exactly_the_elements_within_the_cutoff():
    H, S = random_model(10)
    bath = Bath.ohmic(0.1, 5.0, beta=1.0)
    E, V = np.linalg.eigh(H)
    d = E.size
    full = _in_eigenbasis(redfield(H, [(S, bath)]).to_dense(), V)
    nu = np.subtract.outer(E, E).reshape(-1, order="F")          # ν_ab at index a + d·b
    dnu = np.abs(nu[:, None] - nu[None, :])
    gaps = np.unique(np.round(dnu[dnu > 1e-9], 12))
    cutoff = float(gaps[gaps.size // 2])                         # a cut that keeps some couplings, drops others
    cut = _in_eigenbasis(redfield(H, [(S, bath)], secular_cutoff=cutoff).to_dense(), V)
    keep = dnu <= cutoff + 1e-9
    assert 0 < np.count_nonzero(~keep & (np.abs(full) > 1e-8)) and np.count_nonzero(keep) < keep.size
    assert np.abs(cut[keep] - full[keep]).max() < 1e-13
    assert np.abs(cut[~keep]).max() < 1e-13
    # between the secular (Davies) and the full tensor: trace preserving and Hermiticity preserving
    davies_ = _in_eigenbasis(redfield(H, [(S, bath)], secular_cutoff=0.0).to_dense(), V)
    assert np.linalg.norm(full - davies_) > np.linalg.norm(full - cut) > 0
    trace_row = np.eye(d).reshape(-1, order="F")
    assert np.abs(trace_row @ cut).max() < 1e-13
    X = np.random.default_rng(1).normal(size=(d, d))
    Y = (cut @ (X + X.T).reshape(-1, order="F")).reshape((d, d), order="F")
    assert np.abs(Y - Y.conj().T).max() < 1e-13
    # a cut wider than every |ν_ab − ν_cd| is the full tensor
    huge = redfield(H, [(S, bath)], secular_cutoff=10 * (E[-1] - E[0])).to_dense()
    assert np.abs(_in_eigenbasis(huge, V) - full).max() < 1e-13


def test_bad_arguments():
    H, S = random_model(0, d=2)
    bath = Bath.ohmic(0.1, 5.0, 1.0)
    with pytest.raises(db.InputError, match="secular_cutoff"):
        redfield(H, [(S, bath)], secular_cutoff=-1.0)
    with pytest.raises(db.InputError, match="Hermitian"):
        redfield(H, [(np.array([[0, 1], [0, 0]]), bath)])
    with pytest.raises(db.InputError, match="lamb_shift"):
        redfield(H, [(S, bath)], lamb_shift="yes")
