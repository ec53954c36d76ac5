"""Where a sweep's results live: point records, the journal, the result Dataset and its files.

A *record* is the outcome of one grid point: ``{"p": [parameter values], "s": status, "v":
{observable: value or {bath: value}}, "e": error message}`` with status

* ``"ok"`` every observable computed; ``"error"`` the model or some observable raised (the
  message says which; deterministic, so a resumed sweep does not repeat it);
* ``"lost"`` the task holding the point died (worker killed, connection lost): run again on resume;
* ``"pending"`` not run;

and ``"t"`` the seconds its evaluation took on its worker (the ``seconds`` variable).

While a sweep with an output path runs, every finished batch is appended to the *journal*
``OUT.journal`` (one line per batch: CRC-32 of the JSON text, then the JSON; flushed and fsynced),
so an interrupted sweep loses at most the batches in flight. A torn or corrupted line (a
half-written file) fails its CRC and is not trusted: it and everything after it are ignored and
those points run again. When the sweep ends, the result is written to a temporary file that
replaces ``OUT`` atomically, then the journal is deleted. ``OUT`` carries the sweep's fingerprint
and a SHA-256 of its data: a file that does not open, lacks them, or whose data does not match
its checksum (truncated, half-copied) is refused with a message, never resumed from.

Formats, by suffix: ``.nc`` (netCDF-4 via h5netcdf), ``.zarr`` (a directory, Zarr format 2),
``.csv`` (one row per point, a ``#`` header with the fingerprint and a ``#`` trailer with the row
count and the SHA-256 of the rows).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import shutil
import zlib
from pathlib import Path

import numpy as np

from ..errors import InputError

__all__ = [
    "FINISHED",
    "FORMATS",
    "Journal",
    "SweepOutputError",
    "output_format",
    "read_records",
    "records_from_dataset",
    "to_dataset",
    "write_output",
]

FORMATS = (".nc", ".zarr", ".csv")
#: statuses a resumed sweep does not run again
FINISHED = ("ok", "error")
_CSV_HEAD = "# detbal sweep"
#: per-point variables besides the observables (the last columns of a CSV, in this order)
_POINT_VARS = ("seconds", "status", "error")
_CSV_TAIL = "# end:"


class SweepOutputError(InputError):
    """An output path of a sweep cannot be used (wrong suffix, another sweep's file, a damaged file)."""


def output_format(path) -> str:
    suffix = Path(os.fspath(path)).suffix.lower()
    if suffix not in FORMATS:
        raise SweepOutputError(f"`out` must end in {', '.join(FORMATS)}, got {os.fspath(path)!r}")
    return suffix


def key_of(params) -> tuple:
    return tuple(float(v) for v in params)


# -- the journal --------------------------------------------------------------------------------------
class Journal:
    """Append-only record of finished batches next to the output (module docstring)."""

    def __init__(self, out, fingerprint: str, parameters: tuple):
        self.path = Path(os.fspath(out) + ".journal")
        self.fingerprint, self.parameters = fingerprint, list(parameters)
        self._file = None

    @staticmethod
    def _line(doc) -> str:
        text = json.dumps(doc, separators=(",", ":"))
        return f"{zlib.crc32(text.encode()):08x} {text}\n"

    @staticmethod
    def _parse(line: str):
        """The JSON of a journal line, or None when torn or corrupted."""
        if not line.endswith("\n") or len(line) < 10 or line[8] != " ":
            return None
        text = line[9:-1]
        try:
            if int(line[:8], 16) != zlib.crc32(text.encode()):
                return None
            return json.loads(text)
        except ValueError:
            return None

    def read(self) -> tuple[list, int]:
        """(records, number of untrusted lines dropped). A journal of another sweep is an error."""
        if not self.path.exists():
            return [], 0
        with open(self.path, encoding="utf-8", newline="") as fh:
            lines = fh.readlines()
        head = self._parse(lines[0]) if lines else None
        if not isinstance(head, dict) or "fingerprint" not in head:
            return [], len(lines)                     # torn while writing the header: nothing in it
        if head["fingerprint"] != self.fingerprint or head.get("parameters") != self.parameters:
            raise SweepOutputError(f"{str(self.path)!r} is the journal of another sweep (other model, observables "
                                   "or parameters); remove it or choose another `out`")
        records = []
        for k, line in enumerate(lines[1:], start=1):
            doc = self._parse(line)
            if not isinstance(doc, list):
                return records, len(lines) - k
            records.extend(doc)
        return records, 0

    def open(self, records: list) -> None:
        """Start a fresh journal holding ``records`` (written atomically), then append to it."""
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(self._line({"fingerprint": self.fingerprint, "parameters": self.parameters}))
            if records:
                fh.write(self._line(records))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        self._file = open(self.path, "a", encoding="utf-8", newline="")  # noqa: SIM115 - closed by close()

    def append(self, records: list) -> None:
        self._file.write(self._line(records))
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self, remove: bool) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if remove:
            self.path.unlink(missing_ok=True)


