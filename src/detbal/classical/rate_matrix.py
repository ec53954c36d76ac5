"""Classical rate matrices: stationary state, detailed balance, Kolmogorov cycles.

Conventions: ``W`` is a real d×d generator with W_mn = rate of n → m (m ≠ n) and
W_nn = −Σ_{m≠n} W_mn (**columns sum to zero**), so dp/dt = W p. The probability flux matrix is
F_mn = W_mn p_n and the net current n → m on edge {m, n} is J_mn = W_mn p_n − W_nm p_m (antisymmetric).
"""

from __future__ import annotations

import math

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .._checks import _to_array
from ..errors import ConvergenceError, InputError, NonUniqueSteadyStateError
from .cycles import KolmogorovResult, kolmogorov_cycles
from ..reports import BalanceReport, ChannelBalance

__all__ = ["KolmogorovResult", "RateMatrix", "closed_classes"]

#: columns of W must sum to zero within this tolerance times the largest |W_mn|
COLUMN_SUM_RTOL = 1e-10
#: a given distribution p must satisfy |Σp − 1| ≤ this
NORMALISATION_ATOL = 1e-8
#: a reversal Θ must satisfy |p_{Θn} − p_n| ≤ this times max p
REVERSAL_RTOL = 1e-8


def _ratio(num: float, den: float) -> float:
    """num/den with 0/0 = 0 and x/0 = inf."""
    if num == 0:
        return 0.0
    return float(num / den) if den > 0 else math.inf


def _as_real_square(x, name: str) -> np.ndarray:
    """Validate a real (or exactly real complex) numeric square matrix, d ≥ 1; float64 copy."""
    a = _to_array(x, name)
    if sp.issparse(a):
        a = a.toarray()
    if a.dtype == bool or not np.issubdtype(a.dtype, np.number):
        raise InputError(f"`{name}` must be a real numeric matrix, got dtype {a.dtype}")
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise InputError(f"`{name}` must be a square 2-D matrix, got shape {a.shape}")
    if a.shape[0] == 0:
        raise InputError(f"`{name}` must have dimension ≥ 1, got shape {a.shape}")
    if np.iscomplexobj(a):
        if np.any(a.imag != 0):
            raise InputError(f"`{name}` must be real (rates), got complex entries")
        a = a.real
    return np.array(a, dtype=np.float64, copy=True)


def _check_offdiagonal(a: np.ndarray, name: str) -> None:
    off = ~np.eye(a.shape[0], dtype=bool)
    if not np.all(np.isfinite(a[off])):
        raise InputError(f"`{name}` contains NaN or infinite rates")
    bad = np.argwhere((a < 0) & off)
    if bad.size:
        m, n = bad[0]
        raise InputError(f"`{name}` off-diagonal rates must be ≥ 0, got {name}[{m}, {n}] = {a[m, n]:.6g}")


def closed_classes(rates) -> list[np.ndarray]:
    """Closed communicating classes of a rate graph, each an ascending index array, sorted by first state.

    Args:
        rates: (d, d) array (dense or sparse); ``rates[m, n] > 0`` (or True) means a jump n → m.
            The diagonal is ignored.

    Returns:
        list of (n_c,) int ndarrays: the strongly connected components with no jump leaving them.
        Their number is the dimension of the kernel of the rate matrix.
    """
    A = sp.csr_array(sp.csr_array(rates).T > 0)                # A[n, m]: edge n → m
    A.setdiag(False)
    A.eliminate_zeros()
    ncomp, lab = connected_components(A, directed=True, connection="strong")
    src, dst = A.nonzero()
    leaving = np.zeros(ncomp, dtype=bool)
    cross = lab[src] != lab[dst]
    leaving[lab[src[cross]]] = True
    classes = [np.flatnonzero(lab == c) for c in range(ncomp) if not leaving[c]]
    return sorted(classes, key=lambda c: c[0])


