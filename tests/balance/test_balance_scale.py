"""Detailed balance at scale: matrix-free probes, blame, time reversal (THEORY.md §8, §10)."""

import numpy as np
import pytest

import detbal as db
from systems import eigenoperator_db_lindbladian, random_hermitian, random_matrix


def random_generator(seed, d, balanced):
    rng = np.random.default_rng(seed)
    beta = rng.uniform(0.2, 2.0)
    if balanced:
        H, jumps, rates, _ = eigenoperator_db_lindbladian(rng, d, beta)
    else:
        H = random_hermitian(rng, d)
        jumps = [random_matrix(rng, d) for _ in range(2)]
        rates = rng.uniform(0.2, 1.0, 2)
    return db.Lindbladian(H, jumps, rates), beta


@pytest.mark.parametrize("seed", range(50))
def test_probe_agrees_with_dense_within_error_bar(seed):
    d = 16 if seed % 10 == 3 else 2 + seed % 9
    L, beta = random_generator(seed, d, balanced=seed % 2 == 0)
    dense = db.detailed_balance(L, beta=beta, method="dense")
    probe = db.detailed_balance(L, beta=beta, method="probe", probes=10, seed=seed)
    assert dense.holds == probe.holds
    # ‖𝓛̂ − 𝓛̂†‖/‖𝓛̂‖ is estimated from the same probes (a ratio of two Hutchinson estimates: with 10
    # complex probes each is within [0.3, 2.2]× its mean at probability 1 − 1e-3, rank-one worst case)
    assert 0.5 * dense.symmetric_residual <= probe.symmetric_residual <= 2 * dense.symmetric_residual
    lo, hi = probe.details["residual_lower"], probe.details["residual_upper"]
    if dense.holds:
        assert hi < 1e-10
    else:
        assert lo <= dense.dissipative_residual <= hi
        assert probe.hamiltonian_residual == pytest.approx(dense.hamiltonian_residual, rel=1e-8, abs=1e-12)


