"""Sums of generators mean one thing: the action adds, the system Hamiltonian is never doubled
(rule in detbal.generators.base)."""

import itertools

import numpy as np
import pytest

import detbal as db
from detbal.baths import Bath
from detbal.generators.base import SumGenerator
from detbal.thermo import heat_currents
from systems import random_density_matrix, random_hermitian, random_matrix

D = 3
RNG = np.random.default_rng(11)
H = random_hermitian(RNG, D)
EB = db.eigenbasis(H)
S_HOT, S_COLD = random_hermitian(RNG, D), random_hermitian(RNG, D)
HOT, COLD = Bath.ohmic(0.1, 5.0, beta=0.4, name="hot"), Bath.ohmic(0.05, 3.0, beta=2.0, name="cold")
JUMPS = [random_matrix(RNG, D) for _ in range(3)]


def _lindbladian(beta=None, name="lindblad"):
    return db.Lindbladian(H, JUMPS[:2], [0.3, 0.7], name=name, beta=beta)


def _davies():
    return db.davies(EB, [(S_HOT, HOT)])


def _davies_other_bath():
    return db.davies(EB, [(S_COLD, COLD)])


def _redfield():
    return db.redfield(H, [(S_COLD, COLD)])


def _dense():
    return db.as_generator(db.Lindbladian(H, JUMPS[2:], [0.5]).to_dense(), hamiltonian=H, name="dense")


def _sum():
    return SumGenerator((db.Lindbladian(H, JUMPS[:1], [1.0], name="a"), _davies_other_bath()))


FACTORIES = {"lindblad": _lindbladian, "thermal-lindblad": lambda: _lindbladian(1.0, "thermal"),
             "davies": _davies, "davies-other-bath": _davies_other_bath, "redfield": _redfield,
             "dense": _dense, "sum": _sum}


@pytest.mark.parametrize("left, right", list(itertools.product(FACTORIES, repeat=2)))
def test_sum_acts_as_the_sum_of_the_actions_and_keeps_the_system_hamiltonian(left, right):
    L1, L2 = FACTORIES[left](), FACTORIES[right]()
    total = L1 + L2
    rho = random_density_matrix(np.random.default_rng(5), D)
    X = random_matrix(np.random.default_rng(6), D)
    scale = np.linalg.norm(L1.apply(rho)) + np.linalg.norm(L2.apply(rho))
    assert np.linalg.norm(total.apply(rho) - L1.apply(rho) - L2.apply(rho)) < 1e-13 * scale
    assert np.linalg.norm(total.adjoint(X) - L1.adjoint(X) - L2.adjoint(X)) < 1e-12 * scale * np.linalg.norm(X)
    # every part carries H (up to the eigenbasis round trip): the sum's system Hamiltonian is H, never 2H
    assert np.linalg.norm(np.asarray(total.hamiltonian) - H) < 1e-12 * np.linalg.norm(H)
    assert np.allclose(sum([L1, L2]).apply(rho), total.apply(rho), atol=1e-13 * scale)


def test_python_sum_starts_from_zero():
    parts = [_lindbladian(0.5, "a"), _davies(), _redfield()]
    rho = random_density_matrix(np.random.default_rng(1), D)
    assert np.allclose(sum(parts).apply(rho), sum(p.apply(rho) for p in parts), atol=1e-13)
    assert (0 + parts[0]) is parts[0]
    with pytest.raises(TypeError):
        1 + parts[0]


def test_two_thermal_lindbladians_with_one_h_keep_h_and_count_the_coherent_part_twice():
    hot = db.Lindbladian(H, JUMPS[:1], [1.0], name="hot", beta=0.5)
    cold = db.Lindbladian(H, JUMPS[1:2], [2.0], name="cold", beta=2.0)
    total = hot + cold
    assert np.array_equal(total.hamiltonian, hot.hamiltonian)              # not 2H
    rho = random_density_matrix(np.random.default_rng(2), D)
    coherent = -1j * (H @ rho - rho @ H)
    dissip = total.apply(rho) - 2 * coherent
    assert np.allclose(dissip, sum(c.apply(rho) for c in hot.channels + cold.channels), atol=1e-13)


def test_zero_hamiltonian_lindbladian_merges_into_one_lindbladian():
    L1 = db.Lindbladian(H, JUMPS[:1], [1.0], names=["a"])
    L2 = db.Lindbladian(np.zeros((D, D)), JUMPS[1:2], [0.5], names=["b"])
    total = L1 + L2
    assert isinstance(total, db.Lindbladian) and total.names == ("a", "b")
    assert np.array_equal(total.hamiltonian, L1.hamiltonian)
    # two nonzero Hamiltonians never merge (the merged H would be their sum)
    assert isinstance(L1 + L1, SumGenerator)


