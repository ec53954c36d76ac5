"""Long-time evolution: trace preserved and the state equal to the stationary one at any t,
at O(log t) cost (scaling and squaring stopped at the stationary projection)."""

import numpy as np
import pytest
import scipy.linalg as sla

import detbal as db
import detbal.models as zoo
from detbal._longtime import expm_any_time
from detbal.errors import ConvergenceError

LONG = [1e8, 1e15, 1e17, 1e20]


def _stationary_projection(M: np.ndarray) -> np.ndarray:
    """Independent reference: R (Lᴴ R)⁻¹ Lᴴ from the right and left null spaces of M."""
    R = sla.null_space(M, rcond=1e-10)
    Lk = sla.null_space(M.conj().T, rcond=1e-10)
    return R @ np.linalg.solve(Lk.conj().T @ R, Lk.conj().T)


def _vec(rho):
    return rho.reshape(-1, order="F")


def test_davies_qubit_at_long_times_keeps_trace_and_is_gibbs():
    L = zoo.get("thermal_qubit", temperature=0.7).generator
    gibbs = db.gibbs_state(L.hamiltonian, 1 / 0.7)
    ev = db.evolve(L, np.diag([1.0, 0.0]), [0.0] + LONG)
    for rho in ev.states[1:]:
        assert abs(np.trace(rho) - 1) < 1e-12
        assert np.max(np.abs(rho - gibbs)) < 1e-12


def test_davies_long_logspace_grid_keeps_trace():
    L = zoo.get("merry_go_round_thermal").generator
    d = L.dim
    ev = db.evolve(L, np.eye(d) / d, np.logspace(-3, 20, 60))
    assert np.max(np.abs(np.trace(ev.states, axis1=1, axis2=2) - 1)) < 1e-12
    P = _stationary_projection(L.to_dense())
    assert np.max(np.abs(_vec(ev.states[-1]) - P @ _vec(np.eye(d) / d))) < 1e-12


def test_davies_degenerate_zero_block_at_long_times_is_its_kernel_projection():
    # H = Z0 + Z1: degenerate levels, the ν = 0 sector is a block M0 (not a Pauli matrix)
    Z, X = np.diag([1.0, -1.0]), np.array([[0.0, 1.0], [1.0, 0.0]])
    H = np.kron(Z, np.eye(2)) + np.kron(np.eye(2), Z)
    S = np.kron(X, np.eye(2)) + 0.5 * np.kron(np.eye(2), X)
    L = db.davies(H, [(S, db.Bath.ohmic(alpha=0.1, cutoff=10.0, beta=1 / 1.5))])
    rng = np.random.default_rng(3)
    A = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    rho0 = A @ A.conj().T
    rho0 /= np.trace(rho0)
    ev = db.evolve(L, rho0, [0.0, 1e8, 1e20])
    P = _stationary_projection(L.to_dense())
    for rho in ev.states[1:]:
        assert abs(np.trace(rho) - 1) < 1e-12
        assert np.max(np.abs(_vec(rho) - P @ _vec(rho0))) < 1e-11


@pytest.mark.parametrize("t_end", LONG)
def test_lindbladian_qubit_at_long_times_is_stationary(t_end):
    H = np.diag([0.0, 1.0])
    sm = np.array([[0.0, 1.0], [0.0, 0.0]])
    L = db.Lindbladian(H, [sm, sm.T.copy()], [1.0, 0.3])
    ev = db.evolve(L, np.diag([0.0, 1.0]), [0.0, t_end])    # t = 1e8 used to take hours
    rho = ev.states[-1]
    assert abs(np.trace(rho) - 1) < 1e-12
    # stationary populations of the rate equations: p1/p0 = 0.3/1.0
    assert np.max(np.abs(rho - np.diag([1 / 1.3, 0.3 / 1.3]))) < 1e-12


