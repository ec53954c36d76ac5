"""The report's counting-statistics rows (detbal analyze): numbers, skips and the JSON round trip."""

import json
from pathlib import Path

import numpy as np
import pytest

import detbal as db
import detbal.app.fluctuations as fl
from detbal.app.analysis import Analysis, validate_dict
from detbal.thermo.fcs import counting_statistics, gallavotti_cohen, tur_ratio

MODELS = Path(__file__).parents[2] / "examples" / "models"
SM = np.array([[0, 1], [0, 0]], dtype=complex)


@pytest.fixture(scope="module")
def two_bath():
    m = db.load_model(MODELS / "two_bath_qubit.toml")
    return m, db.analyze(m)


def test_two_bath_rows_match_the_library_functions(two_bath):
    m, a = two_bath
    rows = {r.bath: r for r in a.fluctuations}
    assert set(rows) == {"hot", "cold"}
    heat = {c.name: c.heat_current for c in a.channels}
    for name, r in rows.items():
        cs = counting_statistics(m.generator, {name: "energy"})
        assert r.mean == pytest.approx(heat[name], rel=1e-10)
        assert (r.mean, r.noise, r.fano) == pytest.approx((cs.mean, cs.noise, cs.fano), rel=1e-12)
        assert r.tur_ratio == pytest.approx(tur_ratio(m.generator, {name: "energy"}), rel=1e-10)
        assert r.gc_residual < 1e-12
        assert r.affinity == pytest.approx(gallavotti_cohen(m.generator, {name: "energy"}).affinity)
    assert rows["hot"].affinity == pytest.approx(-rows["cold"].affinity)


def test_json_round_trip_keeps_the_rows_and_old_files_still_load(two_bath):
    _, a = two_bath
    d = json.loads(json.dumps(a.to_dict()))
    validate_dict(d)
    assert Analysis.from_dict(d) == a
    old = {k: v for k, v in d.items() if k != "fluctuations"}    # written before the rows existed
    validate_dict(old)
    assert Analysis.from_dict(old).fluctuations == ()
    bad = dict(d, fluctuations=[{"bath": "hot"}])
    with pytest.raises(ValueError, match="fluctuations"):
        validate_dict(bad)


def test_single_bath_rows_say_why_fano_tur_and_gc_are_absent():
    a = db.analyze(db.models.get("thermal_qubit"))
    (r,) = a.fluctuations
    assert r.fano is None and r.tur_ratio is None and r.gc_residual is None
    assert "one bath" in r.note
    assert r.mean == 0.0 and r.noise == 0.0        # exact zeros, not round-off of either sign
    for name in ("oscillator", "heisenberg_chain", "xxz_chain"):     # c₂ came out as −2.8e-17 here
        (r,) = db.analyze(db.models.get(name)).fluctuations
        assert r.mean == 0.0 and r.noise == 0.0


def test_three_baths_have_no_single_affinity():
    a = db.analyze(db.models.get("ssd_maser"))
    assert len(a.fluctuations) == 3
    assert all(r.gc_residual is None and "two thermal baths" in r.note and "3 channels" in r.note
               for r in a.fluctuations)
    # tight coupling: every bath current is its gap times one ring current, so one TUR ratio for all
    ratios = [r.tur_ratio for r in a.fluctuations]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)


def lindblad_two_bath():
    H = np.diag([0.0, 1.0])
    return (db.Lindbladian(H, [SM, SM.T], [1.0, 0.3], name="hot", beta=-np.log(0.3))
            + db.Lindbladian(0 * H, [SM, SM.T], [0.5, 0.05], name="cold", beta=-np.log(0.1)))


def test_jump_path_rows_and_their_size_limits(monkeypatch):
    L = lindblad_two_bath()
    pi = db.entropy_production(L, db.steady_state(L).state).total
    rows = fl.fluctuation_rows(L, ["hot", "cold"], pi, 1.0)
    assert all(r.gc_residual < 1e-12 for r in rows)
    monkeypatch.setattr(fl, "GC_MAX_DIM", 1)
    rows = fl.fluctuation_rows(L, ["hot", "cold"], pi, 1.0)
    assert all(r.gc_residual is None and "skipped at d = 2" in r.note and r.noise > 0 for r in rows)
    monkeypatch.setattr(fl, "FCS_MAX_DIM", 1)
    rows = fl.fluctuation_rows(L, ["hot", "cold"], pi, 1.0)
    assert all(r.mean is None and "skipped at d = 2" in r.note for r in rows)


def test_uncountable_baths_are_reported_not_raised():
    H = np.diag([0.0, 1.0]) + 0.2 * np.array([[0, 1], [1, 0]])
    L = (db.Lindbladian(H, [SM, SM.T], [1.0, 0.3], name="hot", beta=1.2)
         + db.Lindbladian(0 * H, [SM, SM.T], [0.5, 0.05], name="cold", beta=2.3))
    rows = fl.fluctuation_rows(L, ["hot", "cold"], None, 1.0)
    assert all(r.mean is None and "not an eigenoperator" in r.note for r in rows)


def test_pauli_path_size_limits_are_stated(monkeypatch):
    m = db.load_model(MODELS / "two_bath_qubit.toml")
    monkeypatch.setattr(fl, "PAULI_GC_MAX_DIM", 1)
    a = db.analyze(m)
    assert all(r.gc_residual is None and "skipped at d = 2" in r.note and r.noise > 0 for r in a.fluctuations)
    monkeypatch.setattr(fl, "PAULI_FCS_MAX_DIM", 1)
    a = db.analyze(m)
    assert all(r.mean is None and "Bohr-sector form" in r.note for r in a.fluctuations)


def test_local_master_equation_rows_say_the_mean_is_not_the_heat_current():
    # two coupled qubits, local master equation: each bath's jumps carry the local quantum ω_k of
    # its own qubit, so the counted energy differs from J_b = Tr[H 𝓛_b ρ] by the interaction term
    # g·Tr[V 𝓛_b ρ]; the global (Davies) version counts exactly J_b
    a = db.analyze(db.models.get("coupled_qubits", master_equation="local"))
    heat = {c.name: c.heat_current for c in a.channels}
    rows = {r.bath: r for r in a.fluctuations}
    assert abs(rows["hot"].mean - heat["hot"]) > 1e-2 * abs(heat["hot"])
    assert all("local Hamiltonian" in r.note for r in rows.values())
    assert a.entropy_production < 0                  # Levy–Kosloff: the second law fails here
    assert all(r.tur_ratio is None and "Π < 0" in r.note for r in rows.values())
    g = db.analyze(db.models.get("coupled_qubits", master_equation="global"))
    heat = {c.name: c.heat_current for c in g.channels}
    for r in g.fluctuations:
        assert r.mean == pytest.approx(heat[r.bath], rel=1e-10)
        assert "local" not in r.note and r.tur_ratio >= 2
