"""QuTiP both ways: Generator.to_qobj, Bath.from_qutip, the secular_cutoff mapping, and the
covariance test that decides where QuTiP 5's non-secular Bloch–Redfield tensor can be a referee."""

import math

import numpy as np
import pytest
from systems import random_density_matrix, random_hermitian, random_matrix

import detbal as db
from detbal.errors import InputError

qt = pytest.importorskip("qutip")
environment = pytest.importorskip("qutip.core.environment")


def vec(A):
    return np.asarray(A).reshape(-1, order="F")


def ad(U):
    """Column-stacked matrix of X ↦ U X U†: vec(UXU†) = (Ū ⊗ U) vec X."""
    return np.kron(U.conj(), U)


def random_real_model(seed, d=4):
    rng = np.random.default_rng(seed)
    return random_hermitian(rng, d).real, random_hermitian(rng, d).real


# -- Generator.to_qobj ---------------------------------------------------------------------------------
def test_to_qobj_equals_qutip_liouvillian_and_round_trips_through_as_generator(rng):
    d = 4
    H = random_hermitian(rng, d)
    jumps, rates = [random_matrix(rng, d) for _ in range(3)], [0.3, 1.1, 0.05]
    L = db.Lindbladian(H, jumps, rates)
    q = L.to_qobj()
    assert q.type == "super" and q.superrep == "super" and q.dims == [[[d], [d]], [[d], [d]]]
    ref = qt.liouvillian(qt.Qobj(H), [math.sqrt(g) * qt.Qobj(A) for A, g in zip(jumps, rates)])
    scale = np.abs(ref.full()).max()
    assert np.abs(q.full() - ref.full()).max() <= 1e-14 * scale
    back = db.as_generator(q)
    assert np.array_equal(back.to_dense(), L.to_dense())
    assert np.array_equal(L.to_qobj(sparse=True).full(), q.full())


def test_to_qobj_of_davies_sums_and_dense_generators(rng):
    H, S = random_hermitian(rng, 3), random_hermitian(rng, 3)
    D = db.davies(H, [(S, db.Bath.ohmic(0.1, 5.0, beta=0.8))])
    extra = db.Lindbladian(np.zeros((3, 3)), [random_matrix(rng, 3)], [0.2])
    for G in (D, D + extra, db.DenseGenerator(D.to_dense())):
        assert np.array_equal(G.to_qobj().full(), G.to_dense())


def test_mesolve_with_to_qobj_equals_detbal_evolve(rng):
    # tolerance: the ODE solver's (atol 1e-12, rtol 1e-10 over t ≤ 4 gives ~1e-10)
    H, S = random_hermitian(rng, 4), random_hermitian(rng, 4)
    L = db.davies(H, [(S, db.Bath.ohmic(0.1, 5.0, beta=1.0))]) + \
        db.Lindbladian(np.zeros((4, 4)), [random_matrix(rng, 4)], [0.1])
    rho0 = random_density_matrix(rng, 4)
    t = np.linspace(0.0, 4.0, 5)
    res = qt.mesolve(L.to_qobj(), qt.Qobj(rho0), t, options={"atol": 1e-12, "rtol": 1e-10})
    ours = db.evolve(L, rho0, t).states
    assert max(np.abs(ours[k] - res.states[k].full()).max() for k in range(len(t))) < 1e-8


# -- Bath.from_qutip ------------------------------------------------------------------------------------
FREQUENCIES = np.concatenate([-np.logspace(-3, 2, 41), [0.0], np.logspace(-3, 2, 41)])

