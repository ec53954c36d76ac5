"""The second-law check: a local master equation that violates Clausius/Spohn is reported
(Levy & Kosloff 2014 numbers), the global (Davies) one never is."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import detbal as db
import detbal.models as zoo
from detbal.app.analysis import Analysis, analyze, validate_dict
from detbal.cli import app
from detbal.errors import InputError

FAST = settings(max_examples=10, deadline=None)


def _lk(me, T_hot, T_cold, omega1=2.0, omega2=1.0):
    return zoo.coupled_qubits(omega1=omega1, omega2=omega2, T_hot=T_hot, T_cold=T_cold, master_equation=me)


def test_levy_kosloff_local_numbers_and_flags():
    # g = 0.1, κ = 0.05, ω_1 = 2, ω_2 = 1: local J_h = −4.02e-4 at β_h = β_c = 1, −1.35e-4 at β_c = 1.5
    law = db.second_law(_lk("local", 1.0, 1.0).generator)
    assert law.currents["hot"] == pytest.approx(-4.02e-4, rel=2e-3)
    assert not law.holds
    assert abs(law.entropy_production) < 1e-15                     # equal temperatures: Π = −β Σ J = 0 ...
    assert min(law.spohn_terms.values()) < 0                       # ... but one bath's Spohn term is negative
    assert any("Clausius' statement" in v for v in law.violations)
    law = db.second_law(_lk("local", 1.0, 1 / 1.5).generator)
    assert law.currents["hot"] == pytest.approx(-1.35e-4, rel=2e-3)   # cold → hot
    assert not law.holds and law.entropy_production < 0
    assert law.entropy_production == pytest.approx((1.5 - 1.0) * law.currents["hot"], rel=1e-9)
    assert any("Π =" in v and "< 0" in v for v in law.violations)


def test_levy_kosloff_global_numbers():
    law = db.second_law(_lk("global", 1.0, 1.0).generator)
    assert abs(law.currents["hot"]) < 1e-15 and law.holds            # no current at equal temperatures
    law = db.second_law(_lk("global", 1.0, 1 / 1.5).generator)
    assert law.currents["hot"] > 0 and law.holds and law.entropy_production > 0
    assert all(v >= 0 for v in law.spohn_terms.values())


def test_equal_sites_equal_temperatures_no_current_either_way():
    for me in ("local", "global"):
        law = db.second_law(_lk(me, 1.0, 1.0, omega1=1.0, omega2=1.0).generator)
        assert abs(law.currents["hot"]) < 1e-15 and law.holds


@FAST
@given(T_cold=st.floats(0.2, 3.0), ratio=st.floats(1.05, 1.9))
def test_local_master_equation_against_the_gradient_is_flagged(T_cold, ratio):
    # T_h = ratio·T_c > T_c, and β_h ω_1 > β_c ω_2 ⇔ ratio < ω_1/ω_2 = 2: heat flows cold → hot
    T_hot = ratio * T_cold
    assume(2.0 / T_hot - 1.0 / T_cold > 0.02)
    law = db.second_law(_lk("local", T_hot, T_cold).generator)
    assert law.currents["hot"] < 0 and law.entropy_production < 0
    assert not law.holds and law.violations


@FAST
@given(T_hot=st.floats(0.05, 10.0), T_cold=st.floats(0.05, 10.0), g=st.floats(0.01, 0.3))
def test_global_master_equation_is_never_flagged(T_hot, T_cold, g):
    m = zoo.coupled_qubits(T_hot=T_hot, T_cold=T_cold, g=g, master_equation="global")
    law = db.second_law(m.generator)
    assert law.holds, law.violations
    assert law.entropy_production >= -law.tolerance


def test_davies_zoo_machines_obey_the_second_law():
    for m in (zoo.merry_go_round(), zoo.ssd_maser(), zoo.xxz_chain(n=3, baths="boundary")):
        assert db.second_law(m.generator).holds


def test_second_law_bad_input():
    with pytest.raises(InputError, match="temperature"):
        db.second_law(zoo.get("merry_go_round", T_cold=0.0).generator)   # β J of a T = 0 bath undefined
    L = db.Lindbladian(np.diag([0.0, 1.0]), [np.array([[0, 1], [0, 0]])], [1.0])
    with pytest.raises(InputError, match="temperature"):
        db.second_law(L)
    with pytest.raises(InputError, match="rtol"):
        db.second_law(zoo.merry_go_round().generator, rtol=-1.0)
    with pytest.raises(TypeError, match="holds"):
        bool(db.second_law(zoo.merry_go_round().generator))


def test_analyze_reports_the_violation_and_round_trips():
    a = analyze(_lk("local", 1.0, 1 / 1.5))
    assert a.second_law is not None and not a.second_law["holds"]
    assert "SECOND LAW VIOLATED" in a.conclusion
    assert any(n.startswith("second law:") for n in a.notes)
    doc = json.loads(json.dumps(a.to_dict()))
    validate_dict(doc)
    assert Analysis.from_dict(doc) == a
    g = analyze(_lk("global", 1.0, 1 / 1.5))
    assert g.second_law["holds"] and "SECOND LAW" not in g.conclusion


def test_cli_shows_the_violation_of_the_example_file():
    path = Path(__file__).parents[2] / "examples" / "models" / "local_master_equation.toml"
    r = CliRunner().invoke(app, ["analyze", str(path)])
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    assert "VIOLATED" in out and "SECOND LAW VIOLATED" in out and "Clausius" in out


def test_hand_built_local_lindbladians_agree_with_the_zoo_and_are_flagged():
    # the same Levy–Kosloff model written as two thermal Lindbladians (σ∓ jumps, κ(n_B + 1), κ n_B)
    # in the bosonic convention H = ω_1 a†a + ω_2 b†b + g(a†b + b†a): same currents, same verdict
    sm = np.array([[0, 1], [0, 0]], complex)           # |0⟩⟨1| lowers |1⟩ (excited) to |0⟩
    a, b = np.kron(sm, np.eye(2)), np.kron(np.eye(2), sm)
    n = lambda w, T: 1 / math.expm1(w / T)
    H = 2.0 * a.conj().T @ a + 1.0 * b.conj().T @ b + 0.1 * (a.conj().T @ b + b.conj().T @ a)
    L = db.SumGenerator((
        db.Lindbladian(H, [a, a.conj().T], [0.05 * (n(2, 1) + 1), 0.05 * n(2, 1)], name="hot", beta=1.0),
        db.Lindbladian(0 * H, [b, b.conj().T], [0.05 * (n(1, 2 / 3) + 1), 0.05 * n(1, 2 / 3)], name="cold",
                       beta=1.5)))
    law = db.second_law(L)
    zoo_law = db.second_law(_lk("local", 1.0, 2 / 3).generator)
    assert not law.holds
    assert law.currents["hot"] == pytest.approx(zoo_law.currents["hot"], rel=1e-10)
    assert law.entropy_production == pytest.approx(zoo_law.entropy_production, rel=1e-10)


@FAST
@given(seed=st.integers(0, 2**31 - 1), T_hot=st.floats(0.1, 10.0), T_cold=st.floats(0.1, 10.0))
def test_spohn_terms_of_davies_baths_are_nonnegative_for_any_state(seed, T_hot, T_cold):
    # Spohn: Π_b ≥ 0 for every state when 𝓛_b(σ_b) = 0 — the check holds away from steady states too
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((4, 4)) + 1j * rng.standard_normal((4, 4))
    rho = X @ X.conj().T + 0.05 * np.eye(4)
    rho /= np.trace(rho).real
    law = db.second_law(zoo.coupled_qubits(T_hot=T_hot, T_cold=T_cold, master_equation="global").generator, rho)
    assert law.holds, law.violations
    assert min(law.spohn_terms.values()) >= 0
