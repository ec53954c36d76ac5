"""The conclusion of `analyze` for stationary Gibbs states that are not the unique attractor."""

from math import comb


import detbal as db
from detbal.app.analysis import analyze
from detbal.io.model_file import loads_model


def free_spins(n: int) -> str:
    h = " + ".join(f"Z{k}" for k in range(n))
    return (f'[system]\nsites = {n}\nhamiltonian = "{h}"\n[[bath]]\nname = "b"\ntemperature = 2.0\n'
            'spectral_density = { kind = "ohmic", alpha = 0.1, cutoff = 5.0 }\ncoupling = "X0"\n')


def test_free_spins_with_one_bath_are_not_said_to_relax_to_gibbs():
    # only spin 0 relaxes: Gibbs is stationary and DB holds, but dim ker 𝓛 = C(10, 5) (commutant
    # of the dynamics: operators on spins 1..5 conserving their magnetisation)
    a = analyze(loads_model(free_spins(6)))
    assert a.kernel_dim == comb(10, 5)
    assert a.conclusion.startswith("Gibbs at T = 2 is stationary and detailed balance holds")
    assert "steady state is not unique (dim 252): not every state relaxes to Gibbs" in a.conclusion
    assert "relaxes to Gibbs at" not in a.conclusion
    assert a.spectral_gap == 0.0  # undamped coherences of spins 1..5


def test_eight_free_spins_report_the_kernel_within_the_memory_budget(monkeypatch):
    monkeypatch.setattr(db.config, "memory_budget", 512 * 2**20)
    a = analyze(loads_model(free_spins(8)))
    assert a.kernel_dim == comb(14, 7)
    assert "not unique (dim 3432)" in a.conclusion and "relaxes to Gibbs at" not in a.conclusion
    assert any("needs" in n and "fewer sites" in n for n in a.notes)  # what did not fit, and why


def test_unknown_steady_state_is_not_reported_as_relaxation(monkeypatch):
    import detbal.app.analysis as analysis_module
    from detbal.errors import ConvergenceError

    def fail(*args, **kwargs):
        raise ConvergenceError("GMRES stopped", residual=1e-3)

    monkeypatch.setattr(analysis_module, "steady_state", fail)
    a = analyze(loads_model(free_spins(2).replace("Z0 + Z1", "Z0 + 0.7 * Z1 + 0.3 * X0 * X1")))
    assert a.kernel_dim is None
    assert "is stationary and detailed balance holds" in a.conclusion
    assert "whether every state relaxes to it is unknown" in a.conclusion
