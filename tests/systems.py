"""Analytic test systems, written down once and run against every method that applies."""

from __future__ import annotations

from dataclasses import dataclass

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


# -- the analytic-system harness: each system as every generator type that represents it exactly ---
@dataclass(frozen=True)
class AnalyticSystem:
    """A model whose answers are known in closed form, built as every generator type that represents it
    *exactly* (same superoperator): a Lindbladian, a Davies generator and a plain dense matrix.

    Attributes:
        name: label for test ids.
        beta: inverse temperature of the reference Gibbs state.
        generators: {"lindblad" | "davies" | "dense": Generator}, all equal as superoperators.
        steady_state: (d, d) analytic stationary state.
        gap: analytic spectral gap, or None when it has no simple closed form.
        holds: whether KMS/GNS detailed balance w.r.t. Gibbs(beta) holds.
        dissipative_residual: ‖𝓓̂ − 𝓓̂†‖_F/‖𝓓̂‖_F computed independently (classical formula below).
    """

    name: str
    beta: float
    generators: dict
    steady_state: np.ndarray
    gap: float | None
    holds: bool
    dissipative_residual: float


def _classical_davies_system(name, energies, baths_and_couplings, beta_ref, gap=None):
    """A Davies generator with non-degenerate levels, distinct Bohr frequencies and couplings with zero
    diagonal: then 𝓓 = Σ_{m≠n} k_{n→m} D[|m⟩⟨n|] exactly, k_{n→m} = Σ_b γ_b(E_n − E_m)|S_b,mn|²
    (coherences only decay, at (out_i + out_j)/2), so every answer follows from the rates k:
    - the steady state is diag(p) with p from Kirchhoff's matrix-tree theorem (3 levels written out);
    - in σ's eigenbasis only the population block of 𝓓̂ can be asymmetric: Ŵ_mn = W_mn √(p^σ_n/p^σ_m)
      for every s, so ‖𝓓̂ − 𝓓̂†‖² = ‖Ŵ − Ŵᵀ‖² and ‖𝓓̂‖² = ‖Ŵ‖² + Σ_{i≠j} ((out_i + out_j)/2)².
    """
    import detbal as db

    E = np.asarray(energies, float)
    d = E.size
    H = np.diag(E)
    k = np.zeros((d, d))  # k[m, n] = rate n → m
    for S, bath in baths_and_couplings:
        for m in range(d):
            for n in range(d):
                if m != n:
                    k[m, n] += float(bath.rate(E[n] - E[m])) * abs(S[m, n]) ** 2
    assert d == 3, "Kirchhoff's formula below is written for three levels"
    # p_i ∝ Σ over spanning trees directed into i of the product of their rates
    p = np.array([k[0, 1] * k[0, 2] + k[2, 1] * k[0, 2] + k[1, 2] * k[0, 1],
                  k[1, 0] * k[1, 2] + k[2, 0] * k[1, 2] + k[0, 2] * k[1, 0],
                  k[2, 0] * k[2, 1] + k[1, 0] * k[2, 1] + k[0, 1] * k[2, 0]])
    p /= p.sum()
    W = k - np.diag(k.sum(axis=0))
    sigma = np.exp(-beta_ref * (E - E.min()))
    sigma /= sigma.sum()
    W_hat = W * np.sqrt(sigma[None, :] / sigma[:, None])
    out = k.sum(axis=0)
    coherence = sum(((out[i] + out[j]) / 2) ** 2 for i in range(d) for j in range(d) if i != j)
    residual = np.linalg.norm(W_hat - W_hat.T) / np.sqrt(np.linalg.norm(W_hat) ** 2 + coherence)

    jumps, rates = [], []
    for m in range(d):
        for n in range(d):
            if m != n and k[m, n] > 0:
                J = np.zeros((d, d))
                J[m, n] = 1.0
                jumps.append(J)
                rates.append(k[m, n])
    lindblad = db.Lindbladian(H, jumps, rates)
    generators = {"lindblad": lindblad,
                  "davies": db.davies(H, couplings=list(baths_and_couplings)),
                  "dense": db.DenseGenerator(lindblad.to_dense(), hamiltonian=H)}
    return AnalyticSystem(name, beta_ref, generators, np.diag(p).astype(complex), gap,
                          bool(residual < 1e-12), float(residual))


def analytic_systems() -> list[AnalyticSystem]:
    """The harness's systems: a thermal qubit (DB, gap (γ↓ + γ↑)/2), the one-bath three-level ring (DB)
    and the two-bath merry-go-round (a cycle current: not DB)."""
    import detbal as db

    systems = []
    # thermal qubit: Davies through X equals D[σ⁻] at γ(ω) plus D[σ⁺] at γ(−ω) = e^{−βω}γ(ω)
    omega, beta = 1.3, 0.7
    bath = db.Bath.ohmic(alpha=0.02, cutoff=8.0, beta=beta, name="bath")
    gd, gu = float(bath.rate(omega)), float(bath.rate(-omega))
    H = np.diag([0.0, omega])
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    lindblad = db.Lindbladian(H, [SIGMA_MINUS, SIGMA_PLUS], [gd, gu])
    systems.append(AnalyticSystem(
        "thermal_qubit", beta,
        {"lindblad": lindblad, "davies": db.davies(H, couplings=[(X, bath)]),
         "dense": db.DenseGenerator(lindblad.to_dense(), hamiltonian=H)},
        np.diag([gd, gu]).astype(complex) / (gd + gu), (gd + gu) / 2, True, 0.0))
    ring = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]], float)
    hot_edge = np.array([[0, 0, 1], [0, 0, 0], [1, 0, 0]], float)
    energies = [0.0, 1.0, 2.5]
    systems.append(_classical_davies_system(
        "three_level_one_bath", energies, [(ring, db.Bath.ohmic(alpha=0.05, cutoff=10.0, beta=1.0, name="bath"))],
        1.0))
    systems.append(_classical_davies_system(
        "merry_go_round", energies,
        [(hot_edge, db.Bath.ohmic(alpha=0.05, cutoff=10.0, beta=0.25, name="hot")),
         (ring - hot_edge, db.Bath.ohmic(alpha=0.05, cutoff=10.0, beta=1.0, name="cold"))], 1.0))
    return systems
