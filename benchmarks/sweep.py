"""Sweep throughput: a serial loop vs a Dask LocalCluster with 2 worker processes (issue 16).

Targets: ≥ 1.8× on 2 cores for a 6-spin two-bath chain; Dask overhead < 1 ms per point for the
merry-go-round. Both runs evaluate the same 400-point (T_hot, T_cold) grid through the same
batch function under ``threadpoolctl.threadpool_limits(1)`` (one BLAS thread: the serial
baseline is the loop a user would write, measured the same way as a worker).

    speed-up    = t_serial / t_dask (wall clock)
    idle ms/pt  = (workers · t_dask − Σ_points t_eval) / N: worker wall time per point not spent
                  evaluating (scheduling, transfers, the pilot points run on the client, the tail)
    cpu ms/pt   = (CPU_dask − r_idle · t_dask − CPU_serial) / N: the CPU time Dask adds per point
                  (tasks: scheduling, serialisation, transfers), summed over this process (client
                  and in-process scheduler) and the workers, less the idle cluster's background
                  (heartbeats, event loops: r_idle CPU-s per s, printed) — insensitive to other
                  jobs on a shared machine, which stretch t_dask but not the CPU time
    cpu-bound   = workers · CPU_serial / CPU_dask: the speed-up on idle cores if the workers
                  were never idle (an upper bound of the wall-clock speed-up)
    ms/pt       = CPU_serial / N, the cost of one point

The cluster is started once and its start-up time printed apart (a sweep started without a
client pays it once); a 16-point sweep of each model warms this process and the workers (lazy
imports, first calls) before the timed runs. The chain records the KMS verdict, heat currents,
entropy production and the spectral gap. On a shared machine the numbers move with the
load, which is printed.

    python benchmarks/sweep.py [--points 400] [--workers 2] [--chain-n 6]
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import time

import dask
from dask.distributed import Client, LocalCluster

import detbal as db
from detbal.app.sweep_spec import Axis, SweepSpec, zoo_spec

MGR_OBSERVABLES = ["kms_residual", "kms_holds", "gns_residual", "heat_current", "entropy_production",
                   "spectral_gap"]
CHAIN_OBSERVABLES = ["kms_residual", "kms_holds", "heat_current", "entropy_production", "spectral_gap"]


def grid(points: int, hot: str, cold: str) -> dict:
    side = max(1, round(math.sqrt(points)))
    axis = lambda lo, hi: [lo + (hi - lo) * k / max(side - 1, 1) for k in range(side)]
    return {hot: axis(1.0, 5.0), cold: axis(0.5, 2.0)}


def cpu_seconds(client) -> float:
    """CPU seconds used so far by this process (client, in-process scheduler) and every worker."""
    return time.process_time() + sum(client.run(time.process_time).values())


def idle_cpu_rate(client, seconds: float = 3.0) -> float:
    """CPU seconds per second that the idle cluster (heartbeats, event loops) and this process use."""
    c0 = cpu_seconds(client)
    time.sleep(seconds)
    return (cpu_seconds(client) - c0) / seconds


def measure(label: str, spec, client, workers: int, idle: float) -> None:
    warm = SweepSpec(spec.kind, spec.model, tuple(Axis(a.dim, tuple((n, v[:4]) for n, v in a.coords))
                                                  for a in spec.axes), spec.observables, batch=1)
    db.sweep(warm, workers=0)                        # one-off costs (lazy imports, first calls) of this
    db.sweep(warm, client=client)                    # process and of every worker, before timing
    c0, t0 = time.process_time(), time.perf_counter()
    serial = db.sweep(spec, workers=0)
    t_serial, c_serial = time.perf_counter() - t0, time.process_time() - c0
    c0, t0 = cpu_seconds(client), time.perf_counter()
    dask = db.sweep(spec, client=client)
    t_dask, c_dask = time.perf_counter() - t0, cpu_seconds(client) - c0
    n = spec.size
    eval_dask = float(dask["seconds"].sum())
    same = all(
        (serial[v].isnull() == dask[v].isnull()).all() and (serial[v].fillna(0) == dask[v].fillna(0)).all()
        for v in spec.observables)
    ok = int((dask["status"] == "ok").sum())
    print(f"{label:<26} {n:>6} {ok:>5} {t_serial:>8.2f} {t_dask:>8.2f} {t_serial / t_dask:>8.2f}× "
          f"{1e3 * (workers * t_dask - eval_dask) / n:>9.2f} {1e3 * (c_dask - idle * t_dask - c_serial) / n:>9.3f} "
          f"{workers * c_serial / c_dask:>8.2f}× {1e3 * c_serial / n:>8.2f} {dask.attrs['batch']:>6} "
          f"{'yes' if same else 'NO':>5}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=400, help="grid points per model (a square grid)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chain-n", type=int, default=6, help="spins of the two-bath XXZ chain")
    ap.add_argument("--chain-observables", nargs="+", default=CHAIN_OBSERVABLES)
    args = ap.parse_args()

    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (shared machine)")
    t0 = time.perf_counter()
    with dask.config.set({"distributed.worker.profile.enabled": False}):      # as db.sweep's own cluster
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(cluster)
    client.run(lambda: __import__("detbal") and None)           # workers import detbal once, before timing
    print(f"LocalCluster with {args.workers} worker processes started in {time.perf_counter() - t0:.2f} s")
    idle = idle_cpu_rate(client)
    print(f"idle cluster background: {1e3 * idle:.0f} ms of CPU per second (r_idle)\n")
    print(f"{'model':<26} {'points':>6} {'ok':>5} {'serial s':>8} {'dask s':>8} {'speed-up':>9} "
          f"{'idle ms/pt':>9} {'cpu ms/pt':>9} {'cpu-bound':>9} {'ms/pt':>8} {'batch':>6} {'same':>5}")
    try:
        measure("merry-go-round", zoo_spec("merry_go_round", grid(args.points, "T_hot", "T_cold"),
                                           observables=MGR_OBSERVABLES), client, args.workers, idle)
        chain = zoo_spec("xxz_chain", grid(args.points, "T_left", "T_right"),
                         fixed={"n": args.chain_n, "baths": "boundary"}, observables=args.chain_observables)
        measure(f"XXZ chain n={args.chain_n} (2 baths)", chain, client, args.workers, idle)
    finally:
        client.close()
        cluster.close()
    print(f"\nload average after: {os.getloadavg()[0]:.2f}. 'same': Dask and the serial loop gave identical "
          "numbers at every point.")


if __name__ == "__main__":
    main()
