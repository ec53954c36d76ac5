"""Time evolution of a Davies generator sector by sector, in the energy eigenbasis (internal).

The d² matrix units split into invariant sets: the ν = 0 sector (populations under
the Pauli matrix W, or the degenerate block M0), 1-element Bohr sectors (coherences, e^{λt}) and
stacks of equal-size Bohr blocks. :func:`evolve` yields whole states; :func:`expectations`
contracts each sector's trajectory with the observables directly. Equally spaced time grids are
stepped with one-step propagators computed once.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from ..._longtime import expm_any_time, is_long
from .sector_kernel import components

__all__ = ["evolve", "expectations"]

#: up to this dimension an equally spaced grid steps populations with a dense expm(ΔW)
DENSE_STEP_MAX_DIM = 2048
#: time points per batch in :func:`expectations` are chosen so a batch holds ≤ this many entries
_BATCH_ENTRIES = 1 << 22


def _uniform_step(times: np.ndarray) -> float | None:
    """The spacing Δ of an ascending equally spaced grid (e.g. ``linspace``) of ≥ 3 times, else None.

    Accepted when every t_n is within 1e-12·Δ + 8ε·max|t| of t_0 + nΔ and that bound is itself
    ≤ 1e-9·Δ (stepping then evaluates each requested time to that accuracy); a grid far from 0
    with a tiny spacing is evaluated time by time instead.
    """
    if times.size < 3:
        return None
    step = (times[-1] - times[0]) / (times.size - 1)
    if not step > 0:
        return None
    scale = 8 * np.finfo(float).eps * float(np.max(np.abs(times)))
    if scale > 1e-9 * step:
        return None
    grid = times[0] + step * np.arange(times.size)
    if np.max(np.abs(times - grid)) > 1e-12 * step + scale:
        return None
    return float(step)


class _Sector:
    """Entries X[rows, cols] of the eigenbasis matrix that evolve among themselves, v(t) = e^{tM}v(0).

    ``at(t)`` evaluates v(t) from v(0); ``advance(v)`` maps v(t) to v(t + Δ) with a one-step
    propagator computed once (equally spaced grids only).
    """

    def __init__(self, rows, cols, at, advance, paired=False):
        self.rows, self.cols, self.at, self.advance = rows, cols, at, advance
        self.paired = paired  # holds only i < k of coherence pairs whose (k, i) partners are conjugate

    def trajectory(self, times: np.ndarray, step: float | None):
        """Yield v(t) for each time: stepped on an equally spaced grid, else evaluated."""
        if step is None:
            yield from (self.at(tt) for tt in times)
            return
        v = self.at(times[0])
        yield v
        for _ in range(times.size - 1):
            v = self.advance(v)
            yield v


def _population_sector(form, X0, step, pauli) -> _Sector:
    """The ν = 0 sector: populations under W (non-degenerate spectrum) or the block M0.

    Long times cost O(log t): the symmetrised Pauli eigendecomposition has its k stationary
    eigenvalues set to exactly 0 (k = connected components of the rate graph; round-off would
    otherwise leave e.g. −1e-17 and empty the state by t ~ 1e17) and the others clipped to ≤ 0;
    without it, e^{tW} and e^{tM0} for t‖W‖ ≫ 1 use scaling and squaring with an early stop at
    the stationary projection (:func:`~detbal._longtime.expm_any_time`).
    """
    from scipy.sparse.linalg import expm_multiply

    sec, d = form.sec, form.sec.dim
    if form.pauli_matrix is None:
        rows, cols, M = sec.zero_rows, sec.zero_cols, form.zero_block
        x0 = X0[rows, cols]
        trace_row = (rows == cols).astype(float)  # Tr X = Σ of the diagonal entries of the block
        at = lambda tt: expm_any_time(M, tt, trace_row)[0] @ x0  # noqa: E731
    else:
        rows = cols = np.arange(d)
        M, x0 = form.pauli_matrix, np.diagonal(X0).copy()
        trace_row = np.ones(d)
        eig: list = []
        norm = float(np.max(np.sum(np.abs(M), axis=0))) if d else 0.0

        def at(tt):  # Ŵ = S⁻¹WS, S = diag(√p), diagonalised once on first use; else expm_multiply
            if tt == 0:
                return x0
            if pauli is None:
                if is_long(norm, tt) and d <= DENSE_STEP_MAX_DIM:
                    return expm_any_time(M, tt, trace_row)[0] @ x0
                return expm_multiply(M * tt, x0)
            if not eig:
                eig.extend(_stationary_exact_eigh(pauli[0], M))
            sq = np.exp(pauli[1] / 2)
            return sq * (eig[1] @ (np.exp(eig[0] * tt) * (eig[1].T @ (x0 / sq))))
    advance = None
    if step is not None:
        if M.shape[0] > DENSE_STEP_MAX_DIM:
            advance = lambda v: expm_multiply(M * step, v)  # noqa: E731
        else:
            advance = expm_any_time(M, step, trace_row)[0].__matmul__
    return _Sector(rows, cols, at, advance)


def _stationary_exact_eigh(What: np.ndarray, W: np.ndarray):
    """eigh of the symmetrised Pauli matrix with the stationary eigenvalues exactly 0.

    Ŵ is negative semidefinite with one zero eigenvalue per connected component of the rate
    graph (every rate has its reverse at one finite β): the k largest eigenvalues are set to 0,
    the rest clipped to ≤ 0, so e^{tŴ} neither loses nor gains trace at any t.
    """
    w, V = np.linalg.eigh(What)
    k = components(np.triu(W, 1) > 0)
    w = np.minimum(w, 0.0)
    if k:
        w[-k:] = 0.0
    return w, V


def _coherence_sector(form, X0, step, upper_only=False) -> _Sector:
    """1-element Bohr sectors with a nonzero initial amplitude: X_ik(t) = e^{λ_ik t}X_ik(0).

    In the secular generator a coherence that starts at zero stays zero (X0 comes from
    :func:`~detbal.eigenbasis.rotate_cleaned`, so rotation round-off is already zero: a symmetric
    initial state, e.g. one of fixed magnetisation, then only costs its own sector's coherences).
    ``upper_only``: keep i < k only (for a Hermitian X0, X_ki(t) = conj X_ik(t)).
    """
    keep = form.sec.single_mask & (X0 != 0)
    if upper_only:
        keep = np.triu(keep, 1)
    rows, cols = np.nonzero(keep)
    lam, x0 = form.coherences()[rows, cols], X0[rows, cols]
    factor = np.exp(lam * step) if step is not None else None
    return _Sector(rows, cols, lambda tt: x0 * np.exp(lam * tt), lambda v: v * factor, paired=upper_only)


def _block_sector(stack, X0, step) -> _Sector:
    """A stack of equal-size Bohr blocks, each evolved by its own matrix exponential."""
    x0 = X0[stack.rows, stack.cols]
    E = sla.expm(stack.matrices * step) if step is not None else None
    return _Sector(stack.rows, stack.cols,
                   lambda tt: np.einsum("bac,bc->ba", sla.expm(stack.matrices * tt), x0),
                   lambda v: np.einsum("bac,bc->ba", E, v))


def _sectors(form, X0, step, pauli, paired=False) -> list[_Sector]:
    return ([_population_sector(form, X0, step, pauli), _coherence_sector(form, X0, step, paired)]
            + [_block_sector(st, X0, step) for st in form.stacks])


def evolve(form, X0: np.ndarray, times: np.ndarray, pauli=None):
    """Yield e^{t𝓛}X0 in the eigenbasis for each t (sector by sector, see structured_evolve).

    ``pauli`` = (Ŵ, log p): the symmetrised Pauli matrix and its Gibbs log-populations, when its
    eigendecomposition is to be used for the populations (computed once).

    An equally spaced grid t_n = t_0 + nΔ is stepped with one-step propagators computed once
    (e^{λΔ} per coherence, expm(ΔW) or expm(ΔM) per block): a product per step instead of an
    exponential per time; the round-off grows like n·ε (2e-13 after 1000 steps). Other grids
    evaluate every time from t = 0.
    """
    step = _uniform_step(times)
    sectors = _sectors(form, X0, step, pauli)
    d = form.sec.dim
    for values in zip(*(s.trajectory(times, step) for s in sectors)):
        Y = np.zeros((d, d), dtype=np.result_type(X0.dtype, np.complex128))
        for sector, v in zip(sectors, values):
            Y[sector.rows, sector.cols] = v
        yield Y


def expectations(form, X0: np.ndarray, times: np.ndarray, weights, pauli=None, hermitian=False) -> np.ndarray:
    """Tr[O_k e^{t𝓛}X0] without forming the states; ``weights(rows, cols)`` returns the (K, m)
    entries Ot_k[rows, cols] of the operators' transposes in the eigenbasis, Ot_k = (V†O_kV)ᵀ.

    Each sector's trajectory is collected in batches of times and contracted with the operators'
    entries on that sector by one matrix product: O(T·(d + m)·K) for m nonzero coherences and K
    operators (plus the blocks), instead of O(T·d²·K). ``hermitian`` (X0 and every O_k
    Hermitian): the values are real, so only real parts are contracted, and each coherence pair
    (i, k), (k, i) is counted once as 2 Re (a real product with real operator entries: 1/8 of
    the complex work).
    """
    step = _uniform_step(times)
    out = None
    for sector in _sectors(form, X0, step, pauli, paired=hermitian):
        w = weights(np.reshape(sector.rows, -1), np.reshape(sector.cols, -1))
        if out is None:
            out = np.zeros((w.shape[0], times.size), dtype=np.complex128)
        width = w.shape[1]
        if width == 0:
            continue
        real_only = hermitian and not np.iscomplexobj(w)
        scale = 2.0 if sector.paired else 1.0
        batch = max(1, _BATCH_ENTRIES // width)
        buf = np.empty((min(batch, times.size), width), dtype=float if real_only else np.complex128)
        start = 0
        for n, v in enumerate(sector.trajectory(times, step)):
            v = v.reshape(-1)
            buf[n - start] = v.real if real_only else v
            if n - start + 1 == buf.shape[0] or n + 1 == times.size:
                part = w @ buf[: n - start + 1].T
                out[:, start:n + 1] += scale * (part.real if hermitian else part)
                start = n + 1
    return out
