"""Counting statistics of the boundary spin current of a boundary-driven XXZ chain: detbal vs QuTiP.

Model: H = Σ_k (X_kX_{k+1} + Y_kY_{k+1} + Δ Z_kZ_{k+1}), Δ = 0.5 (open chain of N spins), with
σ⁺ and σ⁻ at both ends: rates γ(1 ± μ)/2 (σ⁺/σ⁻ on site 0) and γ(1 ∓ μ)/2 (site N−1), γ = 1, μ = 0.5,
so magnetisation is pumped in at the left end and out at the right. Counted: the spin current
injected at the left end, +1 per σ⁺ jump and −1 per σ⁻ jump on site 0 (the *net* current).

For N = 2 … 9 (d = 2^N, d² up to 262 144) it prints mean c₁, noise c₂ and skewness c₃ from
``db.counting_statistics(order=3)`` (recursive Drazin scheme, bordered sparse LU for d ≤ 64,
Sylvester-preconditioned GMRES above, block-diagonal preconditioner when H_eff conserves the
magnetisation) and QuTiP's ``countstat_current_noise`` with the signed current I_ops = J₊ − J₋ and
J_ops = J₊ + J₋ (its default I_ops = J_ops would count every jump positively). QuTiP runs in a child
process with a time cap (default 60 s); once it misses the cap, larger N are not tried. Both times
include the steady state. Nothing is asserted.

    python benchmarks/fcs.py [--nmin 2] [--nmax 9] [--qutip-timeout 60]

BLAS runs single-threaded for both (OPENBLAS_NUM_THREADS=1 unless set).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import time

import numpy as np
import scipy.sparse as sp
from _child import run_in_child

import detbal as db

COUNTING = {"in_left": [1.0], "out_left": [-1.0]}
NAMES = ["in_left", "out_left", "in_right", "out_right"]


def xxz_chain(N: int, delta: float = 0.5, gamma: float = 1.0, mu: float = 0.5):
    """(H, jumps, rates) as scipy sparse arrays; jumps σ⁺₀, σ⁻₀, σ⁺_{N−1}, σ⁻_{N−1}."""
    sx = sp.csr_array([[0, 1], [1, 0]], dtype=complex)
    sy = sp.csr_array([[0, -1j], [1j, 0]])
    sz = sp.csr_array([[1, 0], [0, -1]], dtype=complex)
    splus = sp.csr_array([[0, 0], [1, 0]], dtype=complex)     # |1⟩⟨0| with Z = diag(1, −1): raises Z
    sminus = splus.T.tocsr()

    def site(op, k):
        out = sp.identity(1, format="csr", dtype=complex)
        for j in range(N):
            out = sp.kron(out, op if j == k else sp.identity(2, format="csr"), format="csr")
        return sp.csr_array(out)

    H = sum(site(sx, k) @ site(sx, k + 1) + site(sy, k) @ site(sy, k + 1) + delta * site(sz, k) @ site(sz, k + 1)
            for k in range(N - 1))
    jumps = [site(splus, 0), site(sminus, 0), site(splus, N - 1), site(sminus, N - 1)]
    rates = [gamma * (1 + mu) / 2, gamma * (1 - mu) / 2, gamma * (1 - mu) / 2, gamma * (1 + mu) / 2]
    return sp.csr_array(H), jumps, rates


def _qutip_worker(N, queue):
    try:
        import qutip as qt

        H, jumps, rates = xxz_chain(N)
        dims = [[2] * N, [2] * N]
        c_ops = [np.sqrt(g) * qt.Qobj(A, dims=dims) for g, A in zip(rates, jumps)]
        t0 = time.perf_counter()
        L = qt.liouvillian(qt.Qobj(H, dims=dims), c_ops)
        rho = qt.steadystate(L)
        plus, minus = (qt.sprepost(c, c.dag()) for c in c_ops[:2])
        mean, noise, skew = qt.countstat_current_noise(L, [], rhoss=rho, J_ops=[plus + minus], I_ops=[plus - minus])
        queue.put((time.perf_counter() - t0, (float(mean[0]), float(noise[0, 0, 0]), float(skew[0, 0]))))
    except BaseException as exc:  # noqa: BLE001  (report QuTiP's failure instead of hanging)
        queue.put((None, f"{type(exc).__name__}: {str(exc)[:60]}"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nmin", type=int, default=2)
    ap.add_argument("--nmax", type=int, default=9)
    ap.add_argument("--qutip-timeout", type=float, default=60.0)
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2-core machine, shared)")
    print(f"{'N':>2} {'d':>4} {'path':>16} {'t detbal [s]':>12} {'c1':>12} {'c2':>12} {'c3':>12} "
          f"{'t qutip [s]':>11} {'max rel. diff (c1,c2,c3)':>25} {'qutip/detbal':>12}")
    qutip_alive = True
    for N in range(args.nmin, args.nmax + 1):
        H, jumps, rates = xxz_chain(N)
        L = db.Lindbladian(H, jumps, rates, names=NAMES)
        t0 = time.perf_counter()
        cs = db.counting_statistics(L, COUNTING, order=3)
        t_db = time.perf_counter() - t0
        c = cs.cumulants[0]
        cols = f"{'—':>11} {'—':>25} {'—':>12}"
        if qutip_alive:
            t_qt, res = run_in_child(_qutip_worker, (N,), args.qutip_timeout)
            if t_qt is None:
                qutip_alive = False
                cols = f"{'—':>11} {'—':>25} {'—':>12}  QuTiP: {res}"
            else:
                diff = np.max(np.abs(np.array(res) - c) / np.abs(c))
                cols = f"{t_qt:11.2f} {diff:25.1e} {t_qt / t_db:12.1f}"
        print(f"{N:>2} {2 ** N:>4} {cs.method:>16} {t_db:12.2f} {c[0]:12.8f} {c[1]:12.8f} {c[2]:12.8f} {cols}",
              flush=True)


if __name__ == "__main__":
    main()
