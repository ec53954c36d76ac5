"""The energy eigenbasis of a Hamiltonian: the single place where ``eigh(H)`` happens.

Conventions: H = Σ_i E_i |i⟩⟨i| with energies ascending; Bohr frequencies
ν_ij = E_i − E_j. Energies (and Bohr frequencies) closer than a tolerance are treated as equal.
The default tolerance is relative to the spectral width and never below the round-off of eigh:

    tol = max(1e-9 · (E_max − E_min), 1e3 · ε_machine · max|E|),

so adding a constant to H or rescaling it does not change which levels count as degenerate.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
import scipy.linalg.blas as blas
import scipy.sparse as sp
import scipy.sparse.linalg  # noqa: F401  (sp.linalg.norm)

from ._checks import as_operator, as_real_symmetric
from .errors import InputError

__all__ = ["Eigenbasis", "eigenbasis", "default_tolerance", "group_values", "log_scaled", "max_log_magnitude",
           "sigma_exponent"]

_REL_TOL = 1e-9


def default_tolerance(energies: np.ndarray) -> float:
    """Default grouping tolerance for energies and Bohr frequencies (module docstring)."""
    e = np.asarray(energies, dtype=float)
    width = float(e.max() - e.min()) if e.size else 0.0
    scale = float(np.abs(e).max()) if e.size else 0.0
    return max(_REL_TOL * width, 1e3 * np.finfo(float).eps * scale, np.finfo(float).tiny)


def group_values(values: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Cluster real values: consecutive sorted values closer than ``tol`` share a group.

    Returns:
        (centers, labels): the mean value of each group (ascending) and, for every input value,
        the index of its group. Shapes (n_groups,) and values.shape.
    """
    v = np.asarray(values, dtype=float)
    flat = v.ravel()
    if flat.size == 0:
        return np.zeros(0), np.zeros(v.shape, dtype=np.intp)
    order = np.argsort(flat, kind="stable")
    s = flat[order]
    new_group = np.empty(s.size, dtype=bool)
    new_group[0] = True
    new_group[1:] = np.diff(s) > tol
    sorted_labels = np.cumsum(new_group) - 1
    labels = np.empty(flat.size, dtype=np.intp)
    labels[order] = sorted_labels
    counts = np.bincount(sorted_labels)
    centers = np.bincount(sorted_labels, weights=s) / counts
    return centers, labels.reshape(v.shape)


