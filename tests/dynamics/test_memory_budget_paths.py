"""Every d²×d² factorisation or Krylov basis is estimated before it is allocated: above
``detbal.config.memory_budget`` a MemoryBudgetError names the size, the budget and a way out
(never an internal MemoryError or the OOM killer)."""

import numpy as np
import pytest

import detbal as db
from detbal.errors import MemoryBudgetError
from detbal.generators.base import DenseGenerator


def random_dense_generator(d, seed=0):
    rng = np.random.default_rng(seed)
    H = rng.normal(size=(d, d))
    A = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    return DenseGenerator(db.Lindbladian(H + H.T, [A], [1.0]).to_dense())


@pytest.mark.parametrize("call", [
    lambda G: db.steady_state(G),                          # bordered sparse LU
    lambda G: db.steady_state(G, method="shift-invert"),    # shifted sparse LU
    lambda G: db.spectral_gap(G),                          # dense eig
])
def test_factorisations_of_a_generator_without_structure_respect_the_budget(monkeypatch, call):
    G = random_dense_generator(12)
    monkeypatch.setattr(db.config, "memory_budget", 400_000)
    with pytest.raises(MemoryBudgetError, match=r"\(d = 12\) needs .*iB, more than .*memory_budget.*; use") as e:
        call(G)
    assert e.value.required > e.value.budget == 400_000


def test_the_same_calls_succeed_under_the_default_budget():
    G = random_dense_generator(12)
    ss = db.steady_state(G)
    assert ss.kernel_dim == 1 and ss.residual < 1e-10
    assert db.spectral_gap(G).gap > 0


def test_arnoldi_basis_for_a_large_kernel_is_checked_before_allocation(monkeypatch):
    # dephasing of 8 levels: ker 𝓛 = the 8 diagonal matrices; the Arnoldi basis (20 + 6 + 2 vectors of
    # length d² = 64, 448·d² bytes) is refused, the LU of the diagonal generator (≤ 36·d·d² bytes) is not
    d = 8
    L = db.Lindbladian(np.zeros((d, d)), [np.diag(np.arange(d, dtype=float))], [1.0])
    monkeypatch.setattr(db.config, "memory_budget", 350 * d * d)
    with pytest.raises(MemoryBudgetError, match="Arnoldi basis"):
        db.steady_state(L, method="shift-invert")
