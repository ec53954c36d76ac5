"""KMS certificate of a general Lindbladian with 4 dense jumps: time, peak memory, ratio to eigh(H).

Issue target: at d = 1024 the matrix-free certificate takes ≤ 30× one eigh(H) and < 1 GB peak.
Rows: "structured" (the default for Lindbladians: exact operator-sum norms in σ's eigenbasis),
"probe" (random probes with an error bar, the method for generators known only through
apply/adjoint), and the dense d²×d² σ-transformed generator at d = 64 for comparison.

    python benchmarks/balance_scaling.py [--dims 64 256 1024] [--probes 8]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

import detbal as db


def model(d: int, seed: int = 0):
    """Random H and 4 dense jumps: two eigenoperator pairs between degenerate levels in a random
    basis (KMS/GNS-DB w.r.t. Gibbs at β = 0.7), so the certificate must come out balanced."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    Q, _ = np.linalg.qr(X)
    levels = np.array([0.0, 0.8, 1.9])  # three exactly degenerate levels, so A = P_lo X P_hi are eigenoperators
    H = (Q * levels[np.arange(d) % 3]) @ Q.conj().T
    P = [Q[:, np.arange(d) % 3 == k] @ Q[:, np.arange(d) % 3 == k].conj().T for k in range(3)]
    beta = 0.7
    jumps, rates = [], []
    for n, (lo, hi) in enumerate([(0, 1), (1, 2)]):
        A = P[lo] @ (rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))) @ P[hi] / np.sqrt(d)
        jumps += [A, A.conj().T]
        rates += [0.5 + n, (0.5 + n) * np.exp(-beta * (levels[hi] - levels[lo]))]
    return db.Lindbladian(H, jumps, rates), H, beta


def timed(fn, *args, **kwargs):
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dims", type=int, nargs="+", default=[64, 256, 1024])
    parser.add_argument("--probes", type=int, default=8)
    args = parser.parse_args()
    print(f"{'d':>6} {'method':>7} {'eigh [s]':>9} {'cert [s]':>9} {'ratio':>7} {'peak MB':>8} {'residual':>10} holds")
    for d in args.dims:
        L, H, beta = model(d)
        t0 = time.perf_counter()
        np.linalg.eigh(H)
        t_eigh = time.perf_counter() - t0
        methods = ["structured", "probe"] + (["dense"] if d <= 64 else [])
        for method in methods:
            rep, t, peak = timed(db.detailed_balance, L, beta=beta, method=method, probes=args.probes, seed=1)
            print(f"{d:>6} {method:>7} {t_eigh:>9.3f} {t:>9.3f} {t / t_eigh:>7.1f} {peak / 1e6:>8.1f} "
                  f"{rep.residual:>10.2e} {rep.holds}")


if __name__ == "__main__":
    main()
