"""Kernel of Davies generators with massively degenerate spectra (THEORY.md §9).

dim ker 𝓛 is counted exactly from the Bohr-sector structure (block nullities of the sparse ν = 0
sector), never from a d²×d² solve. References: the SVD nullity of the dense d²×d² matrix (3–4
sites) and the analytic commutant dimension (6–12 sites). Singular values are counted as zero
below 1e-10·‖𝓛‖₁, as in the library; the gap between zero and the smallest nonzero rate here is
O(α) ≫ 1e-10, so the count is not sensitive to that threshold.
"""

from functools import reduce
from math import comb

import numpy as np
import pytest

import detbal as db
from detbal.baths import Bath
from detbal.errors import MemoryBudgetError, NonUniqueSteadyStateError
from detbal.generators.davies import davies
from detbal.generators.davies import sector_kernel as kern

X = np.array([[0.0, 1.0], [1.0, 0.0]])
Z = np.diag([1.0, -1.0])


def site(op, k, n):
    return reduce(np.kron, [op if j == k else np.eye(2) for j in range(n)])


def free_spins_one_bath(n, rotate=None, lamb_shift=False):
    """H = Z0 + … + Z_{n−1}, one ohmic bath at β = 0.5 through X0 (only spin 0 relaxes)."""
    H = sum(site(Z, k, n) for k in range(n))
    S = site(X, 0, n)
    if rotate is not None:  # a random unitary inside every degenerate eigenspace: dense eigenbasis
        A = rotate.normal(size=H.shape) + 1j * rotate.normal(size=H.shape)
        P = [np.diag((np.diag(H) == e).astype(float)) for e in np.unique(np.diag(H))]
        A = sum(p @ (A + A.conj().T) @ p for p in P)
        w, v = np.linalg.eigh(A)
        U = (v * np.exp(1j * w)) @ v.conj().T
        H, S = U @ H @ U.conj().T, U @ S @ U.conj().T
        H = (H + H.conj().T) / 2
    return davies(H, [(S, Bath.ohmic(0.1, 5.0, beta=0.5))], lamb_shift=lamb_shift)


def dense_nullity(L):
    M = L.to_dense()
    s = np.linalg.svd(M, compute_uv=False)
    return int(np.count_nonzero(s <= 1e-10 * np.abs(M).sum(axis=0).max()))


@pytest.mark.parametrize("n", [3, 4])
@pytest.mark.parametrize("rotated,lamb", [(False, False), (True, False), (True, True)])
def test_degenerate_kernel_dimension_equals_the_dense_nullity(n, rotated, lamb):
    L = free_spins_one_bath(n, np.random.default_rng(n) if rotated else None, lamb)
    k = L.structured_steady_state()[1]
    assert k == dense_nullity(L) == comb(2 * (n - 1), n - 1)


@pytest.mark.parametrize("rotated", [False, True])
def test_sparse_zero_sector_equals_the_dense_zero_sector_block(rotated):
    L = free_spins_one_bath(3, np.random.default_rng(7) if rotated else None, lamb_shift=True)
    M = kern.zero_sector_matrix(L._sec, L._cps, L.eigenbasis.energies).toarray()
    assert np.allclose(M, L.bohr_blocks.population, rtol=0, atol=1e-13)


def test_block_nullity_counts_each_invariant_block():
    # blocks: [[1, 1], [1, 1]] (nullity 1), [0] (1), [[1e-20]] (tiny against ‖M‖₁ = 2: 1), [[2, 0], [0, 3]] (0)
    import scipy.sparse as sp
    M = sp.block_diag([np.ones((2, 2)), np.zeros((1, 1)), np.array([[1e-20]]), np.diag([2.0, 3.0])])
    assert kern.block_nullity(sp.csr_array(M)) == 3


