"""Heat machines (SSD maser, LPS refrigerator, qubit Otto cycle): exact efficiencies, the Carnot
bounds, the published numbers and edge cases."""

import itertools
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import detbal as db
import detbal.models as zoo
from detbal.app.analysis import Analysis, analyze, validate_dict
from detbal.dynamics import steady_state
from detbal.errors import InputError
from detbal.io.model_file import ModelFileError, loads_model
from detbal.models.spec import SpecError
from detbal.thermo import heat_currents

FAST = settings(max_examples=12, deadline=None)


def _currents(m):
    return heat_currents(m.generator, steady_state(m.generator).state)


def _rate_scale(m):
    """max over baths of γ(ω) at the model's largest Bohr frequency (sets the size of round-off)."""
    w = float(np.ptp(np.linalg.eigvalsh(m.hamiltonian)))
    return max(float(b.rate(w)) for b in m.baths) * max(w, 1.0)


# -- SSD maser -------------------------------------------------------------------------------------
def test_ssd_maser_theory_numbers():
    # ω_h = 3, ω_c = 1, β_h = 0.3, β_c = 2, β_load = 1: ratios 2/3 and 1/3 (verified to 2e-15)
    m = zoo.ssd_maser(omega_h=3.0, omega_c=1.0, T_hot=1 / 0.3, T_cold=0.5, T_load=1.0)
    J = _currents(m)
    assert -J["load"] / J["hot"] == pytest.approx(2 / 3, rel=1e-13)
    assert -J["cold"] / J["hot"] == pytest.approx(1 / 3, rel=1e-13)
    assert abs(sum(J.values())) < 1e-15


@FAST
@given(omega_h=st.floats(1.5, 6.0), frac=st.floats(0.05, 0.95), T_hot=st.floats(0.2, 20.0),
       T_cold=st.floats(0.05, 5.0), T_load=st.floats(0.05, 200.0), alpha=st.floats(1e-4, 0.3),
       alpha_load=st.floats(1e-5, 0.3))
def test_ssd_maser_tight_coupling_for_any_rates(omega_h, frac, T_hot, T_cold, T_load, alpha, alpha_load):
    # one Pauli 3-cycle: every current is its gap × the ring current, to round-off
    omega_c = frac * omega_h
    m = zoo.ssd_maser(omega_h=omega_h, omega_c=omega_c, T_hot=T_hot, T_cold=T_cold, T_load=T_load, alpha=alpha,
                      alpha_load=alpha_load)
    J = _currents(m)
    atol = 1e-12 * _rate_scale(m)
    assert abs(J["load"] + (omega_h - omega_c) / omega_h * J["hot"]) <= atol
    assert abs(J["cold"] + omega_c / omega_h * J["hot"]) <= atol


def test_ssd_maser_performance_efficiency_and_carnot():
    p = db.machine_performance(zoo.ssd_maser(omega_h=3.0, omega_c=1.0, T_hot=1 / 0.3, T_cold=0.5, T_load=100.0))
    assert p.kind == "engine" and p.regime == "engine"
    assert p.efficiency == pytest.approx(2 / 3, rel=1e-12)
    # reversible bound with the load at β_w = 0.01: (β_c − β_h)/(β_c − β_w)
    assert p.carnot == pytest.approx((2 - 0.3) / (2 - 0.01), rel=1e-14)
    assert p.power == pytest.approx(-p.heat["load"]) and p.power > 0
    assert p.second_law and p.entropy_production > 0
    assert p.entropy_production == pytest.approx(-sum(p.heat[b] / p.temperatures[b] for b in p.heat), rel=1e-9)


def test_ssd_maser_inverts_populations_only_below_carnot():
    # weak load: the hot and cold baths set p_2/p_1 = e^{β_c ω_c − β_h ω_h}; inversion ⇔ η < 1 − T_c/T_h
    for T_hot, inverted in ((1 / 0.3, True), (1.0, False)):
        m = zoo.ssd_maser(T_hot=T_hot, alpha_load=1e-6)
        p = np.real(np.diag(steady_state(m.generator).state))
        assert (p[2] > p[1]) == inverted
        assert (1 - 1 / 3 < 1 - 0.5 / T_hot) == inverted


