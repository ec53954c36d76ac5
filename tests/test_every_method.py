"""Every analytic system through every generator type and every algorithm that applies to it
(the harness of DESIGN.md, after dynamiqs' IntegratorTester): the same superoperator must give the
same steady state, gap, detailed-balance verdict and residuals, whichever path computes them, and
each must equal the closed form of :mod:`systems`. A path that does not apply raises InputError."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

import detbal as db
from systems import analytic_systems

SYSTEMS = analytic_systems()
KINDS = ("lindblad", "davies", "dense")

# which algorithms apply to which generator type (everything else must refuse with InputError)
STEADY = {"lindblad": ("auto", "direct", "iterative", "dense", "shift-invert"),
          "davies": ("auto", "structured", "direct", "dense", "shift-invert"),
          "dense": ("auto", "direct", "dense", "shift-invert")}
BALANCE = {"lindblad": ("auto", "dense", "structured", "probe"),
           "davies": ("auto", "dense", "structured", "probe"),
           "dense": ("auto", "dense", "probe")}
GAP_PATHS = ("auto", "hermitian", "non-hermitian")
EVOLVE = {"lindblad": ("auto", "eig", "krylov", "expm-multiply"),
          "davies": ("auto", "structured", "eig", "krylov", "expm-multiply"),
          "dense": ("auto", "eig", "krylov", "expm-multiply")}


def _cases(table):
    return [pytest.param(system, kind, method, id=f"{system.name}-{kind}-{method}")
            for system in SYSTEMS for kind in KINDS for method in table[kind]]


@pytest.mark.parametrize("system", SYSTEMS, ids=lambda s: s.name)
def test_every_generator_type_is_the_same_superoperator(system):
    reference = system.generators["lindblad"].to_dense()
    for kind in KINDS:
        M = system.generators[kind].to_dense()
        assert np.abs(M - reference).max() <= 1e-13 * np.abs(reference).max(), kind


@pytest.mark.parametrize("system, kind, method", _cases(STEADY))
def test_steady_state_equals_the_closed_form_on_every_path(system, kind, method):
    ss = db.steady_state(system.generators[kind], method=method)
    assert ss.kernel_dim == 1
    assert np.abs(ss.state - system.steady_state).max() < 1e-12


@pytest.mark.parametrize("system, kind, method", _cases(BALANCE))
def test_detailed_balance_verdict_and_residual_agree_on_every_path(system, kind, method):
    for inner in ("kms", "gns", 0.3):
        rep = db.detailed_balance(system.generators[kind], beta=system.beta, inner=inner, method=method)
        assert rep.holds == system.holds, (inner, rep)
        # H is diagonal and commutes with σ: the whole violation is dissipative (THEORY §4)
        assert rep.hamiltonian_residual < 1e-12, (inner, rep)
        if method == "probe":  # a random estimate: its confidence interval is in the report
            assert rep.dissipative_residual == pytest.approx(system.dissipative_residual, rel=0.6, abs=1e-12)
        else:
            assert rep.dissipative_residual == pytest.approx(system.dissipative_residual, rel=1e-10, abs=1e-13)


@pytest.mark.parametrize("system, kind, method", [
    pytest.param(s, k, m, id=f"{s.name}-{k}-{m}") for s in SYSTEMS for k in KINDS for m in ("structured",)
    if m not in BALANCE[k]] + [
    pytest.param(s, k, m, id=f"{s.name}-{k}-{m}") for s in SYSTEMS for k in KINDS for m in ("structured",)
    if m not in STEADY[k]])
def test_paths_that_do_not_apply_refuse_by_name(system, kind, method):
    G = system.generators[kind]
    with pytest.raises(db.InputError, match="structured"):
        if method not in BALANCE[kind]:
            db.detailed_balance(G, beta=system.beta, method=method)
        else:
            db.steady_state(G, method=method)


@pytest.mark.parametrize("system", [s for s in SYSTEMS if s.gap is not None], ids=lambda s: s.name)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("path", GAP_PATHS)
def test_spectral_gap_equals_the_closed_form_on_every_path(system, kind, path):
    gap = db.spectral_gap(system.generators[kind], path=path)
    assert gap.gap == pytest.approx(system.gap, rel=1e-12)


@pytest.mark.parametrize("system", SYSTEMS, ids=lambda s: s.name)
def test_spectral_gaps_of_every_generator_type_agree(system):
    if not system.holds:
        with pytest.raises(db.InputError, match="hermitian"):
            db.spectral_gap(system.generators["dense"], path="hermitian")
    paths = GAP_PATHS if system.holds else ("auto", "non-hermitian")  # 'hermitian' needs KMS-DB
    gaps = {(kind, path): db.spectral_gap(system.generators[kind], path=path).gap
            for kind in KINDS for path in paths}
    reference = -np.sort(np.linalg.eigvals(system.generators["lindblad"].to_dense()).real)[-2]
    for key, g in gaps.items():
        assert g == pytest.approx(reference, rel=1e-10), key


@pytest.mark.parametrize("system, kind, method", _cases(EVOLVE))
def test_evolution_equals_the_matrix_exponential_on_every_path(system, kind, method):
    G = system.generators[kind]
    d = G.dim
    rng = np.random.default_rng(7)
    X = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    rho0 = X @ X.conj().T
    rho0 /= np.trace(rho0)
    times = np.linspace(0.0, 3.0, 7)
    M = system.generators["lindblad"].to_dense()
    exact = np.stack([(expm(M * t) @ rho0.reshape(-1, order="F")).reshape(d, d, order="F") for t in times])
    ev = db.evolve(G, rho0, times, method=method)
    # expm of the 9×9 / 4×4 matrix is itself accurate to ~1e-15; the Krylov steps control 1e-12 per unit time
    assert np.abs(ev.states - exact).max() < 1e-11