def test_six_free_spins_with_one_bath_have_the_commutant_as_kernel():
    """Analytic dimension. Gibbs is a faithful stationary state, so (Frigerio 1978) the conserved
    quantities ker 𝓛† are the commutant of {H, A(ω), A(ω)†}. Here A(±2) = σ∓ on spin 0 (⊗ I) and,
    with Z0 from H, they generate all operators on spin 0; what is left of H is N = Z1 + … + Z5.
    So ker 𝓛† = I₂ ⊗ {N}' = operators on spins 1..5 block-diagonal in their magnetisation, and
    dim ker 𝓛 = dim ker 𝓛† = Σ_m C(5, m)² = C(10, 5) = 252."""
    L = free_spins_one_bath(6)
    with pytest.raises(NonUniqueSteadyStateError) as err:
        db.steady_state(L)
    assert err.value.kernel_dim == comb(10, 5) == 252
    (rho,) = err.value.basis
    assert np.linalg.norm(L.apply(rho)) < 1e-12 and abs(np.trace(rho) - 1) < 1e-12


@pytest.mark.parametrize("n", [8])
def test_many_free_spins_kernel_is_counted_within_a_small_memory_budget(monkeypatch, n):
    """dim = C(2(n−1), n−1) (same commutant argument); the sector blocks alone would need
    ≥ 49 GiB at n = 8, the count stays far below a 256 MiB budget."""
    monkeypatch.setattr(db.config, "memory_budget", 256 * 2**20)
    L = free_spins_one_bath(n)
    with pytest.raises(NonUniqueSteadyStateError) as err:
        db.steady_state(L)
    assert err.value.kernel_dim == comb(2 * (n - 1), n - 1)
    with pytest.raises(MemoryBudgetError, match=r" needs .*iB.*fewer sites"):
        L.structured_gap()   # the Bohr-sector blocks do not fit; blockwise, the 3432-fold kernel's dense eigenvalues neither


def test_dense_eigenbasis_kernel_count_refuses_before_exceeding_the_budget(monkeypatch):
    L = free_spins_one_bath(4, np.random.default_rng(1))
    monkeypatch.setattr(db.config, "memory_budget", 2**16)
    with pytest.raises(MemoryBudgetError, match="needs"):
        L.structured_steady_state()


def test_undamped_coherences_give_zero_gap_not_a_negative_one():
    # spins 1..n−1 never relax: purely imaginary eigenvalues, so no relaxation gap
    assert free_spins_one_bath(3).structured_gap() == 0.0


@pytest.mark.parametrize("beta", [1.3, None])
def test_stack_gap_screen_drops_only_blocks_that_cannot_lower_the_gap(beta, monkeypatch):
    """stack_gap with a floor (a gap found elsewhere): blocks whose Gershgorin bound keeps every Re λ
    below −floor are not diagonalised, and min(floor, result) is unchanged — for floors below, inside
    and above the range of the blocks' own gaps, on the KMS-Hermitian (β) and the general (no β) path."""
    from dataclasses import replace

    from test_conserved import chain, couplings

    from detbal.states import log_gibbs_populations

    L = davies(chain(6, "uniform", 3), couplings(6, False))
    lp = log_gibbs_populations(L.eigenbasis, 1.3) if beta else None
    stacks = [st for st in L._parts.stacks if st.rows.shape[0] > 3]
    assert stacks
    diagonalised = []
    for name in ("eigvalsh", "eigvals"):
        real = getattr(np.linalg, name)
        monkeypatch.setattr(np.linalg, name, lambda A, real=real: (diagonalised.append(A.shape[0]), real(A))[1])
    half = []
    for st in stacks:
        B = st.rows.shape[0]
        own = np.array([kern.stack_gap(replace(st, rows=st.rows[b:b + 1], cols=st.cols[b:b + 1],
                                               frequencies=st.frequencies[b:b + 1], matrices=st.matrices[b:b + 1],
                                               dissipative=st.dissipative[b:b + 1]), lp) for b in range(B)])
        whole = kern.stack_gap(st, lp)
        assert whole == pytest.approx(own.min(), rel=1e-13)
        for floor in (0.5 * own.min(), float(np.median(own)), 2 * own.max()):
            got = kern.stack_gap(st, lp, floor)
            assert min(floor, got) == pytest.approx(min(floor, whole), rel=1e-13)
        half.append(0.5 * own.min())
    diagonalised.clear()
    for st, floor in zip(stacks, half):     # every block's gap is at least twice the floor
        kern.stack_gap(st, lp, floor)
    assert sum(diagonalised) < sum(st.rows.shape[0] for st in stacks)     # the screen drops blocks here
