"""The analysis behind the report reads right at the edges (issue 12): Spohn terms of baths next
to bare jumps, no 'affinity inf' from underflow next to 'holds', T = 0 references said aloud."""

import numpy as np
import pytest
import scipy.linalg as sla

import detbal as db
from detbal.analysis import analyze
from detbal.app.render import _cycle
from detbal.io.model_file import loads_model

MIXED = """
[system]
levels = 3
hamiltonian = "n"
[[bath]]
name = "hot"
temperature = 2.0
spectral_density = { kind = "ohmic", alpha = 0.05, cutoff = 10.0 }
coupling = "a + ad"
[[jump]]
name = "pump"
operator = "P20"
rate = 0.02
"""


def test_bath_spohn_term_is_shown_next_to_a_bare_jump():
    m = loads_model(MIXED)
    a = analyze(m)
    row = next(c for c in a.channels if c.name == "hot")
    # independent: Π_b = −Tr[𝓛_b(ρ)(log ρ − log σ_b)] with scipy's logm
    rho = db.steady_state(m.generator).state
    hot = next(c for c in m.generator.channels if c.name == "hot")
    sigma = db.gibbs_state(m.hamiltonian, 0.5)
    expected = -np.trace(hot.apply(rho) @ (sla.logm(rho) - sla.logm(sigma))).real
    assert row.entropy_production == pytest.approx(expected, rel=1e-9, abs=1e-14)
    assert row.entropy_production > 0                                  # Spohn's inequality
    assert a.entropy_production is None                                # the jump has no temperature


def test_bath_spohn_terms_agree_with_entropy_production_without_jumps():
    from detbal.app.analysis import _bath_spohn_terms

    m = db.models.get("merry_go_round")
    rho = db.steady_state(m.generator).state
    currents = {k: float(v) for k, v in db.heat_currents(m.generator, rho).items()}
    ours = _bath_spohn_terms(m.generator, rho, currents)
    ref = dict(db.entropy_production(m.generator, rho).spohn_terms)
    assert set(ours) == set(ref)
    for k in ref:
        assert ours[k] == pytest.approx(ref[k], rel=1e-10)


@pytest.mark.parametrize("temperature", [1e-3, 1e-4])                # β·ΔE = 1000, 10 000
def test_no_infinite_cycle_affinity_next_to_detailed_balance_holds(temperature):
    a = analyze(db.models.get("merry_go_round_thermal", temperature=temperature))
    assert a.verdict("kms", "gibbs").holds
    assert a.cycle_affinity is None and a.cycle is None
    assert any("underflow" in n for n in a.notes)


def test_genuine_one_way_edge_keeps_its_infinite_affinity():
    # a bath at T = 0 only emits: the one-way edges are real, DB w.r.t. Gibbs is not tested
    a = analyze(db.models.get("thermal_qubit", temperature=0.0))
    assert a.verdict("kms", "gibbs").holds is None
    assert a.cycle == (1, 0) and a.cycle_affinity == float("inf")


def test_jump_only_model_without_analysis_temperature_says_its_reference_is_t0():
    text = '[system]\nlevels = 2\nhamiltonian = "n"\n[[jump]]\nname = "down"\noperator = "a"\nrate = 1.0\n'
    a = analyze(loads_model(text))
    assert a.reference_temperature == 0
    assert any("reference Gibbs state is the ground state (T = 0)" in n for n in a.notes)
    with_t = analyze(loads_model(text + "[analysis]\ntemperature = 1.0\n"))
    assert not any("ground state (T = 0)" in n for n in with_t.notes)


PUMPED = """
[system]
name = "pumped qubit"
sites = 1
hamiltonian = "0.5 * Z0"
[[bath]]
name = "bath"
temperature = 1.0
spectral_density = { kind = "ohmic", alpha = 0.01, cutoff = 10.0 }
coupling = "X0"
[[jump]]
name = "up"
operator = "Sp0"
rate = 0.01
[[jump]]
name = "down"
operator = "Sm0"
rate = 0.02
"""


def test_energy_pumped_by_bare_jumps_is_not_called_a_state_without_currents():
    # one bath and two bare jumps on a qubit: no cycle (DB w.r.t. the steady state holds), but the
    # jumps pump energy through the qubit; the conclusion names the flow the channel rows show
    a = analyze(loads_model(PUMPED))
    heat = {c.name: c.heat_current for c in a.channels}
    assert heat["up"] > 1e-3 and heat["down"] < 0 and abs(sum(heat.values())) < 1e-12
    assert a.verdict("kms", "steady state").holds
    assert "without currents" not in a.conclusion
    assert f"energy {heat['up']:.3g} flows from 'up' to 'down'" in a.conclusion


def test_gibbs_sampler_rows_pair_each_residual_with_its_current():
    # the KMS test splits a sampler into "transition" and "loss + coherent" (each KMS-self-adjoint);
    # the heat currents of its three parts are summed into those two rows, not listed beside them
    m = db.models.tfim_sampler(n=3)
    a = analyze(m)
    rows = {c.name: c for c in a.channels}
    assert set(rows) == {"transition", "loss + coherent"}
    assert all(r.kms_residual is not None and r.heat_current is not None for r in rows.values())
    rho = db.steady_state(m.generator).state
    parts = db.heat_currents(m.generator, rho)
    assert rows["loss + coherent"].heat_current == pytest.approx(parts["loss"] + parts["coherent"], rel=1e-12)
    assert rows["transition"].heat_current == pytest.approx(parts["transition"], rel=1e-12)
    # Gibbs is stationary: the parts exchange energy with each other, none is left over
    assert abs(sum(r.heat_current for r in rows.values())) < 1e-10 * abs(parts["transition"])


def test_cycle_row_says_none_for_a_network_without_cycles_and_dash_when_not_computed():
    assert _cycle(analyze(db.models.get("thermal_qubit"))) == "none (no cycle)"        # two levels: a tree
    assert _cycle(analyze(db.models.get("merry_go_round_thermal", temperature=1e-3))) == "—"   # underflow note
    assert " on 2→1→0→2" in _cycle(analyze(db.models.get("merry_go_round")))
