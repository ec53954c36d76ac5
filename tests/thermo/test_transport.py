"""Onsager matrix, fluctuation–dissipation, Green–Kubo and reciprocity (THEORY.md §14)."""

import numpy as np
import pytest

import detbal as db
from detbal.errors import InputError
from detbal.thermo.fcs import joint_covariance
from detbal.thermo.transport import green_kubo, onsager_matrix

SX = np.array([[0, 1], [1, 0]], dtype=complex)
SM = np.array([[0, 1], [0, 0]], dtype=complex)


def qubit_family(kind):
    """Two-bath qubit of §13 around β = 1; affinity A = β_c − β_h (energy counting of the hot bath)."""
    H = np.diag([0.0, 1.0])

    def family(A):
        hot = db.Bath.ohmic(0.1, 5.0, beta=1.0 - A[0], name="hot")
        cold = db.Bath.ohmic(0.05, 5.0, beta=1.0, name="cold")
        if kind == "davies":
            return db.davies(H, [(SX, hot), (SX, cold)])
        return (db.Lindbladian(H, [SM, SM.T], [hot.rate(1.0), hot.rate(-1.0)], name="hot", beta=hot.beta)
                + db.Lindbladian(0 * H, [SM, SM.T], [cold.rate(1.0), cold.rate(-1.0)], name="cold", beta=1.0))
    return family


@pytest.mark.parametrize("kind", ["lindblad", "davies"])
def test_fluctuation_dissipation_at_equal_temperatures(kind):
    """c_2/2 = ∂c_1/∂A at A = 0 (verified value 0.0729554, agreement 3e-12)."""
    om = onsager_matrix(qubit_family(kind), {"hot": "energy"})
    assert om.noise[0, 0] == pytest.approx(0.0729554, rel=1e-6)
    # Richardson-extrapolated central differences at h = 1e-3: O(h⁴) ≈ 1e-13, round-off ε/h ≈ 1e-13
    assert om.response[0, 0] == pytest.approx(om.noise[0, 0], rel=3e-12)
    assert om.green_kubo[0, 0] == pytest.approx(om.noise[0, 0], rel=1e-12)
    assert om.equilibrium_current < 1e-15
    assert om.step == 1e-3
    with pytest.raises(TypeError):
        bool(om)


def nb(x):
    return 1 / np.expm1(x)


def ring(betas, phi=0.0, eps=1.0, hop=0.5, kappa=0.1):
    """Three-terminal ring: vacuum |0⟩ and one excitation on sites 1..3 (energy ε), hopping with a
    Peierls phase φ (a magnetic flux), site j coupled to its own bath by local jumps |0⟩⟨j|, |j⟩⟨0|
    at the rates κ(n_B + 1), κ n_B of n_B(ε, T_j). Equal temperatures: e^{−βεN}/Z is stationary."""
    d = 4
    H = np.zeros((d, d), complex)
    for j in range(3):
        a, b = j + 1, (j + 1) % 3 + 1
        H[a, a] = eps
        H[b, a] += hop * np.exp(1j * phi)
        H[a, b] += hop * np.exp(-1j * phi)
    parts = []
    for j in range(3):
        A = np.zeros((d, d))
        A[0, j + 1] = 1.0
        n = nb(betas[j] * eps)
        parts.append(db.Lindbladian(0 * H, [A, A.T], [kappa * (n + 1), kappa * n], name=f"b{j}", beta=betas[j]))
    return db.SumGenerator([db.Lindbladian(H, [], name="ring"), *parts], hamiltonian=H)


QUANTA = [{"b0": [-1.0, 1.0]}, {"b1": [-1.0, 1.0]}]    # quanta from baths 0 and 1 into the ring (bath 2: reference)


def ring_family(phi):
    return lambda A: ring([1.0 - A[0], 1.0 - A[1], 1.0], phi=phi)   # A_b = (β_2 − β_b)ε with ε = 1


def test_three_terminal_onsager_matrix_is_symmetric_and_positive_semidefinite():
    om = onsager_matrix(ring_family(0.0), QUANTA)
    assert om.response.shape == (2, 2)
    assert om.symmetry_residual < 1e-8
    assert om.min_eigenvalue > 0
    assert om.fdt_residual < 1e-9
    assert om.green_kubo_residual < 1e-9


def test_three_terminal_davies_onsager_matrix_is_symmetric_and_positive_semidefinite(rng):
    E = np.array([0.0, 0.8, 1.7, 2.1])
    H = np.diag(E)
    S = [rng.normal(size=(4, 4)) for _ in range(3)]
    S = [(s + s.T) / 2 for s in S]

    def family(A):
        betas = [0.7 - A[0], 0.7 - A[1], 0.7]
        return db.davies(H, [(S[k], db.Bath.ohmic(0.05 * (k + 1), 4.0, beta=betas[k], name=f"b{k}")) for k in range(3)])

    om = onsager_matrix(family, [{"b0": "energy"}, {"b1": "energy"}])
    assert om.symmetry_residual < 1e-8 and om.fdt_residual < 1e-9
    assert om.min_eigenvalue > 0


def test_magnetic_field_reciprocity():
    """L_ij(B) = L_ji(−B); with the flux L itself is not symmetric, and only Green–Kubo (not S/2)
    carries the antisymmetric part."""
    plus, minus = onsager_matrix(ring_family(0.7), QUANTA), onsager_matrix(ring_family(-0.7), QUANTA)
    np.testing.assert_allclose(plus.response, minus.response.T, rtol=1e-9)
    assert plus.symmetry_residual > 0.05
    assert plus.green_kubo_residual < 1e-9
    assert plus.fdt_residual < 1e-9                       # the symmetric part still obeys FDT
    np.testing.assert_allclose(plus.noise, minus.noise, rtol=1e-12)


def test_green_kubo_symmetric_part_is_half_the_joint_noise():
    L = ring([0.6, 1.0, 1.4], phi=0.3)                    # away from equilibrium the identity still holds
    gk = green_kubo(L, QUANTA)
    np.testing.assert_allclose(gk + gk.T, joint_covariance(L, QUANTA), rtol=1e-12)


def test_onsager_bad_input_names_the_argument():
    fam = qubit_family("lindblad")
    with pytest.raises(InputError, match="`step`"):
        onsager_matrix(fam, {"hot": "energy"}, step=0.0)
    with pytest.raises(InputError, match="`family`"):
        onsager_matrix(fam(np.zeros(1)), {"hot": "energy"})
    with pytest.raises(InputError, match="`counting`"):
        onsager_matrix(fam, "hot")
    with pytest.raises(InputError, match="unknown channel"):
        onsager_matrix(fam, {"warm": "energy"})
