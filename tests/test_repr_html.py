"""Jupyter display: every result type renders as an HTML table with the same facts as its str()."""

import html
import re

import numpy as np
import pytest

import detbal as db

NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def _results():
    m = db.models.merry_go_round()
    L = m.generator
    ss = db.steady_state(L)
    ev = db.evolve(L, ss.state, [0.0, 1.0, 2.0])
    thermal = db.models.thermal_qubit()
    ev_q = db.evolve(thermal.generator, np.diag([0.0, 1.0]), np.linspace(0.0, 5.0, 6))
    return {
        "BalanceReport (fails)": db.detailed_balance(L, beta=1.0),
        "BalanceReport (holds)": db.detailed_balance(thermal.generator, beta=thermal.baths[0].beta),
        "BalanceReport (probe)": db.detailed_balance(thermal.generator, beta=thermal.baths[0].beta, method="probe",
                                                     seed=0),
        "SteadyState": ss,
        "SpectralGap": db.spectral_gap(L),
        "Spectrum": db.spectrum(L),
        "Evolution": ev,
        "KolmogorovResult": db.pauli_rate_matrix(L).kolmogorov(),
        "EntropyProduction": db.entropy_production(L, ss.state),
        "RelativeEntropyDecay": db.relative_entropy_decay(ev_q, db.gibbs_state(thermal.hamiltonian,
                                                                             thermal.baths[0].beta)),
        # results without a table of their own: the generic JsonResult display (the lines of str())
        "CountingStatistics": db.counting_statistics(L, {"hot": "energy"}, order=3),
        "GallavottiCohen": db.gallavotti_cohen(L, {"hot": "energy"}, s=np.linspace(-1.0, 1.0, 5)),
        "SecondLaw": db.second_law(L, ss.state),
        "MachinePerformance": db.machine_performance(db.models.ssd_maser()),
    }


RESULTS = _results()


@pytest.mark.parametrize("kind", list(RESULTS))
def test_html_holds_the_facts_of_str(kind):
    result = RESULTS[kind]
    page = result._repr_html_()
    assert page.startswith("<table") and page.endswith("</table>")
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    missing = [tok for tok in NUMBER.findall(str(result)) if tok not in text]
    assert missing == [], f"numbers of str() missing from the HTML: {missing}"
    for word in ("holds", "FAILS", "non-increasing", "INCREASES"):
        if re.search(rf"\b{word}\b", str(result).split("\n")[0]):
            assert word in text


def test_balance_report_html_has_the_verdict_and_one_row_per_channel():
    rep = RESULTS["BalanceReport (fails)"]
    text = html.unescape(re.sub(r"<[^>]+>", " ", rep._repr_html_()))
    assert "FAILS" in text and f"{rep.residual:.3e}" in text
    assert all(c.name in text for c in rep.channels) and "breaks DB" in text


def test_analysis_html_has_verdicts_conclusion_and_channels():
    a = db.analyze(db.models.merry_go_round())
    text = html.unescape(re.sub(r"<[^>]+>", " ", a._repr_html_()))
    assert "detailed balance FAILS" in text and a.conclusion in text
    assert f"{a.entropy_production:.4e}" in text and f"{a.spectral_gap:.4g}" in text
    assert all(c.name in text for c in a.channels)


def test_thermodynamics_html_has_every_field():
    t = db.thermodynamics(np.diag([0.0, 1.0]), 0.7)
    text = html.unescape(re.sub(r"<[^>]+>", " ", t._repr_html_()))
    assert all(f"{v:.10g}" in text for v in (t.log_Z, t.energy, t.free_energy, t.entropy, t.heat_capacity))


def test_html_escapes_names():
    H = np.diag([0.0, 1.0])
    bath = db.Bath.ohmic(0.05, 10.0, beta=1.0, name="<b>&bath")
    rep = db.detailed_balance(db.davies(H, [(np.array([[0, 1], [1, 0]]), bath)]), beta=1.0)
    assert "&lt;b&gt;&amp;bath" in rep._repr_html_() and "<b>&bath" not in rep._repr_html_()
