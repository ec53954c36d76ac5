"""Every bad input raises a detbal error naming the argument — never a bare NumPy traceback."""

import numpy as np
import pytest
import scipy.sparse as sp

import detbal as db
from systems import thermal_qubit

H2 = np.diag([0.0, 1.0])
SM = np.array([[0, 1], [0, 0]])
L2 = db.Lindbladian(*thermal_qubit()[:2])

CASES = [
    ("non-square H", lambda: db.gibbs_state(np.ones((2, 3)), 1.0), db.InputError, "square"),
    ("3-D H", lambda: db.gibbs_state(np.ones((2, 2, 2)), 1.0), db.InputError, "2-D"),
    ("empty H", lambda: db.gibbs_state(np.zeros((0, 0)), 1.0), db.InputError, "dimension"),
    ("NaN in H", lambda: db.gibbs_state(np.array([[np.nan, 0], [0, 1]]), 1.0), db.InputError, "NaN"),
    ("inf in H", lambda: db.thermodynamics(np.array([[np.inf, 0], [0, 1]]), 1.0), db.InputError, "infinite"),
    ("non-Hermitian H", lambda: db.gibbs_state(np.array([[0, 1], [0, 0]]), 1.0), db.InputError, "Hermitian"),
    ("string H", lambda: db.gibbs_state("X0", 1.0), db.InputError, "numeric"),
    ("object H", lambda: db.gibbs_state(np.array([[None, 1], [1, None]]), 1.0), db.InputError, "numeric dtype"),
    ("negative beta", lambda: db.gibbs_state(H2, -1.0), db.InputError, "beta"),
    ("NaN beta", lambda: db.gibbs_state(H2, float("nan")), db.InputError, "beta"),
    ("complex beta", lambda: db.gibbs_state(H2, 1j), db.InputError, "beta"),
    ("string beta", lambda: db.thermodynamics(H2, "hot"), db.InputError, "beta"),
    ("negative rate", lambda: db.Lindbladian(H2, [SM], [-0.1]), db.InputError, "rates"),
    ("NaN rate", lambda: db.Lindbladian(H2, [SM], [np.nan]), db.InputError, "rates"),
    ("rates length", lambda: db.Lindbladian(H2, [SM], [1.0, 2.0]), db.InputError, "rates"),
    ("jump dimension", lambda: db.Lindbladian(H2, [np.eye(3)]), db.InputError, r"jumps\[0\]"),
    ("single jump not in list", lambda: db.Lindbladian(H2, SM), db.InputError, "sequence"),
    ("sparse non-Hermitian H", lambda: db.Lindbladian(sp.csr_array(SM), []), db.InputError, "Hermitian"),
    ("generator matrix not d²", lambda: db.as_generator(np.eye(3)), db.InputError, "square number"),
    ("rho wrong dim", lambda: L2.apply(np.eye(3)), db.InputError, "rho"),
    ("state not trace one", lambda: db.relative_entropy(np.eye(2), np.eye(2) / 2), db.InputError, "trace 1"),
    ("state not PSD", lambda: db.von_neumann_entropy(np.diag([1.5, -0.5])), db.InputError, "positive semidefinite"),
    ("state non-Hermitian", lambda: db.von_neumann_entropy(np.array([[0.5, 0.5], [0, 0.5]])), db.InputError, "Hermitian"),
    ("inner unknown", lambda: db.detailed_balance(L2, beta=1.0, inner="bkm"), db.InputError, "inner"),
    ("inner s > 1", lambda: db.detailed_balance(L2, beta=1.0, inner=1.5), db.InputError, "inner"),
    ("inner s < 0", lambda: db.detailed_balance(L2, beta=1.0, inner=-0.1), db.InputError, "inner"),
    ("both beta and state", lambda: db.detailed_balance(L2, beta=1.0, state=np.eye(2) / 2), db.InputError, "exactly one"),
    ("neither beta nor state", lambda: db.detailed_balance(L2), db.InputError, "exactly one"),
    ("unknown method", lambda: db.detailed_balance(L2, beta=1.0, method="magic"), db.InputError, "method"),
    ("bad tolerance", lambda: db.detailed_balance(L2, beta=1.0, tolerance=-1), db.InputError, "tolerance"),
    ("steady_state_verdict not a bool", lambda: db.detailed_balance(L2, beta=1.0, steady_state_verdict="no"),
     db.InputError, "steady_state_verdict"),
    ("state wrong dimension", lambda: db.detailed_balance(L2, state=np.eye(3) / 3), db.InputError, "state"),
    ("singular reference", lambda: db.detailed_balance(L2, state=np.diag([1.0, 0.0])), db.NotFaithfulError, "full rank"),
    ("probe on a dissipator 1e-300 below H",
     lambda: db.detailed_balance(db.davies(H2, [(np.array([[0, 1], [1, 0]]), db.Bath.ohmic(1e-300, 4.0, 1.0))]),
                                 beta=2.0, method="probe"), db.InputError, "cannot be resolved by probes"),
    # iteration limits of the generic gap and steady state (issue 12, item 8)
    ("gap progress not callable", lambda: db.spectral_gap(L2, progress="bar"), db.InputError, "progress"),
    ("gap time_limit negative", lambda: db.spectral_gap(L2, time_limit=-1.0), db.InputError, "time_limit"),
    ("gap time_limit NaN", lambda: db.spectral_gap(L2, time_limit=float("nan")), db.InputError, "time_limit"),
    ("steady time_limit zero", lambda: db.steady_state(L2, time_limit=0), db.InputError, "time_limit"),
    ("steady time_limit string", lambda: db.steady_state(L2, time_limit="1 min"), db.InputError, "time_limit"),
]


