"""Conserved magnetisation: the sector-by-sector Davies pipeline vs one dense eigh(H).

Model (as ``davies_scaling.py``): random-field Heisenberg chain, fields along z (Σ Z_i conserved),
one ohmic bath (alpha = 0.05, cutoff = 5, β = 1) through X_0. Each N runs in its own process, so
its peak memory (``resource.getrusage`` max RSS) is its own; one BLAS thread. Per N it prints:

* ``eig``: ``eigenbasis(H, conserved=Σ Z)`` (one ``eigh`` per magnetisation sector, H sparse);
* ``full``: ``davies(eb, [(X_0, bath)])`` + KMS certificate (``structured_balance``) + steady state +
  Liouvillian gap (``structured_gap``) — the whole structured pipeline, which still holds d×d rate
  tables: run while they fit the budget (``--budget``);
* ``pauli``: the Pauli sector without any d×d array: sparse W sector pair by sector pair
  (``sparse_pauli_rate_matrix``), its KMS certificate ‖Ŵ − Ŵᵀ‖/‖Ŵ‖ with Ŵ = P^{−1/2}WP^{1/2}, the
  steady state (Gibbs, stationarity ‖Wp‖/‖W‖‖p‖, kernel dimension from the rate graph) and the
  population gap (Lanczos on Ŵ);
* ``dense eigh``: one ``numpy.linalg.eigh`` of the dense H (N ≤ ``--max-dense``).

The issue's target is N = 14 with the block path in less time than one dense eigh at N = 12.
Nothing is asserted.

Usage: python benchmarks/conserved.py [--min-n 8] [--max-n 14] [--max-dense 12] [--budget-gib 4]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from davies_scaling import bath, heisenberg_chain, site_op  # noqa: E402

from detbal import config  # noqa: E402
from detbal.eigenbasis import eigenbasis, log_scaled  # noqa: E402
from detbal.errors import MemoryBudgetError  # noqa: E402
from detbal.generators.davies import davies  # noqa: E402
from detbal.generators.davies import sector_kernel as kern  # noqa: E402
from detbal.generators.davies.sparse_pauli import sparse_components  # noqa: E402
from detbal.states import log_gibbs_populations  # noqa: E402


def magnetisation(n: int) -> np.ndarray:
    """The diagonal of Σ_i Z_i (the sector labels)."""
    return sum(site_op("Z", i, n).diagonal().real for i in range(n))


def pauli_sector(L, beta: float) -> dict:
    """Sparse W, its KMS certificate, stationarity of Gibbs, kernel dimension and population gap."""
    W = L.sparse_pauli_rate_matrix()
    lp = log_gibbs_populations(L.eigenbasis, beta)
    coo = W.tocoo()
    data, _ = log_scaled(coo.data, (lp[coo.col] - lp[coo.row]) / 2, shift=0.0)   # Ŵ_mn = W_mn e^{(lp_n − lp_m)/2}
    What = sp.csr_array((data, (coo.row, coo.col)), shape=W.shape)
    del coo, data
    kms = float(sp.linalg.norm(What - What.T) / sp.linalg.norm(What))
    p = np.exp(lp)
    stat = float(np.linalg.norm(W @ p) / (sp.linalg.norm(W) * np.linalg.norm(p)))
    k = sparse_components(W)
    del W
    gap = kern.top_gap(What, k, lp)
    return dict(kms_pauli=kms, stationary=stat, kdim=k, pop_gap=gap, nnz=int(What.nnz))


def run_one(n: int, do_full: bool, do_dense: bool) -> dict:
    b = bath()
    out: dict = dict(n=n, d=2 ** n)
    H, S = heisenberg_chain(n, sparse=True)
    q = magnetisation(n)
    t0 = time.perf_counter()
    eb = eigenbasis(H, conserved=q)
    out["t_eig"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    L = davies(eb, [(S, b)])
    out.update(pauli_sector(L, b.beta))
    out["t_pauli"] = time.perf_counter() - t0
    if do_full:
        try:
            t0 = time.perf_counter()
            L = davies(eb, [(S, b)])
            lp = log_gibbs_populations(eb, b.beta)
            norms = L.structured_balance(lp, 0.5)
            _, kdim, _ = L.structured_steady_state()
            out["gap"] = L.structured_gap()
            out["t_full"] = time.perf_counter() - t0
            out["kms"] = math.sqrt(norms["dissipative_antisym"] / norms["dissipative_norm"])
        except MemoryBudgetError as exc:
            out["full_skipped"] = str(exc).split(";")[0]
        del L
    if do_dense:
        Hd = H.toarray()
        t0 = time.perf_counter()
        E = np.linalg.eigh(Hd)[0]
        out["t_dense_eigh"] = time.perf_counter() - t0
        out["energy_diff"] = float(np.max(np.abs(E - eb.energies)))
        del Hd
    out["peak_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-n", type=int, default=8)
    ap.add_argument("--max-n", type=int, default=14)
    ap.add_argument("--max-dense", type=int, default=12, help="largest N for the dense eigh")
    ap.add_argument("--max-full", type=int, default=12, help="largest N for the full structured pipeline")
    ap.add_argument("--budget-gib", type=float, default=4.0, help="detbal.config.memory_budget in GiB")
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    config.memory_budget = int(args.budget_gib * 2 ** 30)
    if args.one is not None:
        print(json.dumps(run_one(args.one, args.one <= args.max_full, args.one <= args.max_dense)), flush=True)
        return
    print(f"one BLAS thread; memory budget {args.budget_gib:g} GiB; load {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores (shared machine: compare ratios within a row)")
    head = (f"{'N':>3} {'d':>6} {'eig [s]':>8} {'pauli [s]':>9} {'full [s]':>9} {'dense eigh [s]':>14} "
            f"{'peak GiB':>8} {'nnz W':>10} {'KMS(W)':>8} {'KMS':>8} {'pop gap':>9} {'gap':>9} {'kdim':>4}")
    print(head)
    print("-" * len(head))
    for n in range(args.min_n, args.max_n + 1):
        cmd = [sys.executable, os.path.abspath(__file__), "--one", str(n), "--max-dense", str(args.max_dense),
               "--max-full", str(args.max_full), "--budget-gib", str(args.budget_gib)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            print(f"{n:>3} failed: {res.stderr.strip().splitlines()[-1] if res.stderr else res.returncode}")
            continue
        r = json.loads(res.stdout.strip().splitlines()[-1])
        f = lambda key, fmt: format(r[key], fmt) if key in r else "—"  # noqa: E731
        print(f"{n:>3} {r['d']:>6} {f('t_eig', '8.2f')} {f('t_pauli', '9.2f')} {f('t_full', '9.2f')} "
              f"{f('t_dense_eigh', '14.2f')} {r['peak_gib']:>8.2f} {r['nnz']:>10} {f('kms_pauli', '8.1e')} "
              f"{f('kms', '8.1e')} {f('pop_gap', '9.3e')} {f('gap', '9.3e')} {r['kdim']:>4}", flush=True)
        if "full_skipped" in r:
            print(f"      full pipeline skipped: {r['full_skipped']}")


if __name__ == "__main__":
    main()
