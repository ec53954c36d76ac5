"""The dense test's round-off bookkeeping, evaluated without d²×d² temporaries, against the direct formulas.

dense_residuals forms the commutator 𝓒 = −i[K, ·] only on its 2d³ entries, the threshold η(cosh x + 4)
from two outer products, and each discounted norm from one |·| pass; these must equal (to round-off)
the formulas written out with dense matrices: 𝓒 = −i(I ⊗ K − Kᵀ ⊗ I) (column stacking), the log-domain
cosh, and ‖R ∘ max(0, 1 − τ/|R|)‖_F — also for matrices stored in Fortran order or strided (the
eigenframe matrix of a generator is F-ordered: a copy of |R| made by a reshape once hid the discount of
‖𝓓̂‖)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detbal._checks import frobenius
from detbal.balance.dense import _partial_trace, _round_off, _subtract_commutator
from detbal.balance.residuals import beyond_round_off, beyond_round_off_norms, round_off_threshold


def _commutator_matrix(K):
    d = K.shape[0]
    eye = np.eye(d)
    return -1j * (np.kron(eye, K) - np.kron(K.T, eye))


def _random(rng, shape):
    return rng.normal(size=shape) + 1j * rng.normal(size=shape)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_commutator_support_partial_trace_and_entrywise_bound_equal_the_dense_formulas(d):
    rng = np.random.default_rng(d)
    K = _random(rng, (d, d))
    K = (K + K.conj().T) / 2
    X = _random(rng, (d * d, d * d))
    for layout in (X.copy(), np.asfortranarray(X)):
        Y = layout.copy(order="K")
        _subtract_commutator(Y, K)
        assert np.abs(Y - (X - _commutator_matrix(K))).max() <= 1e-14
    T = np.einsum("ajbj->ab", X.reshape((d, d, d, d), order="F"))
    assert np.abs(_partial_trace(X) - T).max() <= 1e-13
    c = 4 * d * np.finfo(float).eps
    want = c * (np.abs(X) + np.abs(X).T + np.abs(_commutator_matrix(K)))
    assert np.abs(_round_off(X, K) - want).max() <= 1e-14 * want.max()


@pytest.mark.parametrize("span", [3.0, 400.0, 590.0, 900.0, 5000.0])
def test_separable_threshold_equals_the_log_domain_cosh(span):
    """η(cosh(f_b − f_a) + 4)e^{−C}: two outer products while f spans ≤ 600, else the log domain (inf where
    beyond the float range, never NaN)."""
    rng = np.random.default_rng(1)
    f = rng.uniform(-span / 2, span / 2, 9)
    for eta, C in [(1e-13, 0.0), (2e-9, 3.0), (1e-12, -40.0), (1e-300, 700.0)]:
        got = round_off_threshold(eta, f, C)
        x = np.abs(f[None, :] - f[:, None])
        with np.errstate(over="ignore"):
            want = np.exp(x + np.log(0.5 * (1 + np.exp(-2 * x)) + 4 * np.exp(-x)) + math.log(eta) - C)
        assert not np.any(np.isnan(got))
        finite = np.isfinite(want)
        assert np.array_equal(np.isfinite(got), finite)
        assert np.allclose(got[finite], want[finite], rtol=1e-12, atol=0.0)


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_discounted_norms_equal_the_shrunk_matrix_norm_in_any_memory_layout(layout):
    rng = np.random.default_rng(7)
    big = _random(rng, (40, 40))
    R = {"C": big[:20, :20].copy(), "F": np.asfortranarray(big[:20, :20]), "strided": big[::2, ::2]}[layout]
    tau = rng.uniform(0.0, 2.0, R.shape)
    plain, beyond = beyond_round_off_norms(R, tau)
    assert plain == pytest.approx(frobenius(R), rel=1e-14)
    assert beyond == pytest.approx(frobenius(beyond_round_off(R, tau)), rel=1e-13)
    assert 0 < beyond < plain
    huge = R * 1e200  # beyond 1e±100 the squares are scaled (no overflow)
    assert beyond_round_off_norms(huge, tau * 1e200)[1] == pytest.approx(1e200 * beyond, rel=1e-13)


def _same_report(a, b, rel):
    assert a.holds == b.holds and a.inner == b.inner and a.method == b.method
    for key in ("residual", "dissipative_residual", "hamiltonian_residual", "symmetric_residual"):
        assert getattr(a, key) == pytest.approx(getattr(b, key), rel=rel, abs=1e-15), key
    assert [(c.name, c.holds) for c in a.channels] == [(c.name, c.holds) for c in b.channels]
    for c, e in zip(a.channels, b.channels):
        assert c.residual == pytest.approx(e.residual, rel=rel, abs=1e-15)


def test_kms_gns_and_s_in_one_call_equal_separate_calls():
    """detailed_balance_inners shares the reference and the eigenframe matrices: the reports are the
    separate calls' (dense path: exactly; the other paths run per s anyway)."""
    import detbal as db
    from detbal.balance.api import detailed_balance_inners

    X = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]], float)
    H = np.diag([0.0, 1.0, 2.5])
    two = db.davies(H, [(X, db.Bath.ohmic(0.1, 4.0, 1.0, name="hot")), (X, db.Bath.ohmic(0.1, 4.0, 3.0, name="cold"))])
    rho = db.steady_state(two).state
    inners = ("kms", "gns", 0.3)
    for kw in ({"state": rho, "method": "dense"}, {"beta": 2.0}, {"beta": 2.0, "method": "dense"}):
        together = detailed_balance_inners(two, inners, **kw)
        for inner, rep in zip(inners, together):
            _same_report(rep, db.detailed_balance(two, inner=inner, **kw), rel=0.0)


def test_davies_rotated_from_its_eigenbasis_equals_its_matrix_in_the_original_basis():
    """The dense path rotates a Davies generator from its own eigenbasis straight into σ's basis V (one
    rotation by V_E†V); rotating its d²×d² matrix in the original basis by V (two rotations) gives the same
    matrix to round-off, with the same error bound η."""
    import detbal as db
    from detbal.balance.sigma_transform import eigenframe_matrix, eigenframe_with_round_off

    rng = np.random.default_rng(3)
    A = rng.normal(size=(4, 4))
    H = A + A.T
    S = rng.normal(size=(4, 4))
    D = db.davies(H, [(S + S.T, db.Bath.ohmic(0.2, 4.0, 1.0, name="hot")),
                      (np.diag([1.0, -1.0, 0.5, 2.0]) + S @ S.T, db.Bath.ohmic(0.2, 4.0, 2.0, name="cold"))])
    V, _ = np.linalg.qr(_random(rng, (4, 4)))
    M, eta = eigenframe_with_round_off(D, V, 1e-14)
    direct = D.to_dense()
    want = eigenframe_matrix(direct, V)
    assert np.abs(M - want).max() <= 1e-13 * np.abs(want).max()
    assert eta == pytest.approx(frobenius(direct) * (16 * np.finfo(float).eps + 4e-14), rel=1e-12)