@pytest.mark.parametrize("label, call, error, match", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_named_detbal_error(label, call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    assert isinstance(info.value, db.DetbalError)
    assert isinstance(info.value, ValueError)


# -- constructors and configuration (issue 12) ------------------------------------------------------
def _with_budget(value):
    def call():
        old = db.config.memory_budget
        db.config.memory_budget = value
        try:
            db.steady_state(L2)
        finally:
            db.config.memory_budget = old
    return call


CONSTRUCTOR_CASES = [
    ("Lindbladian negative beta", lambda: db.Lindbladian(H2, [SM], [1.0], beta=-1), "`beta` must be ≥ 0"),
    ("Lindbladian NaN beta", lambda: db.Lindbladian(H2, [SM], [1.0], beta=float("nan")), "`beta`"),
    ("Lindbladian string beta", lambda: db.Lindbladian(H2, [SM], [1.0], beta="abc"), "`beta`"),
    ("Lindbladian jumps None", lambda: db.Lindbladian(H2, None), "`jumps` must be a sequence"),
    ("Lindbladian jumps a number", lambda: db.Lindbladian(H2, 3), "`jumps` must be a sequence"),
    ("duplicate jump names", lambda: db.Lindbladian(H2, [SM, SM.T], [1.0, 0.5], names=["a", "a"]),
     "`names` must be distinct"),
    ("DenseGenerator negative beta", lambda: db.DenseGenerator(np.zeros((4, 4)), beta=-1), "`beta` must be ≥ 0"),
    ("memory budget NaN", _with_budget(float("nan")), "memory_budget"),
    ("memory budget string", _with_budget("abc"), "memory_budget"),
    ("memory budget negative", _with_budget(-1), "memory_budget"),
    ("memory budget bool", _with_budget(True), "memory_budget"),
    ("zoo parameter not a number", lambda: db.models.get("thermal_qubit", omega="abc"), "parameter 'omega'"),
    ("zoo parameter NaN", lambda: db.models.get("thermal_qubit", omega=float("nan")), "finite"),
    ("zoo parameter inf", lambda: db.models.get("thermal_qubit", omega=float("inf")), "finite"),
    ("zoo integer parameter", lambda: db.models.get("heisenberg_chain", seed="abc"), "must be an integer"),
    ("zoo integer parameter fractional", lambda: db.models.get("xxz_chain", n=3.5), "must be an integer"),
    ("zoo string parameter", lambda: db.models.get("xxz_chain", baths=3), "must be a string"),
]


@pytest.mark.parametrize("label, call, match", CONSTRUCTOR_CASES, ids=[c[0] for c in CONSTRUCTOR_CASES])
def test_bad_constructor_or_configuration_raises_input_error(label, call, match):
    with pytest.raises(db.InputError, match=match):
        call()


@pytest.mark.parametrize("value", [float("nan"), "abc", -1, 0, True, None])
def test_a_bad_memory_budget_is_refused_when_assigned_and_the_old_one_kept(value):
    old = db.config.memory_budget
    with pytest.raises(db.InputError, match="memory_budget must be a positive number of bytes"):
        db.config.memory_budget = value
    assert db.config.memory_budget == old


def test_memory_budget_inf_means_no_limit():
    old = db.config.memory_budget
    db.config.memory_budget = float("inf")
    try:
        assert db.steady_state(L2).residual < 1e-12
    finally:
        db.config.memory_budget = old


def test_duplicate_jump_names_in_a_sum_of_generators_do_not_merge_heat_currents():
    a = db.Lindbladian(H2, [SM], [1.0], names=["x"])
    b = db.Lindbladian(H2, [SM.T], [0.5], names=["y"])
    currents = db.heat_currents(a + b, np.eye(2) / 2)
    assert set(currents) == {"x", "y"}


# -- huge or tiny scales: refused with advice, never NaN or a spurious verdict ---------------------
def _two_level_model(rate_down, rate_up, energy=1.0):
    from detbal.models.spec import Model, ModelInfo

    H = np.diag([0.0, energy])
    L = db.Lindbladian(H, [SM, SM.T.copy()], [rate_down, rate_up])
    return Model(H, L, (), ModelInfo("two-level", "", None, 1.0 / energy, 2))


@pytest.mark.parametrize("scale", [1e300, 1e-300, 1e120, 1e-120])
def test_rates_of_extreme_size_are_refused_by_the_analysis(scale):
    from detbal.app.analysis import analyze

    with pytest.raises(db.InputError, match="rescale the units"):
        analyze(_two_level_model(scale, 0.3 * scale))


@pytest.mark.parametrize("params, key", [
    ({"alpha": 1e300}, "bath"), ({"alpha": 1e-300}, "bath"), ({"omega": 1e200}, "hamiltonian"),
])
def test_zoo_parameters_of_extreme_size_are_refused(params, key):
    with pytest.raises(db.InputError, match=f"{key}.*range 1e-100"):
        db.models.get("thermal_qubit", **params)


@pytest.mark.parametrize("rate", ["1e300", "1e-300"])
def test_model_file_jump_rate_of_extreme_size_is_refused_with_its_line(rate):
    text = (f'[system]\nlevels = 2\nhamiltonian = "n"\n[[jump]]\nname = "down"\noperator = "a"\n'
            f'rate = {rate}\n[analysis]\ntemperature = 1.0\n')
    with pytest.raises(db.InputError, match=r"<string>:7:.*jump\[0\]\.rate.*range 1e-100"):
        db.io.model_file.loads_model(text)


@pytest.mark.parametrize("scale", [1e-60, 1.0, 1e60])
def test_detailed_balance_verdict_is_scale_invariant_inside_the_range(scale):
    # rates (1, 0.3) at β = 1: ratio 0.3 ≠ e^{-1}, DB fails with the same relative residual at any
    # common scale of energies and rates (β scales inversely)
    from detbal.app.analysis import analyze

    ref = analyze(_two_level_model(1.0, 0.3)).verdict("kms", "gibbs")
    v = analyze(_two_level_model(scale, 0.3 * scale, energy=scale)).verdict("kms", "gibbs")
    assert v.holds is False and ref.holds is False
    assert v.residual == pytest.approx(ref.residual, rel=1e-9)


def test_no_nan_or_inf_reaches_a_report():
    from detbal.app.analysis import _refuse_non_finite

    with pytest.raises(db.ConvergenceError, match="spectral_gap = nan"):
        _refuse_non_finite({"name": "m", "spectral_gap": float("nan"), "cycle_affinity": float("inf")})
    _refuse_non_finite({"name": "m", "spectral_gap": 0.5, "cycle_affinity": float("inf")})  # one-way edge
