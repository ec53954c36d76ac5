"""Resuming sweeps: finished points are not evaluated again (counted), an interrupted sweep
continues from its journal, and a half-written or modified output is detected and not trusted."""

import numpy as np
import pytest
import xarray as xr
from sweep_files import qubit_sweep
from typer.testing import CliRunner

import detbal as db
from detbal.app import observables
from detbal.app.sweep_store import SweepOutputError
from detbal.cli import app

pytest.importorskip("h5netcdf")
runner = CliRunner()
T_HOT, T_COLD = [1.0, 2.0], [0.5, 1.0, 2.0]


class Counter:
    """An observable that counts its evaluations (the sweep runs in this process: workers=0) and
    can interrupt the sweep (Ctrl-C) at a given evaluation."""

    def __init__(self):
        self.calls, self.interrupt_at = 0, None

    def __call__(self, point):
        self.calls += 1
        if self.calls == self.interrupt_at:
            raise KeyboardInterrupt
        return point.model.baths[0].temperature


@pytest.fixture
def counter(monkeypatch):
    c = Counter()
    monkeypatch.setitem(observables._REGISTRY, "calls", db.Observable("calls", c, "evaluation counter"))
    return c


def _file(tmp_path, t_hot=T_HOT, t_cold=T_COLD):
    path = tmp_path / "q.toml"
    path.write_text(qubit_sweep(t_hot, t_cold, observables=["calls", "kms_residual", "heat_current"]))
    return path


@pytest.mark.parametrize("suffix", [".nc", ".csv", ".zarr"])
def test_a_rerun_with_the_same_output_skips_every_finished_point(tmp_path, counter, suffix):
    path, out = _file(tmp_path), tmp_path / f"r{suffix}"
    first = db.sweep(path, out=out, workers=0)
    assert counter.calls == 6 and first.attrs["points_evaluated"] == 6
    again = db.sweep(path, out=out, workers=0)
    assert counter.calls == 6 and again.attrs["points_evaluated"] == 0
    for name in ("calls", "kms_residual", "heat_current", "status"):
        np.testing.assert_array_equal(again[name].values, first[name].values)
    assert not (tmp_path / f"r{suffix}.journal").exists()


def test_an_extended_grid_evaluates_only_the_new_points(tmp_path, counter):
    out = tmp_path / "r.nc"
    db.sweep(_file(tmp_path), out=out, workers=0)
    ds = db.sweep(_file(tmp_path, t_cold=T_COLD + [3.0]), out=out, workers=0)
    assert counter.calls == 6 + 2 and ds.attrs["points_evaluated"] == 2
    assert (ds["status"].values == "ok").all()
    np.testing.assert_array_equal(ds["calls"].values, [[1.0] * 4, [2.0] * 4])


def test_an_interrupted_sweep_resumes_from_its_journal(tmp_path, counter):
    path, out = _file(tmp_path), tmp_path / "r.nc"
    counter.interrupt_at = 4                                   # Ctrl-C during the 4th point
    with pytest.raises(KeyboardInterrupt):
        db.sweep(path, out=out, workers=0, batch=1)
    assert not out.exists() and (tmp_path / "r.nc.journal").exists()
    counter.interrupt_at = None
    ds = db.sweep(path, out=out, workers=0, batch=1)
    assert counter.calls == 4 + 3 and ds.attrs["points_evaluated"] == 3   # points 1–3 were journaled
    assert (ds["status"].values == "ok").all()
    assert not (tmp_path / "r.nc.journal").exists()


def test_a_torn_journal_line_is_not_trusted_and_its_points_run_again(tmp_path, counter):
    path, out = _file(tmp_path), tmp_path / "r.nc"
    counter.interrupt_at = 5
    with pytest.raises(KeyboardInterrupt):
        db.sweep(path, out=out, workers=0, batch=1)
    journal = tmp_path / "r.nc.journal"
    lines = journal.read_text().splitlines(keepends=True)
    assert len(lines) == 1 + 4                                 # header + 4 batches of one point
    lines[2] = lines[2].replace('"s":"ok"', '"s":"ko"')        # corrupted: fails its CRC
    journal.write_text("".join(lines[:4]) + lines[4][:20])      # and the last line torn mid-write
    counter.interrupt_at = None
    ds = db.sweep(path, out=out, workers=0, batch=1)
    assert ds.attrs["points_evaluated"] == 5                   # only the first point was trusted
    assert (ds["status"].values == "ok").all()


@pytest.mark.parametrize("suffix", [".nc", ".csv"])
def test_a_half_written_output_is_detected_and_not_trusted(tmp_path, counter, suffix):
    path, out = _file(tmp_path), tmp_path / f"r{suffix}"
    db.sweep(path, out=out, workers=0)
    data = out.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    with pytest.raises(SweepOutputError, match="not a complete detbal sweep output.*not trusted"):
        db.sweep(path, out=out, workers=0)
    r = runner.invoke(app, ["sweep", str(path), "--out", str(out), "--workers", "0", "-q"])
    assert r.exit_code == 2 and "not trusted" in r.output and str(out) in r.output
    assert counter.calls == 6                                   # nothing was evaluated from the damaged file
    assert out.read_bytes() == data[: len(data) // 2]           # and it was not overwritten


def test_a_zarr_output_missing_a_chunk_is_detected_and_not_trusted(tmp_path, counter):
    path, out = _file(tmp_path), tmp_path / "r.zarr"
    db.sweep(path, out=out, workers=0)
    chunks = [p for p in (out / "kms_residual").iterdir() if not p.name.startswith(".")]
    assert chunks
    for p in chunks:                                         # the data of one variable never arrived
        p.unlink()
    with pytest.raises(SweepOutputError, match="not trusted"):
        db.sweep(path, out=out, workers=0)


def test_an_output_whose_values_were_modified_fails_its_checksum(tmp_path, counter):
    path, out = _file(tmp_path), tmp_path / "r.nc"
    ds = db.sweep(path, out=out, workers=0)
    ds["kms_residual"].values[0, 0] += 1e-3                     # attributes (checksum) kept
    ds.to_netcdf(tmp_path / "m.nc", engine="h5netcdf")
    with pytest.raises(SweepOutputError, match="do not match the checksum"):
        db.sweep(path, out=tmp_path / "m.nc", workers=0)


def test_an_output_of_another_model_is_refused(tmp_path, counter):
    out = tmp_path / "r.nc"
    db.sweep(_file(tmp_path), out=out, workers=0)
    other = tmp_path / "o.toml"
    other.write_text(qubit_sweep(T_HOT, T_COLD, observables=["calls", "kms_residual"]))
    with pytest.raises(SweepOutputError, match="another model or other observables"):
        db.sweep(other, out=out, workers=0)
    xr.open_dataset(out, engine="h5netcdf").close()              # the file itself is intact


def test_an_output_path_with_an_unknown_suffix_is_refused_before_any_work(tmp_path, counter):
    with pytest.raises(db.InputError, match=r"`out` must end in \.nc, \.zarr, \.csv"):
        db.sweep(_file(tmp_path), out=tmp_path / "r.json", workers=0)
    assert counter.calls == 0
