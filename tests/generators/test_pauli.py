"""Pauli rate matrix of a dephased Lindbladian in a basis (THEORY.md §3, §7)."""

import numpy as np
import pytest

import detbal as db
from detbal.generators.pauli import pauli_rate_matrix
from systems import eigenoperator_db_lindbladian, thermal_qubit


def test_qubit_pauli_matrix_has_decay_and_pumping_rates():
    H, jumps, rates = thermal_qubit(omega=1.0, beta=0.4, gamma_down=0.7)
    W = pauli_rate_matrix(db.Lindbladian(H, jumps, rates)).matrix
    assert W[0, 1] == pytest.approx(0.7, abs=1e-14)  # 1 → 0 decay
    assert W[1, 0] == pytest.approx(0.7 * np.exp(-0.4), abs=1e-14)


def test_pauli_matrix_of_db_lindbladian_is_classically_balanced_wrt_gibbs(rng):
    H, jumps, rates, sigma = eigenoperator_db_lindbladian(rng, 4, beta=0.9)
    W = pauli_rate_matrix(db.Lindbladian(H, jumps, rates))
    p = np.sort(np.linalg.eigvalsh(sigma))[::-1]
    assert np.allclose(W.stationary(), p, atol=1e-12)
    assert W.detailed_balance().holds and W.kolmogorov().holds


def test_pauli_matrix_in_explicit_basis_and_bad_basis():
    H, jumps, rates = thermal_qubit()
    L = db.Lindbladian(H, jumps, rates)
    flipped = pauli_rate_matrix(L, basis=np.array([[0, 1], [1, 0]])).matrix
    assert flipped[1, 0] == pytest.approx(1.0)
    with pytest.raises(db.InputError, match="basis"):
        pauli_rate_matrix(L, basis=np.ones((2, 2)))


def test_lindblad_and_davies_shortcuts_equal_the_generic_population_block(rng):
    """W_mn = Σ_k γ_k |⟨m|A_k|n⟩|² for Lindbladians and the structured matrix of a Davies generator
    equal ⟨m|𝓛(|n⟩⟨n|)|m⟩ computed by applying the dense generator to every basis projector."""
    d = 5
    X = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    H = X + X.conj().T
    jumps = [rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d)) for _ in range(3)]
    L = db.Lindbladian(H, jumps, [0.3, 1.0, 0.7])
    generic = pauli_rate_matrix(db.as_generator(L.to_dense(), hamiltonian=H)).matrix
    assert np.max(np.abs(pauli_rate_matrix(L).matrix - generic)) < 1e-12
    S = rng.normal(size=(d, d))
    D = db.davies(H, [(S + S.T, db.Bath.ohmic(0.1, 5.0, beta=0.8))])
    generic = pauli_rate_matrix(db.as_generator(D.to_dense(), hamiltonian=H)).matrix
    assert np.max(np.abs(pauli_rate_matrix(D).matrix - generic)) < 1e-12
    assert np.array_equal(pauli_rate_matrix(D).matrix, D.pauli_rate_matrix.matrix)


def test_degenerate_davies_uses_the_population_block_of_its_own_eigenbasis():
    """Degenerate levels (populations coupled to coherences): the rate matrix is the population
    block of the ν = 0 sector, i.e. ⟨m|𝓛(|n⟩⟨n|)|m⟩ in the generator's own eigenbasis."""
    H = np.diag([0.0, 1.0, 1.0, 2.0])
    S = np.array([[0, 1, 1, 0], [1, 0, 0.3, 1], [1, 0.3, 0, 1], [0, 1, 1, 0.5]])
    D = db.davies(H, [(S, db.Bath.ohmic(0.1, 5.0, beta=0.7))])
    with pytest.raises(db.InputError):
        D.pauli_rate_matrix
    generic = pauli_rate_matrix(db.as_generator(D.to_dense(), hamiltonian=H), basis=D.eigenbasis.vectors)
    assert np.max(np.abs(pauli_rate_matrix(D).matrix - generic.matrix)) < 1e-12
