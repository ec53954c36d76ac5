"""Davies generator of a random-field Heisenberg chain: detbal's structured pipeline vs one eigh(H).

Model: H = Σ_i (X_iX_{i+1} + Y_iY_{i+1} + Z_iZ_{i+1}) + Σ_i h_i Z_i (open chain), h_i ~ U[−1, 1]
(seeded), one ohmic bath (alpha = 0.05, cutoff = 5, β = 1) coupled through X on site 0.

For N = 4 … max_n spins (d = 2^N) it prints the time of one ``numpy.linalg.eigh(H)`` (the floor:
any Davies construction needs the eigenbasis) and of detbal's pipeline

    D = davies(H, [(X_0, bath)])                       # build (eigh + V†SV + rates + sectors)
    D.structured_balance(log p, s = 1/2)                # KMS certificate, block by block
    D.structured_steady_state()                         # Gibbs state + Pauli-graph kernel dimension
    D.structured_gap()                                  # spectral gap from the sectors

with its ratio to eigh, the KMS residual and the steady-state error vs the Gibbs state. For small
N it also times QuTiP's ``bloch_redfield_tensor(..., sec_cutoff=0.1)`` + ``steadystate`` (N ≤ 6)
and qthermo's Davies steady state (N ≤ 8, when installed) and prints detbal's speed-up. Nothing
is asserted on time.

Usage: python benchmarks/davies_scaling.py [--max-n 12] [--min-n 4] [--repeat R] [--threads T]
[--profile]   (quick mode: --max-n 8). ``--threads`` sets the BLAS/OpenMP thread count before
NumPy is imported; on a shared machine ``--threads 1`` gives reproducible ratios (a multi-threaded
BLAS whose threads are descheduled by other processes times eigh erratically).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from functools import reduce

if "--threads" in sys.argv[:-1]:                      # must happen before NumPy loads its BLAS
    _n = sys.argv[sys.argv.index("--threads") + 1]
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = _n

import numpy as np
import scipy.sparse as sp

import detbal as db
from detbal.baths import Bath
from detbal.generators.davies import davies
from detbal.states import log_gibbs_populations

PAULI = {
    "X": sp.csr_array(np.array([[0.0, 1.0], [1.0, 0.0]])),
    "Y": sp.csr_array(np.array([[0.0, -1.0j], [1.0j, 0.0]])),
    "Z": sp.csr_array(np.array([[1.0, 0.0], [0.0, -1.0]])),
}


def site_op(name: str, i: int, n: int) -> sp.csr_array:
    ops = [sp.identity(2, format="csr") for _ in range(n)]
    ops[i] = PAULI[name]
    return sp.csr_array(reduce(lambda a, b: sp.kron(a, b, format="csr"), ops))


def heisenberg_chain(n: int, seed: int = 1234, sparse: bool = False):
    """(H dense real (d, d), X_0 sparse) for the random-field Heisenberg chain (``sparse``: H as a
    real csr_array, for sizes where a dense H does not fit)."""
    rng = np.random.default_rng(seed)
    h = rng.uniform(-1.0, 1.0, size=n)
    d = 2 ** n
    H = sp.csr_array((d, d), dtype=complex)
    for i in range(n - 1):
        for p in "XYZ":
            H = H + site_op(p, i, n) @ site_op(p, i + 1, n)
    for i in range(n):
        H = H + h[i] * site_op("Z", i, n)
    if sparse:
        assert np.all(H.data.imag == 0)
        return sp.csr_array(H.real), sp.csr_array(site_op("X", 0, n).real)
    Hd = H.toarray()
    assert np.all(Hd.imag == 0)
    return np.ascontiguousarray(Hd.real), sp.csr_array(site_op("X", 0, n).real)


def bath():
    return Bath.ohmic(alpha=0.05, cutoff=5.0, beta=1.0)


def timed(fn, repeat=1):
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def detbal_pipeline(H, S, b):
    D = davies(H, [(S, b)])
    lp = log_gibbs_populations(D.eigenbasis, b.beta)
    norms = D.structured_balance(lp, 0.5)
    state, kdim, _ = D.structured_steady_state()
    gap = D.structured_gap()
    residual = math.sqrt(norms["dissipative_antisym"] / norms["dissipative_norm"])
    return D, state, kdim, gap, residual


def qutip_time(H, S, b):
    import qutip as qt

    spectrum = lambda w: float(b.rate(w))
    t0 = time.perf_counter()
    R = qt.bloch_redfield_tensor(qt.Qobj(H), [(qt.Qobj(S.toarray()), spectrum)], sec_cutoff=0.1,
                                 fock_basis=True)
    rho = qt.steadystate(R)
    return time.perf_counter() - t0, rho.full()


def qthermo_time(H, S, b):
    import qthermo

    a, wc, beta = b.params["alpha"], b.params["cutoff"], b.beta
    J = lambda w: 2 * math.pi * a * np.asarray(w, dtype=float) * np.exp(-np.asarray(w, dtype=float) / wc)
    t0 = time.perf_counter()
    bath_q = qthermo.davies_bath(H, S.toarray(), 1.0 / beta, spectrum=J,
                                 zero_frequency_rate=2 * math.pi * a / beta)
    rho = qthermo.steady_state(H, [bath_q])
    return time.perf_counter() - t0, np.asarray(rho)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-n", type=int, default=12)
    ap.add_argument("--min-n", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=None,
                    help="best of this many runs of eigh and of the pipeline (default 5 for N ≤ 10, 2 above)")
    ap.add_argument("--threads", type=int, default=None, help="BLAS threads (set before NumPy loads)")
    ap.add_argument("--profile", action="store_true", help="cProfile the pipeline at max-n")
    args = ap.parse_args(argv)
    try:
        import qthermo  # noqa: F401
        have_qthermo = True
    except ImportError:
        have_qthermo = False
    b = bath()
    print(f"BLAS threads: {os.environ.get('OPENBLAS_NUM_THREADS', 'default')}; cores: {os.cpu_count()}")
    head = (f"{'N':>3} {'d':>5} {'eigh [s]':>10} {'detbal [s]':>11} {'ratio':>6} {'KMS res':>9} "
            f"{'|ρ−σ|max':>9} {'kdim':>4} {'gap':>9} {'QuTiP [s]':>10} {'speed-up':>9} "
            f"{'qthermo [s]':>11} {'speed-up':>9}")
    print(head)
    print("-" * len(head))
    for n in range(args.min_n, args.max_n + 1):
        H, S = heisenberg_chain(n)
        rep = args.repeat or (5 if n <= 10 else 2)
        t_eigh, _ = timed(lambda H=H: np.linalg.eigh(H), rep)
        t_db, (D, state, kdim, gap, res) = timed(lambda H=H, S=S: detbal_pipeline(H, S, b), rep)
        err = float(np.max(np.abs(state - db.gibbs_state(D.eigenbasis, b.beta))))
        row = (f"{n:>3} {2 ** n:>5} {t_eigh:>10.4f} {t_db:>11.4f} {t_db / t_eigh:>6.2f} {res:>9.1e} "
               f"{err:>9.1e} {kdim:>4} {gap:>9.3e}")
        if n <= 6:
            t_q, _ = qutip_time(H, S, b)
            row += f" {t_q:>10.4f} {t_q / t_db:>8.0f}×"
        else:
            row += f" {'—':>10} {'—':>9}"
        if have_qthermo and n <= 8:
            t_t, _ = qthermo_time(H, S, b)
            row += f" {t_t:>11.4f} {t_t / t_db:>8.0f}×"
        else:
            row += f" {'—' if have_qthermo else 'n/a':>11} {'—':>9}"
        print(row, flush=True)
        del D, state
    if not have_qthermo:
        print("qthermo is not installed (pip install qthermo): its column is skipped")
    if args.profile:
        import cProfile
        import pstats

        H, S = heisenberg_chain(args.max_n)
        pr = cProfile.Profile()
        pr.enable()
        detbal_pipeline(H, S, b)
        pr.disable()
        pstats.Stats(pr).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
