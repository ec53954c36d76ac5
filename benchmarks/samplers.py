"""Spectral gaps of the exact Gibbs samplers (CKG, DLL) and the Metropolis-weighted Davies generator
for the open transverse-field Ising chain H = −Σ Z_iZ_{i+1} − h Σ X_i (h = 1), jumps X_i and Z_i.

Conventions of the printed gaps: CKG with σ_E = 1/β, the normalised filter f̂ (∫|f̂|² = 1) and the
shifted Metropolis weight min(1, e^{−β(ω + βσ_E²/2)}); DLL with its Gaussian filter
q̂(ν) = exp(−β²ν²/8 − βν/4) (q̂(0) = 1); Davies with the rate γ(ω) = min(1, e^{βω}) (emission ω > 0
at rate 1, γ(0) = 1), i.e. the Metropolis weight min(1, e^{−βν}) of the energy gain ν. Reference
values (N = 4, β = 1: CKG 0.643007, DLL 0.577941, Davies 1.424124; N = 6, β = 1: CKG 0.501029,
DLL 0.423078) are printed next to the measured ones.

Columns: build time (gibbs_sampler / davies), wall and CPU time of ``spectral_gap`` (it certifies
detailed balance first, then Lanczos on the Hermitian σ-transformed generator, or dense eigh for
d ≤ 32, or the Davies sector structure; with one BLAS thread the CPU time is the compute time even
on a loaded machine), the gap, the Lanczos steps, the peak memory traced during the row
(tracemalloc: NumPy's allocations), and for CKG the ω-nodes, the filters kept and the measured
kernel error. Prints, asserts nothing. The machine's load (``uptime``) is printed first: timings on a
shared machine are indicative.

    OPENBLAS_NUM_THREADS=1 python benchmarks/samplers.py [--sizes 4,5,6] [--betas 0.5,1,2]
        [--kinds ckg,dll,davies] [--ckg-max 8] [--dll-max 10]
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import time
import tracemalloc
from functools import reduce

import numpy as np
import scipy.sparse as sp

import detbal as db

REFERENCE = {(4, 1.0, "ckg"): 0.643007, (4, 1.0, "dll"): 0.577941, (4, 1.0, "davies"): 1.424124,
             (6, 1.0, "ckg"): 0.501029, (6, 1.0, "dll"): 0.423078}
X = sp.csr_array(np.array([[0.0, 1.0], [1.0, 0.0]]))
Z = sp.csr_array(np.diag([1.0, -1.0]))


def site(op, i, n):
    return reduce(lambda a, b: sp.kron(a, b, format="csr"), [op if k == i else sp.identity(2, format="csr")
                                                              for k in range(n)])


def tfim(n, h=1.0):
    H = sum(-(site(Z, i, n) @ site(Z, i + 1, n)) for i in range(n - 1)) - h * sum(site(X, i, n) for i in range(n))
    jumps = [site(P, i, n) for i in range(n) for P in (X, Z)]
    return H.toarray(), jumps


def metropolis_bath(beta, name):
    """γ(ω) = 2πJ(ω)/(1 − e^{−βω}) = 1 for ω > 0: J(ω) = (1 − e^{−βω})/(2π). One independent bath per
    jump (a shared bath would couple through the sum of the jumps)."""
    return db.Bath(spectral_density=lambda w: -np.expm1(-beta * w) / (2 * np.pi), beta=beta, name=name)


def row(n, beta, kind):
    H, jumps = tfim(n)
    tracemalloc.start()
    t0 = time.perf_counter()
    if kind == "davies":
        G = db.davies(H, couplings=[(A, metropolis_bath(beta, f"jump{k}")) for k, A in enumerate(jumps)])
    else:
        G = db.gibbs_sampler(H, beta, jumps, kind=kind)
    t1, c1 = time.perf_counter(), time.process_time()
    gap = db.spectral_gap(G)
    t2, c2 = time.perf_counter(), time.process_time()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    q = getattr(G, "quadrature", None)
    quad = f"{q.nodes:4d} {q.size:4d} {q.error:8.1e}" if q is not None else f"{'':4} {'':4} {'':8}"
    ref = REFERENCE.get((n, beta, kind))
    ref_s = f"{ref:.6f}" if ref is not None else ""
    steps = gap.details.get("lanczos_steps", gap.method)
    print(f"{n:3d} {2 ** n:5d} {beta:4.1f} {kind:7s} {t1 - t0:8.2f} {t2 - t1:9.2f} {c2 - c1:9.2f} {float(gap):10.6f} {ref_s:>9s} "
          f"{steps!s:>11s} {peak / 2**20:9.1f} {quad}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="4,5,6,7,8,9,10")
    ap.add_argument("--betas", default="0.5,1,2")
    ap.add_argument("--kinds", default="ckg,dll,davies")
    ap.add_argument("--ckg-max", type=int, default=8, help="largest N for CKG (N = 8: minutes per β)")
    ap.add_argument("--dll-max", type=int, default=10)
    args = ap.parse_args()
    limit = {"ckg": args.ckg_max, "dll": args.dll_max, "davies": 99}
    print("load average:", ", ".join(f"{x:.2f}" for x in os.getloadavg()), "| cores:", os.cpu_count())
    print(f"{'N':>3} {'d':>5} {'beta':>4} {'kind':7s} {'build/s':>8} {'gap/s':>9} {'gap cpu/s':>9} {'gap':>10} {'reference':>9} "
          f"{'steps':>11} {'peak/MiB':>9} {'nodes':>4} {'filt':>4} {'kernel':>8}")
    for n in (int(x) for x in args.sizes.split(",")):
        for beta in (float(x) for x in args.betas.split(",")):
            for kind in args.kinds.split(","):
                if n <= limit[kind]:
                    row(n, beta, kind)


if __name__ == "__main__":
    main()
