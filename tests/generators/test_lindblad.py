"""GKSL generators: QuTiP's liouvillian layout, trace preservation, complete positivity."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy.linalg import expm

import detbal as db
from systems import random_hermitian, random_matrix

qt = pytest.importorskip("qutip")


def random_lindbladian(seed, d, k):
    rng = np.random.default_rng(seed)
    H = random_hermitian(rng, d)
    jumps = [random_matrix(rng, d) for _ in range(k)]
    rates = rng.uniform(0.1, 2.0, size=k)
    return H, jumps, rates


def test_to_dense_equals_qutip_liouvillian():
    H, jumps, rates = random_lindbladian(1, 5, 3)
    L = db.Lindbladian(H, jumps, rates)
    ref = qt.liouvillian(qt.Qobj(H), [np.sqrt(g) * qt.Qobj(A) for g, A in zip(rates, jumps)]).full()
    assert np.max(np.abs(L.to_dense() - ref)) < 1e-12


def test_column_stacking_convention(rng):
    A, X, B = (random_matrix(rng, 4) for _ in range(3))
    assert np.allclose(np.kron(B.T, A) @ X.reshape(-1, order="F"), (A @ X @ B).reshape(-1, order="F"))


def test_qobj_and_sparse_inputs_are_accepted():
    H, jumps, rates = random_lindbladian(2, 4, 2)
    ref = db.Lindbladian(H, jumps, rates).to_dense()
    from_qobj = db.Lindbladian(qt.Qobj(H), [qt.Qobj(A) for A in jumps], rates).to_dense()
    from_sparse = db.Lindbladian(sp.csr_array(H), [sp.csr_array(A) for A in jumps], rates)
    assert np.max(np.abs(from_qobj - ref)) < 1e-13
    assert np.max(np.abs(from_sparse.to_dense() - ref)) < 1e-13
    assert np.max(np.abs(from_sparse.to_sparse().toarray() - ref)) < 1e-13


def choi_of_channel(M, d):
    """Choi matrix C[i·d + a, j·d + b] = Φ(|i⟩⟨j|)_ab from the column-stacked matrix."""
    T = M.reshape((d, d, d, d), order="F")  # T[a, b, i, j] = Φ(|i⟩⟨j|)_ab
    return T.transpose(2, 0, 3, 1).reshape(d * d, d * d)


@given(seed=st.integers(0, 2**32 - 1), d=st.integers(2, 4), k=st.integers(1, 3))
def test_random_gksl_is_trace_preserving_cp_and_consistent(seed, d, k):
    H, jumps, rates = random_lindbladian(seed, d, k)
    L = db.Lindbladian(H, jumps, rates)
    M = L.to_dense()
    rng = np.random.default_rng(seed)
    rho = random_matrix(rng, d)
    # to_dense matches apply, and its conjugate transpose matches adjoint
    assert np.allclose(M @ rho.reshape(-1, order="F"), L.apply(rho).reshape(-1, order="F"), atol=1e-12)
    assert np.allclose(M.conj().T @ rho.reshape(-1, order="F"), L.adjoint(rho).reshape(-1, order="F"), atol=1e-12)
    # trace preservation: L†(I) = 0
    assert np.max(np.abs(L.adjoint(np.eye(d)))) < 1e-12
    # complete positivity of e^{tL}: Choi matrix PSD
    choi = choi_of_channel(expm(0.3 * M), d)
    assert np.linalg.eigvalsh((choi + choi.conj().T) / 2)[0] > -1e-10
    # Hermiticity preservation
    X = rho + rho.conj().T
    assert np.allclose(L.apply(X), L.apply(X).conj().T, atol=1e-12)


def test_addition_and_channels():
    H, jumps, rates = random_lindbladian(3, 3, 2)
    L1 = db.Lindbladian(H, jumps[:1], rates[:1], names=["a"])
    L2 = db.Lindbladian(np.zeros((3, 3)), jumps[1:], rates[1:], names=["b"])
    total = L1 + L2
    assert [c.name for c in total.channels] == ["a", "b"]
    assert np.allclose(total.to_dense(), db.Lindbladian(H, jumps, rates).to_dense(), atol=1e-13)
    generic = db.as_generator(L1.to_dense(), hamiltonian=H) + L2
    assert np.allclose(generic.to_dense(), total.to_dense(), atol=1e-13)
    assert isinstance(generic, db.SumGenerator)


def test_as_generator_accepts_qutip_superoperator():
    H, jumps, rates = random_lindbladian(4, 3, 1)
    sup = qt.liouvillian(qt.Qobj(H), [np.sqrt(rates[0]) * qt.Qobj(jumps[0])])
    G = db.as_generator(sup)
    assert G.dim == 3 and G.hamiltonian is None
    assert np.allclose(G.to_dense(), db.Lindbladian(H, jumps, rates).to_dense(), atol=1e-13)
    rho = np.eye(3) / 3
    assert np.allclose(G.linear_operator() @ rho.reshape(-1, order="F"), G.apply(rho).reshape(-1, order="F"))


def test_memory_budget_guards_dense_superoperator():
    H = np.diag(np.arange(40.0))
    L = db.Lindbladian(H, [np.eye(40)])
    old = db.config.memory_budget
    try:
        db.config.memory_budget = 10 * 2**20  # 10 MiB < 40⁴·16 B = 41 MiB
        with pytest.raises(db.MemoryBudgetError, match="MiB"):
            L.to_dense()
    finally:
        db.config.memory_budget = old


def test_norm_estimate_is_an_unbiased_estimate_of_the_frobenius_norm():
    # E‖𝓛(X)‖_F² = ‖𝓛‖_F² for X with i.i.d. complex Gaussian entries, E|X_ij|² = 1
    H, jumps, rates = random_lindbladian(5, 4, 2)
    L = db.Lindbladian(H, jumps, rates)
    exact = np.linalg.norm(L.to_dense()) ** 2
    samples = np.array([L.norm_estimate(seed=k) ** 2 for k in range(400)])
    # the sample mean of 400 draws: relative standard error ≈ std/mean/20, well below 0.1 here
    assert abs(samples.mean() - exact) < 4 * samples.std() / np.sqrt(samples.size)
    assert L.norm_estimate(seed=3) == L.norm_estimate(seed=3)        # reproducible
