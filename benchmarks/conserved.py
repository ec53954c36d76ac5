"""Conserved magnetisation: the sector-by-sector Davies pipeline vs one dense eigh(H).

Model (as ``davies_scaling.py``): random-field Heisenberg chain, fields along z (Σ Z_i conserved),
one ohmic bath (alpha = 0.05, cutoff = 5, β = 1) through X_0. H is real symmetric, so every sector
block is diagonalised in real arithmetic (LAPACK dsyevd). Each N runs in its own process, so its
peak memory (``resource.getrusage`` max RSS) is its own (the full pipeline runs first, so its peak
with the eigenbasis is printed on its own line); one BLAS thread. Every time is printed as
wall clock and as CPU seconds of the process (``time.process_time``; on a shared machine the wall
clock also counts the time spent waiting for a core). Per N:

* ``eig``: ``eigenbasis(H, conserved=Σ Z)`` (one ``eigh`` per magnetisation sector, H sparse);
* ``pauli``: the Pauli sector without any d×d array: sparse W sector pair by sector pair
  (``sparse_pauli_rate_matrix``), its KMS certificate ‖Ŵ − Ŵᵀ‖/‖Ŵ‖ with Ŵ = P^{−1/2}WP^{1/2}, the
  steady state (Gibbs, stationarity ‖Wp‖/‖W‖‖p‖, kernel dimension from the rate graph) and the
  population gap (Lanczos on Ŵ);
* ``full``: ``davies(eb, [(X_0, bath)])`` + KMS certificate (``structured_balance``) + steady state
  (its populations in the eigenbasis, ``steady_populations``, kernel dimension and residual
  ‖𝓛(ρ)‖/‖p‖ by ``population_residual``) + Liouvillian gap (``structured_gap``), the whole
  structured pipeline, for N ≤ ``--max-full`` (default 14; from N = 13 the d×d tables exceed the
  budget and the generator is evaluated blockwise; a MemoryBudgetError is reported as skipped);
* the floor, one dense ``eigh`` of H (N ≤ ``--max-dense``), twice: ``numpy.linalg.eigh`` and
  ``scipy.linalg.eigh(driver="evd")``, the driver the block eigenbasis uses.

Before a stage runs its memory is estimated from the sector sizes (eigenvectors Σ_s n_s² and the
dsyevd workspace of the largest sector; sparse W: the sector pairs X_0 connects); a stage whose
estimate exceeds the budget (``--budget-gib`` up to N = 14, ``--big-budget-gib`` above) or the
memory available on the machine (``MemAvailable``) is refused with its estimate instead of being
started (the estimates are upper bounds: at N = 14 the Pauli stage estimates 3.7 GiB). The issue's target is N = 14 (build + KMS + steady
state + gap with the block eigenbasis) in less time than one dense eigh at N = 12, peak < 4 GB;
the last lines print that comparison against both floors. Nothing is asserted.

Usage: python benchmarks/conserved.py [--min-n 8] [--max-n 14] [--max-dense 12] [--max-full 14]
       [--budget-gib 4] [--big-budget-gib 20]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import json
import math
import resource
import subprocess
import sys
import time

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from davies_scaling import bath, heisenberg_chain, site_op

from detbal import config
from detbal.eigenbasis import eigenbasis, log_scaled
from detbal.errors import MemoryBudgetError
from detbal.generators.davies import davies
from detbal.generators.davies import sector_kernel as kern
from detbal.generators.davies.sparse_pauli import sparse_components
from detbal.linalg.sparse_rows import row_chunks
from detbal.states import log_gibbs_populations


def magnetisation(n: int) -> np.ndarray:
    """The diagonal of Σ_i Z_i (the sector labels)."""
    return sum(site_op("Z", i, n).diagonal().real for i in range(n))


def pauli_sector(L, beta: float) -> dict:
    """Sparse W, its KMS certificate, stationarity of Gibbs, kernel dimension and population gap.
    Ŵ_mn = W_mn e^{(lp_n − lp_m)/2} overwrites W's entries (log domain, in chunks): one matrix."""
    W = L.sparse_pauli_rate_matrix()
    lp = log_gibbs_populations(L.eigenbasis, beta)
    p = np.exp(lp)
    stat = float(np.linalg.norm(W @ p) / (sp.linalg.norm(W) * np.linalg.norm(p)))
    k = sparse_components(W)
    for _, _, a, b, rows in row_chunks(W):
        W.data[a:b] = log_scaled(W.data[a:b], (lp[W.indices[a:b]] - lp[rows]) / 2, shift=0.0)[0]
    What = W
    del W
    What.sort_indices()
    T = sp.csr_array(What.T)
    T.sort_indices()
    if np.array_equal(T.indptr, What.indptr) and np.array_equal(T.indices, What.indices):
        anti = float(np.linalg.norm(What.data - T.data))
    else:
        anti = float(sp.linalg.norm(What - T))
    kms = anti / float(sp.linalg.norm(What))
    del T
    gap = kern.top_gap(What, k, lp)
    return {"kms_pauli": kms, "stationary": stat, "kdim": k, "pop_gap": gap, "nnz": int(What.nnz)}