# -- records <-> Dataset --------------------------------------------------------------------------------
def _baths(spec, records) -> list:
    names: dict = {}
    for r in records:
        for v in r["v"].values():
            if isinstance(v, dict):
                names.update(dict.fromkeys(v))
    return list(names)


def to_dataset(spec, records: list, attrs: dict):
    """The xarray Dataset of ``records`` on the grid of ``spec``: dims = the axes (and "bath" for
    per-bath observables), one float variable per observable (NaN where not computed),
    ``status`` and ``error`` per point. Records of points outside the grid are dropped."""
    import xarray as xr

    from .observables import observable

    shape, dims = spec.shape, [a.dim for a in spec.axes]
    index = {key_of(spec.point(i).values()): i for i in range(spec.size)}
    status = np.full(spec.size, "pending", dtype=object)
    error = np.full(spec.size, "", dtype=object)
    seconds = np.full(spec.size, np.nan)
    baths = _baths(spec, records)
    values = {}
    for name in spec.observables:
        per_bath = observable(name).per_bath
        values[name] = np.full((spec.size, len(baths)) if per_bath else spec.size, np.nan)
    for r in records:
        i = index.get(key_of(r["p"]))
        if i is None:
            continue
        status[i], error[i], seconds[i] = r["s"], r.get("e", ""), r.get("t", np.nan)
        for name, v in r["v"].items():
            if name not in values:
                continue
            if isinstance(v, dict):
                for b, x in v.items():
                    values[name][i, baths.index(b)] = x
            else:
                values[name][i] = v
    coords = {}
    for a in spec.axes:
        for n, vals in a.coords:
            coords[n] = (a.dim, np.asarray(vals))
    if baths:
        coords["bath"] = ("bath", np.asarray(baths, dtype=object))
    data = {}
    for name, arr in values.items():
        obs = observable(name)
        if obs.per_bath:
            data[name] = (dims + ["bath"], arr.reshape(shape + (len(baths),)), {"long_name": obs.description})
        else:
            data[name] = (dims, arr.reshape(shape), {"long_name": obs.description})
    data["status"] = (dims, status.reshape(shape).astype(str), {"long_name": "ok | error | lost | pending"})
    data["error"] = (dims, error.reshape(shape).astype(str), {"long_name": "message of a failed point"})
    data["seconds"] = (dims, seconds.reshape(shape), {"long_name": "evaluation time of the point on its worker",
                                                      "units": "s"})
    ds = xr.Dataset(data, coords=coords, attrs=dict(attrs))
    ds.attrs["detbal_sweep_points_finished"] = int(np.isin(status, FINISHED).sum())
    ds.attrs["detbal_sweep_checksum"] = checksum(ds)
    return ds


