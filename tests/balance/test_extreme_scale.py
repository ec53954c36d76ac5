"""Verdicts are scale invariant: a generator multiplied by 1e±300 (rates near the ends of the float
range) gives the same verdicts, residuals and steady state as at scale 1, without NaN, inf or warnings
(pyproject turns detbal's RuntimeWarnings into errors)."""

import math

import numpy as np
import pytest

import detbal as db
from systems import SIGMA_MINUS, SIGMA_PLUS

H = np.diag([0.0, 1.0])


def _qubit(scale, ratio):
    """Decay at rate `scale`, pumping at `scale·ratio`, H scaled with the rates (a change of time unit)."""
    return db.Lindbladian(scale * H, [SIGMA_MINUS, SIGMA_PLUS], [scale, scale * ratio])


@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1.0, 1e150, 1e300])
@pytest.mark.parametrize("method", ["auto", "dense", "probe"])
def test_scaled_generators_give_the_verdicts_and_residuals_of_scale_one(scale, method):
    # β is measured in the same unit as H: β·ΔE = 1 at every scale
    beta = 1.0 / scale
    for ratio, holds in ((math.exp(-1.0), True), (math.exp(-0.5), False)):
        ref = db.detailed_balance(_qubit(1.0, ratio), beta=1.0, method=method, seed=3)
        rep = db.detailed_balance(_qubit(scale, ratio), beta=beta, method=method, seed=3)
        assert rep.holds is holds and ref.holds is holds
        assert math.isfinite(rep.residual) and math.isfinite(rep.stationary_residual)
        if holds:
            assert rep.residual < 1e-12
        else:
            assert rep.residual == pytest.approx(ref.residual, rel=1e-10)


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_steady_state_of_a_scaled_generator_is_the_unscaled_one(scale):
    ss = db.steady_state(_qubit(scale, 0.25))
    assert np.allclose(ss.state, np.diag([0.8, 0.2]), atol=1e-14, rtol=0)
    assert math.isfinite(ss.residual)


def test_davies_generator_of_a_huge_coupling_is_detailed_balanced():
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    D = db.davies(H, [(X, db.Bath.ohmic(alpha=1e300, cutoff=10.0, beta=1.0))])
    rep = db.detailed_balance(D, beta=1.0)
    assert rep.holds and rep.residual < 1e-12
    assert np.allclose(db.steady_state(D).state, db.gibbs_state(H, 1.0), atol=1e-14)


# -- a dissipator of any size next to an O(1) Hamiltonian (issue 12) --------------------------------
H3 = np.diag([0.0, 1.0, 2.5])
DOWN01 = np.zeros((3, 3))
DOWN01[0, 1] = 1.0
LONE = np.array([[0.3, 1.0, -0.2], [0.5, 0.1, 0.7], [-0.4, 0.9, 0.2]]) + 0.5j * np.eye(3)  # no partner: never DB
DISSIPATOR_SCALES = [1e-300, 1e-30, 1.0, 1e30, 1e300]


def _finite_report(rep):
    for key, value in rep.to_dict().items():
        if isinstance(value, float):
            assert math.isfinite(value), key


@pytest.mark.parametrize("scale", DISSIPATOR_SCALES)
def test_a_dissipator_of_any_size_next_to_an_order_one_hamiltonian_keeps_its_verdict(scale):
    """Only the dissipator is scaled (H stays O(1)): the verdict and, on the structured path, the
    residual are those of scale 1 (1e-9 relative). It read 'holds' below 1e-6‖𝓛̂‖ (a round-off floor
    relative to the whole generator, Hamiltonian included). The dense path (its matrix sums the two
    parts, so the coherences' decay is lost below ε‖H‖) and the probe give the right verdict."""
    for jumps, rates, holds in (([LONE], [scale], False),
                                ([DOWN01, DOWN01.T.copy()], [scale, scale * math.exp(-1.0)], True),
                                ([DOWN01, DOWN01.T.copy()], [scale, scale * math.exp(-0.5)], False)):
        ref = db.detailed_balance(db.Lindbladian(H3, jumps, [r / scale for r in rates]), beta=1.0)
        L = db.Lindbladian(H3, jumps, rates)
        for method in ("structured", "dense", "probe"):
            rep = db.detailed_balance(L, beta=1.0, method=method, seed=2)
            assert rep.holds is holds, (method, rep.residual)
            _finite_report(rep)
        rep = db.detailed_balance(L, beta=1.0)
        assert rep.residual == pytest.approx(ref.residual, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("alpha", [1e-300, 1e-30, 1.0, 1e30, 1e300])
def test_davies_verdict_does_not_depend_on_the_coupling_strength(alpha):
    """A Davies generator of a bath at β = 1 tested against Gibbs(β = 2) fails with the same residual at
    any coupling (structured and dense paths), holds against Gibbs(β = 1); the matrix-free probe, whose
    apply sums the dissipator with −i[H, ·], refuses a dissipator below its round-off by name."""
    X = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]], float)
    ref = db.detailed_balance(db.davies(H3, [(X, db.Bath.ohmic(1.0, 4.0, 1.0))]), beta=2.0)
    D = db.davies(H3, [(X, db.Bath.ohmic(alpha, 4.0, 1.0))])
    rep = db.detailed_balance(D, beta=2.0)
    assert not rep.holds and rep.residual == pytest.approx(ref.residual, rel=1e-9)
    assert db.detailed_balance(D, beta=1.0).holds
    assert not db.detailed_balance(D, beta=2.0, method="dense").holds
    _finite_report(rep)
    if alpha < 1e-20:
        with pytest.raises(db.InputError, match="cannot be resolved by probes.*method='structured'"):
            db.detailed_balance(D, beta=2.0, method="probe")
    else:
        assert not db.detailed_balance(D, beta=2.0, method="probe", seed=1).holds
