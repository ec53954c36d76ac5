"""Spectra and spectral gaps of generators.

Dense ``eig``/``eigh``, matrix-free Krylov–Schur (gap) or shift-invert Arnoldi (``spectrum(k=…)``);
the Hermitian σ-transformed generator when 𝓛 is KMS-detailed-balanced. A Davies generator is solved through its Bohr-sector structure.

Algorithm choice of :func:`spectrum` (first row whose condition holds; ``method=`` forces a row):

    ============== ==================================================== =============================
    method         condition ("auto")                                    implementation
    ============== ==================================================== =============================
    "structured"   ``L.has_sector_structure``                            ``L.structured_spectrum()``
    "shift-invert" ``k`` given and d > ``config.DENSE_SPECTRUM_MAX_DIM``  ``linalg.spectral.slow_eigenpairs``
    "dense"        otherwise                                             ``linalg.spectral.dense_eigenvalues``
    ============== ==================================================== =============================

:func:`spectral_gap`: "structured" (``L.has_sector_structure``) → "hermitian" (𝓛 KMS-detailed-balanced
with normal 𝓛̂: dense ``eigh`` for d ≤ ``DENSE_SPECTRUM_MAX_DIM``, matrix-free Lanczos on 𝓓̂ above; a
KMS-self-adjoint generator with an eigenbasis GKSL form, ``has_eigenbasis_gksl``, runs Lanczos on its
own 𝓛̂ in the eigenbasis, one product per step) → dense ``eig`` (d ≤ ``DENSE_SPECTRUM_MAX_DIM``) →
matrix-free Krylov–Schur for the rightmost eigenvalues of the trace-deflated generator
𝓛(X) − ‖𝓛‖₁·Tr(X)·I/d (products 𝓛(X) only, O(d³) each; no d²×d² matrix, no linear solve).

Results behave like numbers: ``float(spectral_gap(L))`` is the gap and gaps compare with numbers;
``np.asarray(spectrum(L))`` is the eigenvalue array.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real
from typing import Literal

import numpy as np

from .. import config
from .._checks import as_choice, as_nonnegative_scalar, as_positive_int
from ..linalg.linsolve import onenorm
from ..linalg.spectral import (
    MAX_LOG_SPREAD,
    WEAK_DISSIPATION_RATIO,
    dense_eigenvalues,
    dissipation_ratio,
    gap_from_eigenvalues,
    hermitian_eigenbasis_eigenvalues,
    hermitian_slow_eigenvalues,
    rightmost_gap_eigenpairs,
    slow_eigenpairs,
    sort_slowest,
)
from .._serialize import JsonResult, html_table
from ..balance.dense import hermitian_analysis
from ..linalg.steady import DEFAULT_TOL, steady_state
from ..errors import InputError, MemoryBudgetError, NonUniqueSteadyStateError, NotFaithfulError
from ..generators.base import Generator, as_generator
from ..balance.api import detailed_balance


__all__ = ["SpectralGap", "Spectrum", "spectral_gap", "spectrum"]



# ==================================================================================================
# spectra and gaps
# ==================================================================================================
@dataclass(frozen=True, eq=False)
class Spectrum(JsonResult):
    """Eigenvalues of 𝓛, slowest first (decreasing real part).

    Attributes:
        eigenvalues: complex ndarray, all d² values or the k requested.
        method: "structured", "dense-eig" or "shift-invert(lu|gmres)".
        k: number requested (None = all).
        residual: largest relative eigenpair residual ‖Lv − λv‖/(‖L‖₁‖v‖) (sparse path; nan for
            dense ``eigvals`` and structured spectra, which are exact up to round-off).
    """

    eigenvalues: np.ndarray
    method: str
    k: int | None = None
    residual: float = float("nan")

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """``np.asarray(spectrum)``: the eigenvalues (a copy, so the result stays immutable)."""
        return np.array(self.eigenvalues, dtype=dtype, copy=True)

    def __len__(self) -> int:
        return int(self.eigenvalues.size)

    def __iter__(self):
        return iter(self.eigenvalues.tolist())

    def __str__(self) -> str:
        head = ", ".join(f"{z.real:.4g}{z.imag:+.4g}i" for z in self.eigenvalues[:4])
        more = ", …" if self.eigenvalues.size > 4 else ""
        return f"Spectrum({self.eigenvalues.size} eigenvalues, {self.method}: {head}{more})"

    def _repr_html_(self) -> str:
        """Jupyter display: count, method and the slowest eigenvalues (at most 8)."""
        slow = ", ".join(f"{z.real:.4g}{z.imag:+.4g}i" for z in self.eigenvalues[:8])
        more = ", …" if self.eigenvalues.size > 8 else ""
        return html_table("spectrum", [("eigenvalues", self.eigenvalues.size), ("method", self.method),
                                       ("slowest first", slow + more)])


SpectrumMethod = Literal["auto", "dense", "shift-invert", "structured"]
GapPath = Literal["auto", "hermitian", "non-hermitian"]


def spectrum(L: Generator | np.ndarray, k: int | None = None, *, method: SpectrumMethod = "auto") -> Spectrum:
    """Eigenvalues of the generator, sorted slowest first.

    ``k=None``: all d² eigenvalues by dense ``eig`` (MemoryBudgetError beyond the budget; the
    message points to ``k=``), or ``structured_spectrum()`` when the generator has it.
    ``k`` given: the k slowest eigenvalues (largest real part). Dense ``eig`` when d ≤ 32 or
    ``method="dense"`` (exact); otherwise shift-invert Arnoldi around 0⁺ computes the 2k + 4
    eigenvalues nearest to 0 and returns the k slowest of them — the true k slowest unless a slow
    mode oscillates so fast (|Im λ|) that more than 2k + 4 eigenvalues lie closer to 0.

    Args:
        L: Generator or d²×d² matrix.
        k: number of slow eigenvalues, or None for all.
        method: "auto" | "dense" | "shift-invert" | "structured" (module table).

    Returns:
        Spectrum: ``eigenvalues`` a (d²,) complex ndarray (``k=None``) or (k,), slowest first;
        ``np.asarray(result)`` gives the same array.

    Example:
        >>> import numpy as np
        >>> from detbal import Lindbladian
        >>> sm = np.array([[0, 1], [0, 0]])
        >>> np.round(spectrum(Lindbladian(np.zeros((2, 2)), [sm], [1.0])).eigenvalues.real, 6).tolist()
        [0.0, -0.5, -0.5, -1.0]
    """
    L = as_generator(L)
    method = as_choice(method, "method", SpectrumMethod.__args__)
    n = L.dim ** 2
    if k is not None:
        k = min(as_positive_int(k, "k"), n)
    has_structure = L.has_sector_structure
    if method == "structured" and not has_structure:
        raise InputError(f"method='structured' needs structured_spectrum(); {type(L).__name__} has none")
    if has_structure and method in ("auto", "structured"):
        vals = np.asarray(L.structured_spectrum(), dtype=np.complex128)
        vals = vals[sort_slowest(vals)]
        return Spectrum(vals if k is None else vals[:k], "structured", k)
    if method == "shift-invert" and k is None:
        raise InputError("method='shift-invert' computes a few eigenvalues: pass k")
    sparse = method == "shift-invert" or (method == "auto" and k is not None and L.dim > config.DENSE_SPECTRUM_MAX_DIM)
    if sparse and n > 4:
        vals, _, res, _, how = slow_eigenpairs(L, k)
        return Spectrum(vals, how, k, float(res.max()) if res.size else 0.0)
    _, vals, _ = dense_eigenvalues(L)
    vals = vals[sort_slowest(vals)]
    return Spectrum(vals if k is None else vals[:k], "dense-eig", k)


@dataclass(frozen=True, eq=False)
class SpectralGap(JsonResult):
    """Liouvillian gap g = −max{Re λ : λ ≠ 0} and how it was obtained.

    Attributes:
        gap: the Liouvillian gap (float ≥ 0; nan if every eigenvalue is zero).
        path: "structured", "hermitian" (eigh of the Hermitian σ-transformed generator, exact for
            KMS-DB generators whose 𝓛̂ is normal) or "non-hermitian" (eig / Arnoldi).
        method: "structured", "dense-eigh", "dense-eig", "lanczos", "krylov-schur(eigenframe)" / "krylov-schur".
        hermitian_gap: λ_D = gap(−𝓓̂) of the Hermitian part of 𝓛̂ when 𝓛 is KMS-DB (equal to
            ``gap`` when 𝓛̂ is normal, otherwise the χ²-decay rate bound λ_D ≤ gap), else None.
        eigenvalue: the slowest nonzero eigenvalue (complex; real on the Hermitian path).
        residual: relative residual of the eigenpair behind ``gap``.
        kernel_dim: number of eigenvalues counted as zero.
        details: reference state of the DB test, normality, notes.
    """

    gap: float
    path: str
    method: str
    hermitian_gap: float | None = None
    eigenvalue: complex | None = None
    residual: float = float("nan")
    kernel_dim: int = 1
    details: dict = field(default_factory=dict)

    # -- a gap behaves like its value: float(g), g < 0.1, g == 0.75 -------------------------------
    def __float__(self) -> float:
        return float(self.gap)

    def _other(self, other):
        if isinstance(other, SpectralGap):
            return other.gap
        if isinstance(other, Real):
            return float(other)
        return None

    def __eq__(self, other):
        o = self._other(other)
        return NotImplemented if o is None else self.gap == o

    def __lt__(self, other):
        o = self._other(other)
        return NotImplemented if o is None else self.gap < o

    def __le__(self, other):
        o = self._other(other)
        return NotImplemented if o is None else self.gap <= o

    def __gt__(self, other):
        o = self._other(other)
        return NotImplemented if o is None else self.gap > o

    def __ge__(self, other):
        o = self._other(other)
        return NotImplemented if o is None else self.gap >= o

    __hash__ = None

    def __str__(self) -> str:
        herm = "" if self.hermitian_gap is None else f", hermitian_gap={self.hermitian_gap:.6g}"
        return f"SpectralGap(gap={self.gap:.6g}{herm}, path={self.path}, method={self.method})"

    def _repr_html_(self) -> str:
        """Jupyter display: the facts of ``str()`` as a table."""
        rows = [("gap", f"{self.gap:.6g}")]
        if self.hermitian_gap is not None:
            rows.append(("hermitian gap λ_D", f"{self.hermitian_gap:.6g}"))
        rows += [("path", self.path), ("method", self.method), ("kernel_dim", self.kernel_dim)]
        return html_table("spectral gap", rows)


def _db_reference(L, beta, state, tolerance):
    """(reference state, label, symmetric) of a KMS detailed-balance certificate for the Hermitian
    path, or (None, reason, False). The reference comes from the report itself (computed once);
    ``symmetric``: 𝓛 itself is KMS-self-adjoint (K = 0), so 𝓛̂ is Hermitian."""

    try:
        if state is None and beta is None:
            if L.beta is not None and L.hamiltonian is not None:
                beta = L.beta
            else:
                try:
                    state = steady_state(L, tolerance=tolerance).state
                except NonUniqueSteadyStateError:
                    return None, "the steady state is not unique", False
        rep = detailed_balance(L, beta=beta, state=state, inner="kms")
    except (NotFaithfulError, MemoryBudgetError) as exc:
        return None, f"no DB test ({type(exc).__name__}: {exc})", False
    if not rep.holds:
        return None, f"not KMS-DB w.r.t. {rep.reference} (residual {rep.residual:.1e})", False
    return rep.reference_state, rep.reference, rep.symmetric


def _eigenbasis_form_applies(L, ref) -> bool:
    """L carries its GKSL form in its eigenbasis (exact Gibbs samplers) and σ is diagonal there."""
    eb = L.eigenbasis
    return L.has_eigenbasis_gksl and eb is not None and ref.vectors is eb.vectors


GapMethod = Literal["auto", "dense", "iterative"]


def spectral_gap(L: Generator | np.ndarray, *, beta: float | None = None, state: np.ndarray | None = None,
                 path: GapPath = "auto", tolerance: float = DEFAULT_TOL, method: GapMethod = "auto",
                 maxiter: int | None = None, progress=None, time_limit: float | None = None) -> SpectralGap:
    """Liouvillian spectral gap g = −max{Re λ : λ ≠ 0}.

    Structured generators use ``structured_gap()``. Otherwise detailed balance is tested (KMS)
    w.r.t. σ = Gibbs(``beta``) / ``state`` / ``L.beta`` / the steady state; if it holds, the
    Hermitian part 𝓓̂ of the σ-transformed generator gives ``hermitian_gap`` = λ_D: by dense
    ``eigh`` (d ≤ 32, method "dense-eigh") or by matrix-free Lanczos through ``apply``/``adjoint``
    (d > 32, "lanczos": O(d³) per step, no linear solve; :func:`detbal.linalg.spectral.hermitian_slow_eigenvalues`).
    When 𝓛̂ is normal (and ker 𝓓̂ one-dimensional) the gap is λ_D ("hermitian" path); otherwise λ_D
    is only the χ² decay-rate bound and the gap comes from ``eig`` (d ≤ 32) or matrix-free
    Krylov–Schur ("krylov-schur") — "non-hermitian": the rightmost eigenvalues of the deflated
    generator 𝓛_c(X) = 𝓛(X) − c·Tr(X)·I/d, c = ‖𝓛‖₁, whose spectrum is that of 𝓛 with the zero
    eigenvalue of left eigenvector vec(I) moved to −c; products run in the eigenframe of
    H_eff = H − (i/2)Σ_k γ_k A_k†A_k when it is well conditioned (2 d×d products per jump).
    Slow when the rates are tiny compared with the spread of the Bohr frequencies (many
    eigenvalues with nearly equal real parts): bound it with ``maxiter`` / ``time_limit``.

    Args:
        L: Generator or d²×d² matrix.
        beta, state: reference state of the detailed-balance test (optional; state (d, d)).
        path: "auto" | "hermitian" (require DB; InputError if it fails) | "non-hermitian".
        tolerance: eigenvalues with |λ| ≤ tolerance·‖L‖ count as zero.
        method: "auto" (dense for d ≤ 32, else iterative) | "dense" | "iterative" (Lanczos /
            Krylov–Schur at any d).
        maxiter: cap on the iterations of the iterative paths (Lanczos / Krylov–Schur restarts);
            reaching it raises ConvergenceError carrying the residual reached.
        progress: optional callback ``progress(restart, residual)`` after every Krylov–Schur restart
            of the non-Hermitian iterative path (largest relative Ritz residual of the wanted values).
        time_limit: seconds allowed to the Krylov–Schur iteration (ConvergenceError carrying the
            residual reached when exceeded); None = no limit.

    Returns:
        SpectralGap (``float(result)`` is the gap, a float ≥ 0, nan if every eigenvalue is 0).

    Example:
        >>> import numpy as np
        >>> from detbal import Lindbladian
        >>> sm = np.array([[0, 1], [0, 0]])
        >>> g = spectral_gap(Lindbladian(np.diag([0.0, 1.0]), [sm, sm.T], [1.0, 0.5]))
        >>> round(float(g), 12), g.path
        (0.75, 'hermitian')
    """
    L = as_generator(L)
    path = as_choice(path, "path", GapPath.__args__)
    method = as_choice(method, "method", GapMethod.__args__)
    tol = as_nonnegative_scalar(tolerance, "tolerance", strict=True)
    if maxiter is not None and (isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer))
                                or maxiter < 1):
        raise InputError(f"`maxiter` must be a positive integer or None, got {maxiter!r}")
    if progress is not None and not callable(progress):
        raise InputError(f"`progress` must be a callable progress(iteration, residual) or None, got {progress!r}")
    if time_limit is not None:
        time_limit = as_nonnegative_scalar(time_limit, "time_limit", strict=True)
    if L.has_sector_structure and path == "auto" and method == "auto":
        return SpectralGap(float(L.structured_gap()), "structured", "structured")
    d = L.dim
    dense = method == "dense" or (method == "auto" and d <= config.DENSE_SPECTRUM_MAX_DIM)
    if not dense and d * d <= 4:
        dense = True  # ARPACK needs more than 4 unknowns
    details: dict = {}
    herm = None
    if path != "non-hermitian":
        ref, label, symmetric = _db_reference(L, beta, state, tol)
        details["reference"] = label
        if ref is not None and dense:
            herm = hermitian_analysis(L.to_dense(), ref.vectors, ref.log_p, tol)
            details.update(normal=herm["normal"], symmetric=herm["symmetric"])
            if herm["gap"] is not None:
                return SpectralGap(herm["gap"], "hermitian", "dense-eigh", herm["hermitian_gap"],
                                   complex(-herm["gap"]), herm["residual"], 1, details)
        elif ref is not None:
            spread = float(np.max(ref.log_p) - np.min(ref.log_p))
            if spread <= MAX_LOG_SPREAD and symmetric and _eigenbasis_form_applies(L, ref):
                herm = hermitian_eigenbasis_eigenvalues(L.kms_transformed(ref.log_p), ref.log_p, tol,
                                                        real=L.real_form, maxiter=maxiter)
                details.update(normal=True, lanczos_steps=herm["steps"], operator="eigenbasis GKSL form")
            elif spread <= MAX_LOG_SPREAD:
                herm = hermitian_slow_eigenvalues(L.linear_operator(), ref.vectors, ref.log_p, tol, maxiter=maxiter)
                details.update(normal=herm["normal"], lanczos_steps=herm["steps"])
            if herm is not None:
                if herm["normal"] and herm["zero_modes"] == 1:
                    g = herm["hermitian_gap"]
                    return SpectralGap(g, "hermitian", "lanczos", g, complex(-g), herm["residual"], 1, details)
            else:
                details["note"] = (f"log-population spread {spread:.3g} > {MAX_LOG_SPREAD:g}: the matrix-free "
                                   "Hermitian path would overflow; Krylov–Schur used")
    if path == "hermitian" and herm is None:
        raise InputError(f"path='hermitian' needs a KMS-detailed-balanced generator: "
                         f"{details.get('reference', f'd = {d}')}")
    hgap = None if herm is None else herm["hermitian_gap"]
    ratio = None if dense else dissipation_ratio(L)
    weak = ratio is not None and ratio < WEAK_DISSIPATION_RATIO
    if weak and method == "auto" and config.fits_memory(4 * config.superoperator_bytes(d)):
        dense = True
        details["note"] = (f"weak dissipation (rates / Bohr-frequency spread = {ratio:.2g} < "
                           f"{WEAK_DISSIPATION_RATIO:g}): dense eig, Krylov–Schur may miss the rightmost eigenvalue")
    if dense:
        M, vals, V = dense_eigenvalues(L, vectors=True)
        norm = max(onenorm(M), np.finfo(float).tiny)
        gap, i, nzero = gap_from_eigenvalues(vals, norm, tol)
        how = "dense-eig"
        res = float(np.linalg.norm(M @ V[:, i] - vals[i] * V[:, i]) / norm) if i >= 0 else 0.0
    else:
        vals, resids, norm, how, stats = rightmost_gap_eigenpairs(L, tol, maxiter=maxiter, time_limit=time_limit,
                                                                  progress=progress)
        gap, i, nzero = gap_from_eigenvalues(vals, norm, tol)
        nzero += int(stats["deflated"])  # the zero eigenvalue moved to −‖𝓛‖₁ by the trace deflation
        res = float(resids[i]) if i >= 0 else 0.0
        details.update(stats)
        details["certified"] = not weak
        if weak:
            details["note"] = (f"weak dissipation (rates / Bohr-frequency spread = {ratio:.2g} < "
                               f"{WEAK_DISSIPATION_RATIO:g}): the eigenvalue found is an eigenvalue of 𝓛 but "
                               "Krylov–Schur may have missed one further right; the dense path needs "
                               f"{4 * config.superoperator_bytes(d) / 2**30:.1f} GiB")
    if hgap is not None and math.isfinite(gap):
        details["bound_holds"] = bool(gap >= hgap - 1e-9 * max(1.0, gap))
    return SpectralGap(gap, "non-hermitian", how, hgap, complex(vals[i]) if i >= 0 else None, res, nzero, details)
