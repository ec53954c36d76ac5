"""Dense quantum detailed-balance test (THEORY.md §4)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import detbal as db
from systems import SIGMA_MINUS, eigenoperator_db_lindbladian, random_hermitian, random_matrix, thermal_qubit


@pytest.mark.parametrize("inner", ["kms", "gns", 0.0, 0.3])
def test_amplitude_damping_with_kms_ratio_is_balanced(inner):
    H, jumps, rates = thermal_qubit(omega=1.0, beta=0.7)
    rep = db.detailed_balance(db.Lindbladian(H, jumps, rates), beta=0.7, inner=inner)
    assert rep.holds and rep.residual < 1e-12 and rep.stationary_residual < 1e-15
    assert not rep.symmetric  # −i[H,·] is the σ-antisymmetric part, K = H


def test_wrong_rate_ratio_fails_and_residual_grows_with_mismatch():
    residuals = []
    for mismatch in [1.01, 1.1, 1.5, 3.0]:
        H, jumps, rates = thermal_qubit(omega=1.0, beta=0.7, ratio=mismatch * np.exp(-0.7))
        L = db.Lindbladian(H, jumps, rates)
        kms = db.detailed_balance(L, beta=0.7)
        gns = db.detailed_balance(L, beta=0.7, inner="gns")
        assert not kms.holds and not gns.holds
        assert kms.hamiltonian_residual < 1e-12  # the dissipator is to blame
        residuals.append(kms.residual)
    assert np.all(np.diff(residuals) > 0)


def test_pure_hamiltonian_dynamics_is_balanced_wrt_its_gibbs_state(rng):
    H = random_hermitian(rng, 4)
    rep = db.detailed_balance(db.Lindbladian(H, []), beta=1.3)
    # the dissipator is zero: its round-off (~1e-16) is measured against the 1e-6·‖𝓛̂‖ floor
    assert rep.holds and rep.dissipative_residual < 1e-9 and rep.hamiltonian_residual < 1e-12


def test_commutator_with_non_commuting_k_blames_the_hamiltonian_part(rng):
    H = random_hermitian(rng, 4)
    K = random_hermitian(rng, 4)
    sigma = db.gibbs_state(H, 1.0)
    rep = db.detailed_balance(db.Lindbladian(K, []), state=sigma)
    assert not rep.holds
    assert rep.hamiltonian_residual > 1e-2 and rep.dissipative_residual < 1e-12


def test_low_temperature_beta_omega_1000_is_stable():
    H, jumps, rates = thermal_qubit(omega=1.0, beta=1000.0)
    assert rates[1] == 0.0  # the up-rate underflows
    rep = db.detailed_balance(db.Lindbladian(H, jumps, rates), beta=1000.0)
    assert rep.holds and np.isfinite(rep.symmetric_residual)
    # with −i[H,·] the σ-antisymmetric part is exactly −i[H,·]: ‖𝓛̂ − 𝓛̂†‖ = 2‖[H,·]‖ = 2√2, and
    # ‖𝓛̂‖² = 1 (population decay) + 2·|∓i − ½|² = 3.5 since the up-rate entry is hatted to e^{−500}
    assert rep.symmetric_residual == pytest.approx(2 * np.sqrt(2) / np.sqrt(3.5), abs=1e-12)


def test_kms_but_not_gns_example():
    # V = σ^{1/4} X σ^{−1/4} is KMS-DB but not an eigenoperator of H (THEORY §4)
    beta = omega = 1.0
    H = np.diag([0.0, omega])
    p = np.exp(-beta * np.array([0.0, omega]))
    p /= p.sum()
    V = np.diag(p**0.25) @ np.array([[0, 1], [1, 0]]) @ np.diag(p**-0.25)
    L = db.Lindbladian(H, [V])
    kms = db.detailed_balance(L, beta=beta)
    assert kms.holds and kms.stationary_residual < 1e-15
    assert kms.symmetric_residual == pytest.approx(0.829410, abs=1e-6)
    for s in ("gns", 0.0):
        gns = db.detailed_balance(L, beta=beta, inner=s)
        assert not gns.holds
        assert gns.dissipative_residual == pytest.approx(0.450254, abs=1e-6)


@given(seed=st.integers(0, 2**32 - 1), d=st.integers(2, 4), beta=st.floats(0.1, 3.0))
def test_gns_balance_implies_kms_balance(seed, d, beta):
    rng = np.random.default_rng(seed)
    H, jumps, rates, _ = eigenoperator_db_lindbladian(rng, d, beta)
    L = db.Lindbladian(H, jumps, rates)
    gns = db.detailed_balance(L, beta=beta, inner="gns")
    assert gns.holds
    for s in ("kms", 0.25):
        assert db.detailed_balance(L, beta=beta, inner=s).holds


def test_random_lindbladian_gns_s0_and_s1_agree(rng):
    H = random_hermitian(rng, 5)
    L = db.Lindbladian(H, [random_matrix(rng, 5) for _ in range(2)])
    r1 = db.detailed_balance(L, beta=0.8, inner=1.0).symmetric_residual
    r0 = db.detailed_balance(L, beta=0.8, inner=0.0).symmetric_residual
    assert r1 == pytest.approx(r0, rel=1e-10)


def test_matrix_only_generator_needs_state_and_extracts_k_from_antisymmetric_part():
    H, jumps, rates = thermal_qubit(omega=1.0, beta=0.5)
    M = db.Lindbladian(H, jumps, rates).to_dense()
    with pytest.raises(db.InputError, match="Hamiltonian"):
        db.detailed_balance(M, beta=0.5)
    rep = db.detailed_balance(M, state=db.gibbs_state(H, 0.5))
    assert rep.holds


def test_blame_points_at_the_broken_pair():
    beta = 1.0
    H = np.diag([0.0, 1.0, 2.5])
    down = [np.zeros((3, 3), complex) for _ in range(3)]
    pairs = [(0, 1), (1, 2), (0, 2)]
    jumps, rates, names = [], [], []
    for n, (i, j) in enumerate(pairs):
        A = np.zeros((3, 3), complex)
        A[i, j] = 1.0
        ratio = np.exp(-beta * (H[j, j] - H[i, i]).real) * (1.3 if n == 1 else 1.0)
        jumps += [A, A.T.copy()]
        rates += [0.7, 0.7 * ratio]
        names += [f"down{n}", f"up{n}"]
    del down
    rep = db.detailed_balance(db.Lindbladian(H, jumps, rates, names=names), beta=beta)
    assert not rep.holds
    assert rep.channels[0].name == "jump pair down1/up1" and not rep.channels[0].holds
    assert rep.channels[0].contribution == pytest.approx(1.0)
    assert all(c.holds for c in rep.channels[1:])


def test_lone_jump_is_reported_as_such():
    H, _, _ = thermal_qubit()
    rep = db.detailed_balance(db.Lindbladian(H, [SIGMA_MINUS]), state=np.diag([0.6, 0.4]))
    assert not rep.holds and rep.channels[0].name.startswith("lone jump")


def test_not_faithful_reference_state():
    H, jumps, rates = thermal_qubit()
    L = db.Lindbladian(H, jumps, rates)
    with pytest.raises(db.NotFaithfulError, match="full rank"):
        db.detailed_balance(L, state=np.diag([1.0, 0.0]))
    with pytest.raises(db.NotFaithfulError, match="KMS"):
        db.detailed_balance(L, beta=float("inf"))


def test_report_serialises():
    H, jumps, rates = thermal_qubit()
    rep = db.detailed_balance(db.Lindbladian(H, jumps, rates), beta=1.0)
    d = rep.to_dict()
    import json

    assert json.loads(json.dumps(d))["holds"] is True
    assert "holds" in str(rep)


@pytest.mark.parametrize("model", ["merry_go_round", "coupled_qubits"])
def test_skipping_the_steady_state_verdict_leaves_the_gibbs_verdict_unchanged(model, monkeypatch):
    """Two baths at different temperatures: Gibbs is not stationary, so ``detailed_balance(beta=...)``
    adds the verdict w.r.t. the steady state; ``steady_state_verdict=False`` gives the same report
    w.r.t. Gibbs (Davies: structured path; local two-qubit model: dense path) without it, and never
    solves for the steady state."""
    from detbal.balance import api

    m = db.models.get(model)
    L, beta = m.generator, m.info.reference_beta
    full = db.detailed_balance(L, beta=beta, inner="gns")
    assert full.details["steady_state"]["holds"] is False and full.stationary_residual > 1e-3

    def no_solve(*args, **kwargs):
        raise AssertionError("the steady state was solved for")

    monkeypatch.setattr(api, "steady_state", no_solve)
    lean = db.detailed_balance(L, beta=beta, inner="gns", steady_state_verdict=False)
    (lean_kms, lean_gns) = db.detailed_balance_inners(L, ("kms", "gns"), beta=beta, steady_state_verdict=False)
    monkeypatch.undo()
    for rep in (lean, lean_gns):
        assert rep.details == {k: v for k, v in full.details.items() if k != "steady_state"}
        for name in ("holds", "residual", "dissipative_residual", "hamiltonian_residual", "symmetric_residual",
                     "stationary_residual", "inner", "method", "reference", "channels"):
            assert getattr(rep, name) == getattr(full, name), name
    kms = db.detailed_balance(L, beta=beta)
    assert (lean_kms.holds, lean_kms.residual, lean_kms.channels) == (kms.holds, kms.residual, kms.channels)
    assert "steady_state" not in lean_kms.details and "steady_state" in kms.details
