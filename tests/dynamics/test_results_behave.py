"""Results behave as a physicist expects: reports have no truth value (test `.holds`), a gap is a
number, a spectrum is an array, and every to_dict is valid JSON."""

import json

import numpy as np
import pytest
from systems import SIGMA_MINUS, SIGMA_PLUS, thermal_qubit

import detbal as db


def _broken_qubit():
    # decay and excitation at the wrong ratio for β = 1: not detailed-balanced w.r.t. Gibbs(β = 1)
    return db.Lindbladian(np.diag([0.0, 1.0]), [SIGMA_MINUS, SIGMA_PLUS], [1.0, 0.9])


def test_a_failed_detailed_balance_report_cannot_be_used_as_a_condition():
    rep = db.detailed_balance(_broken_qubit(), beta=1.0)
    assert rep.holds is False
    with pytest.raises(TypeError, match=r"\.holds"):
        if rep:
            pass
    with pytest.raises(TypeError, match=r"\.holds"):
        bool(rep.channels[0])


def test_kolmogorov_result_and_classical_report_have_no_truth_value():
    W = db.RateMatrix.from_rates(np.array([[0, 1.0, 2.0], [3.0, 0, 1.0], [1.0, 2.0, 0]]))
    k = W.kolmogorov()
    assert k.holds is False                                   # the 3-cycle has affinity log 6 − log 2
    with pytest.raises(TypeError, match=r"\.holds"):
        bool(k)
    with pytest.raises(TypeError, match=r"\.holds"):
        bool(W.detailed_balance())


def test_spectral_gap_is_a_number():
    L = db.Lindbladian(np.diag([0.0, 1.0]), [SIGMA_MINUS, SIGMA_PLUS], [1.0, 0.5])
    g = db.spectral_gap(L)                                    # γ↓ + γ↑ = 1.5, coherences (γ↓ + γ↑)/2 = 0.75
    assert float(g) == pytest.approx(0.75, abs=1e-12)
    assert g < 1 and g > 0.5 and g <= 0.75 + 1e-12 and g >= 0.75 - 1e-12
    assert g == g.gap and g != 0.5
    slower = db.spectral_gap(db.Lindbladian(*thermal_qubit(beta=2.0, gamma_down=0.1)))
    assert max(g, slower) is g and sorted([g, slower])[0] is slower     # gaps order by their values
    assert np.isclose(np.float64(g), 0.75)


def test_spectrum_is_an_array_of_eigenvalues():
    L = db.Lindbladian(np.zeros((2, 2)), [SIGMA_MINUS], [1.0])
    spec = db.spectrum(L)
    arr = np.asarray(spec)
    assert arr.shape == (4,) and np.allclose(np.sort(arr.real), [-1.0, -0.5, -0.5, 0.0], atol=1e-14)
    arr[0] = 99                                               # a copy: the result stays unchanged
    assert spec.eigenvalues[0] != 99 and len(spec) == 4 and list(spec)[0] == spec.eigenvalues[0]


def test_every_to_dict_is_valid_json_with_non_finite_and_complex_values():
    L = _broken_qubit()
    rho0 = np.diag([0.0, 1.0])
    ev = db.evolve(L, rho0, [0.0, 1.0])
    decay = db.relative_entropy_decay(ev, db.steady_state(L).state)     # S(ρ0‖σ) finite, pure ρ0
    results = [db.detailed_balance(L, beta=1.0), db.spectrum(L), db.spectral_gap(L), ev,
               db.steady_state(L), decay, db.RateMatrix.from_rates([[0, 1.0], [0.0, 0]]).kolmogorov()]
    for r in results:
        text = json.dumps(r.to_dict(), allow_nan=False)       # nan/inf would raise here
        assert json.loads(text)
    one_way = db.RateMatrix.from_rates([[0, 1.0], [0.0, 0]]).kolmogorov().to_dict()
    assert one_way["worst_affinity"] == "inf"
    spec = db.spectrum(L).to_dict()["eigenvalues"]
    assert set(spec) == {"real", "imag"} and len(spec["real"]) == 4
