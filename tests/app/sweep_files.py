"""Sweep-file texts shared by the sweep tests: the two-bath qubit of model_files.GOOD with its bath
temperatures as grid axes, and a plain-loop reference that builds each point independently
(numbers substituted into the text, no templating) and computes the observables directly."""

import numpy as np
from model_files import GOOD

import detbal as db
from detbal.io.model_file import loads_model

HEAD = GOOD.replace("temperature = 2.0", 'temperature = "${T_hot}"').replace(
    "temperature = 0.5", 'temperature = "${T_cold}"')


def qubit_sweep(t_hot, t_cold, observables=None, extra="") -> str:
    """The two-bath qubit swept over T_hot × T_cold (lists of numbers)."""
    obs = "" if observables is None else f"observables = {list(observables)!r}\n".replace("'", '"')
    return (HEAD + f"\n[sweep]\n{obs}{extra}\n[sweep.grid]\nT_hot = {list(map(float, t_hot))!r}\n"
            f"T_cold = {list(map(float, t_cold))!r}\n")


def reference_point(t_hot: float, t_cold: float) -> dict:
    """The observables of one point by a plain loop: the model file with the numbers written in."""
    text = GOOD.replace("temperature = 2.0", f"temperature = {t_hot!r}").replace(
        "temperature = 0.5", f"temperature = {t_cold!r}")
    m = loads_model(text)
    L, beta = m.generator, m.info.reference_beta
    kms, gns = db.detailed_balance(L, beta=beta), db.detailed_balance(L, beta=beta, inner="gns")
    rho = db.steady_state(L).state
    heat = db.heat_currents(L, rho)
    return {"kms_residual": kms.residual, "kms_holds": float(kms.holds), "gns_residual": gns.residual,
            "gns_holds": float(gns.holds), "heat_current": np.array([heat["hot"], heat["cold"]]),
            "entropy_production": db.entropy_production(L, rho).total,
            "spectral_gap": db.spectral_gap(L).gap}


def assert_matches_loop(ds, t_hot, t_cold, skip=()):
    """Every ok point of ``ds`` equals the plain loop (same code path, same BLAS threads: 1e-12)."""
    assert list(ds["bath"].values) == ["hot", "cold"]
    for i, th in enumerate(t_hot):
        for j, tc in enumerate(t_cold):
            if (th, tc) in skip:
                continue
            assert ds["status"].values[i, j] == "ok", ds["error"].values[i, j]
            ref = reference_point(th, tc)
            for name, value in ref.items():
                got = ds[name].values[i, j]
                np.testing.assert_allclose(got, value, rtol=1e-12, atol=1e-15, err_msg=f"{name} at {th}, {tc}")
