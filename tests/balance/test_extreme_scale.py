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