def test_carnot_bound_formulas():
    assert db.carnot_bound("engine", 3.0, 1.0) == pytest.approx(2 / 3, rel=1e-15)
    assert db.carnot_bound("refrigerator", 2.0, 1.0) == pytest.approx(1.0, rel=1e-15)
    # absorption refrigerator: (1 − T_h/T_w)·T_c/(T_h − T_c)
    assert db.carnot_bound("refrigerator", 1.5, 1.0, 10.0) == pytest.approx(1.7, rel=1e-14)
    assert db.carnot_bound("refrigerator", 1.5, 1.0, 1.6) == pytest.approx(0.125, rel=1e-13)
    assert db.carnot_bound("engine", 3.0, 0.0) == 1.0 and db.carnot_bound("refrigerator", 3.0, 0.0) == 0.0
    assert db.carnot_bound("engine", 1.0, 3.0) == 0.0           # "cold" hotter than "hot": no engine
    assert db.carnot_bound("refrigerator", 1.0, 1.0) == math.inf  # no gradient to pump against
    assert db.carnot_bound("refrigerator", 1.5, 1.0, 1.2) == 0.0  # work bath colder than the sink
    assert db.carnot_bound("engine", 3.0, 1.0, 0.5) == math.inf   # the "work" channel is the coldest sink
    with pytest.raises(InputError, match="kind"):
        db.carnot_bound("heat pump", 2.0, 1.0)
    with pytest.raises(InputError, match="T_cold"):
        db.carnot_bound("engine", 2.0, -1.0)


# -- LPS refrigerator ------------------------------------------------------------------------------
def test_lps_local_theory_numbers_cooling():
    # κ = 0.02, g = 0.01, ω_c = 1, ω_w = 3, T_c = 1, T_h = 1.5, T_w = 10: J_c = 1.473e-4, J_c/J_w = 1/3
    p = db.machine_performance(zoo.lps_refrigerator(T_w=10.0))
    assert p.regime == "refrigerator"
    assert p.heat["cold"] == pytest.approx(1.473e-4, rel=5e-4)      # THEORY quotes 4 digits
    assert abs(p.heat["cold"] / p.heat["work"] - 1 / 3) < 5e-13
    assert p.efficiency == pytest.approx(1 / 3, abs=5e-13)
    assert p.carnot == pytest.approx(1.7, rel=1e-14)
    assert p.second_law and p.entropy_production > 0
    assert abs(sum(p.heat.values())) < 1e-15


def test_lps_local_theory_numbers_no_cooling_past_carnot():
    # T_w = 1.6: COP_Carnot = 0.125 < ω_c/ω_w = 1/3, J_c = −2.67e-5
    p = db.machine_performance(zoo.lps_refrigerator(T_w=1.6))
    assert p.heat["cold"] == pytest.approx(-2.67e-5, rel=2e-3)
    assert p.efficiency is None and p.regime.startswith("not a refrigerator: no cooling")
    assert p.carnot == pytest.approx(0.125, rel=1e-13)


@FAST
@given(T_w=st.floats(1.52, 50.0), kappa=st.floats(0.005, 0.05), g=st.floats(0.002, 0.02))
def test_lps_local_cools_exactly_below_the_carnot_point(T_w, kappa, g):
    cop_c = db.carnot_bound("refrigerator", 1.5, 1.0, T_w)
    assume(abs(cop_c - 1 / 3) > 0.02)                    # away from the reversible point J_c = 0
    J = _currents(zoo.lps_refrigerator(T_w=T_w, kappa=kappa, g=g))
    assert (J["cold"] > 0) == (1 / 3 < cop_c)
    assert abs(J["cold"] - J["work"] / 3) <= 1e-12 * kappa     # tight coupling (COP = ω_c/ω_w) to round-off


