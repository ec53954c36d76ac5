"""Gibbs states and equilibrium thermodynamics against closed forms (THEORY.md §2)."""

import math

import numpy as np
import pytest

import detbal as db
from systems import random_density_matrix, random_hermitian


def qubit_closed_form(beta, w):
    energy = w / (math.exp(beta * w) + 1)
    cap = (beta * w) ** 2 * math.exp(beta * w) / (math.exp(beta * w) + 1) ** 2
    log_z = math.log(1 + math.exp(-beta * w))
    return energy, cap, log_z


def test_qubit_thermodynamics_matches_closed_form():
    th = db.thermodynamics(np.diag([0.0, 1.0]), 0.7)
    energy, cap, log_z = qubit_closed_form(0.7, 1.0)
    assert th.energy == pytest.approx(energy, abs=1e-14)
    assert th.heat_capacity == pytest.approx(cap, abs=1e-14)
    assert th.log_Z == pytest.approx(log_z, abs=1e-14)
    assert round(th.energy, 7) == 0.3318122 and round(th.heat_capacity, 7) == 0.1086393
    assert th.free_energy == pytest.approx(-log_z / 0.7, abs=1e-14)
    assert th.entropy == pytest.approx(log_z + 0.7 * energy, abs=1e-14)


@pytest.mark.parametrize("beta", [0.1, 1.0, 3.0])
def test_truncated_oscillator_matches_geometric_sums(beta):
    w, n = 1.3, 12
    E = w * (np.arange(n) + 0.5)
    th = db.thermodynamics(np.diag(E), beta)
    q = np.exp(-beta * w)
    z = math.exp(-beta * w / 2) * (1 - q**n) / (1 - q)
    p = np.exp(-beta * E) / z
    assert th.log_Z == pytest.approx(math.log(z), abs=1e-12)
    assert th.energy == pytest.approx(float(p @ E), abs=1e-12)
    assert th.heat_capacity == pytest.approx(beta**2 * float(p @ E**2 - (p @ E) ** 2), abs=1e-10)
    assert np.allclose(np.diag(db.gibbs_state(np.diag(E), beta)).real, p, atol=1e-14)


def test_energy_is_minus_derivative_of_log_z(rng):
    # central finite difference, step h = 1e-5: truncation O(h²) ~ 1e-10, round-off ~ eps/h ~ 1e-11
    H = random_hermitian(rng, 6)
    beta, h = 0.8, 1e-5
    dlogz = (db.thermodynamics(H, beta + h).log_Z - db.thermodynamics(H, beta - h).log_Z) / (2 * h)
    assert db.thermodynamics(H, beta).energy == pytest.approx(-dlogz, abs=1e-8)


def test_low_temperature_is_finite_and_exact():
    H = np.diag([0.0, 1.0])
    sigma = db.gibbs_state(H, 1e4)
    assert np.array_equal(sigma, np.diag([1.0, 0.0]).astype(complex))
    th = db.thermodynamics(np.diag([0.0, 1.0, 1.0, 2.0]) - 3.0 * np.eye(4), 1000.0)
    assert all(math.isfinite(v) for v in (th.log_Z, th.energy, th.free_energy, th.entropy, th.heat_capacity))
    assert th.energy == pytest.approx(-3.0, abs=1e-12) and th.free_energy == pytest.approx(-3.0, abs=1e-12)


def test_zero_temperature_shares_ground_degeneracy():
    H = np.diag([1.0, 1.0, 2.0])
    sigma = db.gibbs_state(H, float("inf"))
    assert np.allclose(sigma, np.diag([0.5, 0.5, 0.0]), atol=1e-15)
    th = db.thermodynamics(H, float("inf"))
    assert th.entropy == pytest.approx(math.log(2)) and th.energy == 1.0 and th.free_energy == 1.0
    assert th.heat_capacity == 0.0 and th.log_Z == -math.inf
    assert db.thermodynamics(H - np.eye(3), float("inf")).log_Z == pytest.approx(math.log(2))


def test_infinite_temperature_is_maximally_mixed():
    th = db.thermodynamics(np.diag([0.0, 1.0, 5.0]), 0.0)
    assert th.entropy == pytest.approx(math.log(3)) and th.log_Z == pytest.approx(math.log(3))
    assert th.free_energy == -math.inf
    assert np.allclose(db.gibbs_state(np.diag([0.0, 1.0, 5.0]), 0.0), np.eye(3) / 3)


