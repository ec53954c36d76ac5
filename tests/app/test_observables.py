"""Sweep observables: the KMS/GNS verdicts a SweepPoint records are the numbers of direct
``detailed_balance`` calls, from one shared call that skips the steady-state verdict."""

import pytest

import detbal as db
from detbal.app import observables
from detbal.app.observables import SweepPoint, observable

BALANCE = ("kms_residual", "kms_holds", "gns_residual", "gns_holds")


def _point(model: str, **params) -> SweepPoint:
    return SweepPoint(db.models.get(model, **params))


def _direct(point: SweepPoint) -> dict:
    L, beta = point.generator, point.beta
    kms, gns = db.detailed_balance(L, beta=beta), db.detailed_balance(L, beta=beta, inner="gns")
    return {"kms_residual": kms.residual, "kms_holds": float(kms.holds), "gns_residual": gns.residual,
            "gns_holds": float(gns.holds)}


@pytest.mark.parametrize("model, params", [
    ("merry_go_round", {}),                                   # Davies, two baths: structured path, fails
    ("merry_go_round", {"T_hot": 1.0, "T_cold": 1.0}),        # equal temperatures: holds
    ("coupled_qubits", {}),                                   # local master equation: dense path, fails
    ("coupled_qubits", {"T_hot": 0.8, "T_cold": 0.8}),
    ("xxz_chain", {"n": 3, "baths": "boundary"}),             # d = 8, Davies, two boundary baths
])
def test_balance_observables_equal_direct_detailed_balance_calls(model, params):
    point = _point(model, **params)
    got = {name: observable(name)(point) for name in BALANCE}
    want = _direct(point)
    for name in BALANCE:
        # the same computation (structured: per inner product; dense: shared eigenframes, exact)
        assert got[name] == pytest.approx(want[name], rel=1e-12, abs=1e-300), name
    assert point.kms().inner == "kms" and point.gns().inner == "gns"
    assert "steady_state" not in point.kms().details and "steady_state" not in point.gns().details


def test_kms_and_gns_share_one_call_without_the_steady_state_verdict(monkeypatch):
    calls = []
    joint = observables.detailed_balance_inners

    def counted(*args, **kwargs):
        calls.append(kwargs)
        return joint(*args, **kwargs)

    monkeypatch.setattr(observables, "detailed_balance_inners", counted)
    point = _point("merry_go_round")
    for name in BALANCE:
        observable(name)(point)
    assert len(calls) == 1 and calls[0]["steady_state_verdict"] is False


def test_when_the_joint_call_fails_each_inner_product_is_tried_on_its_own(monkeypatch):
    def joint_fails(*args, **kwargs):
        raise db.MemoryBudgetError("deliberate failure of the joint call")

    def gns_fails(L, *, inner="kms", **kwargs):
        if inner == "gns":
            raise db.ConvergenceError("deliberate GNS failure", residual=1.0)
        return db.detailed_balance(L, inner=inner, **kwargs)

    monkeypatch.setattr(observables, "detailed_balance_inners", joint_fails)
    monkeypatch.setattr(observables, "detailed_balance", gns_fails)
    point = _point("merry_go_round")
    assert observable("kms_residual")(point) == pytest.approx(_direct(point)["kms_residual"], rel=1e-12)
    with pytest.raises(db.ConvergenceError, match="deliberate GNS failure"):
        observable("gns_residual")(point)
