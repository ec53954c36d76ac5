"""Sweep throughput: a serial loop vs a Dask LocalCluster with 2 worker processes (issue 16).

Targets: ≥ 1.8× on 2 cores for a 6-spin two-bath chain; Dask overhead < 1 ms per point for the
merry-go-round. Both runs evaluate the same 400-point (T_hot, T_cold) grid through the same
batch function under ``threadpoolctl.threadpool_limits(1)`` (one BLAS thread: the serial
baseline is the loop a user would write, measured the same way as a worker).

    speed-up    = t_serial / t_dask (wall clock)
    idle ms/pt  = (workers · t_dask − Σ_points t_eval) / N: worker wall time per point not spent
                  evaluating (scheduling, transfers, the pilot points run on the client, the tail)
    cpu ms/pt   = (CPU_dask − r_idle · t_dask − CPU_serial) / N: the CPU time the Dask run adds per
                  point, summed over this process (client and in-process scheduler) and the
                  workers, less the idle cluster's background (heartbeats, event loops: r_idle CPU-s
                  per s, printed). This is the overhead of the issue's target; it is the sum of
        dask ms/pt  = [(CPU_dask − r_idle · t_dask − E_dask) − (CPU_serial − E_serial)] / N: CPU
                  outside the points' evaluations (scheduling, serialisation, transfers, result
                  handling, pilot) that the Dask run adds — Dask's own cost
        eval Δ ms/pt = (E_dask − E_serial) / N: the same points evaluated in two processes at once
                  take more CPU than one after the other (shared caches and memory bandwidth, the
                  hypervisor, other jobs on a shared machine) — no Dask in it: the "2 procs"
                  column evaluates the same points in two plain processes at once (no Dask) and
                  prints their E / N
                  (E = Σ thread CPU time of the point evaluations, summed by wrapping
                  ``detbal.app.sweep.evaluate`` in this process and every worker)
    cpu-bound   = workers · CPU_serial / CPU_dask: the speed-up on idle cores if the workers
                  were never idle (an upper bound of the wall-clock speed-up)
    ms/pt       = CPU_serial / N, the cost of one point; eval serial / dask / 2 procs = E / N

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
import multiprocessing
import os
import time

import dask
from dask.distributed import Client, LocalCluster

import detbal as db
from detbal.app.sweep import LOCAL_CLUSTER_CONFIG
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


def count_evaluation_cpu() -> None:
    """Wrap ``detbal.app.sweep.evaluate`` in this process so that the thread CPU time of every
    point evaluation is summed (run in every worker by ``client.run``; idempotent)."""
    import detbal.app.sweep as module

    if not hasattr(module, "_bench_cpu"):
        evaluate, module._bench_cpu = module.evaluate, [0.0]

        def timed(*args):
            t = time.thread_time()
            try:
                return evaluate(*args)
            finally:
                module._bench_cpu[0] += time.thread_time() - t

        module.evaluate = timed


def evaluation_cpu() -> float:
    import detbal.app.sweep as module

    return module._bench_cpu[0]


def two_plain_processes(spec) -> float:
    """E / N (ms) of the spec's points evaluated by two plain processes at once, half each (no Dask)."""
    half = len(spec.axes[0]) // 2
    halves = [SweepSpec(spec.kind, spec.model, (Axis(spec.axes[0].dim, tuple((n, v[k * half:(k + 1) * half])
                                                                             for n, v in spec.axes[0].coords)),
                                                *spec.axes[1:]), spec.observables) for k in (0, 1)]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager, ctx.Pool(2) as pool:
        barrier = manager.Barrier(2)
        cpu = pool.starmap(_plain_process, [(h, barrier) for h in halves])
    return 1e3 * sum(cpu) / sum(h.size for h in halves)


def _plain_process(spec, barrier) -> float:
    count_evaluation_cpu()
    db.sweep(_warm(spec), workers=0)
    barrier.wait()                                   # both evaluate at the same time
    e0 = evaluation_cpu()
    db.sweep(spec, workers=0)
    return evaluation_cpu() - e0


def _warm(spec):
    return SweepSpec(spec.kind, spec.model, tuple(Axis(a.dim, tuple((n, v[:4]) for n, v in a.coords))
                                                  for a in spec.axes), spec.observables, batch=1)


def measure(label: str, spec, client, workers: int, idle: float) -> None:
    warm = _warm(spec)
    db.sweep(warm, workers=0)                        # one-off costs (lazy imports, first calls) of this
    db.sweep(warm, client=client)                    # process and of every worker, before timing
    e0, c0, t0 = evaluation_cpu(), time.process_time(), time.perf_counter()
    serial = db.sweep(spec, workers=0)
    t_serial, c_serial, e_serial = time.perf_counter() - t0, time.process_time() - c0, evaluation_cpu() - e0

    def all_evaluation_cpu():
        return evaluation_cpu() + sum(client.run(evaluation_cpu).values())

    e0, c0, t0 = all_evaluation_cpu(), cpu_seconds(client), time.perf_counter()
    dask = db.sweep(spec, client=client)
    t_dask, c_dask, e_dask = time.perf_counter() - t0, cpu_seconds(client) - c0, all_evaluation_cpu() - e0
    plain = two_plain_processes(spec)
    n = spec.size
    eval_dask = float(dask["seconds"].sum())
    same = all(
        (serial[v].isnull() == dask[v].isnull()).all() and (serial[v].fillna(0) == dask[v].fillna(0)).all()
        for v in spec.observables)
    ok = int((dask["status"] == "ok").sum())
    own = (c_dask - idle * t_dask - e_dask) - (c_serial - e_serial)
    print(f"{label:<26} {n:>6} {ok:>5} {t_serial:>8.2f} {t_dask:>8.2f} {t_serial / t_dask:>8.2f}× "
          f"{1e3 * (workers * t_dask - eval_dask) / n:>9.2f} {1e3 * (c_dask - idle * t_dask - c_serial) / n:>9.3f} "
          f"{1e3 * own / n:>9.3f} {1e3 * (e_dask - e_serial) / n:>9.3f} "
          f"{workers * c_serial / c_dask:>8.2f}× {1e3 * c_serial / n:>8.2f} "
          f"{1e3 * e_serial / n:>6.2f}/{1e3 * e_dask / n:.2f}/{plain:.2f} {dask.attrs['batch']:>6} "
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
    with dask.config.set(LOCAL_CLUSTER_CONFIG):                 # as db.sweep's own cluster
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(cluster)
    client.run(count_evaluation_cpu)                            # workers import detbal once, before timing
    count_evaluation_cpu()
    print(f"LocalCluster with {args.workers} worker processes started in {time.perf_counter() - t0:.2f} s")
    idle = idle_cpu_rate(client)
    print(f"idle cluster background: {1e3 * idle:.0f} ms of CPU per second (r_idle)\n")
    print(f"{'model':<26} {'points':>6} {'ok':>5} {'serial s':>8} {'dask s':>8} {'speed-up':>9} "
          f"{'idle ms/pt':>9} {'cpu ms/pt':>9} {'dask ms/pt':>9} {'eval Δ ms':>9} {'cpu-bound':>9} {'ms/pt':>8} "
          f"{'eval ser/dask/2 procs':>6} {'batch':>6} {'same':>5}")
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
