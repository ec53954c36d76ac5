"""Features merged in parallel, used together: counting statistics on a block-eigenbasis (conserved)
Davies generator and on a Gibbs sampler, and the JSON round trip of machine, sampler and conserved
analyses."""

import json

import numpy as np
import pytest

import detbal as db
from detbal.app.analysis import Analysis, validate_dict
from detbal.errors import InputError

N = 3
_P = {"I": np.eye(2), "X": np.array([[0.0, 1.0], [1.0, 0.0]]), "Y": np.array([[0, -1j], [1j, 0]]),
      "Z": np.diag([1.0, -1.0])}


def site_op(ops: dict) -> np.ndarray:
    out = np.array([[1.0]])
    for j in range(N):
        out = np.kron(out, _P[ops.get(j, "I")])
    return out


def xxz_two_baths(conserved: bool):
    """XXZ chain in a field (non-degenerate), magnetisation conserved by H; the couplings X_0 + 0.3 Z_1
    and X_2 do not conserve it (the block eigenbasis must still give the same generator)."""
    H = sum(site_op({k: "X", k + 1: "X"}) + site_op({k: "Y", k + 1: "Y"}).real + 0.5 * site_op({k: "Z", k + 1: "Z"})
            for k in range(N - 1)) + sum(0.2 * (k + 1) * site_op({k: "Z"}) for k in range(N))
    Q = sum(site_op({k: "Z"}) for k in range(N))
    cps = [(site_op({0: "X"}) + 0.3 * site_op({1: "Z"}), db.Bath.ohmic(0.05, 10.0, beta=1.0, name="cold")),
           (site_op({N - 1: "X"}), db.Bath.ohmic(0.05, 10.0, beta=0.5, name="hot"))]
    return db.davies(H, cps, conserved=Q if conserved else None)


def test_counting_statistics_of_a_conserved_davies_generator_equal_the_dense_ones():
    dense, block = xxz_two_baths(False), xxz_two_baths(True)
    assert block.eigenbasis.sectors is not None and dense.eigenbasis.sectors is None
    a, b = (db.counting_statistics(L, {"hot": "energy"}, order=3) for L in (dense, block))
    np.testing.assert_allclose([b.mean, b.noise, b.skewness], [a.mean, a.noise, a.skewness], rtol=1e-10)
    rho = db.steady_state(block).state
    assert b.mean == pytest.approx(db.heat_currents(block, rho)["hot"], rel=1e-10)
    assert db.gallavotti_cohen(block, {"hot": "energy"}).residual < 1e-12
    assert db.detailed_balance(block, beta=1.0).residual == pytest.approx(
        db.detailed_balance(dense, beta=1.0).residual, rel=1e-10)
    assert float(db.spectral_gap(block)) == pytest.approx(float(db.spectral_gap(dense)), rel=1e-10)


def test_a_gibbs_sampler_cannot_be_counted_by_name_and_says_why():
    G = db.models.tfim_sampler(n=2).generator
    with pytest.raises(InputError, match="'transition'.*no jump"):
        db.counting_statistics(G, {"transition": "energy"})


@pytest.mark.parametrize("name, params, key", [("ssd_maser", {}, "machine"), ("otto_qubit", {}, "machine"),
                                               ("tfim_sampler", {"n": 2}, "sampler"),
                                               ("xxz_chain", {"n": 3}, "model")])
def test_json_round_trip_of_machine_sampler_and_conserved_analyses(name, params, key):
    a = db.analyze(db.models.get(name, **params))
    d = json.loads(json.dumps(a.to_dict()))
    validate_dict(d)
    assert d[key] is not None
    assert Analysis.from_dict(d) == a
    if name == "xxz_chain":                      # the zoo chain declares its magnetisation
        assert d["model"]["system"].get("conserved")
