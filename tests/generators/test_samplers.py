"""Exact quantum Gibbs samplers (CKG, DLL): KMS detailed balance, trace preservation, stationarity of
the Gibbs state and complete positivity, each tested separately (a KMS residual can pass while trace
preservation fails), for random complex Hamiltonians including degenerate spectra and degenerate
Bohr frequencies, every kind and every weight."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import unitary_group
from systems import random_hermitian, random_matrix

import detbal as db
from detbal.generators.samplers import gibbs_sampler

CASES = [("ckg", w) for w in ("metropolis", "glauber", "gaussian")] + [("dll", w) for w in ("gaussian", "metropolis", "glauber")]


def _system(kind: str, seed: int = 3):
    """(H, jumps): 'generic' a random complex H (d = 5); 'degenerate' H = U diag(0, 1, 1, 2, 3.5) U†
    (a doubly degenerate level and the Bohr frequency 1 occurring four times) with a random unitary U.
    Jumps: a random Hermitian one and a random non-Hermitian A together with A†."""
    rng = np.random.default_rng(seed)
    d = 5
    if kind == "generic":
        H = random_hermitian(rng, d)
    else:
        U = unitary_group.rvs(d, random_state=seed)
        H = (U * np.array([0.0, 1.0, 1.0, 2.0, 3.5])) @ U.conj().T
    A = random_matrix(rng, d)
    return H, [random_hermitian(rng, d), A, A.conj().T]


def _vec(X):
    return X.reshape(-1, order="F")


def _checks(G, H, beta):
    """(KMS symmetric residual, trace-preservation error, ‖𝓛(σ)‖, min Choi eigenvalue, GNS residual),
    the last four relative to ‖𝓛‖_F."""
    L = G.to_dense()
    norm = np.linalg.norm(L)
    d = G.dim
    sigma = db.gibbs_state(H, beta)
    kms = db.detailed_balance(G, beta=beta, method="dense")
    gns = db.detailed_balance(G, beta=beta, method="dense", inner="gns")
    tp = np.linalg.norm(_vec(np.eye(d)).conj() @ L) / norm
    stat = np.linalg.norm(L @ _vec(sigma)) / norm
    return kms.symmetric_residual, tp, stat, db.complete_positivity(L) / norm, gns.residual


@pytest.mark.parametrize("spectrum", ["generic", "degenerate"])
@pytest.mark.parametrize("kind,weight", CASES)
def test_samplers_are_kms_balanced_trace_preserving_stationary_and_cp(kind, weight, spectrum):
    """Every kind and weight: KMS-self-adjoint (K = 0) to 1e-10, and separately trace preserving,
    ‖𝓛(σ)‖ ≤ 1e-10 and completely positive; not GNS-detailed-balanced."""
    H, jumps = _system(spectrum)
    beta = 0.8
    G = gibbs_sampler(H, beta, jumps, kind=kind, weight=weight)
    kms, tp, stat, choi, gns = _checks(G, H, beta)
    assert kms <= 1e-10
    assert tp <= 1e-10
    assert stat <= 1e-10
    assert choi >= -1e-12
    assert gns > 1e-2


@pytest.mark.parametrize("kind", ["ckg", "dll"])
def test_structured_certificate_reports_symmetric_and_blames_nothing(kind):
    """detailed_balance(G, beta) takes the operator-sum path (no d²×d² matrix) when the quadrature
    jumps are few enough (DLL always), reports symmetric=True and splits the rows into the transition
    part and the loss + coherent part, each KMS-self-adjoint on its own."""
    H, jumps = _system("generic")
    G = gibbs_sampler(H, 1.0, jumps, kind=kind)
    rep = db.detailed_balance(G, beta=1.0, method="structured")
    assert rep.method == "structured"
    assert rep.holds and rep.symmetric and rep.symmetric_residual <= 1e-12
    assert rep.stationary_residual <= 1e-12
    assert {c.name for c in rep.channels} == {"transition", "loss + coherent"}
    assert all(c.residual <= 1e-10 for c in rep.channels)
    gns = db.detailed_balance(G, beta=1.0, method="structured", inner="gns")
    assert not gns.holds


@pytest.mark.parametrize("kind", ["ckg", "dll"])
def test_matrix_free_apply_equals_dense(kind):
    """apply/adjoint (CKG: the symmetric ω-quadrature at quadrature_tol = 1e-14) equal the dense
    closed-form generator to 1e-12 (relative to ‖𝓛‖_F)."""
    H, jumps = _system("degenerate")
    rng = np.random.default_rng(11)
    G = gibbs_sampler(H, 1.3, jumps, kind=kind, quadrature_tol=1e-14)
    L = G.to_dense()
    X = random_matrix(rng, G.dim)
    scale = np.linalg.norm(L) * np.linalg.norm(X)
    assert np.linalg.norm(_vec(G.apply(X)) - L @ _vec(X)) <= 1e-12 * scale
    assert np.linalg.norm(_vec(G.adjoint(X)) - L.conj().T @ _vec(X)) <= 1e-12 * scale
    assert np.linalg.norm(sum(c.to_dense() for c in G.channels) - L) <= 1e-12 * np.linalg.norm(L)