def _clock():
    return time.perf_counter(), time.process_time()


def _since(key: str, start, out: dict) -> None:
    out[f"t_{key}"] = time.perf_counter() - start[0]
    out[f"cpu_{key}"] = time.process_time() - start[1]


def estimates(n: int) -> dict:
    """Bytes each stage holds at its peak, from the sector sizes alone (nothing d×d is built).

    eig: the eigenvectors Σ_s n_s² plus, for the largest sector, its block, its eigenvectors and
    the dsyevd workspace (1 + 6n + 2n² numbers); pauli: the S̃ blocks of the sector pairs X_0
    connects (stored once), the CSR arrays of W (12 B per entry, both directions, see
    ``pauli_sparse_bytes``) and the benchmark's transposed copy of Ŵ (12 B per entry)."""
    q = magnetisation(n)
    _, counts = np.unique(q, return_counts=True)
    c = counts.astype(float)
    big = float(c.max())
    eig = 8.0 * float(np.sum(c[c > 1] ** 2)) + 8.0 * (4 * big * big + 6 * big) + 40.0 * 2 ** n
    pairs = float(np.sum(c[:-1] * c[1:]))  # X_0 flips one spin: Σ Z changes by ±2, neighbouring sectors
    pauli = 8.0 * pairs + 12.0 * 2 * pairs + 12.0 * (2 * pairs + 2 ** n)
    return {"eig": eig, "pauli": eig + pauli}


