"""Liouvillian gap of generic (not detailed-balanced) Lindbladians by matrix-free Krylov–Schur on the
trace-deflated generator 𝓛(X) − ‖𝓛‖₁·Tr(X)·I/d: against dense ``eig`` of the d²×d² matrix, against
the analytic gap of independent damped and dephased qubits (degenerate complex pairs, T = 0 and
T > 0), degenerate kernels, iteration and time limits (also of the steady state), progress reports."""
from functools import reduce

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from systems import random_hermitian, random_matrix

import detbal as db
from detbal.app.analysis import analyze
from detbal.errors import ConvergenceError, InputError
from detbal.linalg.rightmost import rightmost_eigenvalues
from detbal.models.spec import Model, ModelInfo


def _generic(d, n_jumps=1, seed=0, rate_scale=1.0):
    rng = np.random.default_rng(seed)
    H = random_hermitian(rng, d, scale=1 / np.sqrt(d))
    jumps = [random_matrix(rng, d, scale=np.sqrt(2 / d)) for _ in range(n_jumps)]
    return db.Lindbladian(H, jumps, list(rate_scale * rng.uniform(0.3, 1.5, size=n_jumps)))


def _dense_slow(L, zero=1e-9):
    """(gap, number of zero eigenvalues) from numpy eig of the d²×d² matrix (independent reference)."""
    w = np.linalg.eigvals(L.to_dense())
    scale = np.abs(w).max()
    nz = np.abs(w) > zero * scale
    return -float(np.max(w[nz].real)), int((~nz).sum())


def _iterative_gap(L, **kw):
    g = db.spectral_gap(L, method="iterative", path="non-hermitian", **kw)
    assert g.path == "non-hermitian" and g.method.startswith("krylov-schur")
    return g


@pytest.mark.parametrize("d, n_jumps, seed", [(5, 1, 0), (12, 1, 1), (16, 3, 2), (24, 1, 3), (24, 2, 4)])
def test_generic_gap_equals_dense_eig(d, n_jumps, seed):
    L = _generic(d, n_jumps, seed)
    g = _iterative_gap(L)
    ref, _ = _dense_slow(L)
    rate = max(L.rates)
    assert abs(g.gap - ref) <= 1e-10 * rate
    assert g.kernel_dim == 1 and g.residual < 1e-10
    assert abs(g.eigenvalue.real + g.gap) <= 1e-14 * rate


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000), d=st.integers(3, 10), scale=st.sampled_from([1e-3, 1.0, 1e3]))
def test_generic_gap_is_scale_covariant_and_exact(seed, d, scale):
    # s·𝓛 (H and rates times s) has the gap s·gap(𝓛); both equal dense eig to 1e-10 of the rates
    L1 = _generic(d, 2, seed)
    L = db.Lindbladian(scale * np.asarray(L1.hamiltonian), L1.jumps, [scale * r for r in L1.rates])
    g = _iterative_gap(L)
    ref, _ = _dense_slow(L)
    assert abs(g.gap - ref) <= 1e-10 * max(L.rates)
    assert abs(g.gap - scale * _iterative_gap(L1).gap) <= 1e-10 * max(L.rates)


def test_weak_dissipation_falls_back_to_dense_eig_or_says_it_is_not_certified():
    # rates 1e-3 next to Bohr frequencies O(1): many eigenvalues with nearly equal real parts, where
    # Krylov–Schur can converge to a slow eigenvalue that is not the rightmost one (measured)
    L = _generic(36, 1, seed=3, rate_scale=1e-3)
    g = db.spectral_gap(L, path="non-hermitian")
    assert g.method == "dense-eig" and "weak dissipation" in g.details["note"]
    small = _generic(10, 2, seed=0, rate_scale=1e-3)
    forced = _iterative_gap(small)
    assert forced.details["certified"] is False and "weak dissipation" in forced.details["note"]
    assert _iterative_gap(_generic(10, 2, seed=0)).details["certified"] is True


def _qubits(n, omega, gamma_down, gamma_up, gamma_phi):
    """n independent qubits, H = Σ ω σz_i/2, jumps σ⁻_i (γ↓), σ⁺_i (γ↑), σz_i (γ_φ)."""
    sm = np.array([[0.0, 1.0], [0.0, 0.0]])   # |0⟩⟨1| with |0⟩ = ground (energy −ω/2)
    sz = np.diag([-1.0, 1.0])
    eye = np.eye(2)

    def site(op, i):
        return reduce(np.kron, [op if j == i else eye for j in range(n)])

    H = sum(site(omega * sz / 2, i) for i in range(n))
    jumps, rates = [], []
    for i in range(n):
        for op, r in ((sm, gamma_down), (sm.T.copy(), gamma_up), (sz, gamma_phi)):
            if r:
                jumps.append(site(op, i))
                rates.append(r)
    return db.Lindbladian(H, jumps, rates)


@pytest.mark.parametrize("gd, gu, gphi", [
    (1.0, 0.0, 0.0),       # T = 0 amplitude damping: coherences at γ/2 (a pair, 4-fold degenerate)
    (1.0, 0.0, 0.3),       # T = 0 with dephasing: coherence rate γ/2 + 2γ_φ = 1.1 > γ: gap γ (real)
    (1.0, 0.0, 0.1),       # coherence rate 0.7 < γ: the gap is the complex pair
    (1.0, 0.4, 0.05),      # T > 0: populations (γ↓ + γ↑) = 1.4, coherences 0.7 + 0.1 = 0.8
])
def test_independent_qubits_have_the_analytic_gap(gd, gu, gphi):
    # one qubit: eigenvalues 0, −(γ↓ + γ↑), −(γ↓ + γ↑)/2 − 2γ_φ ± iω; n qubits: sums of these, so the
    # gap is the single-qubit one with multiplicity n (degenerate gap, complex pair when coherences win)
    n, omega = 4, 1.3
    L = _qubits(n, omega, gd, gu, gphi)
    g = _iterative_gap(L)
    pop, coh = gd + gu, (gd + gu) / 2 + 2 * gphi
    assert abs(g.gap - min(pop, coh)) <= 1e-10
    if coh < pop:
        assert abs(abs(g.eigenvalue.imag) - omega) <= 1e-9
    else:
        assert abs(g.eigenvalue.imag) <= 1e-9