def test_lps_global_cools_with_cop_near_ideal_and_obeys_the_second_law():
    p = db.machine_performance(zoo.lps_refrigerator(master_equation="global", g=0.1, kappa=0.002))
    assert p.regime == "refrigerator" and p.second_law
    # the resonant doublet is split by ±g: COP = ω_c/ω_w up to O(g/ω)
    assert abs(p.efficiency - 1 / 3) < 0.1 / 3
    p = db.machine_performance(zoo.lps_refrigerator(master_equation="global", g=0.1, kappa=0.002, T_w=1.6))
    assert p.heat["cold"] < 0 and p.efficiency is None and p.second_law


# -- Otto cycle ------------------------------------------------------------------------------------
def _p_excited(omega, T):
    return 1 / (1 + math.exp(omega / T))


def test_otto_quasi_static_theory_numbers():
    p = db.otto_quasi_static(2.0, 1.0, 3.0, 1.0)
    assert p.regime == "engine" and p.efficiency == pytest.approx(0.5, rel=1e-15)
    assert p.carnot == pytest.approx(2 / 3, rel=1e-15)
    dp = _p_excited(2, 3) - _p_excited(1, 1)
    assert p.heat["hot"] == pytest.approx(2 * dp, rel=1e-14) and p.heat["cold"] == pytest.approx(-dp, rel=1e-14)
    assert p.work == pytest.approx(dp, rel=1e-13) and p.power == 0.0 and math.isinf(p.cycle_time)
    q = db.otto_quasi_static(3.0, 0.5, 2.0, 1.0)
    assert q.regime == "refrigerator" and q.efficiency == pytest.approx(0.2, rel=1e-14)
    assert q.carnot == pytest.approx(1.0, rel=1e-15)
    for r, (T_h, T_c) in ((p, (3.0, 1.0)), (q, (2.0, 1.0))):
        assert r.second_law and r.entropy_production > 0
        assert r.entropy_production == pytest.approx(-r.heat["hot"] / T_h - r.heat["cold"] / T_c, rel=1e-14)


@FAST
@given(omega_h=st.floats(0.2, 5.0), omega_c=st.floats(0.2, 5.0), T_h=st.floats(0.1, 10.0), T_c=st.floats(0.1, 10.0))
def test_otto_quasi_static_efficiencies_are_exact_and_below_carnot(omega_h, omega_c, T_h, T_c):
    p = db.otto_quasi_static(omega_h, omega_c, T_h, T_c)
    assert p.heat["cold"] == pytest.approx(-omega_c / omega_h * p.heat["hot"], rel=1e-12, abs=1e-300)
    if p.regime == "engine":
        assert p.efficiency == pytest.approx(1 - omega_c / omega_h, rel=1e-12)
        assert p.efficiency <= p.carnot * (1 + 1e-12)
    elif p.regime == "refrigerator":
        assert p.efficiency == pytest.approx(omega_c / (omega_h - omega_c), rel=1e-12)
        assert p.efficiency <= p.carnot * (1 + 1e-12)
    assert p.entropy_production >= -1e-15


def test_otto_model_quasi_static_equals_closed_form():
    a = db.machine_performance(zoo.otto_qubit(omega_h=2.0, omega_c=1.0, T_hot=3.0, T_cold=1.0))
    b = db.otto_quasi_static(2.0, 1.0, 3.0, 1.0)
    assert a.heat["hot"] == pytest.approx(b.heat["hot"], rel=1e-13)
    assert a.heat["cold"] == pytest.approx(b.heat["cold"], rel=1e-13)
    assert a.efficiency == pytest.approx(0.5, rel=1e-13)


def test_otto_finite_time_limit_cycle_closed_form_and_approach_to_quasi_static():
    # qubit: p_B − p_A = (p_h − p_c)(1 − x_h)(1 − x_c)/(1 − x_h x_c), x_b = e^{−Γ_b τ}, Γ_b = γ_b(ω_b) + γ_b(−ω_b)
    qs = db.otto_quasi_static(2.0, 1.0, 3.0, 1.0)
    works = []
    for tau in (0.5, 2.0, 8.0, 40.0):
        m = zoo.otto_qubit(omega_h=2.0, omega_c=1.0, T_hot=3.0, T_cold=1.0, stroke_time=tau)
        p = db.machine_performance(m)
        hot, cold = m.baths
        x_h = math.exp(-(hot.rate(2.0) + hot.rate(-2.0)) * tau)
        x_c = math.exp(-(cold.rate(1.0) + cold.rate(-1.0)) * tau)
        dp = (_p_excited(2, 3) - _p_excited(1, 1)) * (1 - x_h) * (1 - x_c) / (1 - x_h * x_c)
        assert p.heat["hot"] == pytest.approx(2 * dp, rel=1e-9)
        assert p.efficiency == pytest.approx(0.5, rel=1e-9)          # exact for every stroke time
        assert p.power == pytest.approx(p.work / (2 * tau), rel=1e-14) and p.cycle_time == 2 * tau
        works.append(p.work)
    assert all(a < b for a, b in itertools.pairwise(works))
    assert works[-1] == pytest.approx(qs.work, rel=1e-9)