def _gth(rates: np.ndarray) -> np.ndarray:
    """Stationary distribution of an irreducible chain by Grassmann–Taksar–Heyman elimination.

    ``rates[n, m]`` = rate n → m. Subtraction-free, so p ≥ 0 with small relative error per entry,
    even when probabilities span many orders of magnitude.
    """
    a = rates.astype(np.float64, copy=True)
    d = a.shape[0]
    for k in range(d - 1, 0, -1):
        s = a[k, :k].sum()
        if not s > 0:  # impossible for an irreducible chain unless rates underflow
            raise ConvergenceError("GTH elimination met a state with zero outflow (rates underflow?)")
        a[:k, k] /= s
        a[:k, :k] += np.outer(a[:k, k], a[k, :k])
    p = np.zeros(d)
    p[0] = 1.0
    for k in range(1, d):
        p[k] = p[:k] @ a[:k, k]
    return p / p.sum()


class RateMatrix:
    """Classical Markov generator W (columns sum to zero), immutable.

    Args:
        W: (d, d) real array-like, W_mn ≥ 0 the rate n → m for m ≠ n, columns summing to zero
            within 1e-10·max|W| (the diagonal is then set exactly to −Σ_{m≠n} W_mn).
        labels: optional sequence of d state names used in reports.

    Raises:
        InputError: not square / d = 0, non-numeric or complex, NaN/inf, negative off-diagonal
            rate, columns not summing to zero, wrong number of labels.

    Use :meth:`from_rates` to give only the off-diagonal rates.
    """

    __slots__ = ("_W", "_labels", "_p")

    def __init__(self, W: ArrayLike, labels: Sequence | None = None):
        a = _as_real_square(W, "W")
        _check_offdiagonal(a, "W")
        if not np.all(np.isfinite(np.diag(a))):
            raise InputError("`W` contains NaN or infinite diagonal entries")
        colsum = a.sum(axis=0)
        scale = np.max(np.abs(a))
        worst = int(np.argmax(np.abs(colsum)))
        if abs(colsum[worst]) > COLUMN_SUM_RTOL * scale:
            raise InputError(
                f"`W` columns must sum to zero (W_nn = −Σ_m W_mn); column {worst} sums to "
                f"{colsum[worst]:.3e} (max |W| = {scale:.3e}). Use RateMatrix.from_rates for off-diagonal rates"
            )
        self._init(a, labels)

    @classmethod
    def from_rates(cls, rates: ArrayLike, labels: Sequence | None = None) -> RateMatrix:
        """Build W from off-diagonal rates ``rates[m, n]`` = rate n → m; the diagonal is ignored.

        Returns:
            RateMatrix of dimension d (``rates`` is (d, d)).
        """
        a = _as_real_square(rates, "rates")
        _check_offdiagonal(a, "rates")
        obj = cls.__new__(cls)
        obj._init(a, labels)
        return obj

    def _init(self, a: np.ndarray, labels) -> None:
        d = a.shape[0]
        np.fill_diagonal(a, 0.0)
        np.fill_diagonal(a, -a.sum(axis=0))
        a.flags.writeable = False
        if labels is not None:
            if isinstance(labels, str):
                raise InputError("`labels` must be a sequence of d state names, got a string")
            labels = tuple(labels)
            if len(labels) != d:
                raise InputError(f"`labels` must have {d} entries (one per state), got {len(labels)}")
        object.__setattr__(self, "_W", a)
        object.__setattr__(self, "_labels", labels)
        object.__setattr__(self, "_p", None)

    def __setattr__(self, name, value):
        raise AttributeError("RateMatrix is immutable")

    def __reduce__(self):  # picklable (e.g. for Dask sweeps) despite the immutability guard
        return (RateMatrix.from_rates, (self._W.copy(), self._labels))

    # ------------------------------------------------------------------ basic properties
    @property
    def dim(self) -> int:
        """Number of states d."""
        return self._W.shape[0]

    @property
    def matrix(self) -> np.ndarray:
        """(d, d) float ndarray, a copy of W."""
        return self._W.copy()

    @property
    def labels(self) -> tuple | None:
        return self._labels

    def _name(self, n: int) -> str:
        return str(self._labels[n]) if self._labels is not None else str(n)

    def __repr__(self) -> str:
        edges = int(np.count_nonzero(np.triu(self._W + self._W.T, 1)))
        return f"RateMatrix(dim={self.dim}, edges={edges})"

    __str__ = __repr__

    # ------------------------------------------------------------------ stationary state
    def stationary(self) -> np.ndarray:
        """Stationary distribution p: W p = 0, Σ p = 1, p ≥ 0.

        The kernel dimension equals the number of closed communicating classes of the rate graph
        (found combinatorially, no rank threshold). Within the unique closed class p is computed by
        GTH elimination (subtraction-free, entry-wise accurate); transient states get p_n = 0.

        Returns:
            (d,) float ndarray.
        Raises:
            NonUniqueSteadyStateError: several closed classes; ``basis`` holds one stationary
                distribution ((d,) vector) per class and ``kernel_dim`` their number.
        """
        if self._p is None:
            basis = []
            for cls_ in closed_classes(self._W):
                q = np.zeros(self.dim)
                q[cls_] = _gth(self._W[np.ix_(cls_, cls_)].T) if cls_.size > 1 else 1.0
                basis.append(q)
            if len(basis) > 1:
                raise NonUniqueSteadyStateError(
                    f"the rate graph has {len(basis)} closed classes, so W has a {len(basis)}-dimensional "
                    "kernel; pass p explicitly or analyse each class separately",
                    kernel_dim=len(basis), basis=basis)
            basis[0].flags.writeable = False
            object.__setattr__(self, "_p", basis[0])
        return self._p.copy()

    def _reference(self, p) -> tuple[np.ndarray, str]:
        if p is None:
            return self.stationary(), "stationary"
        if np.iscomplexobj(p) or isinstance(p, (str, bytes)):
            raise InputError(f"`p` must be a real probability vector, got {p!r}")
        try:
            q = np.array(p, dtype=np.float64, copy=True)
        except (TypeError, ValueError) as exc:
            raise InputError(f"`p` must be a real probability vector, got {p!r}") from exc
        if q.ndim != 1 or q.shape[0] != self.dim:
            raise InputError(f"`p` must be a vector of length {self.dim}, got shape {q.shape}")
        if not np.all(np.isfinite(q)) or np.any(q < 0):
            raise InputError(f"`p` must be finite and ≥ 0, got {q}")
        if abs(q.sum() - 1.0) > NORMALISATION_ATOL:
            raise InputError(f"`p` must be normalised (Σp = 1), got Σp = {q.sum():.12g}")
        return q, "given p"

    # ------------------------------------------------------------------ currents and entropy
    def edge_currents(self, p: ArrayLike | None = None) -> np.ndarray:
        """Net currents J_mn = W_mn p_n − W_nm p_m (n → m).

        ``p`` defaults to the stationary distribution.

        Returns:
            antisymmetric (d, d) float ndarray.
        """
        q, _ = self._reference(p)
        f = self._W * q[None, :]
        return f - f.T

    def entropy_production(self, p: ArrayLike | None = None) -> float:
        """Schnakenberg entropy production Π = ½ Σ_{m≠n} (F_mn − F_nm) log(F_mn/F_nm) ≥ 0.

        F_mn = W_mn p_n (``p`` defaults to the stationary distribution). Conventions: a pair with
        F_mn = F_nm = 0 contributes 0; a pair carrying flux one way only contributes +inf.

        Returns:
            float ≥ 0 (or +inf).
        """
        q, _ = self._reference(p)
        f = self._W * q[None, :]
        iu = np.triu_indices(self.dim, 1)
        fwd, bwd = f[iu], f.T[iu]
        both = (fwd > 0) & (bwd > 0)
        if np.any((fwd > 0) != (bwd > 0)):
            return math.inf
        return float(np.sum((fwd[both] - bwd[both]) * (np.log(fwd[both]) - np.log(bwd[both]))))

    # ------------------------------------------------------------------ Kolmogorov cycles
    def kolmogorov(self, tolerance: float = 1e-10) -> KolmogorovResult:
        """Kolmogorov criterion: W is DB for some p iff every cycle affinity vanishes.

        Cycles are the fundamental cycles of a BFS spanning forest of the graph of reversible edges
        (W_mn > 0 and W_nm > 0); each chord {u, v} gives one cycle. One-way edges (W_mn > 0 = W_nm)
        violate the criterion and are reported as two-state cycles with affinity +inf. Affinities
        are sums of logs, A_C = Σ_i [log W(n_i→n_{i+1}) − log W(n_{i+1}→n_i)], and do not depend on p.
        ``holds`` iff no one-way edge and max |A_C| ≤ ``tolerance``. See :class:`KolmogorovResult`
        for the orientation convention.

        Returns:
            KolmogorovResult (one cycle per chord of the spanning forest).
        """
        return kolmogorov_cycles(self._W, tolerance)

    def cycle_affinities(self) -> list[tuple[tuple[int, ...], float]]:
        """List of (cycle, affinity) pairs of :meth:`kolmogorov` (orientation: affinity ≥ 0).

        Returns:
            list of (tuple of state indices, float affinity ≥ 0).
        """
        k = self.kolmogorov()
        return list(zip(k.cycles, k.affinities))

    # ------------------------------------------------------------------ detailed balance
    def _reversal(self, reversal, p: np.ndarray) -> np.ndarray:
        try:
            theta = np.asarray(reversal)
        except (TypeError, ValueError):  # ragged input
            theta = np.zeros(0)
        if theta.ndim != 1 or theta.shape[0] != self.dim or not np.issubdtype(theta.dtype, np.integer) \
                or not np.array_equal(np.sort(theta), np.arange(self.dim)):
            raise InputError(f"`reversal` must be a permutation of range({self.dim}) (n ↦ Θn), got {reversal!r}")
        gap = np.max(np.abs(p[theta] - p))
        if gap > REVERSAL_RTOL * np.max(p):
            raise InputError(f"`reversal` must leave the reference distribution invariant (p_Θn = p_n); "
                             f"max |p_Θn − p_n| = {gap:.3e}")
        return theta.astype(int)

    def _symmetrised(self, p: np.ndarray) -> np.ndarray:
        """Ŵ = P^{−1/2} W P^{1/2}, Ŵ_mn = W_mn √(p_n/p_m), built from √p (no overflow for p > 0).

        For p_n = 0 the entries of row/column n are 0 (diagonal W_nn kept), except Ŵ_nm = +inf when
        W_nm > 0 and p_m > 0: probability flowing out of the support of p breaks DB infinitely.
        """
        s = np.sqrt(p)
        pos = s > 0
        w_hat = np.zeros_like(self._W)
        w_hat[np.ix_(pos, pos)] = self._W[np.ix_(pos, pos)] * s[None, pos] / s[pos, None]
        leak = (~pos)[:, None] & pos[None, :] & (self._W > 0)
        w_hat[leak] = math.inf
        np.fill_diagonal(w_hat, np.diag(self._W))
        return w_hat

    def detailed_balance(self, p: ArrayLike | None = None, reversal: Sequence[int] | None = None,
                         tolerance: float = 1e-10) -> BalanceReport:
        """Classical detailed balance p_n W_mn = p_m W_nm, optionally with time reversal.

        With F_mn = W_mn p_n the test is F = Fᵀ, or F = (P_Θ F P_Θ)ᵀ with ``reversal`` Θ, i.e.
        p_n r(n→m) = p_m r(Θm→Θn) including the diagonal (Θ-invariant escape rates).

        Args:
            p: reference distribution (d,), default the stationary one. Must be ≥ 0, Σp = 1.
            reversal: permutation n ↦ Θn (sequence of d ints) with p_Θn = p_n, or None.
            tolerance: threshold on ``residual``.

        Returns:
            BalanceReport with method = inner = "classical" and
            residual = dissipative_residual = ‖F − R‖_F/‖F‖_F (R = Fᵀ or (P_Θ F P_Θ)ᵀ);
            hamiltonian_residual = 0; symmetric_residual = ‖Ŵ − Ŵᵀ‖_F/‖Ŵ‖_F, Ŵ = P^{−1/2}WP^{1/2}
            (plain DB, no reversal); symmetric = plain DB holds (‖F − Fᵀ‖/‖F‖ ≤ tolerance);
            stationary_residual = ‖W p‖/(‖W‖_F ‖p‖). One channel per edge {m, n} ("edge m-n")
            with residual √(D_mn² + D_nm²)/‖F‖_F, D = F − R (= √2 |J_mn|/‖F‖_F without reversal), so
            Σ residual_e² = residual²; contribution = residual_e²/residual². With a reversal, states
            with Θn ≠ n add an "escape n" channel |D_nn|/‖F‖_F. ``details`` holds the Kolmogorov
            result (kolmogorov_holds, cycles, cycle_affinities, worst_cycle, worst_affinity),
            max_edge_current = max |J_mn|, entropy_production Π(p), and reversal.
        """
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float, np.floating)) \
                or not tolerance >= 0:
            raise InputError(f"`tolerance` must be a real number ≥ 0, got {tolerance!r}")
        q, reference = self._reference(p)
        theta = None if reversal is None else self._reversal(reversal, q)
        w, d = self._W, self.dim
        f = self._W * q[None, :]
        norm_f = np.linalg.norm(f)
        plain = f - f.T
        if theta is None:
            diff, w_rev = plain, w
        else:
            diff, w_rev = f - f[np.ix_(theta, theta)].T, w[np.ix_(theta, theta)].T
        residual = _ratio(np.linalg.norm(diff), norm_f)
        plain_res = _ratio(np.linalg.norm(plain), norm_f)
        w_hat = self._symmetrised(q)
        with np.errstate(invalid="ignore"):
            sym_res = _ratio(np.linalg.norm(w_hat - w_hat.T), np.linalg.norm(w_hat))
        if math.isnan(sym_res):
            sym_res = math.inf
        stat_res = _ratio(np.linalg.norm(w @ q), np.linalg.norm(w) * np.linalg.norm(q))

        support = (w > 0) | (w_rev > 0)
        support = np.triu(support | support.T, 1)
        rows = []
        for m, n in zip(*np.nonzero(support)):
            r = _ratio(math.hypot(diff[m, n], diff[n, m]), norm_f)
            a, b = self._name(m), self._name(n)
            if r <= tolerance:
                note = ""
            elif theta is not None:
                note = f"p_n r(n→m) − p_m r(Θm→Θn) = {diff[n, m]:.3g} ({a}→{b}), {diff[m, n]:.3g} ({b}→{a})"
            elif w[m, n] == 0 or w[n, m] == 0:
                src, dst = (a, b) if w[n, m] > 0 else (b, a)
                note = f"one-way edge: only {src}→{dst} has a nonzero rate"
            else:
                src, dst = (a, b) if plain[n, m] > 0 else (b, a)
                note = f"net current {abs(plain[n, m]):.6g} from {src} to {dst}"
            rows.append((f"edge {a}-{b}", r, note))
        if theta is not None:
            for n in np.flatnonzero(theta != np.arange(d)):
                r = _ratio(abs(diff[n, n]), norm_f)
                note = f"escape rate differs from that of {self._name(theta[n])}" if r > tolerance else ""
                rows.append((f"escape {self._name(n)}", r, note))
        total2 = sum(r * r for _, r, _ in rows)
        channels = [ChannelBalance(name, r, (r * r / total2) if total2 > 0 else 0.0, r <= tolerance, note)
                    for name, r, note in rows]
        channels.sort(key=lambda c: -c.contribution)

        kol = self.kolmogorov(tolerance)
        details = {
            "kolmogorov_holds": kol.holds,
            "cycles": [list(c) for c in kol.cycles],
            "cycle_affinities": list(kol.affinities),
            "worst_cycle": list(kol.worst_cycle),
            "worst_affinity": kol.worst_affinity,
            "max_edge_current": float(np.max(np.abs(plain))),
            "entropy_production": self.entropy_production(q),
            "reversal": None if theta is None else theta.tolist(),
        }
        if theta is not None:
            details["plain_residual"] = plain_res
        if self._labels is not None:
            details["labels"] = [str(x) for x in self._labels]
        return BalanceReport(
            holds=bool(residual <= tolerance), residual=residual, dissipative_residual=residual,
            hamiltonian_residual=0.0, symmetric=bool(plain_res <= tolerance), symmetric_residual=sym_res,
            stationary_residual=stat_res, inner="classical", method="classical", tolerance=float(tolerance),
            reference=reference, channels=tuple(channels), details=details,
        )
