"""Parameter sweeps: a real Dask LocalCluster gives the plain loop's numbers, failing points are
recorded while the rest complete, a scheduler started here is reached through --scheduler, and
the recorded physics obeys the first and second laws."""

import logging
import os
import subprocess
import sys

import numpy as np
import pytest
from sweep_files import assert_matches_loop, qubit_sweep
from typer.testing import CliRunner

import detbal as db
from detbal.app.sweep import MAX_BATCH, batch_size
from detbal.cli import app

pytest.importorskip("dask.distributed")
pytest.importorskip("xarray")
runner = CliRunner()

T_HOT, T_COLD = [1.0, 2.0], [0.5, 1.0, 2.0]


def test_two_by_three_sweep_on_a_local_cluster_equals_a_plain_loop(tmp_path, monkeypatch):
    # the LocalCluster is started by the sweep (2 worker processes), one point per task so both
    # work; an extra observable records the process that evaluated each point
    from detbal.app import observables

    monkeypatch.setitem(observables._REGISTRY, "pid", db.Observable("pid", lambda p: os.getpid(), "process id"))
    path = tmp_path / "q.toml"
    path.write_text(qubit_sweep(T_HOT, T_COLD, observables=[*observables.DEFAULT_OBSERVABLES, "pid"]))
    ds = db.sweep(path, workers=2, batch=1)
    pids = set(ds["pid"].values.ravel().tolist())
    assert len(pids) == 2 and os.getpid() not in pids              # both worker processes, none here
    assert ds.sizes == {"T_hot": 2, "T_cold": 3, "bath": 2}
    assert ds.attrs["scheduler"] == "LocalCluster(2 workers)" and ds.attrs["detbal_version"] == db.__version__
    assert "T_hot" in ds.attrs["model_source"] and ds.attrs["model_name"] == "two-bath qubit"
    assert_matches_loop(ds, T_HOT, T_COLD)


def test_the_recorded_physics_obeys_both_laws_and_db_holds_only_at_equal_temperatures():
    ds = db.sweep("merry_go_round", grid={"T_hot": [0.5, 1.0, 2.0, 4.0], "T_cold": [1.0, 2.0]}, workers=0)
    J = ds["heat_current"].values                                    # (T_hot, T_cold, bath)
    scale = np.max(np.abs(J))
    assert np.all(np.abs(J.sum(axis=-1)) <= 1e-10 * scale)          # first law: Σ_b J_b = 0
    beta = 1 / np.stack(np.meshgrid(ds["T_hot"], ds["T_cold"], indexing="ij"), axis=-1)
    ep = -(beta * J).sum(axis=-1)                                    # Π = −Σ_b β_b J_b
    np.testing.assert_allclose(ds["entropy_production"].values, ep, rtol=1e-9, atol=1e-14)
    assert np.all(ds["entropy_production"].values >= -1e-14)        # second law
    equal = ds["T_hot"].values[:, None] == ds["T_cold"].values[None, :]
    np.testing.assert_array_equal(ds["kms_holds"].values == 1.0, equal)
    assert np.all((ds["kms_residual"].values > 1e-3) | equal)


def test_a_failing_point_is_recorded_and_the_rest_complete(tmp_path):
    path = tmp_path / "q.toml"
    path.write_text(qubit_sweep(T_HOT, [0.5, -1.0, 2.0]))            # T_cold = −1 cannot be built
    ds = db.sweep(path, workers=0)
    status = ds["status"].values
    assert list(status[:, 1]) == ["error", "error"]
    assert all("bath[1].temperature" in e and "≥ 0" in e for e in ds["error"].values[:, 1])
    assert np.all(np.isnan(ds["kms_residual"].values[:, 1]))
    assert_matches_loop(ds, T_HOT, [0.5, -1.0, 2.0], skip={(t, -1.0) for t in T_HOT})


