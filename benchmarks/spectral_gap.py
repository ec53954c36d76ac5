"""Liouvillian gap of generic d = 32 … 128 Lindbladians: detbal.spectral_gap vs dense floors.

Models (seed 0): "db" — H with 4 degenerate levels (spacing 0.7) in a random basis, dense jumps
P_i G P_j between levels with KMS rates at β = 1 plus dense jumps inside each level (KMS-detailed
balanced, 𝓛̂ normal: the Lanczos path); "generic1" / "generic" — random H and 1 / 3 random dense
jumps (not DB: matrix-free Krylov–Schur on the trace-deflated generator in the eigenframe of H_eff;
``--generic-max 256`` for d = 256). Prints the time of ``spectral_gap`` (iterative path), the
number of products 𝓛(X) it took, at d ≤ 32 also the dense ``numpy.linalg.eig`` of the d²×d²
matrix (its time and the relative difference of the gaps); one ``eigh(H)`` as the O(d³) floor, and
the ratios. ``--before`` (for d ≤ ``--before-max``) also times the previous algorithm on the same
model: shift-invert Arnoldi around 0⁺ (sparse LU for small d, else GMRES solves in the eigenframe of
H_eff; ``detbal.linalg.spectral.slow_eigenpairs``), the non-Hermitian gap path before Krylov–Schur.

    OPENBLAS_NUM_THREADS=1 python benchmarks/spectral_gap.py [--dims 32,64,128] [--generic-max 64] \
        [--before] [--before-max 64]
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import time

import numpy as np

import detbal as db
from detbal.linalg.spectral import gap_from_eigenvalues, slow_eigenpairs


def generic1(d, seed=0):
    return generic(d, n_jumps=1, seed=seed)


def generic(d, n_jumps=3, seed=0):
    rng = np.random.default_rng(seed)
    G = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    H = (G + G.conj().T) / (2 * np.sqrt(d))
    jumps = [(rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))) / np.sqrt(d) for _ in range(n_jumps)]
    return db.Lindbladian(H, jumps, list(rng.uniform(0.3, 1.5, size=n_jumps)))


def block_db(d, levels=4, beta=1.0, seed=0):
    rng = np.random.default_rng(seed)
    m = d // levels
    E = np.repeat(np.arange(levels, dtype=float) * 0.7, m)
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d)))
    H = (Q * E) @ Q.conj().T
    jumps, rates = [], []

    def block(i, j):
        B = np.zeros((d, d), complex)
        B[i * m:(i + 1) * m, j * m:(j + 1) * m] = (rng.normal(size=(m, m)) + 1j * rng.normal(size=(m, m))) / np.sqrt(m)
        return Q @ B @ Q.conj().T

    for i in range(levels):
        for j in range(i + 1, levels):
            A, r = block(i, j), rng.uniform(0.3, 1.5)
            jumps += [A, A.conj().T.copy()]
            rates += [r, r * np.exp(-beta * (E[j * m] - E[i * m]))]
    for i in range(levels):
        A = block(i, i)
        jumps += [A, A.conj().T.copy()]
        rates += [0.5, 0.5]
    return db.Lindbladian(H, jumps, rates, beta=beta)


def timed(f, *args, **kwargs):
    t = time.perf_counter()
    out = f(*args, **kwargs)
    return out, time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dims", default="32,64,128")
    ap.add_argument("--generic-max", type=int, default=128)
    ap.add_argument("--before", action="store_true")
    ap.add_argument("--before-max", type=int, default=64)
    args = ap.parse_args()
    print(f"{'model':8} {'d':>4} {'path/method':>36} {'gap':>12} {'t_gap[s]':>9} {'products':>8} "
          f"{'t_eigh(H)':>10} {'ratio':>9} {'t_eig(d²)':>10} {'|Δgap|/gap':>10}")
    for d in [int(x) for x in args.dims.split(",")]:
        for name, build in (("db", block_db), ("generic1", generic1), ("generic", generic)):
            if name.startswith("generic") and d > args.generic_max:
                continue
            L = build(d)
            g, tg = timed(db.spectral_gap, L, method="iterative")
            rng = np.random.default_rng(1)
            X = rng.normal(size=(d, d))
            _, th = timed(np.linalg.eigh, X + X.T)
            te, rel = float("nan"), float("nan")
            if d <= 32:
                w, te = timed(np.linalg.eigvals, L.to_dense())
                w = w[np.abs(w) > 1e-10]
                ref = -np.max(w.real)
                rel = abs(float(g) - ref) / ref
            products = g.details.get("products", g.details.get("lanczos_steps", ""))
            print(f"{name:8} {d:4d} {g.path + '/' + g.method:>36} {float(g):12.8f} {tg:9.2f} {products:>8} "
                  f"{th:10.4f} {tg / th:9.0f} {te:10.2f} {rel:10.1e}", flush=True)
            if args.before and d <= args.before_max:
                out, t0 = timed(slow_eigenpairs, L, min(8, d * d - 2))
                g0, how = gap_from_eigenvalues(out[0], out[3], 1e-10)[0], out[4]
                print(f"{'  before':8} {d:4d} {how:>36} {g0:12.8f} {t0:9.2f}   "
                      f"speed-up {t0 / tg:.1f}x, |Δgap|/gap {abs(g0 - float(g)) / float(g):.1e}", flush=True)


if __name__ == "__main__":
    main()