def test_otto_cycle_arguments():
    m = zoo.otto_qubit()
    fast = db.otto_cycle(m, 1.0, 1.0)
    assert fast.cycle_time == 2.0 and fast.power > 0
    with pytest.raises(InputError, match="stroke_time_hot"):
        db.otto_cycle(m, 1.0, None)
    with pytest.raises(InputError, match="stroke_time_cold"):
        db.otto_cycle(m, 1.0, -2.0)
    with pytest.raises(InputError, match="otto"):
        db.otto_cycle(zoo.ssd_maser())
    with pytest.raises(db.ConvergenceError, match="limit cycle"):
        db.otto_cycle(m, 1e-3, 1e-3, max_cycles=3)


# -- edge cases ------------------------------------------------------------------------------------
def test_zero_temperature_cold_bath():
    p = db.machine_performance(zoo.ssd_maser(T_cold=0.0))
    assert p.efficiency == pytest.approx(2 / 3, rel=1e-12) and p.carnot == 1.0
    assert p.entropy_production is None and any("T = 0" in n for n in p.notes)
    q = db.machine_performance(zoo.lps_refrigerator(T_c=0.0))
    assert q.heat["cold"] <= 0 and q.efficiency is None and q.carnot == 0.0
    o = db.otto_quasi_static(2.0, 1.0, 3.0, 0.0)
    assert o.efficiency == 0.5 and o.carnot == 1.0 and o.entropy_production is None
    o = db.machine_performance(zoo.otto_qubit(T_cold=0.0, stroke_time=3.0))
    assert o.efficiency == pytest.approx(0.5, rel=1e-9)


def test_huge_beta_delta_e_no_overflow():
    p = db.machine_performance(zoo.ssd_maser(T_cold=1e-3))           # β_c ω_c = 1000
    assert p.efficiency == pytest.approx(2 / 3, rel=1e-12) and np.isfinite(p.entropy_production)
    o = db.otto_quasi_static(2.0, 1.0, 3.0, 1e-4)                    # β_c ω_c = 1e4
    assert o.efficiency == 0.5 and np.isfinite(o.work)
    o = db.otto_quasi_static(2000.0, 1000.0, 1e-1, 1e-1)             # β ω = 2e4 both: nothing exchanged
    assert o.work == 0.0 and o.efficiency is None and o.regime.startswith("idle")
    o = db.machine_performance(zoo.otto_qubit(T_hot=0.01, T_cold=0.005, stroke_time=3.0))   # β ω = 200
    assert o.regime.startswith("idle") and o.efficiency is None and abs(o.work) < 1e-15


@pytest.mark.parametrize("call, word", [
    (lambda: zoo.ssd_maser(omega_h=3.0, omega_c=4.0), "omega_c"),
    (lambda: zoo.ssd_maser(omega_h=-1.0), "omega_h"),
    (lambda: zoo.ssd_maser(T_load=-1.0), "T_load"),
    (lambda: zoo.lps_refrigerator(master_equation="semi-local"), "master_equation"),
    (lambda: zoo.lps_refrigerator(kappa=0.0), "kappa"),
    (lambda: zoo.lps_refrigerator(g=float("nan")), "g"),
    (lambda: zoo.coupled_qubits(omega2=0.0), "omega2"),
    (lambda: zoo.otto_qubit(stroke_time=0.0), "stroke_time"),
    (lambda: db.otto_quasi_static(0.0, 1.0, 1.0, 1.0), "omega_h"),
    (lambda: db.otto_quasi_static(1.0, 1.0, float("inf"), 1.0), "T_hot"),
    (lambda: db.machine_performance(zoo.thermal_qubit()), "[machine]"),
    (lambda: zoo.get("lps_refrigerator", master_equation=3), "master_equation"),
])
def test_bad_parameters_raise_input_error_naming_them(call, word):
    with pytest.raises(InputError, match=word.replace("[", r"\[").replace("]", r"\]")):
        call()


