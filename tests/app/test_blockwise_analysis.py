"""The report of a Davies model too large for its d×d rate tables (the blockwise route) and of a model
built from sparse operators: the same numbers as the dense build where both run (d ≤ 64); rows that
cannot be computed say so in a note."""

import numpy as np
import pytest

import detbal as db
from detbal import config
from detbal.app.analysis import BUDGET_ADVICE, BUDGET_MARK, analyze
from detbal.generators.davies.generator import davies_bytes
from detbal.io import loads_model

ZOO = [(db.models.xxz_chain, {"n": 6}), (db.models.xxz_chain, {"n": 5, "baths": "boundary"}),
       (db.models.heisenberg_chain, {"n": 6, "baths": "boundary"})]


def _blockwise(build, kw, monkeypatch):
    """The model built while its d×d tables exceed the budget (then the budget is restored)."""
    m = build(**kw)
    budget = config.memory_budget
    monkeypatch.setattr(config, "memory_budget", 0.95 * davies_bytes(m.info.dim, len(m.baths), False, False))
    mb = build(**kw)
    monkeypatch.setattr(config, "memory_budget", budget)
    assert mb.generator.uses_blockwise and not m.generator.uses_blockwise
    return m, mb


@pytest.mark.parametrize("build,kw", ZOO)
def test_blockwise_report_equals_the_dense_one(build, kw, monkeypatch):
    m, mb = _blockwise(build, kw, monkeypatch)
    a, b = analyze(m), analyze(mb)
    for va, vb in zip(a.verdicts, b.verdicts):
        assert (va.inner, va.reference, va.holds) == (vb.inner, vb.reference, vb.holds)
        for f in ("residual", "dissipative", "hamiltonian", "stationary"):
            assert abs(getattr(va, f) - getattr(vb, f)) <= 1e-12, (va, vb)
    assert a.kernel_dim == b.kernel_dim and a.conclusion == b.conclusion
    np.testing.assert_allclose(b.populations, a.populations, rtol=0, atol=1e-13)
    assert a.steady_residual <= 1e-12 and b.steady_residual <= 1e-12
    assert abs(a.spectral_gap - b.spectral_gap) <= 1e-12 * a.spectral_gap
    assert abs(a.entropy_production - b.entropy_production) <= 1e-12
    assert a.second_law["holds"] == b.second_law["holds"]
    for ca, cb in zip(a.channels, b.channels):
        assert ca.name == cb.name and ca.holds == cb.holds
        assert abs(ca.heat_current - cb.heat_current) <= 1e-12
        assert abs(ca.entropy_production - cb.entropy_production) <= 1e-12
        assert abs(ca.kms_residual - cb.kms_residual) <= 1e-12
    assert abs(a.max_edge_current - b.max_edge_current) <= 1e-12
    # what the blockwise route does not compute is said, not left blank
    assert b.cycle is None and any(n.startswith("cycle affinity: not searched") for n in b.notes)
    if len(mb.baths) > 1:
        assert all(r.noise is None and "not computed at d =" in r.note for r in b.fluctuations)
    else:
        assert b.fluctuations == a.fluctuations


def test_blockwise_stages_beyond_the_budget_are_notes(monkeypatch):
    _, mb = _blockwise(db.models.xxz_chain, {"n": 6}, monkeypatch)
    monkeypatch.setattr(config, "memory_budget", 60_000)
    b = analyze(mb)                                  # no exception: each stage that does not fit is a note
    skipped = [n for n in b.notes if BUDGET_MARK in n]
    assert skipped and b.notes[-1] == BUDGET_ADVICE
    assert b.spectral_gap is None


_FILE = """
[system]
sites = 6
hamiltonian = "X0*X1 + Y0*Y1 + X1*X2 + Y1*Y2 + X2*X3 + Y2*Y3 + X3*X4 + Y3*Y4 + X4*X5 + Y4*Y5 + 0.4*Z0*Z1 + 0.7*Z3*Z4 + 0.2*Z0 - 0.3*Z5"
conserved = "Z0 + Z1 + Z2 + Z3 + Z4 + Z5"

[[bath]]
name = "left"
temperature = 2.0
coupling = "X0"
spectral_density = { kind = "ohmic", alpha = 0.05, cutoff = 8.0 }

[[bath]]
name = "right"
temperature = 0.5
coupling = "X5 + 0.3*Z5"
spectral_density = { kind = "ohmic", alpha = 0.03, cutoff = 8.0 }
"""


def test_model_file_built_sparse_gives_the_dense_report(monkeypatch):
    dense = loads_model(_FILE)
    monkeypatch.setattr(config, "SPARSE_MODEL_MIN_DIM", 2)
    sparse = loads_model(_FILE)
    assert not hasattr(dense.hamiltonian, "tocsr") and hasattr(sparse.hamiltonian, "tocsr")
    assert sparse.generator.eigenbasis.sectors is not None
    a, b = analyze(dense).to_dict(), analyze(sparse).to_dict()
    assert a == b