@dataclass(frozen=True, eq=False)
class Eigenbasis:
    """Energies and eigenvectors of a Hermitian H, with degeneracy information.

    Attributes:
        energies: (d,) float ndarray, ascending.
        vectors: (d, d) complex ndarray V with H = V diag(E) V†; column i is |i⟩.
        tol: tolerance used to group energies and Bohr frequencies.
        level_labels: (d,) ints: index of the degenerate level each eigenvector belongs to.
        levels: (n_levels,) distinct energies (group means).
    """

    energies: np.ndarray
    vectors: np.ndarray
    tol: float
    level_labels: np.ndarray = field(repr=False)
    levels: np.ndarray = field(repr=False)

    @property
    def dim(self) -> int:
        return int(self.energies.shape[0])

    @property
    def degeneracies(self) -> np.ndarray:
        """(n_levels,) multiplicity of each distinct energy."""
        return np.bincount(self.level_labels)

    @property
    def is_degenerate(self) -> bool:
        return self.levels.shape[0] < self.dim

    def to_eigen(self, X: np.ndarray) -> np.ndarray:
        """Matrix elements in the eigenbasis: V† X V.  (d, d) dense or sparse → (d, d).

        With real V (real H) a complex X is rotated as its real and imaginary parts (real
        products, the imaginary one skipped when zero): a quarter of the complex cost.
        """
        return _sandwich(X, self.vectors)

    @functools.cached_property
    def _adjoint_rows(self) -> np.ndarray:
        """V† as a C-contiguous array (row r is ⟨r| in the original basis), computed once."""
        return np.ascontiguousarray(self.vectors.conj().T)

    def entries(self, XV_Ts, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Selected matrix elements (V†X_kV)[rows, cols] of several operators, from XV_Ts[k] =
        (X_k V)ᵀ (C-contiguous), without full rotations. Returns (K, m).

        When the m pairs fill a product set R × C (|R|·|C| ≤ 4m, e.g. the coherences of a state
        in one symmetry sector) one small product V†[R]·(X_kV)[:, C]; otherwise rows of V† and
        (X_kV)ᵀ are gathered and contracted (O(m·d), in chunks of ≤ 2²² numbers).
        """
        rows, cols = np.asarray(rows).reshape(-1), np.asarray(cols).reshape(-1)
        Vh = self._adjoint_rows
        d, m = Vh.shape[0], rows.shape[0]
        dtype = np.result_type(Vh, *XV_Ts) if XV_Ts else Vh.dtype
        out = np.empty((len(XV_Ts), m), dtype=dtype)
        if m == 0 or not XV_Ts:
            return out
        R, r_at = np.unique(rows, return_inverse=True)
        C, c_at = np.unique(cols, return_inverse=True)
        if R.size * C.size <= 4 * m:
            left = Vh[R]
            for k, XV_T in enumerate(XV_Ts):
                out[k] = (left @ XV_T[C].T)[r_at, c_at]
            return out
        step = max(1, (1 << 22) // d)
        for a in range(0, m, step):
            left = Vh[rows[a:a + step]]
            for k, XV_T in enumerate(XV_Ts):
                out[k, a:a + step] = np.einsum("ia,ia->i", left, XV_T[cols[a:a + step]])
        return out

    def from_populations(self, p: np.ndarray) -> np.ndarray:
        """V diag(p) V† for p ≥ 0 (a state diagonal in the eigenbasis), exactly Hermitian.

        Real V with d ≥ 512: one symmetric rank-k update (BLAS syrk) of V·diag(√p), half the
        flops of a general product (measured, one thread: 0.25 s vs 0.34 s at d = 2048; at
        d = 256 the GEMM is faster).
        """
        p = np.asarray(p, dtype=float)
        V = self.vectors
        keep = p > 0
        if not np.all(keep):
            V, p = V[:, keep], p[keep]
        if not np.isrealobj(V) or V.shape[0] < SYRK_MIN_DIM:
            return (V * p) @ V.conj().T
        A = V * np.sqrt(p)
        # the C-ordered A is the F-ordered Aᵀ: syrk(trans=1) gives (Aᵀ)ᵀAᵀ = A Aᵀ
        return _symmetric_from_upper(blas.dsyrk(1.0, A.T, trans=1, lower=0))

    def from_eigen(self, Y: np.ndarray) -> np.ndarray:
        """Back to the computational basis: V Y V†."""
        V = self.vectors
        return V @ Y @ V.conj().T

    def bohr_frequencies(self, tol: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Grouped Bohr frequencies ν_ij = E_i − E_j.

        Returns:
            (nu, labels): the distinct frequencies ascending (shape (n_ν,)) and a (d, d) integer
            array with labels[i, j] = index of the group of E_i − E_j. The group containing 0 is
            the population sector (it also holds coherences inside degenerate levels).
        """
        t = self.tol if tol is None else float(tol)
        # Round-off in E_i − E_j is about twice that of the energies, so group on the level
        # means: exactly degenerate levels then give exactly equal differences.
        e = self.levels[self.level_labels]
        diffs = e[:, None] - e[None, :]
        return group_values(diffs, t)

    def operator(self) -> np.ndarray:
        """The Hamiltonian rebuilt from the decomposition, V diag(E) V†."""
        return (self.vectors * self.energies) @ self.vectors.conj().T


#: from this dimension on, V diag(p) Vᵀ uses BLAS syrk instead of a general product
SYRK_MIN_DIM = 512


def _symmetric_from_upper(upper: np.ndarray) -> np.ndarray:
    """Full symmetric matrix from a BLAS syrk result (upper triangle set, strict lower zero)."""
    full = upper.T + upper  # C-ordered (upper.T of the F-ordered result is C-contiguous)
    full[np.diag_indices_from(full)] *= 0.5
    return full


def is_signed_permutation(V: np.ndarray) -> bool:
    """True when every column of V has a single nonzero entry of modulus 1 (then V†XV only
    permutes and rephases the entries of X: no round-off)."""
    nz = V[V != 0]
    return nz.size == V.shape[0] and bool(np.all(np.abs(nz) == 1))


def _sandwich(X, V: np.ndarray) -> np.ndarray:
    """V† X V for dense or sparse X; real V with complex X: real and imaginary parts separately."""
    if np.isrealobj(V) and np.iscomplexobj(X):
        out = _sandwich(X.real, V)
        imag = X.imag
        if imag.count_nonzero() if sp.issparse(imag) else np.count_nonzero(imag):
            out = out + 1j * _sandwich(imag, V)
        return out
    if sp.issparse(X):
        return V.conj().T @ np.asarray(X @ V)  # sparse first product: O(nnz·d)
    return V.conj().T @ np.asarray(X) @ V


def rotate_cleaned(A, V: np.ndarray) -> np.ndarray:
    """V† A V (A dense or sparse) with the entries below the rotation's round-off, d·ε·‖A‖_F, set
    to zero — unless V is a signed permutation, whose rotation is exact.

    Those entries are not resolved by a floating-point rotation; left in place they would be
    amplified by σ-scalings (e^{βΔE/2}) or kept as spurious coherences.
    """
    out = _sandwich(A, V)  # a fresh array
    if not is_signed_permutation(V):
        norm = float(sp.linalg.norm(A)) if sp.issparse(A) else float(np.linalg.norm(A))
        out[np.abs(out) <= out.shape[0] * np.finfo(float).eps * norm] = 0.0
    return out


def eigenbasis(H, tol: float | None = None, name: str = "H") -> Eigenbasis:
    """Diagonalise a Hermitian Hamiltonian once (dense ``eigh``).

    Args:
        H: (d, d) Hermitian operator (ndarray, sparse, Qobj) or an existing :class:`Eigenbasis`
            (returned unchanged unless ``tol`` differs) — lets sweeps reuse a factorisation.
        tol: grouping tolerance for degenerate energies; default :func:`default_tolerance`.

    Returns:
        Eigenbasis with energies ascending.

    Example:
        >>> import numpy as np
        >>> eb = eigenbasis(np.diag([1.0, 0.0, 1.0]))
        >>> eb.energies.tolist(), eb.degeneracies.tolist()
        ([0.0, 1.0, 1.0], [1, 2])
    """
    if isinstance(H, Eigenbasis):
        if tol is None or float(tol) == H.tol:
            return H
        return _make(H.energies, H.vectors, float(tol))
    if tol is not None:
        tol = float(tol)
        if not np.isfinite(tol) or tol < 0:
            raise InputError(f"`tol` must be a finite number ≥ 0, got {tol}")
    if isinstance(H, np.ndarray) and H.dtype.kind in "fiu" and H.ndim == 2 and H.shape[0] == H.shape[1] > 0:
        h = as_real_symmetric(np.asarray(H, dtype=np.float64), name)  # checked without a complex copy
    else:
        h = as_operator(H, name, hermitian=True, sparse_ok=False)
        if not np.any(h.imag):  # real symmetric H: the real eigh is about 4× cheaper
            h = np.ascontiguousarray(h.real)
    return diagonalise(h, tol)


def diagonalise(h: np.ndarray, tol: float | None = None) -> Eigenbasis:
    """The Eigenbasis of an already validated, exactly Hermitian dense h (real or complex): one
    divide-and-conquer ``eigh`` (LAPACK syevd/heevd). ``tol`` as in :func:`eigenbasis`."""
    energies, vectors = sla.eigh(h, driver="evd", check_finite=False)
    return _make(energies, vectors, default_tolerance(energies) if tol is None else float(tol))


def _make(energies: np.ndarray, vectors: np.ndarray, tol: float) -> Eigenbasis:
    levels, labels = group_values(energies, tol)
    return Eigenbasis(energies=energies, vectors=vectors, tol=tol, level_labels=labels, levels=levels)


# -- σ-scaling in σ's eigenbasis, in the log domain ---------------------------------------------------
# The σ-transform 𝓛̂ = Γ_s^{−1/2} 𝓛 Γ_s^{1/2} multiplies the entry (ij),(kl) of a
# generator written in σ's eigenbasis by e^{x}, x = sigma_exponent(...), which can be e^{±10⁴}. These
# two primitives live here, below both generators/ (Davies' structured certificate) and balance/
# (every other certificate), so that there is exactly one way to evaluate that scaling.
_EXP_SAFE = 700.0  # |exponent| below which exp() and a product with a float can neither over- nor underflow badly


def sigma_exponent(log_p: np.ndarray, s: float, i, j, k, l) -> np.ndarray:
    """x = [s(log p_k − log p_i) + (1 − s)(log p_l − log p_j)]/2: 𝓛̂_{(ij),(kl)} = 𝓛_{(ij),(kl)}·e^x.

    ``i, j, k, l`` are broadcastable index arrays into the (d,) log-populations ``log_p``. One exponent
    per entry (only population ratios, i.e. energy differences, appear; σ⁻¹ is never formed)."""
    return (s * (log_p[k] - log_p[i]) + (1 - s) * (log_p[l] - log_p[j])) / 2


def max_log_magnitude(M: np.ndarray, exponent) -> float:
    """max over the nonzero entries of log|M| + exponent (−inf when M is zero)."""
    return float(np.max(_log_magnitudes(np.asarray(M), exponent), initial=-np.inf))


def _log_magnitudes(M: np.ndarray, exponent) -> np.ndarray:
    """log|M| + exponent entrywise, −inf where M = 0 (one fresh float array, computed in place)."""
    t = np.abs(M).astype(float, copy=False)
    with np.errstate(divide="ignore"):
        np.log(t, out=t)
    np.add(t, exponent, out=t)  # ``exponent`` broadcasts to M's shape
    return t


def log_scaled(M: np.ndarray, exponent, shift: float | None = None) -> tuple[np.ndarray, float]:
    """(M ∘ e^{exponent − C}, C) evaluated without clipping, over- or underflow of the factors.

    C = max over the nonzero entries of log|M| + exponent (the largest log-magnitude of M ∘ e^exponent)
    unless ``shift`` is given; C = −inf when M is zero. Each entry is e^{log|M| + x − C} times the
    phase of M, so an entry underflows only when it is below e^{−745} relative to e^{C}: quantities
    that are relative (ratios of norms) are exact at any exponent, and e^{C} carries the scale.
    When all exponents are within ±700 of C the product M·e^{x − C} is formed directly (same
    numbers up to rounding).
    """
    M = np.asarray(M)
    x = np.asarray(exponent, dtype=float)
    t = None
    if shift is None:
        t = _log_magnitudes(M, x)
        shift = float(np.max(t, initial=-np.inf))
    dtype = np.result_type(M.dtype, float)
    if shift == -np.inf:
        return np.zeros(M.shape, dtype=dtype), -np.inf
    xmax, xmin = float(np.max(x)), float(np.min(x))
    if xmax - shift <= _EXP_SAFE and xmin - shift >= -_EXP_SAFE and np.all(np.isfinite(M)):
        return M * np.exp(x - shift), shift
    if t is None:
        t = _log_magnitudes(M, x)
    t = t - shift
    with np.errstate(under="ignore", invalid="ignore"):
        mag = np.exp(t)
        absm = np.abs(M)
        phase = np.where(M != 0, M / np.where(M != 0, absm, 1.0), 0.0)
    return (mag * phase).astype(dtype, copy=False), shift