def test_degenerate_kernel_is_skipped_and_counted():
    # two decoupled blocks (each with its own jumps): ker 𝓛 has dimension ≥ 2 (the two block steady
    # states); the gap is the slowest nonzero rate of either block, as dense eig says
    rng = np.random.default_rng(7)
    m = 6
    H = np.zeros((2 * m, 2 * m), complex)
    jumps = []
    for b in range(2):
        s = slice(b * m, (b + 1) * m)
        H[s, s] = random_hermitian(rng, m, scale=0.5)
        J = np.zeros_like(H)
        J[s, s] = random_matrix(rng, m, scale=0.6)
        jumps.append(J)
    L = db.Lindbladian(H, jumps, [1.0, 0.7])
    g = _iterative_gap(L)
    ref, nzero = _dense_slow(L)
    assert nzero >= 2
    assert abs(g.gap - ref) <= 1e-10
    assert g.kernel_dim >= 2


def test_auto_path_beyond_dense_limit_uses_krylov_schur_without_a_superoperator(monkeypatch):
    L = _generic(48, 1, seed=5)

    def forbidden(*args, **kwargs):
        raise AssertionError("a d²×d² matrix was built")

    monkeypatch.setattr(type(L), "to_dense", forbidden)
    g = db.spectral_gap(L, path="non-hermitian")
    assert g.method == "krylov-schur(eigenframe)" and g.residual < 1e-10
    monkeypatch.undo()
    # reference: the rightmost nonzero eigenvalue is an eigenvalue of 𝓛 (residual in the original basis)
    assert g.details["deflated"] and g.kernel_dim == 1


def test_progress_reports_every_restart_and_maxiter_carries_the_residual():
    L = _generic(20, 1, seed=6)
    seen = []
    g = _iterative_gap(L, progress=lambda it, res: seen.append((it, res)))
    assert [it for it, _ in seen] == list(range(1, len(seen) + 1))
    assert len(seen) == g.details["restarts"] and seen[-1][1] <= 1e-13
    with pytest.raises(ConvergenceError, match="maxiter = 2") as err:
        _iterative_gap(L, maxiter=2)
    assert 0 < err.value.residual < np.inf


def test_time_limit_raises_with_the_residual_reached():
    L = _generic(40, 1, seed=8)
    with pytest.raises(ConvergenceError, match="time limit") as err:
        _iterative_gap(L, time_limit=1e-9)
    assert 0 < err.value.residual < np.inf


@pytest.mark.parametrize("kw, word", [({"progress": 3}, "progress"), ({"time_limit": -1.0}, "time_limit"),
                                      ({"time_limit": float("nan")}, "time_limit")])
def test_bad_progress_and_time_limit_are_named(kw, word):
    with pytest.raises(InputError, match=word):
        db.spectral_gap(_generic(4), **kw)


def test_krylov_schur_finds_rightmost_eigenvalues_of_a_normal_matrix():
    # a normal matrix with prescribed spectrum: the 3 rightmost values (a conjugate pair counts twice)
    rng = np.random.default_rng(9)
    lam = -rng.uniform(0.5, 5, 200) + 1j * rng.normal(scale=3, size=200)
    lam[:3] = [-0.1, -0.2 + 1j, -0.2 - 1j]
    Q, _ = np.linalg.qr(rng.normal(size=(200, 200)) + 1j * rng.normal(size=(200, 200)))
    A = (Q * lam) @ Q.conj().T
    out = rightmost_eigenvalues(lambda x: A @ x, 200, 3, np.abs(A).sum(axis=0).max())
    found = out["values"][np.argsort(out["values"].imag)]
    assert np.allclose(found, lam[[2, 0, 1]], atol=1e-11) and np.all(out["residuals"] < 1e-13)


def test_the_analysis_reports_krylov_schur_restarts_of_the_gap():
    """The CLI's progress bar shows these (stage label from ``step``, then count and residual)."""
    L = _generic(36, 1, seed=10)
    model = Model(np.asarray(L.hamiltonian), L, (), ModelInfo("generic", "", None, 1.0, 36))
    events = []
    a = analyze(model, step=lambda label: events.append(label),
                iteration=lambda k, r: events.append((k, r)))
    after = events[events.index("spectral gap") + 1:]
    counts = [e[0] for e in after if isinstance(e, tuple)]
    assert counts[:2] == [1, 2] and a.spectral_gap == pytest.approx(float(_iterative_gap(L)), rel=1e-12)


def test_steady_state_time_limit_raises_with_the_residual_reached():
    L = _generic(70, 1, seed=11)  # d > 64: the iterative (GMRES) path
    seen = []
    with pytest.raises(ConvergenceError, match="time limit") as err:
        db.steady_state(L, time_limit=1e-9, progress=lambda k, r: seen.append(r))
    assert 0 < err.value.residual < np.inf and err.value.residual == seen[-1]
    ok = db.steady_state(L, time_limit=600)
    assert ok.method == "iterative" and ok.details["relative_residual"] < 1e-10
    with pytest.raises(InputError, match="time_limit"):
        db.steady_state(L, time_limit=0)
