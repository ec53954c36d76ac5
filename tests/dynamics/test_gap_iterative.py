"""Matrix-free spectral gaps (Lanczos on 𝓓̂ for KMS-DB generators, Krylov–Schur otherwise) and
long-time evolution of generic Lindbladians beyond the dense propagator (d > 32)."""
import numpy as np
import pytest

import detbal as db
from detbal.errors import ConvergenceError
from systems import eigenoperator_db_lindbladian, random_hermitian, random_matrix


def _dense_gap(L):
    w = np.linalg.eigvals(L.to_dense())
    w = w[np.abs(w) > 1e-9]
    return -float(np.max(w.real))


def _generic(d, n_jumps=2, seed=0):
    """A Lindbladian with a random H and dense random jumps, all of norm O(1)."""
    rng = np.random.default_rng(seed)
    H = random_hermitian(rng, d, scale=1 / np.sqrt(d))
    jumps = [random_matrix(rng, d, scale=np.sqrt(2 / d)) for _ in range(n_jumps)]
    return db.Lindbladian(H, jumps, list(rng.uniform(0.3, 1.5, size=n_jumps)))


def test_lanczos_gap_of_kms_balanced_lindbladian_equals_dense_eig():
    H, jumps, rates, _ = eigenoperator_db_lindbladian(np.random.default_rng(4), 7, 0.8)
    L = db.Lindbladian(H, jumps, rates, beta=0.8)
    g = db.spectral_gap(L, method="iterative")
    assert g.path == "hermitian" and g.method == "lanczos"
    ref = _dense_gap(L)
    assert abs(g.gap - ref) <= 1e-10 * ref
    assert g.hermitian_gap == g.gap and g.residual < 1e-10


@pytest.mark.parametrize("beta", [3.0, 30.0])
def test_iterative_gap_at_large_beta_delta_e_equals_dense_eig(beta):
    # β = 30: rotation round-off amplified by the σ-scaling makes 𝓛̂ fail the normality test (the
    # dense path too); the iterative gap then falls back to Krylov–Schur and is still exact
    H, jumps, rates, _ = eigenoperator_db_lindbladian(np.random.default_rng(5), 5, beta)
    L = db.Lindbladian(H, jumps, rates, beta=beta)
    g = db.spectral_gap(L, method="iterative")
    ref = _dense_gap(L)
    assert abs(g.gap - ref) <= 1e-10 * ref
    if beta == 3.0:
        assert g.method == "lanczos"


def test_iterative_gap_of_non_balanced_lindbladian_equals_dense_eig():
    L = _generic(8)
    g = db.spectral_gap(L, method="iterative")
    assert g.path == "non-hermitian" and g.method.startswith("krylov-schur")
    ref = _dense_gap(L)
    assert abs(g.gap - ref) <= 1e-10 * ref


@pytest.mark.parametrize("kind", ["lanczos", "krylov-schur"])
def test_gap_iteration_cap_raises_convergence_error_with_residual(kind):
    if kind == "lanczos":
        H, jumps, rates, _ = eigenoperator_db_lindbladian(np.random.default_rng(4), 7, 0.8)
        L = db.Lindbladian(H, jumps, rates, beta=0.8)
    else:
        L = _generic(8)
    with pytest.raises(ConvergenceError) as err:
        db.spectral_gap(L, method="iterative", maxiter=1)
    assert err.value.residual > 0 and not np.isnan(err.value.residual)


def test_gap_rejects_bad_maxiter_and_method():
    L = _generic(3)
    with pytest.raises(db.errors.InputError, match="maxiter"):
        db.spectral_gap(L, maxiter=0)
    with pytest.raises(db.errors.InputError, match="method"):
        db.spectral_gap(L, method="lanczos")


def test_generic_d40_reaches_its_stationary_state_at_t_1e8_with_exact_trace():
    L = _generic(40, n_jumps=2, seed=1)
    rng = np.random.default_rng(3)
    psi = rng.normal(size=40) + 1j * rng.normal(size=40)
    rho0 = np.outer(psi, psi.conj()) / np.vdot(psi, psi).real
    ev = db.evolve(L, rho0, [0.0, 2.0, 1e8, 1e20])
    ss = db.steady_state(L).state
    assert np.max(np.abs(ev.states[2] - ss)) <= 1e-12 and np.max(np.abs(ev.states[3] - ss)) <= 1e-12
    assert all(abs(np.trace(s) - 1) <= 1e-13 for s in ev.states)
    assert np.linalg.norm(L.apply(ev.states[2])) <= 1e-10 * np.linalg.norm(L.to_dense(), 1)
    assert ev.details["long_time_stats"]["bound"] <= 1e-9
    # the short time before stationarity is the exact propagation
    short = db.evolve(L, rho0, [0.0, 2.0], method="expm-multiply")
    assert np.max(np.abs(short.states[1] - ev.states[1])) <= 1e-12