def test_machine_table_is_validated():
    spec = zoo.ssd_maser().info.spec
    for machine, key in (((("kind", "pump"),), "kind"),
                         ((("kind", "engine"), ("hot", "hot"), ("cold", "cold"), ("work", "nowhere")), "work"),
                         ((("kind", "engine"), ("hot", "hot"), ("cold", "hot"), ("work", "load")), "cold"),
                         ((("kind", "otto"), ("hot", "hot"), ("cold", "cold")), "machine"),
                         ((("kind", "otto"), ("hot", "hot"), ("cold", "cold"), ("compression", -1.0)), "compression"),
                         ((("kind", "otto"), ("hot", "hot"), ("cold", "cold"), ("compression", 0.5),
                           ("stroke_time_cold", 1.0)), "stroke_time_cold")):
        with pytest.raises(SpecError) as err:
            zoo.build(replace(spec, machine=machine))
        assert key in err.value.key


# -- report ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, params", [("ssd_maser", {}), ("lps_refrigerator", {}),
                                          ("otto_qubit", {}), ("otto_qubit", {"stroke_time": 2.0})])
def test_analysis_has_machine_rows_and_round_trips_json(name, params):
    a = analyze(zoo.get(name, **params))
    assert a.machine is not None and a.machine["efficiency"] is not None and a.machine["carnot"] is not None
    doc = json.loads(json.dumps(a.to_dict()))
    validate_dict(doc)
    assert Analysis.from_dict(doc) == a


# -- independent references -------------------------------------------------------------------------
def _n_bose(w, T):
    return 1.0 / math.expm1(w / T)


def _local_jumps(kappa, gaps, temps, n_sites):
    """σ⁻_k with κ(n_B + 1), σ⁺_k with κ n_B at each site's own gap (Z = diag(1, −1): σ⁻ = |1⟩⟨0|)."""
    sm, eye = np.array([[0, 0], [1, 0]], complex), np.eye(2)
    ops, rates = [], []
    for k, (w, T) in enumerate(zip(gaps, temps)):
        A = np.array([[1.0]], complex)
        for j in range(n_sites):
            A = np.kron(A, sm if j == k else eye)
        ops += [A, A.conj().T]
        rates += [kappa * (_n_bose(w, T) + 1), kappa * _n_bose(w, T)]
    return ops, rates


def test_local_bath_is_the_site_dissipator_with_kappa_rates():
    # the `local_hamiltonian` bath equals the textbook local dissipator, to round-off
    m = zoo.lps_refrigerator(T_w=10.0)
    ops, rates = _local_jumps(0.02, (1.0, 3.0, 4.0), (1.0, 10.0, 1.5), 3)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((8, 8)) + 1j * rng.standard_normal((8, 8))
    rho = X @ X.conj().T
    rho /= np.trace(rho)
    zero = np.zeros((8, 8))
    for k, (name, gen, _) in enumerate(db.thermo.bath_channels(m.generator)):
        ref = db.Lindbladian(zero, ops[2 * k:2 * k + 2], rates[2 * k:2 * k + 2])
        assert name == ("cold", "work", "room")[k]
        assert np.abs(gen.apply(rho) - ref.apply(rho)).max() < 1e-15


