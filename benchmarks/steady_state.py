"""Steady state of a boundary-driven XXZ chain and of a generic Lindbladian with one dense jump:
detbal.steady_state vs qutip.steadystate.

Model: H = Σ_k (X_kX_{k+1} + Y_kY_{k+1} + Δ Z_kZ_{k+1}), Δ = 0.5 (open chain of N spins), jumps
√γ σ⁻ on site 0 and √γ σ⁺ on site N−1, γ = 1 (a spin current through the chain; unique steady
state). For N = 4 … 8 (d = 2^N up to 256, d² up to 65 536) it prints the time and the residual
‖𝓛(ρ)‖_F (same matrix-free ``apply`` for both) of detbal's default path and of QuTiP's default
``steadystate`` (sparse direct solve), and their time ratio.

Second table (``--dense 64,128,256``): H a random Hermitian matrix and one dense random jump
A (both scaled by 1/√d, seed 0), d = 64 … 256. A ⊗ Ā has d⁴ nonzeros, so the Krylov steps go
through the O(d³) ``apply`` (matrix-free GMRES in the eigenframe of H_eff = H − (i/2)A†A, where the
no-jump part is diagonal: 2 products per step); QuTiP builds the d⁴-entry sparse superoperator.
Run with PYTHONPATH at an older detbal for before/after numbers.

    python benchmarks/steady_state.py [--nmax 8] [--dense 64,128,256] [--qutip-timeout 900]

BLAS runs single-threaded for both (set OPENBLAS_NUM_THREADS to override): sparse LU with a
multithreaded OpenBLAS on a loaded machine is erratic, and neither solver here gains from it.
QuTiP runs in a child process so that a solve longer than ``--qutip-timeout`` seconds is stopped
and reported as "> timeout".
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
from detbal.dynamics import steady_state


def xxz_chain(N: int, delta: float = 0.5, gamma: float = 1.0):
    """(H, jumps, rates) as scipy sparse arrays."""
    sx = sp.csr_array([[0, 1], [1, 0]], dtype=complex)
    sy = sp.csr_array([[0, -1j], [1j, 0]])
    sz = sp.csr_array([[1, 0], [0, -1]], dtype=complex)
    sm = sp.csr_array([[0, 1], [0, 0]], dtype=complex)

    def site(op, k):
        out = sp.identity(1, format="csr", dtype=complex)
        for j in range(N):
            out = sp.kron(out, op if j == k else sp.identity(2, format="csr"), format="csr")
        return out

    H = sum(site(sx, k) @ site(sx, k + 1) + site(sy, k) @ site(sy, k + 1) + delta * site(sz, k) @ site(sz, k + 1)
            for k in range(N - 1))
    return sp.csr_array(H), [site(sm, 0), site(sm.T.tocsr(), N - 1)], [gamma, gamma]


def dense_jump(d: int, seed: int = 0):
    """(H, [A], [1.0]): random Hermitian H and one dense random jump A, both scaled by 1/√d."""
    rng = np.random.default_rng(seed)
    H = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    A = (rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))) / np.sqrt(d)
    return (H + H.conj().T) / (2 * np.sqrt(d)), [A], [1.0]


def _model(key):
    kind, n = key
    return xxz_chain(n) if kind == "xxz" else dense_jump(n)


def _qutip_worker(key, queue):
    import qutip as qt

    H, jumps, rates = _model(key)
    N = key[1] if key[0] == "xxz" else 1
    dims = [[2] * N, [2] * N] if key[0] == "xxz" else [[key[1]], [key[1]]]
    Hq = qt.Qobj(H, dims=dims)
    c_ops = [np.sqrt(g) * qt.Qobj(A, dims=dims) for g, A in zip(rates, jumps)]
    t0 = time.perf_counter()
    rho = qt.steadystate(Hq, c_ops)
    queue.put((time.perf_counter() - t0, rho.full()))


def _qutip_guarded(key, queue):
    try:
        _qutip_worker(key, queue)
    except BaseException as exc:  # noqa: BLE001  (report QuTiP's failure, e.g. MemoryError, instead of hanging)
        queue.put((None, f"{type(exc).__name__}: {str(exc)[:60]}"))


def run_qutip(key, timeout):
    """(seconds, result) from a child process; (None, reason) on timeout or failure."""
    return run_in_child(_qutip_guarded, (key,), timeout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nmin", type=int, default=4)
    ap.add_argument("--nmax", type=int, default=8)
    ap.add_argument("--dense", default="64,128,256", help="comma-separated d of the dense-jump model ('' = none)")
    ap.add_argument("--qutip-timeout", type=float, default=900.0)
    args = ap.parse_args()
    print("boundary-driven XXZ chain")
    _header("N")
    for N in range(args.nmin, args.nmax + 1):
        _row(("xxz", N), str(N), 2 ** N, args.qutip_timeout)
    sizes = [int(x) for x in args.dense.split(",") if x.strip()]
    if sizes:
        print("random H, one dense jump")
        _header("")
        for d in sizes:
            _row(("dense", d), "", d, args.qutip_timeout)


def _header(first):
    print(f"{first:>2} {'d':>4} {'detbal path':>12} {'t detbal [s]':>13} {'‖L(ρ)‖ detbal':>14} "
          f"{'t qutip [s]':>12} {'‖L(ρ)‖ qutip':>13} {'qutip/detbal':>13}")


def _row(key, label, d, timeout):
    H, jumps, rates = _model(key)
    L = db.Lindbladian(H, jumps, rates)
    t0 = time.perf_counter()
    ss = steady_state(L)
    t_db = time.perf_counter() - t0
    t_qt, rho_qt = run_qutip(key, timeout)
    if t_qt is None:
        qt_cols = f"{'—':>12} {'—':>13} {'—':>13}  QuTiP failed: {rho_qt}"
    else:
        res_qt = float(np.linalg.norm(L.apply(rho_qt)))
        qt_cols = f"{t_qt:12.3f} {res_qt:13.2e} {t_qt / t_db:13.1f}"
    print(f"{label:>2} {d:>4} {ss.method:>12} {t_db:13.3f} {ss.residual:14.2e} {qt_cols}", flush=True)


if __name__ == "__main__":
    main()
