"""Iterative solvers in the eigenframe of H_eff = H − (i/2)Σγ A†A (X = V Y V†): there the no-jump part
is diagonal, so GMRES steps cost 2 products per jump and the preconditioner is a division. The answers
are those of the original-basis solvers: steady state against the dense null vector, (L − z)⁻¹ and its adjoint
against dense solves, the spectral gap against dense ``eig``."""

import numpy as np
import pytest
from systems import random_hermitian, random_matrix

import detbal as db
from detbal.app.analysis import analyze
from detbal.linalg import linsolve
from detbal.linalg.linsolve import ShiftedSolver, effective_hamiltonian, eigen_frame
from detbal.models.spec import Model, ModelInfo


def dense_jump(d, seed=0):
    """Random H and one dense random jump, both scaled by 1/√d (benchmarks/steady_state.py's model)."""
    rng = np.random.default_rng(seed)
    return db.Lindbladian(random_hermitian(rng, d) / np.sqrt(d), [random_matrix(rng, d) / np.sqrt(d)], [1.0])


def kernel_state(L):
    """The stationary state from the null vector of the dense d²×d² matrix (SVD)."""
    d = L.dim
    rho = np.linalg.svd(L.to_dense())[2][-1].conj().reshape((d, d), order="F")
    return rho / np.trace(rho)


def test_eigenframe_is_a_similarity_of_the_generator():
    L = dense_jump(12)
    f = eigen_frame(L, effective_hamiltonian(L))
    assert f is not None
    rng = np.random.default_rng(1)
    X = random_matrix(rng, 12)
    x = X.reshape(-1, order="F")
    assert np.allclose(f.from_frame(f.matvec(f.to_frame(x))), L.apply(X).reshape(-1, order="F"), atol=1e-12)
    assert np.allclose(f.from_frame_h(f.rmatvec(f.to_frame_h(x))), L.adjoint(X).reshape(-1, order="F"), atol=1e-12)
    assert np.vdot(f.trace_row, f.to_frame(x)) == pytest.approx(np.trace(X), abs=1e-12)


def test_steady_state_in_the_eigenframe_equals_the_dense_null_vector():
    L = dense_jump(40, seed=3)
    exact = kernel_state(L)
    calls = []
    it = db.steady_state(L, method="iterative", progress=lambda k, r: calls.append(r))
    assert it.details["preconditioner"].startswith("H_eff eigenframe")
    assert np.abs(it.state - exact).max() < 1e-10
    assert calls and it.residual < 1e-10


def test_shifted_solves_in_the_eigenframe_equal_dense_solves():
    L = dense_jump(10, seed=4)
    A = L.to_dense()
    z = 0.05
    frame = eigen_frame(L, effective_hamiltonian(L))
    S = ShiftedSolver(L.linear_operator(), 10, z, Heff=effective_hamiltonian(L), kind="gmres", frame=frame)
    b = np.random.default_rng(2).normal(size=100) + 0j
    shifted = A - z * np.eye(100)
    assert np.allclose(S.solve(b), np.linalg.solve(shifted, b), atol=1e-9)
    assert np.allclose(S.solve_h(b), np.linalg.solve(shifted.conj().T, b), atol=1e-9)


def test_gap_by_eigenframe_krylov_schur_equals_dense_eig():
    L = dense_jump(42, seed=5)  # dense jump beyond d = 32: matrix-free Krylov–Schur in the eigenframe
    g = db.spectral_gap(L)
    assert g.method == "krylov-schur(eigenframe)"
    vals = np.linalg.eigvals(L.to_dense())
    vals = vals[np.abs(vals) > 1e-9]
    assert float(g) == pytest.approx(-vals.real.max(), rel=1e-9)


def test_gmres_limit_raises_with_the_residual_reached():
    L = dense_jump(70, seed=6)
    with pytest.raises(db.ConvergenceError, match="maxiter = 3 with relative residual") as info:
        db.steady_state(L, maxiter=3)
    assert 0 < info.value.residual < 1


def test_the_analysis_reports_iterations_of_the_steady_state_solve():
    """The CLI's progress bar is fed by this callback (silenced by --quiet)."""
    L = dense_jump(70, seed=7)
    H = np.asarray(L.hamiltonian)
    model = Model(H, L, (), ModelInfo("dense-jump", "", None, 1.0, 70))
    seen = []
    analyze(model, iteration=lambda k, r: seen.append((k, r)))
    assert seen and seen[0][0] == 1 and all(np.isfinite(r) for _, r in seen)


def test_non_diagonalisable_heff_keeps_the_original_basis(monkeypatch):
    monkeypatch.setattr(linsolve, "_FRAME_COND_MAX", 0.5)  # every V fails the condition test
    L = dense_jump(40, seed=3)
    it = db.steady_state(L, method="iterative")
    assert it.details["preconditioner"].startswith("Sylvester")
    assert np.abs(it.state - kernel_state(L)).max() < 1e-10