def test_parts_with_different_hamiltonians_make_the_system_hamiltonian_ambiguous():
    other = random_hermitian(np.random.default_rng(9), D)
    total = db.Lindbladian(H, JUMPS[:1]) + db.Lindbladian(other, JUMPS[1:2])
    with pytest.raises(db.InputError, match="different system Hamiltonians.*SumGenerator"):
        total.hamiltonian
    with pytest.raises(db.InputError, match="different system Hamiltonians"):
        db.detailed_balance(total, beta=1.0)
    named = SumGenerator(total.terms, hamiltonian=H + other)
    assert np.allclose(named.hamiltonian, H + other)
    rho = random_density_matrix(np.random.default_rng(3), D)
    assert np.allclose(named.apply(rho), total.apply(rho), atol=1e-14)


def test_heat_currents_of_a_two_bath_sum_equal_those_of_the_two_bath_generator():
    rho = random_density_matrix(np.random.default_rng(4), D)
    # Davies: full hot generator + the cold channel == davies(H, [hot, cold]); also the plain sum
    both = db.davies(EB, [(S_HOT, HOT), (S_COLD, COLD)])
    split = _davies() + _davies_other_bath()
    ref = heat_currents(both, rho)
    assert set(ref) == {"hot", "cold"}
    for name, J in heat_currents(split, rho).items():
        assert abs(J - ref[name]) < 1e-14 * max(1.0, abs(ref[name]))
    as_sum = SumGenerator((_davies(), _davies_other_bath()))
    for name, J in heat_currents(as_sum, rho).items():
        assert abs(J - ref[name]) < 1e-14 * max(1.0, abs(ref[name]))
    # Lindblad: one generator whose jumps are named by bath == the sum of one thermal Lindbladian per bath
    one = db.Lindbladian(H, JUMPS, [0.3, 0.7, 0.2], names=["hot0", "hot1", "cold"])  # names are distinct
    two = (db.Lindbladian(H, JUMPS[:2], [0.3, 0.7], name="hot", beta=0.4)
           + db.Lindbladian(H, JUMPS[2:], [0.2], name="cold", beta=2.0))
    per_jump, got = heat_currents(one, rho), heat_currents(two, rho)
    ref = {"hot": per_jump["hot0"] + per_jump["hot1"], "cold": per_jump["cold"]}
    assert set(got) == {"hot", "cold"}
    for name in ref:
        assert abs(got[name] - ref[name]) < 1e-13 * max(1.0, abs(ref[name]))
    # the first law at the steady state of the sum: Σ_b J_b = 0 (the doubled coherent part commutes with H)
    ss = db.steady_state(two).state
    assert abs(sum(heat_currents(two, ss).values())) < 1e-12


def test_gibbs_reference_of_a_sum_uses_the_single_hamiltonian():
    # each Davies part satisfies KMS detailed balance at its own β; at a common β so does the sum,
    # w.r.t. Gibbs(H) (not Gibbs(2H), which the doubled coherent part would suggest)
    beta = 0.7
    hot, cold = Bath.ohmic(0.1, 5.0, beta=beta, name="x"), Bath.ohmic(0.2, 2.0, beta=beta, name="y")
    total = db.davies(EB, [(S_HOT, hot)]) + db.davies(EB, [(S_COLD, cold)])
    assert db.detailed_balance(total, beta=beta).holds
    wrong = db.detailed_balance(total, state=db.gibbs_state(2 * H, beta))
    assert not wrong.holds


def test_coherent_part_of_a_sum_adds_while_the_system_hamiltonian_does_not():
    L1 = db.Lindbladian(H, JUMPS[:1], [1.0], name="a", beta=0.5)
    L2 = db.Lindbladian(H, JUMPS[1:2], [1.0], name="b", beta=0.5)
    total = L1 + L2
    assert np.allclose(total.hamiltonian_part, 2 * H, atol=1e-15) and np.allclose(total.hamiltonian, H)
    merged = _davies() + _davies_other_bath()
    rho = random_density_matrix(np.random.default_rng(8), D)
    K = merged.hamiltonian_part
    # the dissipator is what remains after removing −i[K, ·]: the sum of the two channels
    diss = merged.apply(rho) + 1j * (K @ rho - rho @ K)
    chans = sum(c.apply(rho) - (-1j) * (c.hamiltonian_part @ rho - rho @ c.hamiltonian_part)
                for c in merged.channels)
    assert np.allclose(diss, chans, atol=1e-13)
    # a Davies sum at one β stays KMS-detailed-balanced by every method, with no coherent-part residual
    beta = 0.9
    x, y = Bath.ohmic(0.1, 5.0, beta=beta, name="x"), Bath.ohmic(0.2, 2.0, beta=beta, name="y")
    both = SumGenerator((db.davies(EB, [(S_HOT, x)]), db.davies(EB, [(S_COLD, y)])))
    for method in ("dense", "probe"):
        rep = db.detailed_balance(both, beta=beta, method=method)
        assert rep.holds and rep.hamiltonian_residual < 1e-12