def test_an_observable_that_fails_marks_its_point_and_keeps_the_other_observables(monkeypatch):
    from detbal.app import observables

    def fails_when_hot(p):
        if p.model.baths[0].temperature > 1.5:
            raise db.ConvergenceError("deliberate failure", residual=1.0)
        return 1.0

    monkeypatch.setitem(observables._REGISTRY, "fragile",
                        db.Observable("fragile", fails_when_hot, "fails above T_hot = 1.5"))
    ds = db.sweep("merry_go_round", grid={"T_hot": [1.0, 2.0]}, observables=["fragile", "kms_residual"],
                  workers=0)
    assert list(ds["status"].values) == ["ok", "error"]
    assert ds["error"].values[1] == "fragile: ConvergenceError: deliberate failure"
    assert np.isnan(ds["fragile"].values[1]) and np.isfinite(ds["kms_residual"].values[1])


def test_the_scheduler_option_reaches_a_scheduler_started_here_and_records_a_failing_point(tmp_path):
    from dask.distributed import LocalCluster

    path = tmp_path / "q.toml"
    path.write_text(qubit_sweep([1.0, 3.0], [-0.5, 0.5], observables=["kms_holds", "heat_current"]))
    out = tmp_path / "r.nc"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp://", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        r = runner.invoke(app, ["sweep", str(path), "--scheduler", cluster.scheduler_address, "--out", str(out),
                                "--batch", "1", "--quiet"])
        assert r.exit_code == 0, r.output
        assert "run_batch" in cluster.scheduler.task_prefixes             # the tasks ran on this scheduler
    assert "2 ok, 2 error" in r.output and "results written to" in r.output
    ds = db.sweep(path, out=out, workers=0)                            # resumed: nothing left to run
    assert ds.attrs["points_evaluated"] == 0
    assert list(ds["status"].values[:, 0]) == ["error", "error"]


def test_sweeping_a_zoo_model_from_the_command_line(tmp_path):
    r = runner.invoke(app, ["sweep", "merry_go_round", "--grid", "T_hot=1:4:4", "-p", "T_cold=2",
                            "-o", "kms_holds", "--workers", "0", "--out", str(tmp_path / "r.csv"),
                            "--plots", str(tmp_path / "plots"), "-q"])
    assert r.exit_code == 0, r.output
    assert "merry_go_round" in r.output and "4 ok" in r.output
    rows = (tmp_path / "r.csv").read_text().splitlines()
    assert rows[1] == "T_hot,kms_holds,seconds,status,error"
    assert [row.split(",")[1] for row in rows[2:-1]] == ["0.0", "1.0", "0.0", "0.0"]   # holds at T_hot = T_cold
    assert (tmp_path / "plots" / "sweep_kms_holds.png").stat().st_size > 0


def test_batches_hold_a_fifth_of_a_second_or_fifty_points_and_balance_the_workers():
    assert batch_size(1e-4, 10_000, 2) == MAX_BATCH           # cheap points: 50 per task
    assert batch_size(0.02, 10_000, 2) == 10                   # ≈ 0.2 s per task
    assert batch_size(1.0, 10_000, 2) == 1
    assert batch_size(1e-4, 40, 2) == 5                        # ≥ 4 tasks per worker
    assert batch_size(1e-4, 1, 8) == 1


def test_importing_detbal_does_not_import_dask_or_xarray():
    code = "import sys, detbal; print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed', " \
           "'xarray', 'pandas'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_task_that_dies_is_recorded_as_lost_and_runs_again_on_resume(tmp_path, monkeypatch):
    # the cluster's workers are threads of this process, so a patched batch function reaches them:
    # the task holding T_hot = 2 fails outside the points' own error handling, as when a worker dies
    from dask.distributed import Client, LocalCluster

    from detbal.app import sweep as sweep_module

    evaluate, doomed = sweep_module.evaluate, {2.0}

    def dies_at_doomed_points(spec, observables, params):
        if params["T_hot"] in doomed:
            raise RuntimeError("worker died")
        return evaluate(spec, observables, params)

    monkeypatch.setattr(sweep_module, "evaluate", dies_at_doomed_points)
    spec = db.sweep_spec("merry_go_round", grid={"T_hot": [1.0, 2.0, 3.0]}, observables=["kms_holds"])
    out = tmp_path / "r.nc"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        ds = db.sweep(spec, client=client, batch=1, out=out)
        assert list(ds["status"].values) == ["ok", "lost", "ok"]
        assert ds["error"].values[1] == "task: RuntimeError: worker died"
        doomed.clear()
        again = db.sweep(spec, client=client, batch=1, out=out)
    assert again.attrs["points_evaluated"] == 1
    assert list(again["status"].values) == ["ok"] * 3