def checksum(ds) -> str:
    """SHA-256 over the data variables and coordinates (names, dims, values), in sorted order."""
    h = hashlib.sha256()
    for name in sorted(list(ds.data_vars) + list(ds.coords)):
        var = ds[name]
        h.update(f"{name}{var.dims}{var.shape}".encode())
        arr = np.asarray(var.values)
        if arr.dtype.kind in "fiub":
            h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
        else:
            h.update("\x1f".join(str(x) for x in arr.ravel()).encode())
    return h.hexdigest()


def records_from_dataset(ds, spec) -> list:
    """Finished records (status ok/error) of a Dataset written by :func:`to_dataset`."""
    dims = list(ds["status"].dims)
    status = np.asarray(ds["status"].values).astype(str)
    error = np.asarray(ds["error"].values).astype(str)
    params = [n for n in spec.parameters if n in ds.coords]
    if len(params) != len(spec.parameters):
        return []
    baths = [str(b) for b in ds["bath"].values] if "bath" in ds.coords else []
    seconds = np.asarray(ds["seconds"].values) if "seconds" in ds else np.full(status.shape, np.nan)
    out = []
    for idx in np.ndindex(status.shape):
        if status[idx] not in FINISHED:
            continue
        sel = dict(zip(dims, idx))
        p = [ds[n].isel({d: sel[d] for d in ds[n].dims}).item() for n in params]
        v = {}
        for name in spec.observables:
            if name not in ds.data_vars:
                continue
            x = np.asarray(ds[name].values)[idx]
            if "bath" in ds[name].dims:
                v[name] = {b: float(x[k]) for k, b in enumerate(baths) if not math.isnan(x[k])}
            elif not math.isnan(x):
                v[name] = float(x)
        out.append({"p": p, "s": str(status[idx]), "v": v, "e": str(error[idx]), "t": float(seconds[idx])})
    return out


# -- files ------------------------------------------------------------------------------------------------
def _damaged(path, why: str) -> SweepOutputError:
    return SweepOutputError(f"{os.fspath(path)!r} is not a complete detbal sweep output ({why}); it is not "
                            "trusted: remove it (or choose another `out`) to start the sweep afresh")


def read_records(path, spec) -> list:
    """Finished records stored in an existing output file (empty if there is none).

    Raises:
        SweepOutputError: the file is damaged (does not open, no fingerprint, checksum mismatch)
            or holds a sweep of another model / other observables.
    """
    p = Path(os.fspath(path))
    if not p.exists():
        return []
    fmt = output_format(p)
    if fmt == ".csv":
        return _read_csv(p, spec)
    import xarray as xr

    try:
        if fmt == ".nc":
            with xr.open_dataset(p, engine="h5netcdf") as f:
                ds = f.load()
        else:
            with xr.open_zarr(p) as f:
                ds = f.load()
    except ImportError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure means the file is not usable
        raise _damaged(p, f"it does not open: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                       ) from None
    _check_identity(p, ds.attrs.get("detbal_sweep_fingerprint"), spec)
    stored = ds.attrs.get("detbal_sweep_checksum")
    if "status" not in ds or "error" not in ds or stored is None:
        raise _damaged(p, "no status/error variables or no checksum")
    if checksum(ds) != stored:
        raise _damaged(p, "its data do not match the checksum written with it: truncated or modified")
    return records_from_dataset(ds, spec)


def _check_identity(p, fingerprint, spec) -> None:
    if fingerprint is None:
        raise _damaged(p, "no detbal sweep fingerprint")
    if fingerprint != spec.fingerprint():
        raise SweepOutputError(f"{os.fspath(p)!r} holds a sweep of another model or other observables; choose "
                               "another `out` (or remove the file)")


def write_output(ds, path) -> None:
    """Write ``ds`` to ``path`` (format by suffix) through a temporary file replaced atomically."""
    p = Path(os.fspath(path))
    fmt = output_format(p)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    try:
        if fmt == ".nc":
            ds.to_netcdf(tmp, engine="h5netcdf")
        elif fmt == ".zarr":
            ds.to_zarr(tmp, mode="w", zarr_format=2)     # format 2: fixed-width strings are specified
        else:
            tmp.write_text(_csv_text(ds), encoding="utf-8")
        if fmt != ".zarr":
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, p)
            return
        old = p.with_name(f".{p.name}.{os.getpid()}.old")
        if p.exists():
            os.replace(p, old)
        os.replace(tmp, p)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def _csv_columns(ds) -> list:
    cols = []
    for name in ds.data_vars:
        if name in _POINT_VARS:
            continue
        if "bath" in ds[name].dims:
            cols += [(f"{name}[{b}]", name, k) for k, b in enumerate(ds["bath"].values)]
        else:
            cols.append((name, name, None))
    return cols


