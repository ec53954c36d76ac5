"""The two dense steady-state verdicts of `detbal analyze` (KMS and GNS w.r.t. the steady state): time of
two separate `detailed_balance` calls against one `detailed_balance_inners` call, which resolves the
reference once and builds each eigenframe matrix (the generator's and each bath's, O(d⁵)) once for both.

Model: the XXZ chain between boundary baths (zoo `xxz_chain`, baths=boundary): its steady state is not
diagonal in the energy basis, so the verdicts take the dense d²×d² path (d = 2ⁿ). Prints a table; asserts
nothing. Measure on an idle machine (`uptime`); the ratio of the two rows is what the sharing buys.

    python benchmarks/dense_steady_verdicts.py [--sites 4 5 6]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import detbal as db
from detbal.balance.api import detailed_balance_inners
from detbal.models import xxz_chain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, nargs="+", default=[4, 5, 6])
    args = parser.parse_args()
    print(f"{'n':>3} {'d':>4} {'separate [s]':>13} {'shared [s]':>11} {'ratio':>6}  residuals (KMS, GNS)")
    for n in args.sites:
        L = xxz_chain(n=n, baths="boundary").generator
        rho = np.asarray(db.steady_state(L).state)
        t0 = time.perf_counter()
        separate = [db.detailed_balance(L, state=rho, inner=inner) for inner in ("kms", "gns")]
        t1 = time.perf_counter()
        shared = detailed_balance_inners(L, ("kms", "gns"), state=rho)
        t2 = time.perf_counter()
        same = all(a.residual == b.residual for a, b in zip(separate, shared))
        print(f"{n:>3} {L.dim:>4} {t1 - t0:>13.2f} {t2 - t1:>11.2f} {(t1 - t0) / (t2 - t1):>6.2f}  "
              f"{shared[0].residual:.3e}, {shared[1].residual:.3e} ({'equal' if same else 'DIFFER'}; "
              f"method {shared[0].method})")


if __name__ == "__main__":
    main()