def test_figures_hatch_the_cells_where_detailed_balance_breaks_and_mark_points_not_computed():
    from detbal.app.sweep_plots import sweep_figures

    ds = db.sweep("merry_go_round", grid={"T_hot": [1.0, 2.0], "T_cold": [1.0, 2.0]},
                  observables=["kms_holds", "spectral_gap"], workers=0)
    ax = sweep_figures(ds)["sweep_spectral_gap"].axes[0]
    hatched = [c for c in ax.collections if c.get_hatch() == "//"]
    assert len(hatched) == 1 and len(hatched[0].get_paths()) == 2        # the two cells with T_hot ≠ T_cold
    line = db.sweep("thermal_qubit", grid={"temperature": [0.0, 1.0, 2.0]}, observables=["kms_residual"], workers=0)
    ax = sweep_figures(line)["sweep_kms_residual"].axes[0]
    marks = [m for m in ax.lines if m.get_label().startswith("not computed")]
    assert len(marks) == 1 and list(marks[0].get_xdata()) == [0.0]       # T = 0: Gibbs is not faithful


def test_counting_and_machine_observables_equal_the_direct_calls():
    # the registry's counting-statistics and machine observables are the library's own numbers
    grid = {"T_hot": [1.0, 3.0]}
    ds = db.sweep("merry_go_round", grid=grid, observables=["current_noise", "tur_ratio", "entropy_production"],
                  workers=0)
    assert (ds["status"] == "ok").all()
    for T in grid["T_hot"]:
        L = db.models.merry_go_round(T_hot=T).generator
        for bath in ("hot", "cold"):
            cs = db.counting_statistics(L, {bath: "energy"})
            point = {"T_hot": T, "bath": bath}
            assert float(ds["current_noise"].sel(point)) == pytest.approx(cs.noise, rel=1e-10)
            assert float(ds["tur_ratio"].sel(point)) == pytest.approx(db.tur_ratio(L, {bath: "energy"}), rel=1e-8)
    ds = db.sweep("ssd_maser", grid={"omega_c": [0.5, 1.0]}, observables=["efficiency"], workers=0)
    assert (ds["status"] == "ok").all()
    for wc in (0.5, 1.0):   # η = 1 − ω_c/ω_h exactly (ω_h = 3 by default), for any rates
        assert float(ds["efficiency"].sel(omega_c=wc)) == pytest.approx(1 - wc / 3.0, abs=1e-12)
    bad = db.sweep("merry_go_round", grid={"T_hot": [2.0]}, observables=["efficiency"], workers=0)
    assert (bad["status"] == "error").all() and "machine" in str(bad["error"].values.ravel()[0])