ENVIRONMENTS = {
    "ohmic": lambda: environment.OhmicEnvironment(T=0.7, alpha=0.1, wc=5.0, s=1),
    "ohmic T=0": lambda: environment.OhmicEnvironment(T=0.0, alpha=0.1, wc=5.0, s=1),
    "super-ohmic": lambda: environment.OhmicEnvironment(T=1.2, alpha=0.05, wc=3.0, s=2.5),
    "drude-lorentz": lambda: environment.DrudeLorentzEnvironment(T=1.3, lam=0.2, gamma=2.0),
    "drude-lorentz T=0": lambda: environment.DrudeLorentzEnvironment(T=0.0, lam=0.2, gamma=2.0),
    "underdamped": lambda: environment.UnderDampedEnvironment(T=0.9, lam=0.3, gamma=0.5, w0=2.0),
    "from spectral density": lambda: environment.BosonicEnvironment.from_spectral_density(
        lambda w: 0.2 * w * np.exp(-w / 3.0), T=1.1, wMax=60.0),
}


@pytest.mark.parametrize("kind", list(ENVIRONMENTS))
def test_from_qutip_rates_equal_the_power_spectrum(kind):
    env = ENVIRONMENTS[kind]()
    bath = db.Bath.from_qutip(env)
    rate, spectrum = bath.rate(FREQUENCIES), env.power_spectrum(FREQUENCIES)
    # Relative to the emission rate γ(|ω|): QuTiP forms n_B + 1 = 1 + 1/(e^{βω} − 1), which for ω < 0
    # cancels (relative error ~e^{β|ω|}·ε, -0.0 beyond β|ω| ≈ 37), while detbal's γ(−|ω|) =
    # e^{−β|ω|}γ(|ω|) is exact; at ω = 0 both use the exact J'(0) (a 1e-10 finite difference
    # in QuTiP's from_spectral_density), hence 1e-9 there.
    scale = np.maximum(np.abs(spectrum), bath.rate(np.abs(FREQUENCIES)))
    zero = FREQUENCIES == 0
    assert np.all(np.abs(rate - spectrum)[~zero] <= 1e-10 * scale[~zero])
    assert np.all(np.abs(rate - spectrum)[zero] <= 1e-9 * scale[zero])
    assert bath.beta == (math.inf if env.T == 0 else 1.0 / env.T)


def test_from_qutip_ohmic_rate_is_bath_ohmic_rate_over_pi():
    env = environment.OhmicEnvironment(T=0.5, alpha=0.08, wc=4.0, s=1)
    ours = db.Bath.ohmic(alpha=0.08, cutoff=4.0, beta=2.0)
    assert np.allclose(db.Bath.from_qutip(env).rate(FREQUENCIES), ours.rate(FREQUENCIES) / math.pi,
                       rtol=1e-14, atol=0)


def test_from_qutip_keeps_the_tag_as_name_and_brmesolve_agrees_with_davies():
    # tolerance: the ODE solver's, as in test_mesolve_with_to_qobj_equals_detbal_evolve
    env = environment.DrudeLorentzEnvironment(T=1.0, lam=0.1, gamma=3.0, tag="phonons")
    bath = db.Bath.from_qutip(env)
    assert bath.name == "phonons" and db.Bath.from_qutip(env, name="b").name == "b"
    H, S = random_real_model(7, d=3)
    rho0 = random_density_matrix(np.random.default_rng(7), 3)
    t = np.linspace(0.0, 5.0, 6)
    res = qt.brmesolve(qt.Qobj(H), qt.Qobj(rho0), t, a_ops=[(qt.Qobj(S), env)], sec_cutoff=1e-6,
                       options={"atol": 1e-12, "rtol": 1e-10})
    ours = db.evolve(db.davies(H, [(S, bath)]), rho0, t).states
    assert max(np.abs(ours[k] - res.states[k].full()).max() for k in range(len(t))) < 1e-8


