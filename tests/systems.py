"""Analytic test systems, written down once and run against every method that applies."""

from __future__ import annotations

import numpy as np

SIGMA_MINUS = np.array([[0, 1], [0, 0]], dtype=complex)  # |0⟩⟨1|: lowers E = (0, ω)
SIGMA_PLUS = SIGMA_MINUS.T.copy()


def thermal_qubit(omega=1.0, beta=1.0, gamma_down=1.0, ratio=None):
    """Qubit E = (0, ω) with decay γ↓ and pumping γ↑ = ratio·γ↓ (ratio = e^{−βω} is DB).

    Returns (H, jumps, rates).
    """
    if ratio is None:
        ratio = np.exp(-beta * omega)
    H = np.diag([0.0, omega]).astype(complex)
    return H, [SIGMA_MINUS, SIGMA_PLUS], [gamma_down, ratio * gamma_down]


def random_hermitian(rng, d, scale=1.0):
    X = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    return scale * (X + X.conj().T) / 2


def random_matrix(rng, d, scale=1.0):
    return scale * (rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))) / np.sqrt(2)


def random_density_matrix(rng, d, rank=None):
    rank = d if rank is None else rank
    X = rng.normal(size=(d, rank)) + 1j * rng.normal(size=(d, rank))
    rho = X @ X.conj().T
    return rho / np.trace(rho)


def eigenoperator_db_lindbladian(rng, d, beta, n_channels=2):
    """A GNS-DB Lindbladian from random H: jumps A_ij = |i⟩⟨j| (eigenbasis), rates obeying KMS.

    Returns (H, jumps, rates, sigma): jumps |i⟩⟨j| with rate r_ij, r_ji = r_ij e^{−β(E_j−E_i)}.
    """
    H = random_hermitian(rng, d)
    E, V = np.linalg.eigh(H)
    jumps, rates = [], []
    for i in range(d):
        for j in range(i + 1, d):
            r = rng.uniform(0.2, 1.5)
            A = np.outer(V[:, i], V[:, j].conj())  # |i⟩⟨j|: j → i, lowers energy by E_j − E_i
            jumps += [A, A.conj().T]
            rates += [r, r * np.exp(-beta * (E[j] - E[i]))]
    p = np.exp(-beta * (E - E[0]))
    p /= p.sum()
    sigma = (V * p) @ V.conj().T
    return H, jumps, rates, sigma