def test_generic_lindbladian_long_grid_equals_kernel_projection():
    rng = np.random.default_rng(1)
    d = 6
    H = rng.normal(size=(d, d))
    H = H + H.T
    L = db.Lindbladian(H, [rng.normal(size=(d, d)) for _ in range(2)], [1.0, 0.5])
    rho0 = np.diag(rng.random(d))
    rho0 /= np.trace(rho0)
    ev = db.evolve(L, rho0, np.logspace(0, 20, 21))
    assert np.max(np.abs(np.trace(ev.states, axis1=1, axis2=2) - 1)) < 1e-12
    P = _stationary_projection(L.to_dense())
    assert np.max(np.abs(_vec(ev.states[-1]) - P @ _vec(rho0))) < 1e-12


def test_non_unique_kernel_long_time_keeps_both_conserved_populations():
    # two qubits, only qubit 0 relaxes: qubit 1's populations are conserved (kernel dim 2+)
    sm = np.array([[0.0, 1.0], [0.0, 0.0]])
    Z = np.diag([1.0, -1.0])
    H = np.kron(Z, np.eye(2)) + 0.3 * np.kron(np.eye(2), Z)
    L = db.Lindbladian(H, [np.kron(sm, np.eye(2)), np.kron(np.eye(2), Z)], [1.0, 0.2])
    rho0 = np.diag([0.1, 0.2, 0.3, 0.4])
    ev = db.evolve(L, rho0, [0.0, 1e20])
    P = _stationary_projection(L.to_dense())
    assert np.max(np.abs(_vec(ev.states[-1]) - P @ _vec(rho0))) < 1e-12


def test_purely_unitary_evolution_beyond_round_off_horizon_is_refused():
    H = np.array([[0.0, 1.0], [1.0, 0.3]])
    L = db.Lindbladian(H, [], [])
    ev = db.evolve(L, np.diag([1.0, 0.0]), [0.0, 1e6])         # phases still meaningful
    U = sla.expm(-1j * H * 1e6)
    assert np.max(np.abs(ev.states[-1] - U @ np.diag([1.0, 0.0]) @ U.conj().T)) < 1e-8
    with pytest.raises(ConvergenceError, match="undamped"):
        db.evolve(L, np.diag([1.0, 0.0]), [0.0, 1e20])


def test_scaling_and_squaring_stops_at_an_exact_projection():
    W = np.array([[-1.0, 2.0], [1.0, -2.0]])          # rates 1 (0 → 1) and 2 (1 → 0)
    E, stationary = expm_any_time(W, 1e20, conserved=np.ones(2))
    assert stationary
    np.testing.assert_allclose(E, np.array([[2.0, 2.0], [1.0, 1.0]]) / 3, rtol=0, atol=1e-15)
    assert np.max(np.abs(E.sum(axis=0) - 1)) < 1e-15


@pytest.mark.parametrize("t", [1e8, 1e12, 1e20])
def test_krylov_forced_at_long_times_keeps_the_trace(t):
    """method='krylov' used to run O(t‖𝓛‖) Arnoldi steps: trace 1 − 1.5e-5 at t = 1e12, NaN at 1e20.
    Long times take the exact long-time path (said in details), trace 1 to 1e-12, the steady state."""
    sm = np.array([[0, 1], [0, 0]])
    L = db.Lindbladian(np.diag([0.0, 1.0]), [sm, sm.T], [1.0, 0.3])
    ev = db.evolve(L, np.diag([0.0, 1.0]), [0.0, t], method="krylov")
    assert "krylov" in ev.details["replaced"]
    assert abs(np.trace(ev.states[-1]) - 1) < 1e-12
    assert np.abs(ev.states[-1] - db.steady_state(L).state).max() < 1e-12


def test_krylov_at_long_times_without_an_exact_path_is_refused_by_name():
    rng = np.random.default_rng(0)
    d = 34  # beyond the dense long-time path, and not a Lindbladian (no stationary-projection path)
    G = db.DenseGenerator(db.Lindbladian(np.diag(np.arange(d, dtype=float)), [rng.normal(size=(d, d)) / d]).to_dense())
    with pytest.raises(db.InputError, match="method='krylov' cannot reach t = 1e\\+10.*method='auto'"):
        db.evolve(G, np.eye(d) / d, [0.0, 1e10], method="krylov")