@pytest.mark.parametrize("seed", range(50))
def test_operator_sum_certificate_equals_dense(seed):
    """The exact operator-sum norms reproduce every residual of the dense test, channel by channel
    (round-off: both are backward stable, so 1e-9 relative, or 1e-15 absolute near zero)."""
    d = 2 + seed % 6
    L, beta = random_generator(seed, d, balanced=seed % 2 == 0)
    if seed % 3 == 0:
        L = L + db.Lindbladian(np.zeros((d, d)), [random_matrix(np.random.default_rng(seed), d)], [0.3])
    inner = ["kms", "gns", 0.3][seed % 3]
    dense = db.detailed_balance(L, beta=beta, method="dense", inner=inner)
    exact = db.detailed_balance(L, beta=beta, inner=inner, method="structured")
    assert exact.holds == dense.holds
    for field in ("dissipative_residual", "hamiltonian_residual", "symmetric_residual", "stationary_residual"):
        # the dense path rotates H into σ's eigenbasis (off-diagonal round-off a few ε‖H‖, seen by the
        # Hamiltonian residual), the operator sums use diag(E) exactly: 1e-14 absolute near zero
        assert getattr(exact, field) == pytest.approx(getattr(dense, field), rel=1e-9, abs=1e-14), field
    dense_rows = {c.name: c for c in dense.channels}
    for c in exact.channels:
        ref = dense_rows[c.name]
        # a pure −i[H, ·] channel is zero up to round-off measured against the 1e-6 floor (≈ 1e-10)
        tol = 1e-9 if c.name == "coherent part" else 1e-15
        assert c.residual == pytest.approx(ref.residual, rel=1e-9, abs=tol)
        assert c.contribution == pytest.approx(ref.contribution, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("block_entries", [1 << 20, 40, 7])
def test_operator_sum_norm_equals_the_kronecker_matrix(rng, monkeypatch, block_entries):
    """Also with tiny row blocks (many blocks, not dividing d², blocks shorter than wide before the
    tall-block rule), which exercises the block-by-block reduction of R."""
    import detbal.balance.operator_sum as os_mod
    from detbal.balance.operator_sum import operator_sum_norms

    monkeypatch.setattr(os_mod, "_BLOCK_ENTRIES", block_entries)

    d = 4
    lefts = [None] + [random_matrix(rng, d) for _ in range(3)]
    rights = [None] + [random_matrix(rng, d) for _ in range(3)]
    lefts.append(os_mod.Adjoint(lefts[2]))
    rights.append(os_mod.Adjoint(rights[1]))
    terms = [(0.3, 1, 1), (1j, 2, 3), (2.0, 3, 0), (-1.0, 0, 2), (0.5, 0, 0), (-0.3, 1, 1), (0.7, 4, 4)]
    small = [(1e-200, 1, 2)]  # a sum far below the others keeps its own scale (no underflow)
    op = lambda ops, k: (np.eye(d) if ops[k] is None else  # noqa: E731
                         ops[k].op.conj().T if isinstance(ops[k], os_mod.Adjoint) else ops[k])
    T = sum(c * np.kron(op(lefts, l), op(rights, r).T) for c, l, r in terms)
    scaled = lambda ops: [(A, 0.0) for A in ops]  # noqa: E731  (op, log-scale 0)
    as_terms = lambda ts: [(c, 0.0, l, r) for c, l, r in ts]  # noqa: E731
    got = operator_sum_norms(scaled(lefts), scaled(rights), [as_terms(terms), as_terms(small)], d)
    assert np.exp(got[0]) == pytest.approx(np.linalg.norm(T), rel=1e-13)
    assert np.exp(got[1]) == pytest.approx(1e-200 * np.linalg.norm(lefts[1]) * np.linalg.norm(rights[2]), rel=1e-13)
    # log domain: scales e^{±1000} on operators and coefficients (beyond the float range) shift the
    # log-norm exactly, and a term e^{−2000} below the others is negligible
    big = [(A, 1000.0 if k else 0.0) for k, A in enumerate(lefts)]
    huge = operator_sum_norms(big, scaled(rights), [[(c, -1000.0, l, r) for c, l, r in terms if l]], d)
    T_left = sum(c * np.kron(op(lefts, l), op(rights, r).T) for c, l, r in terms if l)
    assert huge[0] == pytest.approx(np.log(np.linalg.norm(T_left)), rel=1e-13)
    mixed = operator_sum_norms(scaled(lefts), scaled(rights), [[(c, 1000.0 * (k == 0), l, r)
                                                                for k, (c, l, r) in enumerate(terms)]
                                                               + [(1.0, -2000.0, 2, 2)]], d)
    assert mixed[0] == pytest.approx(1000.0 + np.log(0.3 * np.linalg.norm(np.kron(lefts[1], rights[1].T))),
                                     rel=1e-15)


def test_operator_sum_certificate_is_exact_at_low_temperature():
    """β·ΔE = 1000 in a random basis: rotation round-off of forbidden entries must not be amplified
    by e^{βΔE/2} into a violation; an uphill rate of 1e-6 instead of e^{−1000} must be seen."""
    rng = np.random.default_rng(5)
    Q, _ = np.linalg.qr(random_matrix(rng, 3))
    E = np.array([0.0, 1.0, 2.5])
    H = (Q * E) @ Q.conj().T
    beta = 1000.0
    jumps, rates = [], []
    for i, j in [(0, 1), (1, 2), (0, 2)]:
        A = Q[:, [i]] @ Q[:, [j]].conj().T  # |i⟩⟨j| in the rotated basis
        jumps += [A, A.conj().T]
        rates += [1.0, np.exp(-beta * (E[j] - E[i]))]
    good = db.detailed_balance(db.Lindbladian(H, jumps, rates), beta=beta)
    assert good.method == "structured" and good.holds and good.residual < 1e-12
    rates[1] = 1e-6
    bad = db.detailed_balance(db.Lindbladian(H, jumps, rates), beta=beta)
    assert not bad.holds and bad.dissipative_residual > 0.1
    assert bad.channels[0].name == "jump pair jump0/jump1" and not bad.channels[0].holds
    for inner in ("kms", "gns", 0.3):  # both evaluate the σ-scaling in the log domain (no clipping): same numbers
        exact = db.detailed_balance(db.Lindbladian(H, jumps, rates), beta=beta, inner=inner)
        dense = db.detailed_balance(db.Lindbladian(H, jumps, rates), beta=beta, inner=inner, method="dense")
        assert exact.dissipative_residual == pytest.approx(dense.dissipative_residual, rel=1e-9)


def test_probe_detects_relative_violation_of_1e_minus_6(rng):
    H, jumps, rates, _ = eigenoperator_db_lindbladian(rng, 6, beta=0.9)
    rates = np.array(rates)
    rates[3] *= 1 + 2.5e-5  # gives a generator-relative violation of about 1e-6
    L = db.Lindbladian(H, jumps, rates)
    dense = db.detailed_balance(L, beta=0.9, method="dense")
    probe = db.detailed_balance(L, beta=0.9, method="probe", probes=8, seed=1)
    assert 5e-7 < dense.residual < 5e-6
    assert not probe.holds and probe.details["residual_lower"] > 1e-8


def three_level_blocks(seed, d=256):
    """H with three degenerate levels in a random basis and 4 dense eigenoperator jumps (2 pairs)."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(random_matrix(rng, d))
    sizes = [d // 3, d // 3, d - 2 * (d // 3)]
    energies = np.repeat([0.0, 0.8, 1.9], sizes)
    H = (Q * energies) @ Q.conj().T
    P = [Q[:, energies == e] @ Q[:, energies == e].conj().T for e in (0.0, 0.8, 1.9)]
    beta = 0.7
    jumps, rates, names = [], [], []
    for n, (lo, hi) in enumerate([(0, 1), (1, 2)]):
        A = P[lo] @ random_matrix(rng, d) @ P[hi] / np.sqrt(d)  # lowers the energy by E_hi − E_lo
        w = [0.0, 0.8, 1.9][hi] - [0.0, 0.8, 1.9][lo]
        jumps += [A, A.conj().T]
        rates += [0.5 + n, (0.5 + n) * np.exp(-beta * w)]
        names += [f"down{n}", f"up{n}"]
    return H, jumps, np.array(rates), names, beta


@pytest.mark.parametrize("method", ["auto", "probe"])
def test_dense_jumps_at_d256_certify_and_blame_the_perturbed_channel(method):
    H, jumps, rates, names, beta = three_level_blocks(7)
    good = db.detailed_balance(db.Lindbladian(H, jumps, rates, names=names), beta=beta, method=method, seed=3)
    assert good.method == ("structured" if method == "auto" else "probe")
    assert good.holds and good.residual < 1e-12
    rates[3] *= 1.01
    bad = db.detailed_balance(db.Lindbladian(H, jumps, rates, names=names), beta=beta, method=method, seed=3)
    assert not bad.holds
    worst = bad.channels[0]
    assert worst.name == "jump pair down1/up1" and not worst.holds and worst.contribution > 0.99
    assert "T = " in worst.note and "β says T = 1.429" in worst.note
    assert all(c.holds for c in bad.channels[1:])


def test_non_eigenoperator_jump_is_explained():
    beta = omega = 1.0
    H = np.diag([0.0, omega])
    L = db.Lindbladian(H, [np.array([[0, 1.0], [1.0, 0]])])  # σ_x: mixes +ω and −ω
    rep = db.detailed_balance(L, beta=beta)
    assert not rep.holds
    assert "eigenoperator" not in rep.channels[0].note or "coherent correction" in rep.channels[0].note


def reversal_example(a=0.5, c=0.3, g=0.2, beta=1.0, omega=1.0, extra=0.0):
    """THEORY §10: |0⟩ (E=0), |+⟩, |−⟩ (E=ω); Θ swaps |+⟩ and |−⟩."""
    e = np.exp(beta * omega)
    rates = {(0, 1): a, (2, 0): a * e, (0, 2): c, (1, 0): c * e, (2, 1): g, (1, 2): g + (a - c) * e + extra}
    jumps, values = [], []
    for (n, m), r in rates.items():  # r(n → m): jump |m⟩⟨n|
        A = np.zeros((3, 3))
        A[m, n] = 1.0
        jumps.append(A)
        values.append(r)
    H = np.diag([0.0, omega, omega])
    U = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    return db.Lindbladian(H, jumps, values), db.TimeReversal(U), beta


def test_time_reversal_example():
    L, theta, beta = reversal_example()
    plain = db.detailed_balance(L, beta=beta)
    assert not plain.holds and plain.stationary_residual < 1e-15
    assert plain.dissipative_residual > 0.1
    with_theta = db.detailed_balance(L, beta=beta, reversal=theta)
    assert with_theta.holds and with_theta.residual < 1e-14
    assert with_theta.details["plain_residual"] == pytest.approx(plain.residual)
    broken, theta, _ = reversal_example(extra=0.05)
    assert not db.detailed_balance(broken, beta=beta, reversal=theta).holds


def test_time_reversal_operator():
    theta = db.TimeReversal(np.array([[0, 1], [-1, 0]]))
    assert theta.square == -1
    sx = np.array([[0, 1], [1, 0]])
    assert np.allclose(theta.apply(sx), -sx)  # spin flips under Θ = iσ_y K
    L, theta3, _ = reversal_example()
    M = L.to_dense()
    rho = random_matrix(np.random.default_rng(0), 3)
    direct = theta3.apply(L.apply(np.asarray(theta3.U.T @ rho.conj() @ theta3.U.conj())))
    assert np.allclose(theta3.superoperator(M) @ rho.reshape(-1, order="F"), direct.reshape(-1, order="F"))


def test_sigma_duals(rng):
    H, jumps, rates, sigma = eigenoperator_db_lindbladian(rng, 3, beta=0.6)
    L = db.Lindbladian(H, jumps, rates)
    for dual in (db.kms_dual(L, sigma), db.gns_dual(L, sigma)):
        # DB: 𝓛̃_s = 𝓛 + 2i[H,·] (the dual flips the sign of the σ-commuting Hamiltonian)
        flipped = db.Lindbladian(-H, jumps, rates).to_dense()
        assert np.allclose(dual.to_dense(), flipped, atol=1e-10)


@pytest.mark.parametrize("call, match", [
    (lambda L: db.TimeReversal(np.array([[1, 1], [0, 1]])), "unitary"),
    (lambda L: db.TimeReversal(np.array([[0, 1], [1j, 0]])), "±I"),
    (lambda L: db.detailed_balance(L, beta=1.0, inner=2.0), "inner"),
    (lambda L: db.detailed_balance(L, beta=1.0, method="probe", probes=0), "probes"),
    (lambda L: db.detailed_balance(L, state=np.diag([0.7, 0.5, -0.2])), "positive semidefinite"),
    (lambda L: db.detailed_balance(L, state=np.diag([0.7, 0.5, 0.2])), "trace 1"),
    (lambda L: db.detailed_balance(L, state="gibbs"), "stationary"),
    (lambda L: db.detailed_balance(L, beta=1.0, reversal=np.eye(3)), "TimeReversal"),
    (lambda L: db.detailed_balance(L, beta=1.0, method="probe", reversal=db.TimeReversal(np.eye(3))), "dense"),
])
def test_bad_balance_arguments(call, match):
    L, _, _ = reversal_example()
    with pytest.raises(db.InputError, match=match):
        call(L)
def test_reference_state_stationary():
    L, _, beta = reversal_example()
    rep = db.detailed_balance(L, state="stationary")
    assert rep.reference == "steady state" and not rep.holds




def test_many_jumps_choose_a_method_that_scales():
    """One rank-one eigenoperator jump per ordered pair of levels (d² − d jumps) in a random basis:
    'auto' leaves the operator sums (O(d²n²)) for the dense test at this size; every method agrees."""
    rng = np.random.default_rng(8)
    d, beta = 12, 0.6
    Q, _ = np.linalg.qr(random_matrix(rng, d))
    E = np.sort(rng.uniform(0, 3, d))
    H = (Q * E) @ Q.conj().T
    jumps, rates = [], []
    for i in range(d):
        for j in range(d):
            if i != j:
                jumps.append(Q[:, [i]] @ Q[:, [j]].conj().T)  # j → i
                rates.append(np.exp(-beta * max(E[i] - E[j], 0.0)))
    L = db.Lindbladian(H, jumps, rates)
    auto = db.detailed_balance(L, beta=beta)
    assert auto.method == "dense" and auto.holds
    exact = db.detailed_balance(L, beta=beta, method="structured")
    assert exact.holds and exact.residual < 1e-12
    rates[5] *= 1.1
    broken = db.detailed_balance(db.Lindbladian(H, jumps, rates), beta=beta, method="structured")
    dense = db.detailed_balance(db.Lindbladian(H, jumps, rates), beta=beta, method="dense")
    assert not broken.holds
    assert broken.dissipative_residual == pytest.approx(dense.dissipative_residual, rel=1e-9)


@pytest.mark.parametrize("method", ["structured", "dense", "probe"])
def test_two_thermal_lindblad_baths_are_separate_channels(method):
    """Two baths built with the same (default) jump names: channels are named per bath, never
    paired across baths, and each says which temperature its rate ratio implies."""
    d = 4
    H = np.diag(np.arange(d, dtype=float))
    A = np.diag(np.ones(d - 1), 1)  # lowers the energy by 1
    hot = db.Lindbladian(H, [A, A.T], [1.0, np.exp(-0.5)], beta=0.5)
    cold = db.Lindbladian(np.zeros((d, d)), [A, A.T], [0.7, 0.7 * np.exp(-2.0)], beta=2.0)
    rep = db.detailed_balance(hot + cold, beta=1.0, method=method, seed=2)
    by_name = {c.name: c for c in rep.channels}
    assert set(by_name) == {"jump pair term0.jump0/term0.jump1", "jump pair term1.jump0/term1.jump1",
                            "coherent part"}
    assert "implies T = 2 " in by_name["jump pair term0.jump0/term0.jump1"].note
    assert "implies T = 0.5 " in by_name["jump pair term1.jump0/term1.jump1"].note
    if method != "probe":
        dense = {c.name: c.residual for c in db.detailed_balance(hot + cold, beta=1.0, method="dense").channels}
        for name, c in by_name.items():  # a pure −i[H, ·] part: round-off against the 1e-6 floor
            assert c.residual == pytest.approx(dense[name], rel=1e-9, abs=1e-9 if name == "coherent part" else 1e-12)


@pytest.mark.parametrize("method", ["structured", "dense", "probe"])
def test_an_energy_offset_does_not_change_the_verdict(method):
    """H + c·I is the same dynamics: a 1e-6 coupling that does not commute with σ must be seen for
    any offset c (the round-off cut of the rotation ignores the identity part of H)."""
    rng = np.random.default_rng(4)
    Q, _ = np.linalg.qr(random_matrix(rng, 3))
    h = np.diag([0.0, 1.0, 2.0])
    h[0, 1] = h[1, 0] = 1e-6
    sigma = Q @ np.diag([0.5, 0.3, 0.2]) @ Q.conj().T
    A = Q @ np.array([[0, 1.0, 0], [0, 0, 0], [0, 0, 0]]) @ Q.conj().T
    for c in (0.0, 1e10):
        L = db.Lindbladian(Q @ (h + c * np.eye(3)) @ Q.conj().T, [A, A.conj().T], [1.0, 0.6])
        rep = db.detailed_balance(L, state=sigma, method=method, seed=1)
        assert not rep.holds and rep.hamiltonian_residual > 1e-7


def test_auto_never_picks_a_structured_run_that_does_not_fit(monkeypatch):
    from detbal.balance.operator_sum import certificate_bytes, count_operators

    rng = np.random.default_rng(0)
    d = 16
    L = db.Lindbladian(np.diag(np.arange(d, dtype=float)), [rng.standard_normal((d, d)) for _ in range(16)],
                       np.ones(16))
    budget = (certificate_bytes(count_operators([16]), d) + certificate_bytes(count_operators([1] * 16), d)) // 2
    monkeypatch.setattr(db.config, "memory_budget", budget)
    assert db.detailed_balance(L, beta=1.0).method == "dense"


def test_steady_state_verdict_of_a_lindbladian_beyond_the_dense_size():
    """d = 128 > 64: the boundary-driven XXZ chain is not stationary at Gibbs; the report says how to
    ask for the steady-state verdict (a steady-state solve can be expensive, so it is not automatic
    here), and asking for it gives the exact certificate w.r.t. the matrix-free steady state."""
    from detbal.expressions import Space, parse_operator

    n = 7
    space = Space(sites=n)
    chain = " + ".join(f"X{k}*X{k + 1} + Y{k}*Y{k + 1} + 0.5*Z{k}*Z{k + 1}" for k in range(n - 1))
    H = parse_operator(chain, space, sparse=True)
    jumps = [parse_operator("Sm0", space, sparse=True), parse_operator(f"Sp{n - 1}", space, sparse=True)]
    L = db.Lindbladian(H, jumps, [1.0, 1.0])
    rep = db.detailed_balance(L, beta=1.0)
    assert rep.method == "structured" and not rep.holds
    assert rep.details["steady_state"]["holds"] is None and "state='stationary'" in rep.details["steady_state"]["reason"]
    own = db.detailed_balance(L, state="stationary")
    assert own.method == "structured" and not own.holds and own.stationary_residual < 1e-8


def test_a_refused_steady_state_verdict_is_decided_before_the_steady_state_solve(monkeypatch):
    """A Lindbladian with more than max(d, 16) jumps gets the dense test w.r.t. any state (no operator
    sums, no eigenbasis of its own): beyond AUTO_STEADY_BALANCE_MAX_DIM its steady-state verdict is
    refused without solving for the steady state. The threshold is lowered to 4 so that d = 6 takes the
    path of 32 < d ≤ 64 with a 36×36 dense test; with 2 jumps (operator sums) the verdict is computed."""
    from detbal.balance import api

    rng = np.random.default_rng(7)
    d = 6
    H = random_hermitian(rng, d)
    many = db.Lindbladian(H, [random_matrix(rng, d) for _ in range(17)], rng.uniform(0.5, 1.5, 17))
    few = db.Lindbladian(H, [random_matrix(rng, d) for _ in range(2)], [1.0, 0.5])
    monkeypatch.setattr(db.config, "AUTO_STEADY_BALANCE_MAX_DIM", 4)
    solve = api.steady_state

    def no_solve(*args, **kwargs):
        raise AssertionError("the steady state was solved for a refused verdict")

    monkeypatch.setattr(api, "steady_state", no_solve)
    rep = db.detailed_balance(many, beta=1.0)
    assert rep.method == "dense" and rep.stationary_residual > 1e-3
    assert rep.details["steady_state"] == {
        "holds": None, "reason": "w.r.t. the steady state only the dense d²×d² test applies (d = 6); it is "
        "not run automatically beyond d = 4: call detailed_balance(L, state='stationary')"}
    monkeypatch.setattr(api, "steady_state", solve)
    rep = db.detailed_balance(few, beta=1.0)
    assert rep.method == "structured" and rep.stationary_residual > 1e-3
    own = db.detailed_balance(few, state="stationary")
    assert own.method == "structured" and rep.details["steady_state"]["residual"] == own.residual


def test_automatic_steady_state_verdict_never_runs_the_dense_test_beyond_its_size():
    """Boundary-driven XXZ chain, n = 6 (d = 64): Gibbs is not stationary and the steady state has
    coherences between degenerate levels, so a verdict w.r.t. it needs the dense d²×d² test (minutes
    at d = 64). ``detailed_balance(L, beta=...)`` says so instead of running it; on request it runs."""
    L = db.models.xxz_chain(n=6, baths="boundary").generator
    rep = db.detailed_balance(L, beta=1.0)
    assert rep.method == "structured" and not rep.holds
    own = rep.details["steady_state"]
    assert own["holds"] is None and "d = 64" in own["reason"] and "state='stationary'" in own["reason"]
    small = db.detailed_balance(db.models.xxz_chain(n=4, baths="boundary").generator, beta=1.0)
    assert small.details["steady_state"]["holds"] is not None   # d = 16: computed automatically


@pytest.mark.parametrize("beta_ref", [0.5, 1.3])
def test_one_bath_channel_row_is_the_generators_dissipative_residual(beta_ref):
    """One bath, no Lamb shift: the channel row is taken from the full certificate (no second one)
    and equals the channel's own certificate."""
    from detbal.balance import api
    from detbal.balance.reference import reference_state

    H = np.diag([0.0, 0.4, 1.1, 1.9]) + 0.2 * (np.eye(4, k=1) + np.eye(4, k=-1))
    S = np.eye(4, k=1) + np.eye(4, k=-1) + 0.3 * np.diag([1.0, -1.0, 0.5, 0.0])
    L = db.davies(H, [(S, db.Bath.ohmic(0.1, 5.0, beta=1.3))])
    for inner, s in (("kms", 0.5), ("gns", 1.0)):
        rep = db.detailed_balance(L, beta=beta_ref, inner=inner)
        ref = reference_state(L, beta=beta_ref, inner_label=inner)
        own = api._sector_residuals(L.channels[0], ref, s)
        assert rep.channels[0].residual == pytest.approx(max(own[0], own[1]), rel=1e-12, abs=1e-15)
        assert (rep.channels[0].residual > 1e-6) == (beta_ref != 1.3)