def _csv_text(ds) -> str:
    dims = list(ds["status"].dims)
    params = [n for n in ds.coords if n != "bath"]
    cols = _csv_columns(ds)
    rows = io.StringIO()
    w = csv.writer(rows, lineterminator="\n")
    w.writerow(params + [c for c, _, _ in cols] + list(_POINT_VARS))
    for idx in np.ndindex(ds["status"].shape):
        sel = dict(zip(dims, idx))
        row = [repr(ds[n].isel({d: sel[d] for d in ds[n].dims}).item()) for n in params]
        for _, name, k in cols:
            x = np.asarray(ds[name].values)[idx]
            row.append(repr(float(x if k is None else x[k])))
        row += [repr(float(ds["seconds"].values[idx])), str(ds["status"].values[idx]), str(ds["error"].values[idx])]
        w.writerow(row)
    body = rows.getvalue()
    head = f"{_CSV_HEAD} fingerprint={ds.attrs['detbal_sweep_fingerprint']} " \
           f"version={ds.attrs.get('detbal_version', '')} model={json.dumps(ds.attrs.get('model_name', ''))}\n"
    n = body.count("\n") - 1
    return head + body + f"{_CSV_TAIL} rows={n} sha256={hashlib.sha256(body.encode()).hexdigest()}\n"


def _read_csv(p: Path, spec) -> list:
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _damaged(p, f"it does not read: {exc}") from None
    lines = text.split("\n")
    if not lines[0].startswith(_CSV_HEAD) or "fingerprint=" not in lines[0]:
        raise _damaged(p, "no '# detbal sweep' header")
    fingerprint = lines[0].split("fingerprint=", 1)[1].split()[0]
    _check_identity(p, fingerprint, spec)
    if len(lines) < 3 or lines[-1] != "" or not lines[-2].startswith(_CSV_TAIL):
        raise _damaged(p, "no '# end:' trailer: the file was cut short")
    body = "\n".join(lines[1:-2]) + "\n"
    tail = dict(kv.split("=", 1) for kv in lines[-2][len(_CSV_TAIL):].split())
    if tail.get("sha256") != hashlib.sha256(body.encode()).hexdigest() or \
            tail.get("rows") != str(body.count("\n") - 1):
        raise _damaged(p, "its rows do not match the checksum in its trailer: truncated or modified")
    reader = csv.reader(io.StringIO(body))
    header = next(reader)
    params = list(spec.parameters)
    if header[:len(params)] != params:
        return []
    out = []
    for row in reader:
        rec = dict(zip(header, row))
        if rec["status"] not in FINISHED:
            continue
        v: dict = {}
        for col in header[len(params):-3]:
            x = float(rec[col])
            if math.isnan(x):
                continue
            if col.endswith("]") and "[" in col:
                name, bath = col[:-1].split("[", 1)
                v.setdefault(name, {})[bath] = x
            else:
                v[col] = x
        out.append({"p": [float(rec[n]) for n in params], "s": rec["status"], "v": v, "e": rec["error"],
                    "t": float(rec["seconds"])})
    return out
