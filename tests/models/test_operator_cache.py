"""operator_cache: within the block each operator expression is parsed and checked once; the
models built are the ones built without it, the matrices handed out are independent copies, and
failures are raised again (not cached)."""

import numpy as np
import pytest

import detbal as db
from detbal.models import spec as spec_module
from detbal.models.spec import SpecError, operator_cache


@pytest.fixture
def parses(monkeypatch):
    calls = []
    parse = spec_module.parse_operator

    def counted(text, space, name="hamiltonian", **kw):
        calls.append(text)
        return parse(text, space, name, **kw)

    monkeypatch.setattr(spec_module, "parse_operator", counted)
    return calls


def _models(temperatures):
    return [db.models.merry_go_round(T_hot=t) for t in temperatures]


def test_each_expression_is_parsed_once_per_block_and_the_models_are_unchanged(parses):
    plain = _models([1.0, 2.0, 3.0])
    per_model = len(parses) // 3
    assert per_model >= 3                                           # H and two couplings at least
    parses.clear()
    with operator_cache():
        cached = _models([1.0, 2.0, 3.0])
    assert len(parses) == per_model                                 # the first model's only
    for a, b in zip(plain, cached):
        np.testing.assert_array_equal(a.hamiltonian, b.hamiltonian)
        np.testing.assert_array_equal(a.generator.to_dense(), b.generator.to_dense())
    parses.clear()
    _models([1.0])                                                  # the block is over: parsed again
    assert len(parses) == per_model


def test_cached_matrices_are_copies():
    space, key = db.expressions.Space(sites=2), ("system", "hamiltonian")
    with operator_cache():
        for _ in range(3):
            op = spec_module._operator("Z0 + 0.5*X0*X1", space, key, "hamiltonian", hermitian=True)
            np.testing.assert_array_equal(op, db.expressions.parse_operator("Z0 + 0.5*X0*X1", space))
            op[:] = 0                                               # whoever received it may write to it


def test_a_failing_expression_is_raised_every_time(parses):
    space = db.expressions.Space(levels=3)
    with operator_cache():
        for _ in range(2):
            with pytest.raises(SpecError, match="Hermitian"):
                spec_module._operator("P01", space, ("system", "hamiltonian"), "hamiltonian", hermitian=True)
    assert parses == ["P01", "P01"]