def test_noise_and_tur_share_one_counting_statistics_per_bath_and_point(monkeypatch):
    # current_noise and tur_ratio need the same cumulants c₁, c₂ of each bath: computed once per
    # (point, bath), and the numbers are those of the direct library calls
    from detbal.thermo import fcs

    cumulants_of, calls = fcs.cumulants_of, []

    def counted(prob, f, order):                  # the Drazin recursion behind counting_statistics and tur_ratio
        calls.append(prob.fields[f].label)
        return cumulants_of(prob, f, order)

    monkeypatch.setattr(fcs, "cumulants_of", counted)
    grid = {"T_hot": [1.0, 3.0], "T_cold": [0.5]}
    ds = db.sweep("merry_go_round", grid=grid, observables=["current_noise", "tur_ratio"], workers=0)
    assert (ds["status"] == "ok").all()
    assert sorted(calls) == sorted(["hot:energy", "cold:energy"] * 2)      # 2 points × 2 baths, once each
    monkeypatch.undo()
    for T in grid["T_hot"]:
        L = db.models.merry_go_round(T_hot=T, T_cold=0.5).generator
        ep = db.entropy_production(L, db.steady_state(L).state).total
        for bath in ("hot", "cold"):
            point = {"T_hot": T, "T_cold": 0.5, "bath": bath}
            assert float(ds["current_noise"].sel(point)) == db.counting_statistics(L, {bath: "energy"}).noise
            assert float(ds["tur_ratio"].sel(point)) == db.tur_ratio(L, {bath: "energy"}, entropy_production_rate=ep)
            assert float(ds["tur_ratio"].sel(point)) == pytest.approx(db.tur_ratio(L, {bath: "energy"}), rel=1e-10)


def test_the_tur_of_counting_statistics_is_the_tur_ratio_and_refuses_what_it_cannot_be():
    L = db.models.merry_go_round(T_hot=2.0).generator
    ep = db.entropy_production(L, db.steady_state(L).state).total
    cs = db.counting_statistics(L, {"hot": "energy"})
    assert cs.tur(ep) == db.tur_ratio(L, {"hot": "energy"}, entropy_production_rate=ep)
    assert cs.tur(ep) >= 2 - 1e-12                              # populations only: a classical jump process
    with pytest.raises(db.InputError, match="order ≥ 2"):
        db.counting_statistics(L, {"hot": "energy"}, order=1).tur(ep)
    with pytest.raises(db.InputError, match="one counting field"):
        db.counting_statistics(L, [{"hot": "energy"}, {"cold": "energy"}]).tur(ep)


def test_the_command_line_sweep_on_a_local_cluster_leaves_no_traceback_on_stderr(tmp_path):
    # a real LocalCluster of 2 worker processes started and closed by `detbal sweep`: the workers
    # write to the same stderr, so a heartbeat traceback at shutdown would show here
    cmd = [sys.executable, "-m", "detbal.cli", "sweep", "merry_go_round", "--grid", "T_hot=1:3:3", "--grid",
           "T_cold=0.5:2:2", "-o", "kms_holds", "--workers", "2", "--batch", "1", "--out", str(tmp_path / "r.nc"),
           "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "6 ok" in proc.stdout
    for bad in ("Traceback", "CommClosedError", " - ERROR - "):
        assert bad not in proc.stderr, proc.stderr


def test_only_the_benign_shutdown_logs_are_dropped_and_only_while_closing(capfd):
    # a worker of a LocalCluster started as db.sweep starts it logs the heartbeat failure a closing
    # scheduler causes (ERROR, CommClosedError traceback) and an unrelated error
    from detbal.app import sweep as sweep_module

    def log_both(marker):
        import logging

        from distributed.comm.core import CommClosedError

        log = logging.getLogger("distributed.worker")
        try:
            raise CommClosedError("in <TCP (closed) ConnectionPool.heartbeat_worker>: Stream is closed")
        except OSError:
            log.exception("Failed to communicate with scheduler during heartbeat.")
        log.error("an unrelated error %s", marker)

    client, closing = sweep_module._client(None, 1)
    try:
        client.run(log_both, "before-closing")
        client.run(sweep_module.mute_shutdown_noise)        # what shut_down does first
        client.run(log_both, "while-closing")
    finally:
        sweep_module.shut_down(client, closing)
    err = capfd.readouterr().err
    assert err.count("Failed to communicate with scheduler during heartbeat") == 1      # before closing only
    assert err.count("CommClosedError") == 1
    assert "an unrelated error before-closing" in err and "an unrelated error while-closing" in err
    assert all(sweep_module._SHUTDOWN_NOISE not in h.filters for h in logging.getLogger("distributed").handlers)
