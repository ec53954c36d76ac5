"""LAPACK drivers for the real symmetric eigenproblem on the sectors of a random-field Heisenberg chain.

The block eigenbasis (``eigenbasis(H, conserved=Q)``) spends its time in one ``eigh`` per
magnetisation sector. This script times, one BLAS thread, on the real sector blocks of the chain of
``davies_scaling.py`` (``--sites``, default N = 14: sectors of 1001, 2002 and 3432 states; ``--dense-n``: the whole
dense H of a shorter chain, the floor of the issue's target):

* ``numpy.linalg.eigh`` (LAPACK syevd, NumPy's own OpenBLAS);
* ``scipy.linalg.eigh`` with ``driver`` = evd (syevd), evr (syevr, MRRR), ev (syev, QR), evx (syevx,
  bisection + inverse iteration), SciPy's OpenBLAS;

CPU seconds of the process (``time.process_time``: on a shared machine the wall clock also
counts the time the process waits for a core) and checks each result: orthogonality max|VᵀV − I|, residual max|HV − VΛ|/‖H‖₂ and the largest
eigenvalue difference from numpy's. Prints a table; asserts nothing.

Usage: python benchmarks/eigh_drivers.py [--sites 14] [--sizes 1001 2002 3432] [--dense-n 12] [--drivers ...]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import sys
import time

import numpy as np
import scipy.linalg as sla

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conserved import magnetisation
from davies_scaling import heisenberg_chain

DRIVERS = ("numpy", "evd", "evr", "ev", "evx")


def sector_block(n_sites: int, size: int) -> np.ndarray:
    """The dense real block of the chain's H on a magnetisation sector with ``size`` states."""
    H, _ = heisenberg_chain(n_sites, sparse=True)
    q = magnetisation(n_sites)
    for m in np.unique(q):
        st = np.flatnonzero(q == m)
        if st.size == size:
            return H[st][:, st].toarray()
    raise SystemExit(f"no sector of size {size} at N = {n_sites}")


def solve(A: np.ndarray, driver: str):
    if driver == "numpy":
        return np.linalg.eigh(A)
    return sla.eigh(A, driver=driver, check_finite=False)


def accuracy(A: np.ndarray, e: np.ndarray, V: np.ndarray) -> tuple[float, float]:
    G = V.T @ V
    G[np.diag_indices_from(G)] -= 1.0
    R = A @ V - V * e
    return float(np.max(np.abs(G))), float(np.max(np.abs(R)) / np.max(np.abs(e)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=14, help="chain length N whose sectors are used")
    ap.add_argument("--sizes", type=int, nargs="*", default=[1001, 2002, 3432],
                    help="sector sizes of the N-site chain")
    ap.add_argument("--dense-n", type=int, default=0, help="also the dense H of this chain length (0: no)")
    ap.add_argument("--drivers", nargs="*", default=list(DRIVERS), choices=DRIVERS)
    ap.add_argument("--no-check", action="store_true", help="skip the accuracy checks (two more n×n arrays)")
    args = ap.parse_args(argv)
    print(f"one BLAS thread; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine: "
          "compare within a row)")
    cases = [(f"N={args.sites} sector {s}", lambda s=s: sector_block(args.sites, s)) for s in args.sizes]
    if args.dense_n:
        cases.append((f"dense N={args.dense_n}", lambda: heisenberg_chain(args.dense_n)[0]))
    head = f"{'matrix':>18} {'n':>5} " + " ".join(f"{d:>9}" for d in args.drivers) + "   (CPU seconds)"
    print(head)
    acc_rows = []
    for label, make in cases:
        A = make()
        times, ref = [], None
        for drv in args.drivers:
            t0 = time.process_time()
            e, V = solve(A, drv)
            times.append(time.process_time() - t0)
            if ref is None:
                ref = e
            if not args.no_check:
                orth, res = accuracy(A, e, V)
                acc_rows.append((label, drv, orth, res, float(np.max(np.abs(e - ref)))))
            del V
        print(f"{label:>18} {A.shape[0]:>5} " + " ".join(f"{t:9.2f}" for t in times), flush=True)
    if not acc_rows:
        return
    print(f"\n{'matrix':>18} {'driver':>7} {'max|VᵀV−I|':>11} {'max|HV−VΛ|/‖H‖':>15} {'max|ΔE|':>9}")
    for label, drv, orth, res, de in acc_rows:
        print(f"{label:>18} {drv:>7} {orth:11.1e} {res:15.1e} {de:9.1e}")


if __name__ == "__main__":
    main()
