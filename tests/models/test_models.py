"""The model zoo: every model builds, single-bath models relax to Gibbs, multi-bath models carry
the currents THEORY.md §3, §7, §11, §14 predict."""

import numpy as np
import pytest

import detbal as db
import detbal.models as zoo
from detbal.errors import InputError

SINGLE_BATH = ["thermal_qubit", "oscillator", "merry_go_round_thermal", "xxz_chain", "ising_chain",
               "heisenberg_chain"]


def _ss(L):
    from detbal.dynamics import steady_state

    return steady_state(L)


def _currents(L, rho):
    from detbal.thermo import heat_currents

    return heat_currents(L, rho)


def test_zoo_lists_every_family():
    names = zoo.list()
    assert names == ["thermal_qubit", "oscillator", "merry_go_round", "merry_go_round_thermal", "xxz_chain",
                     "ising_chain", "heisenberg_chain", "ssd_maser", "lps_refrigerator", "coupled_qubits",
                     "otto_qubit", "tfim_sampler"]
    for n in names:
        assert zoo.describe(n)
        assert isinstance(zoo.parameters(n), dict)


@pytest.mark.parametrize("name", zoo.list())
def test_every_zoo_model_is_a_model_with_hermitian_h_and_named_baths(name):
    m = zoo.get(name)
    assert isinstance(m, zoo.Model)
    d = m.info.dim
    assert m.hamiltonian.shape == (d, d) and np.allclose(m.hamiltonian, m.hamiltonian.conj().T)
    assert m.generator.dim == d
    if m.info.spec.sampler is None:
        assert m.baths and len({b.name for b in m.baths}) == len(m.baths)
        assert {c.name for c in m.generator.channels} == {b.name for b in m.baths}
    else:  # an exact Gibbs sampler: no bath, its parts as channels
        assert not m.baths
        assert {c.name for c in m.generator.channels} == {"transition", "loss", "coherent"}
    assert m.info.spec.name == name and m.info.reference_beta > 0


def test_get_accepts_hyphens_and_rejects_unknown_names_and_parameters():
    assert zoo.get("merry-go-round").info.name == "merry_go_round"
    with pytest.raises(InputError, match="unknown model 'nope'"):
        zoo.get("nope")
    with pytest.raises(InputError, match="no parameter 'T'"):
        zoo.get("thermal_qubit", T=2.0)
    with pytest.raises(InputError, match="baths"):
        zoo.xxz_chain(baths="three")


@pytest.mark.parametrize("name", SINGLE_BATH)
def test_single_temperature_models_are_detailed_balanced_and_relax_to_gibbs(name):
    m = zoo.get(name)
    beta = m.baths[0].beta
    assert db.detailed_balance(m.generator, beta=beta).holds
    assert db.detailed_balance(m.generator, beta=beta, inner="gns").holds
    ss = _ss(m.generator)
    assert ss.kernel_dim == 1
    assert np.allclose(ss.state, db.gibbs_state(m.hamiltonian, beta), atol=1e-12)


def test_merry_go_round_ring_current_and_affinity_follow_the_three_state_formula():
    m = zoo.merry_go_round(omega1=1.0, omega2=1.5, T_hot=4.0, T_cold=1.0)
    L = m.generator
    assert not db.detailed_balance(L, beta=1.0).holds
    rho = _ss(L).state
    W = db.pauli_rate_matrix(L)
    J = W.edge_currents(np.real(np.diag(rho)))
    ring = J[2, 0]
    assert ring > 0 and np.allclose([J[1, 2], J[0, 1]], ring, rtol=1e-12)
    k = W.kolmogorov()
    assert np.isclose(k.worst_affinity, (1.0 - 0.25) * 2.5, rtol=1e-10)
    Jb = _currents(L, rho)
    assert np.isclose(Jb["hot"], 2.5 * ring, rtol=1e-10) and np.isclose(Jb["cold"], -Jb["hot"], rtol=1e-10)


def test_merry_go_round_at_equal_temperatures_is_detailed_balanced():
    m = zoo.merry_go_round(T_hot=1.0, T_cold=1.0)
    assert db.detailed_balance(m.generator, beta=1.0).holds


@pytest.mark.parametrize("family", ["xxz_chain", "ising_chain", "heisenberg_chain"])
def test_boundary_driven_chains_carry_heat_from_hot_to_cold(family):
    m = zoo.get(family, n=3, baths="boundary", T_left=2.0, T_right=0.5)
    L = m.generator
    assert not db.detailed_balance(L, beta=2.0).holds
    ss = _ss(L)
    assert ss.kernel_dim == 1
    Jb = _currents(L, ss.state)
    assert Jb["left"] > 0 > Jb["right"]
    assert np.isclose(Jb["left"], -Jb["right"], rtol=1e-10, atol=1e-14)
    equal = zoo.get(family, n=3, baths="boundary", T_left=1.0, T_right=1.0)
    assert db.detailed_balance(equal.generator, beta=1.0).holds


def test_random_field_heisenberg_is_reproducible_from_its_seed():
    a, b = zoo.heisenberg_chain(seed=3), zoo.heisenberg_chain(seed=3)
    assert a.info.spec == b.info.spec
    assert a.info.spec != zoo.heisenberg_chain(seed=4).info.spec


def test_model_spec_build_names_bad_zoo_parameters():
    with pytest.raises(InputError, match="temperature"):
        zoo.thermal_qubit(temperature=-1.0)