def test_gibbs_state_of_non_diagonal_hamiltonian(rng):
    from scipy.linalg import expm

    H = random_hermitian(rng, 5)
    ref = expm(-0.9 * H)
    assert np.allclose(db.gibbs_state(H, 0.9), ref / np.trace(ref), atol=1e-13)


def test_relative_entropy_identities(rng):
    rho = random_density_matrix(rng, 4)
    sigma = random_density_matrix(rng, 4)
    assert db.relative_entropy(rho, sigma) > 0
    assert db.relative_entropy(rho, rho) == pytest.approx(0.0, abs=1e-12)
    p = 0.3
    assert db.relative_entropy(np.diag([1.0, 0.0]), np.diag([p, 1 - p])) == pytest.approx(-math.log(p), abs=1e-14)
    assert db.relative_entropy(np.diag([0.0, 1.0]), np.diag([1.0, 0.0])) == math.inf


def test_free_energy_identity(rng):
    H = random_hermitian(rng, 5)
    beta = 0.6
    rho = random_density_matrix(rng, 5)
    th = db.thermodynamics(H, beta)
    f_rho = float(np.trace(rho @ H).real) - db.von_neumann_entropy(rho) / beta
    lhs = db.relative_entropy(rho, db.gibbs_state(H, beta))
    assert lhs == pytest.approx(beta * (f_rho - th.free_energy), abs=1e-12)


def test_von_neumann_entropy_of_pure_and_mixed():
    assert db.von_neumann_entropy(np.diag([1.0, 0.0])) == 0.0
    assert db.von_neumann_entropy(np.eye(4) / 4) == pytest.approx(math.log(4), abs=1e-14)


# -- relative precision at any β·ΔE against an arbitrary-precision reference ----------------------
# (stdlib ``decimal`` at 80 digits: exp/ln of Decimal are correctly rounded; mpmath is not a
# dependency of the test environment)
def _exact_thermodynamics(energies, beta):
    from decimal import Decimal, localcontext

    with localcontext() as ctx:
        ctx.prec = 80
        E = [Decimal(repr(float(e))) for e in energies]
        b = Decimal(repr(float(beta)))
        w = [(-b * e).exp() for e in E]
        Z = sum(w)
        p = [x / Z for x in w]
        U = sum(pi * e for pi, e in zip(p, E))
        S = -sum(pi * pi.ln() for pi in p if pi > 0)
        var = sum(pi * (e - U) ** 2 for pi, e in zip(p, E))
        return {"log_Z": Z.ln(), "energy": U, "free_energy": -Z.ln() / b, "entropy": S,
                "heat_capacity": b * b * var}


_SPECTRA = {
    "qubit": [0.0, 1.0],
    "shifted qubit": [2.5, 3.5],
    "degenerate ground and excited": [0.0, 0.0, 1.0, 1.0, 1.0, 2.5],
    "ladder": [0.0, 0.3, 0.7, 1.9, 4.0],
}


@pytest.mark.parametrize("name", sorted(_SPECTRA))
@pytest.mark.parametrize("beta_gap", [1e-3, 0.7, 30.0, 100.0, 700.0, 1e3, 1e4])
def test_log_z_free_energy_entropy_heat_capacity_have_relative_precision(name, beta_gap):
    energies = _SPECTRA[name]
    gap = min(e - energies[0] for e in energies if e > energies[0])
    beta = beta_gap / gap
    th = db.thermodynamics(np.diag(energies), beta)
    ref = _exact_thermodynamics(energies, beta)
    for key, exact in ref.items():
        value, x = getattr(th, key), float(exact)
        # below the normal range of doubles only the absolute size can be checked
        assert abs(value - x) <= 1e-12 * abs(x) + 1e-300, (key, value, exact)


def test_log_z_of_a_qubit_at_beta_100_is_e_to_minus_100_not_zero():
    th = db.thermodynamics(np.diag([0.0, 1.0]), 100.0)
    assert th.log_Z == pytest.approx(math.exp(-100.0), rel=1e-14)
    assert th.entropy == pytest.approx(101 * math.exp(-100.0), rel=1e-12)
