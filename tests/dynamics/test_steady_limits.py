"""Long iterative steady-state solves report progress and stop at ``maxiter`` with the residual
reached (ConvergenceError), instead of running silently for minutes."""

import numpy as np
import pytest

import detbal as db
from detbal.errors import ConvergenceError, InputError


def dense_jump(d, seed=0):
    rng = np.random.default_rng(seed)
    H = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    A = (rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))) / np.sqrt(d)
    return db.Lindbladian((H + H.conj().T) / (2 * np.sqrt(d)), [A], [1.0])


def test_maxiter_stops_gmres_with_the_residual_reached():
    seen = []
    with pytest.raises(ConvergenceError, match="maxiter = 3") as err:
        db.steady_state(dense_jump(16), method="iterative", maxiter=3, progress=lambda k, r: seen.append((k, r)))
    assert 1e-8 < err.value.residual < 10
    assert [k for k, _ in seen] == [1, 2, 3] and all(np.isfinite(r) for _, r in seen)


def test_dense_jump_steady_state_matches_the_direct_solve_and_reports_progress():
    L = dense_jump(16)
    seen = []
    it = db.steady_state(L, method="iterative", progress=lambda k, r: seen.append(r))
    ref = db.steady_state(L, method="dense")
    assert np.abs(it.state - ref.state).max() < 1e-10
    assert seen and seen[-1] < 1e-11


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "10"])
def test_maxiter_must_be_a_positive_integer(bad):
    with pytest.raises(InputError, match="`maxiter`"):
        db.steady_state(dense_jump(4), maxiter=bad)


def test_progress_must_be_callable():
    with pytest.raises(InputError, match="`progress`"):
        db.steady_state(dense_jump(4), progress=3)
