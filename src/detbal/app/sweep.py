"""Parameter sweeps on Dask: :func:`sweep` → an ``xarray.Dataset`` (extra ``detbal[sweep]``).

Every grid point of a :class:`~detbal.app.sweep_spec.SweepSpec` is one independent model
evaluation: build the model at the point's parameters, compute the observables of
:mod:`detbal.app.observables`. Points are grouped in **batches**, one Dask task each, so that
Dask's per-task cost (≈ 0.2–1 ms of CPU, more on a loaded machine) stays small against the
work: unless ``batch`` is given, the first points (up to 3, or 1 s) are evaluated on the client
and timed (CPU time), and a batch holds ⌈0.2 s / t_point⌉ points (t_point the fastest of them),
at most 50, and no more than keeps ≥ 4 tasks per worker. A point that fails is caught inside
its batch and recorded (``status = "error"`` and its message); a task that dies is recorded as
``"lost"``. Nothing stops the sweep but Ctrl-C.

Where the work runs (``client``):

* ``None`` — a ``LocalCluster`` of ``workers`` processes (default: the usable cores), one thread
  each, started for the sweep and closed after it;
* a ``dask.distributed.Client`` or a scheduler address ``"tcp://host:port"`` — an existing
  cluster (closed only if the address was given here);
* ``workers=0`` — no Dask: the batches run in this process (the serial baseline).

A script that starts a LocalCluster (``client=None``) must call :func:`sweep` under
``if __name__ == "__main__":``: worker processes are spawned and import the script again.

Each batch runs under ``threadpoolctl.threadpool_limits(1)`` (one BLAS thread per worker, and in
the serial baseline): parallelism comes from the workers, not from oversubscribed BLAS threads.

With ``out``, finished batches go to a journal as they arrive and the result is written at the
end; a second call with the same ``out`` resumes: points already finished (ok or error) in the
file or the journal are not evaluated again (:mod:`detbal.app.sweep_store`).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable

from ..errors import InputError
from ..models.spec import operator_cache
from .observables import SweepPoint, observable
from .sweep_spec import SweepSpec, sweep_spec
from .sweep_store import FINISHED, Journal, key_of, output_format, read_records, to_dataset, write_output

__all__ = ["LOCAL_CLUSTER_CONFIG", "MAX_BATCH", "TARGET_TASK_SECONDS", "batch_size", "mute_shutdown_noise", "run_batch",
           "shut_down", "sweep"]

#: a task should hold at least this much work (Dask charges ≈ 0.2–1 ms of CPU per task on an idle
#: machine, several ms on a loaded one; 0.2 s keeps that below 1–5 % of the work)
TARGET_TASK_SECONDS = 0.2
#: ... or this many points (then the per-task charge is < 20 µs per point)
MAX_BATCH = 50
#: the pilot (points run on the client to time one point) stops after this many points or seconds;
#: the smallest time is used (the first call of a process pays one-off costs)
PILOT_POINTS, PILOT_SECONDS = 3, 1.0
_INSTALL = "parameter sweeps need the extra 'sweep': pip install 'detbal[sweep]'"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def evaluate(spec: SweepSpec, observables: tuple, params: dict) -> dict:
    """The record of one point: build the model, compute each observable (failures recorded),
    and the seconds it took ("t")."""
    start = time.perf_counter()
    record = {"p": list(params.values()), "s": "ok", "v": {}, "e": ""}
    try:
        point = SweepPoint(spec.build_model(params))
    except Exception as exc:  # noqa: BLE001 - a failing point never stops the sweep
        record.update(s="error", e=f"model: {_first_line(exc)}", t=time.perf_counter() - start)
        return record
    errors = []
    for obs in observables:
        try:
            record["v"][obs.name] = obs(point)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{obs.name}: {_first_line(exc)}")
    if errors:
        record.update(s="error", e="; ".join(errors))
    record["t"] = time.perf_counter() - start
    return record


#: Dask settings of the LocalCluster a sweep starts: its periodic housekeeping runs less often
#: (defaults: event-loop tick 20 ms, memory monitor 100 ms, system monitor 500 ms, statistical
#: profiler 10 ms), which cut the CPU the idle cluster burns from ≈ 60–75 to ≈ 15–25 ms per second
#: (3 processes, measured) — CPU the workers' points need on a small machine
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}
#: what a worker logs (at ERROR, with a traceback) when its heartbeat meets a scheduler that is closing
_HEARTBEAT_FAILED = "Failed to communicate with scheduler during heartbeat"

_BLAS = []  # this process's threadpoolctl.ThreadpoolController (inspecting the libraries costs ~1 ms)


def run_batch(spec: SweepSpec, observables: tuple, points: list) -> list:
    """Records of a batch of points (each a {parameter: value} dict), one BLAS thread; each
    operator expression of the model is parsed and checked once per batch (the points' models
    differ only where a parameter is written in). This is the Dask task; it never raises for a
    failing point."""
    if not _BLAS:
        from threadpoolctl import ThreadpoolController

        _BLAS.append(ThreadpoolController())
    with _BLAS[0].limit(limits=1), operator_cache():
        return [evaluate(spec, observables, p) for p in points]


def batch_size(seconds_per_point: float, pending: int, workers: int) -> int:
    """Points per task: ⌈TARGET_TASK_SECONDS / t⌉, capped at MAX_BATCH and at ⌈pending / (4·workers)⌉
    so that every worker gets several tasks (load balance)."""
    want = math.ceil(TARGET_TASK_SECONDS / max(seconds_per_point, 1e-9))
    balance = math.ceil(pending / (4 * max(workers, 1)))
    return max(1, min(want, MAX_BATCH, balance))


def _client(client, workers: int):
    """(client, things to close) for the ``client`` argument of :func:`sweep`."""
    try:
        import dask
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ImportError(_INSTALL) from None

    if client is None:
        with dask.config.set(LOCAL_CLUSTER_CONFIG):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                   silence_logs=logging.ERROR)
        c = Client(cluster)
        return c, (c, cluster)
    if isinstance(client, str):
        try:
            c = Client(client, timeout="20s")
        except OSError as exc:
            raise InputError(f"cannot reach the Dask scheduler at {client!r}: {exc}") from None
        return c, (c,)
    if isinstance(client, Client):
        return client, ()
    raise InputError(f"`client` must be None, a dask.distributed.Client or a scheduler address, got {client!r}")


class _ShutdownNoise(logging.Filter):
    """Drops the records a closing cluster logs about its own connections: a CommClosedError or
    StreamClosedError, and a worker's heartbeat failing with an OSError (the scheduler is gone).
    Every other record passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None:
            return True
        from distributed.comm.core import CommClosedError
        from tornado.iostream import StreamClosedError

        if isinstance(exc, (CommClosedError, StreamClosedError)):
            return False
        return not (isinstance(exc, OSError) and record.getMessage().startswith(_HEARTBEAT_FAILED))