@pytest.mark.parametrize("make, match", [
    (lambda: environment.LorentzianEnvironment(T=1.0, mu=0.0, gamma=1.0, W=5.0), "fermionic"),
    (lambda: environment.BosonicEnvironment.from_spectral_density(lambda w: w * np.exp(-w), wMax=10.0),
     "no temperature"),
    (lambda: environment.BosonicEnvironment.from_power_spectrum(lambda w: np.exp(-w * w), wMax=10.0, T=1.0),
     "cannot be mapped"),
    (lambda: environment.DrudeLorentzEnvironment(T=1.0, lam=0.1, gamma=2.0).approximate("pade", Nk=2),
     "cannot be mapped"),
    (lambda: "ohmic", "BosonicEnvironment"),
])
def test_from_qutip_refuses_what_it_cannot_map(make, match):
    with pytest.raises(InputError, match=match):
        db.Bath.from_qutip(make())


# -- secular_cutoff: absolute here, a multiple of the smallest Bohr frequency in QuTiP ------------------
@pytest.mark.parametrize("c", [0.1, 0.5, 5.0])
def test_secular_cutoff_maps_to_qutip_sec_cutoff_times_smallest_bohr_frequency(c):
    H, S = random_real_model(11, d=5)               # real S: where QuTiP's tensor is right (below)
    bath = db.Bath.ohmic(0.1, 5.0, beta=1.0)
    E = np.linalg.eigvalsh(H)
    nu = (E[:, None] - E[None, :]).ravel()
    nu_min = np.abs(nu[nu != 0]).min()
    # no |ν_ab − ν_cd| near the cut (QuTiP keeps |Δ| < cut, detbal |Δ| ≤ cut + Bohr tolerance)
    assert np.abs(np.abs(nu[:, None] - nu[None, :]) - c * nu_min).min() > 1e-3
    R = db.redfield(H, [(S, bath)], secular_cutoff=c * nu_min).to_dense()
    ref = qt.bloch_redfield_tensor(qt.Qobj(H), [(qt.Qobj(S), lambda w: float(bath.rate(w)))], sec_cutoff=c,
                                   fock_basis=True).full()
    assert np.abs(R - ref).max() < 1e-12 * np.abs(ref).max()


# -- the covariance test: R(H, USU†) = Ad_U ∘ R(H, S) ∘ Ad_U† for a diagonal phase U (UHU† = H) ------------
def _covariance_defect(tensor, seed=3, d=4):
    rng = np.random.default_rng(seed)
    H = np.diag(np.sort(rng.normal(size=d)))         # the energy eigenbasis, so a diagonal U leaves H fixed
    S = random_hermitian(rng, d)                     # complex in the energy eigenbasis
    U = np.diag(np.exp(2j * np.pi * rng.uniform(size=d)))
    R, R_u = tensor(H, S), tensor(H, U @ S @ U.conj().T)
    return np.linalg.norm(R_u - ad(U) @ R @ ad(U).conj().T) / np.linalg.norm(R_u), (H, S)


BATH = db.Bath.ohmic(0.1, 5.0, beta=1.0)


def _detbal_tensor(H, S):
    return db.redfield(H, [(S, BATH)]).to_dense()


def _qutip_tensor(H, S):
    return qt.bloch_redfield_tensor(qt.Qobj(H), [(qt.Qobj(S), lambda w: float(BATH.rate(w)))], sec_cutoff=-1,
                                    fock_basis=True).full()


def test_detbal_redfield_is_covariant_under_phases_that_leave_h_fixed():
    defect, _ = _covariance_defect(_detbal_tensor)
    assert defect < 1e-14


def test_qutip_non_secular_tensor_is_not_covariant_for_complex_couplings():
    # Evidence for the docs (how-to "QuTiP both ways"): QuTiP 5.3's non-secular tensor fails the
    # covariance test and equals detbal's tensor of Sᵀ. If QuTiP fixes it, this test fails: update
    # the docs and compare against QuTiP with complex couplings too.
    defect, (H, S) = _covariance_defect(_qutip_tensor)
    assert defect > 0.1
    assert np.abs(_qutip_tensor(H, S) - _detbal_tensor(H, S.T)).max() < 1e-12 * np.abs(_qutip_tensor(H, S)).max()
