"""Pauli rate matrix of a dephased Lindbladian in a basis (THEORY.md §3, §7)."""

import numpy as np
import pytest

import detbal as db
from detbal.classical import pauli_rate_matrix
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