_SHUTDOWN_NOISE = _ShutdownNoise()


def mute_shutdown_noise(on: bool = True) -> None:
    """Add (``on``) or remove the :class:`_ShutdownNoise` filter on the handlers of this process's
    "distributed" logger (every ``distributed.*`` record reaches them) and on the "asyncio" logger."""
    targets = [*logging.getLogger("distributed").handlers, logging.getLogger("asyncio")]
    for t in targets:
        (t.addFilter if on else t.removeFilter)(_SHUTDOWN_NOISE)


def shut_down(client, closing: tuple) -> None:
    """Close what :func:`sweep` opened, in order: the client, then the LocalCluster it started
    (which closes its workers and waits for them before its scheduler stops). Only during this
    close, in the workers and here, the benign logs of connections closing (a heartbeat that meets
    a scheduler shutting down, printed with a CommClosedError traceback on a loaded machine) are
    dropped; nothing else is silenced."""
    if not closing:
        return
    if len(closing) > 1:                          # a LocalCluster of ours: its workers go too
        client.run(mute_shutdown_noise, on_error="ignore")
    mute_shutdown_noise(True)
    try:
        for thing in closing:
            thing.close()
    finally:
        mute_shutdown_noise(False)


class _Collector:
    """Receives finished records: keeps them by point, journals them, reports progress."""

    def __init__(self, records: dict, journal, total: int, progress: Callable):
        self.records, self.journal, self.total, self.progress = records, journal, total, progress
        self.evaluated = 0
        self.progress(len(records), total)

    def __call__(self, batch_records: list) -> None:
        for r in batch_records:
            self.records[key_of(r["p"])] = r
        if self.journal is not None:
            self.journal.append(batch_records)
        self.evaluated += len(batch_records)
        self.progress(len(self.records), self.total)


def _pilot(spec, obs, todo: list, collect) -> float:
    """Run the first points here (up to PILOT_POINTS or PILOT_SECONDS); the fastest one's CPU
    seconds (CPU, not wall time: other jobs on the machine do not shrink the batches)."""
    times = []
    while len(times) < min(PILOT_POINTS, len(todo)) and sum(times) < PILOT_SECONDS:
        t0 = time.process_time()
        collect(run_batch(spec, obs, [todo[len(times)]]))
        times.append(time.process_time() - t0)
    return min(times)


