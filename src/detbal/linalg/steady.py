"""Steady states of generators; public through :mod:`detbal.dynamics`.

The default path solves the bordered system [[L, s·vec(I)], [s·vec(I)†, 0]] (sparse LU for small d,
Sylvester-preconditioned GMRES for large d or when only a matrix-free operator fits the memory
budget), certifies that ker 𝓛 is one-dimensional, and otherwise runs a kernel analysis
(:mod:`detbal._kernel`): a non-unique stationary state is never returned silently.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .. import config
from .._checks import as_choice, as_nonnegative_scalar, as_state
from .._checks import frobenius
from .kernel import dense_kernel, project_state, shift_invert_kernel, stationary_basis
from .linsolve import (
    BorderedSolver,
    SingularError,
    adjoint_apply,
    effective_hamiltonian,
    eigen_frame,
    generator_matrix,
    identity_vector,
    onenorm,
)
from ..errors import InputError, MemoryBudgetError, NonUniqueSteadyStateError
from .._serialize import html_table
from .._serialize import jsonable as _jsonable
from ..generators.base import Generator, as_generator, unvec, vec

__all__ = ["DEFAULT_TOL", "SteadyState", "steady_state"]

DEFAULT_TOL = 1e-10


def _check_tol(tol) -> float:
    try:
        t = float(tol)
    except (TypeError, ValueError) as exc:
        raise InputError(f"`tolerance` must be a positive number, got {tol!r}") from exc
    if not (0 < t < 1) or not math.isfinite(t):
        raise InputError(f"`tolerance` must be a number in (0, 1), got {tol!r}")
    return t


@dataclass(frozen=True)
class SteadyState:
    """Stationary state 𝓛(ρ) = 0, Tr ρ = 1, with its diagnostics.

    Attributes:
        state: (d, d) complex ndarray, Hermitian, trace 1 (PSD to rounding for a GKSL generator).
        residual: ‖𝓛(ρ)‖_F computed with ``L.apply``.
        kernel_dim: dimension of ker 𝓛 (1 unless ``initial=`` selected a state in a larger kernel).
        method: path used, e.g. "direct", "iterative", "direct→dense-svd", "structured:pauli",
            "projection:shift-invert(lu)".
        details: relative residual ‖𝓛ρ‖_F/(‖L‖₁‖ρ‖_F), uniqueness certificate, smallest eigenvalue
            of ρ, notes on fallbacks.
    """

    state: np.ndarray
    residual: float
    kernel_dim: int
    method: str
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return _jsonable({"state": self.state, "residual": self.residual, "kernel_dim": self.kernel_dim,
                          "method": self.method, "details": self.details})

    def __str__(self) -> str:
        d = self.state.shape[0]
        purity = float(np.vdot(self.state, self.state).real)
        return (f"SteadyState(d={d}, kernel_dim={self.kernel_dim}, method={self.method}, "
                f"residual={self.residual:.2e}, purity={purity:.4g})")

    def _repr_html_(self) -> str:
        """Jupyter display: the facts of ``str()`` and the populations ⟨i|ρ|i⟩ (d ≤ 16)."""
        d = self.state.shape[0]
        rows = [("d", d), ("kernel_dim", self.kernel_dim), ("method", self.method),
                ("residual ‖𝓛(ρ)‖", f"{self.residual:.2e}"),
                ("purity Tr ρ²", f"{float(np.vdot(self.state, self.state).real):.4g}")]
        if d <= 16:
            rows.append(("diagonal ⟨i|ρ|i⟩", " ".join(f"{x:.4g}" for x in np.real(np.diag(self.state)))))
        return html_table("steady state", rows)


def _finish(L: Generator, rho: np.ndarray, kernel_dim: int, method: str, details: dict) -> SteadyState:
    rho = (rho + rho.conj().T) / 2
    rho = rho / np.trace(rho).real
    res = frobenius(L.apply(rho))
    details = dict(details)
    details.setdefault("min_eigenvalue", float(np.linalg.eigvalsh(rho)[0]))
    return SteadyState(rho, res, int(kernel_dim), method, details)


def _normalise_vector(x: np.ndarray, d: int) -> np.ndarray:
    X = unvec(x, d)
    tr = np.trace(X)
    if tr == 0 or not np.isfinite(tr):
        raise SingularError("solution has zero or non-finite trace")
    return X / tr


def _relative_residual(A, rho: np.ndarray, norm: float) -> float:
    return frobenius(A @ vec(rho)) / (norm * max(frobenius(rho), 1e-300))


SteadyMethod = Literal["auto", "direct", "iterative", "dense", "shift-invert", "structured"]


def steady_state(L, *, method: SteadyMethod = "auto", initial=None, tolerance: float = DEFAULT_TOL,
                 maxiter: int | None = None, progress=None, time_limit: float | None = None) -> SteadyState:
    """The stationary state of 𝓛: 𝓛(ρ) = 0, Tr ρ = 1.

    Paths (``method``):
        - "auto": ``structured_steady_state()`` if the generator has it (Davies), else "direct"
          for d ≤ 64 or generators without a Lindblad form, "iterative" above; on failure the
          kernel analysis below is run automatically and named in ``method`` ("direct→dense-svd").
        - "direct": sparse LU of the bordered matrix [[L, s·vec(I)], [s·vec(I)†, 0]] (s = ‖L‖₁/√d),
          which is nonsingular iff ker 𝓛 is one-dimensional; uniqueness is certified by the
          condition estimate κ₁ < 1/tolerance.
        - "iterative": GMRES on the same bordered system, preconditioned by the no-jump
          Sylvester operator −i(H_eff·X − X·H_eff†) (O(d³) per step, never a d²×d² dense matrix);
          uniqueness is certified by a second solve with a random right-hand side.
        - "dense": SVD of the d²×d² matrix (d ≤ 40); "shift-invert": ARPACK around 0⁺.
        Eigen/singular values |λ| ≤ tolerance·‖L‖₁ count as zero.

    Args:
        L: Generator or d²×d² matrix (sparse, ndarray, QuTiP superoperator).
        method: "auto" | "direct" | "iterative" | "dense" | "shift-invert" | "structured".
        initial: optional density matrix ρ0. If ker 𝓛 has dimension > 1, return the stationary
            state reached from ρ0, 𝓟(ρ0) = Σ_a Tr[J_a†ρ0] ρ_a (conserved quantities J_a,
            biorthonormal to the kernel basis ρ_a; the time average when 𝓛 has purely imaginary
            eigenvalues).
        tolerance: relative tolerance of the kernel test and of the accepted residual (default 1e-10).
        maxiter: cap on the GMRES iterations of the iterative path (default: 2400, after which the
            kernel analysis is tried); when given, reaching it raises ConvergenceError carrying the
            relative residual reached.
        progress: optional callback ``progress(iteration, residual)`` after every GMRES step of the
            iterative path (preconditioned relative residual).
        time_limit: seconds allowed to the GMRES solves of the iterative path (ConvergenceError
            carrying the preconditioned residual reached when exceeded); None = no limit.

    Returns:
        SteadyState(state, residual, kernel_dim, method, details).

    Raises:
        NonUniqueSteadyStateError: dim ker 𝓛 > 1 and no ``initial``; carries ``kernel_dim`` and a
            basis of stationary density matrices (Hermitian, PSD, trace 1).
        InputError: bad arguments, or 𝓛 is not trace preserving (𝓛†(I) ≠ 0).

    Example:
        >>> import numpy as np
        >>> from detbal import Lindbladian
        >>> sm = np.array([[0, 1], [0, 0]])
        >>> ss = steady_state(Lindbladian(np.diag([0.0, 1.0]), [sm, sm.T], [1.0, 0.5]))
        >>> np.round(ss.state.real, 6).tolist(), ss.kernel_dim, ss.method
        ([[0.666667, 0.0], [0.0, 0.333333]], 1, 'direct')
    """
    L = as_generator(L)
    method = as_choice(method, "method", ("auto", "direct", "iterative", "dense", "shift-invert", "structured"))
    tol = _check_tol(tolerance)
    if maxiter is not None and (isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer))
                                or maxiter < 1):
        raise InputError(f"`maxiter` must be a positive integer or None, got {maxiter!r}")
    if progress is not None and not callable(progress):
        raise InputError(f"`progress` must be a callable progress(iteration, residual) or None, got {progress!r}")
    deadline = None
    if time_limit is not None:
        deadline = time.perf_counter() + as_nonnegative_scalar(time_limit, "time_limit", strict=True)
    d = L.dim
    rho0 = None if initial is None else as_state(initial, "initial", dim=d)
    has_structure = L.has_sector_structure
    notes: list[str] = []
    if method == "structured" and not has_structure:
        raise InputError(f"method='structured' needs a generator with structured_steady_state(); "
                         f"{type(L).__name__} has none")
    if has_structure and method in ("auto", "structured"):
        state, kdim, how = L.structured_steady_state()
        kdim = int(kdim)
        if kdim == 1:
            return _finish(L, np.asarray(state, dtype=np.complex128), 1, f"structured:{how}", {})
        if rho0 is None and d > config.DENSE_KERNEL_MAX_DIM:
            # the exact count needs no d²×d² solve; a basis of a large kernel does (and may not fit)
            rho = np.asarray(state, dtype=np.complex128)
            rho = (rho + rho.conj().T) / 2
            rho = rho / np.trace(rho).real
            raise NonUniqueSteadyStateError(
                f"the stationary state is not unique: dim ker 𝓛 = {kdim} (counted exactly from the "
                f"Bohr-sector structure, {how}); the error carries one stationary state (`.basis`); pass "
                "initial=rho0 to get the state reached from rho0", kdim, (rho,))
        notes.append(f"structured path reports kernel dimension {kdim}: general kernel analysis used")
    if d == 1:
        return _finish(L, np.ones((1, 1), complex), 1, "trivial", {})
    return _generic_steady_state(L, method, rho0, tol, notes, (maxiter, progress, deadline))


#: outside this range of ‖𝓛‖₁ the generic solve works with 𝓛/‖𝓛‖₁
_SCALE_MIN, _SCALE_MAX = 1e-100, 1e100


def _generic_steady_state(L, method, rho0, tol, notes, limits=(None, None, None)) -> SteadyState:
    d = L.dim
    A, matrix_free = generator_matrix(L)
    norm = onenorm(A)
    u = identity_vector(d)
    if norm == 0:
        notes.append("L = 0: every state is stationary")
    else:
        tp = frobenius(adjoint_apply(A, u)) / (norm * math.sqrt(d))
        if tp > 1e-8:
            raise InputError(f"`L` is not trace preserving (‖𝓛†(I)‖/(‖L‖₁√d) = {tp:.2e}): "
                             "a stationary density matrix needs Tr 𝓛(ρ) = 0")
    Heff = effective_hamiltonian(L)
    details: dict = {"norm": norm}
    if norm > 0 and not _SCALE_MIN <= norm <= _SCALE_MAX:
        # ker 𝓛 is scale invariant: solve with 𝓛/‖𝓛‖₁, so that no product, square or condition
        # estimate over- or underflows for rates near the ends of the float range
        A, norm = A * (1.0 / norm), 1.0
        Heff = None if Heff is None else Heff / details["norm"]
        notes.append(f"solved with 𝓛/‖𝓛‖₁ (‖𝓛‖₁ = {details['norm']:.1e})")
    primary = method
    if method in ("auto", "structured"):
        primary = "direct" if ((d <= config.LU_MAX_DIM and not matrix_free) or Heff is None) else "iterative"
    if matrix_free:
        if primary != "iterative":
            raise MemoryBudgetError(f"the sparse d²×d² matrix of the generator (d = {d}) exceeds "
                                    f"detbal.config.memory_budget and method={primary!r} needs it; only "
                                    "Lindbladians (and sums of them) have a matrix-free path (method='iterative'); "
                                    "otherwise use a smaller model (fewer sites or levels)",
                                    budget=int(config.memory_budget))
        notes.append("matrix-free: the sparse matrix would exceed the memory budget")
    if primary == "iterative" and Heff is None:
        raise InputError("method='iterative' needs a Lindbladian (or a sum of Lindbladians) for its "
                         f"preconditioner; got {type(L).__name__}: use method='direct'")
    if primary in ("direct", "iterative") and norm > 0:
        solved = _bordered_attempt(L, A, d, Heff, primary, norm, tol, details, notes, limits)
        if solved is not None:
            return solved
    auto_kernel = "dense" if (d <= config.DENSE_KERNEL_MAX_DIM and not matrix_free) else "shift-invert"
    kmethod = method if method in ("dense", "shift-invert") else auto_kernel
    kern = dense_kernel(A, tol) if kmethod == "dense" else shift_invert_kernel(A, tol, Heff)
    prefix = "" if primary == kmethod else f"{primary}→"
    details["kernel_values"] = np.abs(kern.eigenvalues)
    if notes:
        details["notes"] = notes
    if kern.dim == 1:
        rho = _normalise_vector(kern.R[:, 0], d)
        return _finish(L, rho, 1, prefix + kern.method, details)
    if rho0 is not None:
        return _finish(L, project_state(kern, rho0), kern.dim, f"projection:{prefix}{kern.method}", details)
    basis = stationary_basis(kern)
    raise NonUniqueSteadyStateError(
        f"the stationary state is not unique: dim ker 𝓛 = {kern.dim} (|λ| ≤ {tol:g}·‖L‖₁, {kern.method}); "
        f"the error carries a basis of {len(basis)} stationary density matrices (`.basis`); pass "
        "initial=rho0 to get the state reached from rho0", kern.dim, basis)


def _bordered_attempt(L, A, d, Heff, primary, norm, tol, details, notes, limits=(None, None, None)):
    kind = "lu" if primary == "direct" else "gmres"
    try:
        # Heff (and A) are those of 𝓛/‖𝓛‖₁ when the generic solve rescaled 𝓛
        frame = eigen_frame(L, Heff, scale=norm / details["norm"]) if kind == "gmres" else None
        solver = BorderedSolver(A, d, Heff=Heff, kind=kind, maxiter=limits[0], progress=limits[1], frame=frame,
                                deadline=limits[2])
        rho = _normalise_vector(solver.steady_vector(), d)
        unique, cert = solver.unique_kernel_certificate(tol, np.random.default_rng(1234))
    except SingularError as exc:
        notes.append(f"{primary}: bordered system singular ({exc}) → kernel analysis")
        return None
    details["certificate"] = ("condition estimate κ₁(B)" if kind == "lu" else "random-probe residual", cert)
    if kind == "gmres":
        details["iterations"] = solver.iterations
        details["preconditioner"] = "H_eff eigenframe (diagonal)" if frame is not None else "Sylvester (original basis)"
    if not unique:
        notes.append(f"{primary}: uniqueness not certified ({details['certificate'][0]} = {cert:.2e}) "
                     "→ kernel analysis")
        return None
    how = primary
    rel = _relative_residual(A, rho, norm)
    if rel > tol:  # one step of iterative refinement through the border
        try:
            corr = solver.solve(np.concatenate([-(A @ vec(rho)), [0.0]]))[: d * d]
            rho = rho + unvec(corr, d)
            rel = _relative_residual(A, rho, norm)
            how = f"{primary}+refinement"
        except SingularError:
            pass
    details["relative_residual"] = rel
    if rel > tol:
        notes.append(f"{primary}: relative residual {rel:.2e} > tol → kernel analysis")
        return None
    if notes:
        details["notes"] = notes
    return _finish(L, rho, 1, how, details)