def available_bytes() -> float:
    """MemAvailable of /proc/meminfo (other people share the machine), inf when unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return 1024.0 * float(line.split()[1])
    except OSError:
        pass
    return math.inf


def run_one(n: int, do_full: bool, do_dense: bool, budget: float) -> dict:
    b = bath()
    out: dict = {"n": n, "d": 2 ** n, "budget_gib": budget / 2 ** 30}
    est = estimates(n)
    out["est_gib"] = {k: v / 2 ** 30 for k, v in est.items()}
    avail = available_bytes()
    out["available_gib"] = avail / 2 ** 30
    if est["eig"] > min(budget, avail):
        out["refused"] = (f"block eigenbasis needs ≈ {est['eig'] / 2 ** 30:.1f} GiB > budget "
                          f"{budget / 2 ** 30:.0f} GiB or available {avail / 2 ** 30:.1f} GiB")
        return out
    H, S = heisenberg_chain(n, sparse=True)
    q = magnetisation(n)
    t = _clock()
    eb = eigenbasis(H, conserved=q)
    _since("eig", t, out)
    out["real"] = bool(eb.is_real)
    if do_full:
        try:
            t = _clock()
            L = davies(eb, [(S, b)])
            lp = log_gibbs_populations(eb, b.beta)
            norms = L.structured_balance(lp, 0.5)
            p, out["kdim_full"], _ = L.steady_populations()
            out["steady_residual"] = L.population_residual(p) / np.linalg.norm(p)
            out["gap"] = L.structured_gap()
            _since("full", t, out)
            out["kms"] = math.sqrt(norms["dissipative_antisym"] / norms["dissipative_norm"])
            del L
            out["peak_full_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20
        except MemoryBudgetError as exc:
            out["full_skipped"] = str(exc).split(";")[0]
    if est["pauli"] > min(budget, available_bytes() + est["eig"]):
        out["refused"] = (f"sparse Pauli sector needs ≈ {est['pauli'] / 2 ** 30:.1f} GiB > budget "
                          f"{budget / 2 ** 30:.0f} GiB or available {avail / 2 ** 30:.1f} GiB")
    else:
        t = _clock()
        L = davies(eb, [(S, b)])
        out.update(pauli_sector(L, b.beta))
        _since("pauli", t, out)
        del L
    energies = eb.energies
    del eb
    if do_dense:
        Hd = H.toarray()
        t = _clock()
        E = np.linalg.eigh(Hd)[0]
        _since("numpy_eigh", t, out)
        t = _clock()
        sla.eigh(Hd, driver="evd", check_finite=False)
        _since("evd_eigh", t, out)
        out["energy_diff"] = float(np.max(np.abs(E - energies)))
        del Hd
    out["peak_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20
    return out


def _fmt(r: dict, key: str) -> str:
    """'wall (cpu)' seconds of a stage, '—' when it did not run."""
    if f"t_{key}" not in r:
        return "—"
    return f"{r['t_' + key]:.1f} ({r['cpu_' + key]:.1f})"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-n", type=int, default=8)
    ap.add_argument("--max-n", type=int, default=14)
    ap.add_argument("--max-dense", type=int, default=12, help="largest N for the dense eigh")
    ap.add_argument("--max-full", type=int, default=14,
                    help="largest N for the full structured pipeline (blockwise from N = 13)")
    ap.add_argument("--budget-gib", type=float, default=4.0, help="detbal.config.memory_budget in GiB (N ≤ 14)")
    ap.add_argument("--big-budget-gib", type=float, default=20.0,
                    help="memory budget above N = 14 (the machine has 24 GB; keep room for others)")
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one is not None:
        gib = args.budget_gib if args.one <= 14 else args.big_budget_gib
        config.memory_budget = int(gib * 2 ** 30)
        print(json.dumps(run_one(args.one, args.one <= args.max_full, args.one <= args.max_dense,
                                 float(config.memory_budget))), flush=True)
        return
    print(f"one BLAS thread; memory budget {args.budget_gib:g} GiB (N > 14: {args.big_budget_gib:g} GiB); "
          f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine). Times: wall (CPU) seconds")
    head = (f"{'N':>3} {'d':>6} {'eig':>13} {'pauli':>13} {'full':>13} {'numpy eigh':>13} {'evd eigh':>13} "
            f"{'peak GiB':>8} {'nnz W':>10} {'KMS(W)':>8} {'KMS':>8} {'pop gap':>9} {'gap':>9} {'kdim':>4}")
    print(head)
    print("-" * len(head))
    rows = {}
    for n in range(args.min_n, args.max_n + 1):
        cmd = [sys.executable, os.path.abspath(__file__), "--one", str(n), "--max-dense", str(args.max_dense),
               "--max-full", str(args.max_full), "--budget-gib", str(args.budget_gib),
               "--big-budget-gib", str(args.big_budget_gib)]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            print(f"{n:>3} failed: {res.stderr.strip().splitlines()[-1] if res.stderr else res.returncode}")
            continue
        r = json.loads(res.stdout.strip().splitlines()[-1])
        rows[n] = r

        def f(key, fmt, r=r):
            width = int("".join(ch for ch in fmt.split(".")[0] if ch.isdigit()) or 0)
            return format(r[key], fmt) if key in r else "—".rjust(width)
        print(f"{n:>3} {r['d']:>6} {_fmt(r, 'eig'):>13} {_fmt(r, 'pauli'):>13} {_fmt(r, 'full'):>13} "
              f"{_fmt(r, 'numpy_eigh'):>13} {_fmt(r, 'evd_eigh'):>13} {f('peak_gib', '8.2f')} {f('nnz', '10d')} "
              f"{f('kms_pauli', '8.1e')} {f('kms', '8.1e')} {f('pop_gap', '9.3e')} {f('gap', '9.3e')} "
              f"{f('kdim', '4d')}", flush=True)
        est = ", ".join(f"{k} ≈ {v:.2f} GiB" for k, v in r["est_gib"].items())
        kind = {True: "real", False: "complex"}.get(r.get("real"), "—")
        print(f"      sector blocks {kind}; memory estimate: {est}"
              + (f"; refused: {r['refused']}" if "refused" in r else ""))
        if "full_skipped" in r:
            print(f"      full pipeline skipped: {r['full_skipped']}")
        elif "peak_full_gib" in r:
            print(f"      full pipeline: peak {r['peak_full_gib']:.2f} GiB (with the eigenbasis), steady-state "
                  f"residual {r['steady_residual']:.1e}, kernel dimension {r['kdim_full']}")
    target(rows, args.max_dense)


def target(rows: dict, floor_n: int) -> None:
    """The issue's comparison: the largest N whose block pipeline ran vs one dense eigh at ``floor_n``."""
    floor = rows.get(floor_n, {})
    if "t_numpy_eigh" not in floor:
        return
    done = [n for n, r in rows.items() if "t_eig" in r and ("t_full" in r or "t_pauli" in r)]
    if not done:
        return
    n = max(done)
    r = rows[n]
    stage = "full" if "t_full" in r else "pauli"
    peak = r.get("peak_full_gib", r["peak_gib"]) if stage == "full" else r["peak_gib"]
    print(f"\ntarget: N = {n} block pipeline (eig + {stage}) vs one dense eigh at N = {floor_n} "
          f"(peak of eig + {stage}: {peak:.2f} GiB)")
    for clock, unit in (("t", "wall"), ("cpu", "CPU")):
        total = r[f"{clock}_eig"] + r[f"{clock}_{stage}"]
        for name in ("numpy_eigh", "evd_eigh"):
            fl = floor[f"{clock}_{name}"]
            print(f"  {unit:>4}: {total:8.1f} s vs {name} {fl:7.1f} s: ratio {total / fl:5.2f} "
                  f"(eigenbasis alone {r[f'{clock}_eig'] / fl:4.2f})")


if __name__ == "__main__":
    main()