def _run_dask(client, spec, observables, points: list, per_point: float, collect) -> int:
    """Batches of ``points`` as Dask tasks on ``client``; returns the batch size used."""
    from asyncio import CancelledError

    from dask.distributed import as_completed

    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    size = spec.batch or batch_size(per_point, len(points), n_workers)
    batches = [points[i:i + size] for i in range(0, len(points), size)]
    shared = client.scatter([spec, observables], broadcast=True, hash=False)   # sent once, not per task
    futures = {client.submit(run_batch, *shared, b, pure=False): b for b in batches}
    try:
        for fut in as_completed(futures):
            batch = futures.pop(fut)
            try:
                records = fut.result()
            except (Exception, CancelledError) as exc:  # noqa: BLE001 - the task died (worker lost, cancelled)
                records = [{"p": list(p.values()), "s": "lost", "v": {}, "e": f"task: {_first_line(exc)}"}
                           for p in batch]
            fut.release()
            collect(records)
    finally:
        for fut in futures:
            fut.cancel()
    return size


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def sweep(spec, client=None, *, workers: int | None = None, out=None, grid: dict | None = None,
          observables=None, batch: int | None = None, progress: Callable | None = None):
    """Run a parameter sweep and return its results as an ``xarray.Dataset``.

    Args:
        spec: a model file with a ``[sweep]`` section, a zoo model name (then ``grid`` is
            required) or a :class:`~detbal.app.sweep_spec.SweepSpec`.
        client: None (a LocalCluster started for the sweep), a ``dask.distributed.Client``, or a
            scheduler address "tcp://host:port" (module docstring).
        workers: LocalCluster worker processes (default: usable cores); 0 runs in this process
            (without Dask). Not with ``client``.
        out: optional result file (.nc, .zarr, .csv): written at the end, journal while running,
            resumed from when it (or its journal) exists.
        grid: {parameter: values} (zoo axes, or axes added to / replacing the file's).
        observables: observable names (default: the file's list or the default set).
        batch: points per task (default: from the measured cost of the first point).
        progress: optional callback ``progress(done_points, total_points)``.

    Returns:
        xarray.Dataset: dims = the grid axes (plus "bath" for per-bath observables); one float
        variable per observable (verdicts 1.0/0.0; NaN where not computed); ``status`` ("ok",
        "error", "lost", "pending") and ``error`` (message) per point; attrs: model name and
        source, detbal version, fingerprint, timings, batch size.

    Raises:
        InputError: malformed spec (file:line:key for model files), unusable ``out``.
        ImportError: the extra ``sweep`` is not installed.
    """
    try:
        import threadpoolctl  # noqa: F401
        import xarray  # noqa: F401
    except ImportError:
        raise ImportError(_INSTALL) from None
    from .. import __version__

    spec = sweep_spec(spec, grid, observables)
    if batch is not None:
        spec = SweepSpec(spec.kind, spec.model, spec.axes, spec.observables, batch, spec.name, spec.path, spec.text,
                         spec.templated)
    if spec.batch is not None and (isinstance(spec.batch, bool) or not isinstance(spec.batch, int) or spec.batch < 1):
        raise InputError(f"`batch` must be an integer ≥ 1, got {spec.batch!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 0):
        raise InputError(f"`workers` must be an integer ≥ 0 (0: run in this process), got {workers!r}")
    if client is not None and workers is not None:
        raise InputError("give `client` (an existing cluster) or `workers` (a LocalCluster), not both")
    obs = tuple(observable(n) for n in spec.observables)
    journal, records = None, {}
    if out is not None:
        output_format(out)
        journal = Journal(out, spec.fingerprint(), spec.parameters)
        for r in read_records(out, spec) + journal.read()[0]:
            if r["s"] in FINISHED:
                records[key_of(r["p"])] = r
    todo = [p for p in map(spec.point, range(spec.size)) if key_of(p.values()) not in records]
    start = time.perf_counter()
    if journal is not None:
        journal.open(list(records.values()))
    collect = _Collector(records, journal, spec.size, progress or (lambda done, total: None))
    used_batch, c, closing = 0, None, ()
    try:
        if todo and client is not None:                 # an existing cluster: reach it before any work
            c, closing = _client(client, 0)
        if todo:
            per_point = _pilot(spec, obs, todo, collect) if spec.batch is None else math.nan
            rest = todo[collect.evaluated:]
            if workers == 0:
                used_batch = spec.batch or batch_size(per_point, len(rest), 1)
                for i in range(0, len(rest), used_batch):
                    collect(run_batch(spec, obs, rest[i:i + used_batch]))
            elif rest:
                if c is None:
                    c, closing = _client(None, workers or default_workers())
                used_batch = _run_dask(c, spec, obs, rest, per_point, collect)
    finally:
        try:
            shut_down(c, closing)
        finally:
            if journal is not None:
                journal.close(remove=False)
    attrs = {
        "model_name": spec.name, "model_kind": spec.kind, "model_source": spec.text if spec.kind == "file"
        else f"{spec.model['name']} {spec.model['fixed']}", "model_path": spec.path,
        "observables": ",".join(spec.observables), "detbal_version": __version__,
        "detbal_sweep_fingerprint": spec.fingerprint(), "batch": int(used_batch),
        "scheduler": "this process" if workers == 0 else (str(client) if client is not None else
                                                            f"LocalCluster({workers or default_workers()} workers)"),
        "seconds": time.perf_counter() - start, "points_evaluated": collect.evaluated,
    }
    ds = to_dataset(spec, list(records.values()), attrs)
    if out is not None:
        write_output(ds, out)
        journal.close(remove=True)
    return ds