def test_lps_local_currents_agree_with_qutip():
    qutip = pytest.importorskip("qutip")
    m = zoo.lps_refrigerator(T_w=10.0)
    ops, rates = _local_jumps(0.02, (1.0, 3.0, 4.0), (1.0, 10.0, 1.5), 3)
    H = qutip.Qobj(m.hamiltonian)
    c_ops = [np.sqrt(r) * qutip.Qobj(A) for A, r in zip(ops, rates)]
    rho = qutip.steadystate(H, c_ops).full()
    J_qutip = {name: float(np.real(sum(np.trace(m.hamiltonian @ qutip.lindblad_dissipator(c).full()
                                                 .dot(rho.reshape(-1, order="F")).reshape(8, 8, order="F"))
                                        for c in c_ops[2 * k:2 * k + 2])))
               for k, name in enumerate(("cold", "work", "room"))}
    p = db.machine_performance(m)
    for name, J in J_qutip.items():
        assert p.heat[name] == pytest.approx(J, rel=1e-8)


def test_model_file_machine_and_local_errors_name_line_and_key(tmp_path):
    good = (Path(__file__).parents[2] / "examples" / "models" / "ssd_maser.toml").read_text()
    assert loads_model(good).info.spec == zoo.ssd_maser().info.spec
    for old, new, words in (('work = "load"', 'work = "lode"', ["machine.work", "'lode'"]),
                            ('kind = "engine"', 'kind = "pump"', ["machine.kind", "'pump'"]),
                            ('kind = "engine"', 'kind = "engine"\nefficiency = 0.5', ["unknown key 'efficiency'"]),
                            ('coupling = "P12 + P21"', 'coupling = "P12 + P21"\nlocal_hamiltonian = "P12"',
                             ["bath[2].local_hamiltonian", "Hermitian"])):
        assert old in good
        with pytest.raises(ModelFileError) as err:
            loads_model(good.replace(old, new, 1), "m.toml")
        assert all(w in str(err.value) for w in words), str(err.value)
        assert err.value.line is not None


@FAST
@given(T_hot=st.floats(0.3, 20.0), T_cold=st.floats(0.1, 3.0), rate=st.floats(1e-3, 1.0))
def test_ssd_maser_with_a_drive_delivers_power_exactly_below_carnot(T_hot, T_cold, rate):
    # the drive is a work reservoir (β = 0): P > 0 ⇔ population inversion ⇔ η = 2/3 < 1 − T_c/T_h
    carnot = 1 - T_cold / T_hot
    assume(abs(carnot - 2 / 3) > 0.02)
    m = zoo.ssd_maser(T_hot=T_hot, T_cold=T_cold, output="drive", drive_rate=rate)
    p = db.machine_performance(m)
    assert p.carnot == pytest.approx(max(carnot, 0.0), rel=1e-14)
    assert (p.power > 0) == (2 / 3 < carnot)
    assert abs(p.heat["drive"] + 2 / 3 * p.heat["hot"]) <= 1e-12 * _rate_scale(m)   # η = 2/3 to round-off
    assert p.entropy_production >= 0 and p.second_law is None      # no per-bath check with a drive


def test_otto_three_level_efficiency_is_one_minus_compression():
    # H_c = c·H: both isochores change the same populations, so Q_c = −c·Q_h for any stroke time
    text = """
[system]
levels = 3
hamiltonian = "1.0*P11 + 2.5*P22"
[[bath]]
name = "hot"
temperature = 4.0
spectral_density = { kind = "ohmic", alpha = 0.05, cutoff = 10.0 }
coupling = "P01 + P10 + P12 + P21 + P02 + P20"
[[bath]]
name = "cold"
temperature = 0.5
spectral_density = { kind = "ohmic", alpha = 0.02, cutoff = 10.0 }
coupling = "P01 + P10 + P12 + P21"
[machine]
kind = "otto"
hot = "hot"
cold = "cold"
compression = 0.4
"""
    m = loads_model(text)
    H = m.hamiltonian
    qs = db.machine_performance(m)
    dE = np.real(np.trace(H @ (db.gibbs_state(H, 0.25) - db.gibbs_state(0.4 * H, 2.0))))
    assert qs.heat["hot"] == pytest.approx(dE, rel=1e-13) and qs.efficiency == pytest.approx(0.6, rel=1e-13)
    for tau in (0.7, 3.0):
        p = db.otto_cycle(m, tau, tau)
        assert p.regime == "engine" and p.efficiency == pytest.approx(0.6, rel=1e-10)
        assert 0 < p.work < qs.work
