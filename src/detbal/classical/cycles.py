"""Kolmogorov's cycle criterion for classical rate matrices, internal to
:mod:`detbal.classical`: fundamental cycles of a BFS spanning forest and their affinities.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from .._serialize import JsonResult, html_table
from ..reports import no_truth_value

__all__ = ["KolmogorovResult", "kolmogorov_cycles"]


@dataclass(frozen=True)
class KolmogorovResult(JsonResult):
    """Kolmogorov criterion over the fundamental cycles of one spanning tree.

    Attributes:
        holds: every cycle affinity is ≤ ``tolerance`` in modulus and there is no one-way edge.
        cycles: one tuple of states (n_1, ..., n_k) per cycle, traversed n_1 → n_2 → … → n_k → n_1.
            The first edge n_1 → n_2 is the chord defining the cycle. Each cycle is oriented so that
            its affinity is ≥ 0 (the direction its forward rates dominate). A one-way edge
            (W_mn > 0, W_nm = 0) is reported as the two-state cycle (n, m) with affinity +inf.
        affinities: A_C = Σ_i log[W(n_i → n_{i+1}) / W(n_{i+1} → n_i)] ≥ 0, aligned with ``cycles``.
        worst_cycle: the cycle of largest affinity (``()`` if there are no cycles).
        worst_affinity: its affinity (0.0 if there are no cycles).
    """

    holds: bool
    cycles: tuple[tuple[int, ...], ...]
    affinities: tuple[float, ...]
    worst_cycle: tuple[int, ...]
    worst_affinity: float

    __bool__ = no_truth_value  # test `.holds` (see detbal.reports)

    def __str__(self) -> str:
        verdict = "holds" if self.holds else "FAILS"
        return (f"Kolmogorov criterion {verdict}: {len(self.cycles)} cycles, worst affinity "
                f"{self.worst_affinity:.6g} on {list(self.worst_cycle)}")

    def _repr_html_(self) -> str:
        """Jupyter display: the verdict and one row per cycle with its affinity."""
        worst = f"{self.worst_affinity:.6g} on {list(self.worst_cycle)}"
        return html_table("Kolmogorov criterion", [("cycles", len(self.cycles)), ("worst affinity", worst)],
                          verdict=("holds" if self.holds else "FAILS", self.holds),
                          table=(("cycle", "affinity"), [(" → ".join(map(str, c)), f"{a:.6g}")
                                                         for c, a in zip(self.cycles, self.affinities)]))


def kolmogorov_cycles(w: np.ndarray, tolerance: float) -> KolmogorovResult:
    """Cycle affinities of the rate matrix w (w[m, n] = rate n → m) over the fundamental cycles of
    a BFS spanning forest of its reversible edges; one-way edges are two-state cycles with
    affinity +inf (see :meth:`detbal.classical.RateMatrix.kolmogorov`)."""
    d = w.shape[0]
    off = ~np.eye(d, dtype=bool)
    rev = (w > 0) & (w.T > 0) & off
    parent = np.full(d, -1)
    depth = np.full(d, -1)
    order = []  # BFS order: every node after its parent
    for root in range(d):
        if depth[root] >= 0:
            continue
        depth[root] = 0
        queue = deque([root])
        while queue:
            u = queue.popleft()
            order.append(u)
            for v in np.flatnonzero(rev[:, u]):
                if depth[v] < 0:
                    depth[v], parent[v] = depth[u] + 1, u
                    queue.append(v)
    logw = np.zeros_like(w)
    logw[rev] = np.log(w[rev])
    # potential φ(x) = Σ over the tree path root → x of log[W(parent → child)/W(child → parent)]; the
    # tree path v → … → u then contributes φ(u) − φ(v), so the cycle of chord u → v has affinity
    # A = log W(u → v) − log W(v → u) + φ(u) − φ(v), all chords at once
    phi = np.zeros(d)
    for x in order:
        if parent[x] >= 0:
            phi[x] = phi[parent[x]] + logw[x, parent[x]] - logw[parent[x], x]
    U, V = np.nonzero(np.triu(rev, 1))
    chord = (parent[U] != V) & (parent[V] != U)
    U, V = U[chord], V[chord]
    A = logw[V, U] - logw[U, V] + phi[U] - phi[V]
    cycles, affinities = [], []
    for u, v, a in zip(U.tolist(), V.tolist(), A.tolist()):
        up_u, up_v = [u], [v]
        while up_u[-1] != up_v[-1]:
            if depth[up_u[-1]] >= depth[up_v[-1]]:
                up_u.append(int(parent[up_u[-1]]))
            else:
                up_v.append(int(parent[up_v[-1]]))
        cyc = [u] + (up_v + up_u[-2::-1])[:-1]  # u → v → … → lca → … → u
        if a < 0:  # reorient: chord v → u first, then the tree path back to v
            cyc, a = [cyc[1], cyc[0]] + cyc[:1:-1], -a
        cycles.append(tuple(cyc))
        affinities.append(a)
    for m, n in np.argwhere((w > 0) & (w.T == 0) & off):  # W_mn > 0, W_nm = 0: n → m only
        cycles.append((int(n), int(m)))
        affinities.append(math.inf)
    k = int(np.argmax(affinities)) if cycles else None
    worst, worst_a = (cycles[k], affinities[k]) if cycles else ((), 0.0)
    return KolmogorovResult(worst_a <= tolerance, tuple(cycles), tuple(affinities), worst, worst_a)
